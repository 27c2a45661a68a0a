// Token log-probabilities through the LM head, chunked over tokens: the one shared function that rollout
// and every training loss use for log pi(token), so both compute the same numbers. Not a loss: algorithms/
// turns these into objectives. The fp32 [N, V] logits exist one chunk at a time: a batch that fits in one
// chunk keeps its log-softmax for backward; a larger one has backward recompute each chunk's logits, as
// Liger-Kernel's fused linear cross-entropy does.
#pragma once

#include <ATen/ATen.h>

namespace anvil {

// log_softmax(hidden @ weight^T)[target] in fp32, for hidden [..., H] (model dtype), weight [V, H], targets
// [...] int64 -> [...] fp32. The logits are computed in the weight's dtype and upcast to fp32 (as HF does),
// `chunk_tokens` rows at a time (0: about 256 MB of fp32 logits per chunk). Targets < 0 give 0 and no
// gradient. Differentiable in hidden and weight. Under autocast (trainer/device.h) the logits are computed in
// the autocast dtype, as an autocast nn.Linear would.
at::Tensor chunked_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  int64_t chunk_tokens = 0);

// The entropy of the next-token distribution, −Σ_v p_v log p_v, at every position of hidden [..., H] -> [...]
// fp32, chunked like chunked_token_logprobs; no gradient (a metric: RL stages log the policy's entropy).
at::Tensor chunked_token_entropy(const at::Tensor& hidden, const at::Tensor& weight, int64_t chunk_tokens = 0);

}  // namespace anvil
