// Turns (prompt, completion) token sequences into the right-padded tensors a training forward takes, with
// next-token targets on completion tokens only, so that
//     ForwardArgs args; args.attention_mask = b.attention_mask;
//     hidden = model->forward(b.input_ids, args);
//     logp   = model->token_logprobs(hidden, b.targets);      // [B, L]; 0 where targets < 0
// gives at [i, t] the log-prob of completion token t + 1 of row i — the numbers models/rollout.h recorded.
// Also packed batches (several examples per row). Not here: loss maths (algorithms/).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace anvil {

struct CompletionBatch {
    at::Tensor input_ids;       // [B, L] int64, prompt + completion, right-padded with pad_token_id
    at::Tensor attention_mask;  // [B, L] int64, 1 on real tokens
    at::Tensor targets;         // [B, L] int64: input_ids[:, t + 1] where that token is a completion token, else -100
    std::vector<int64_t> prompt_lengths, completion_lengths;
};

// All rows must have a non-empty prompt; completions may be empty. Tensors are on `device`.
CompletionBatch make_completion_batch(const std::vector<std::vector<int64_t>>& prompts,
                                      const std::vector<std::vector<int64_t>>& completions, int64_t pad_token_id,
                                      at::Device device = at::kCPU);

// Several examples per row: prompt + completion pairs packed first-fit, in order, into rows of at most
// `row_tokens` tokens. document_ids (the example's index within its row; -1 on padding) keep attention inside
// each example and restart its positions (ForwardArgs::document_ids), so every example's targets and
// log-probs are those it has alone in a padded batch, with less padding.
struct PackedCompletionBatch {
    at::Tensor input_ids, attention_mask, document_ids, targets;  // [R, L]; L = the longest row
};

PackedCompletionBatch make_packed_completion_batch(const std::vector<std::vector<int64_t>>& prompts,
                                                   const std::vector<std::vector<int64_t>>& completions,
                                                   int64_t row_tokens, int64_t pad_token_id, at::Device device = at::kCPU);

// Row i's completion log-probs out of a [B, L] token_logprobs result, as a vector per row.
std::vector<std::vector<float>> completion_logprobs(const at::Tensor& token_logprobs, const CompletionBatch& batch);

// The inverse: per-row completion values (one per completion token, e.g. stored log-probs or advantages) laid
// out [B, L] fp32 like `batch.targets`, 0 elsewhere.
at::Tensor completion_values(const std::vector<std::vector<float>>& values, const CompletionBatch& batch);

}  // namespace anvil
