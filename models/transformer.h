// The decoder-only transformer of the Llama / Qwen2 / Qwen3 / Mistral family, built from an HF ModelConfig
// (specs/conventions.md §2.2-2.3), as a torch::nn::Module whose parameter names are exactly the HF tensor
// names ("model.layers.0.self_attn.q_proj.weight", ...), in fp32 or bf16 on any device.
//
// One forward serves training and rollout:
//   - a padded batch with an attention mask (left or right padding) and position ids (derived when absent);
//   - packed sequences: per-token document ids, attention never crosses a document and positions restart;
//   - incremental decoding into a preallocated KVCache.
// It returns the final (normed) hidden states; `logits` applies the LM head, and `token_logprobs` gives the
// log-probability of target ids in chunks, without a [B, T, V] fp32 tensor in forward or backward.
// Reference: transformers models/{llama,qwen2,qwen3}/modeling_*.py. Loading and saving: models/checkpoint.h.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <utility>
#include <vector>

#include "models/model_config.h"
#include "models/packed_linear.h"

namespace anvil {

// Preallocated key/value cache for incremental decoding. Slots [0, length) are filled; each slot holds one
// token of every sequence in the batch (a padding token when key_mask is false there).
struct KVCache {
    std::vector<at::Tensor> keys;    // per layer [B, kv_heads, capacity, head_dim]
    std::vector<at::Tensor> values;  // per layer [B, kv_heads, capacity, head_dim]
    at::Tensor key_mask;             // [B, capacity] bool: the slot holds a real token
    at::Tensor next_position;        // [B] int64: position id of each sequence's next real token
    int64_t length = 0;

    int64_t batch() const { return key_mask.size(0); }
    int64_t capacity() const { return key_mask.size(1); }
};

// Optional inputs of a forward pass. All [B, T] tensors are on the model's device.
struct ForwardArgs {
    // 1 / true = real token, 0 = padding. Undefined: every token is real.
    at::Tensor attention_mask;
    // Undefined: derived. Without a cache: per document when document_ids is given, else the count of real
    // tokens before each token (so left padding starts each sequence at 0). With a cache: continues from
    // KVCache::next_position.
    at::Tensor position_ids;
    // Packed sequences: tokens attend only to earlier tokens with the same id. Not allowed with a cache.
    at::Tensor document_ids;
    // Incremental decoding: the T new tokens are written at slots [cache->length, cache->length + T) and
    // attend to every earlier real slot; cache->length and next_position advance.
    KVCache* cache = nullptr;
};

class TransformerImpl : public torch::nn::Module {
public:
    // Parameters are created zero-filled (norm weights one) with `options` (dtype, device); fill them with
    // models/checkpoint.h's load_checkpoint or init_random_model.
    explicit TransformerImpl(ModelConfig config, at::TensorOptions options = at::kFloat);

    const ModelConfig& config() const { return config_; }
    at::ScalarType dtype() const;
    at::Device device() const;

    // A cache for `batch` sequences of up to `capacity` tokens (prompt + generated), on the model's device.
    KVCache make_cache(int64_t batch, int64_t capacity) const;

    // input_ids [B, T] int64 -> final hidden states [B, T, hidden] (after the last RMSNorm), model dtype.
    at::Tensor forward(const at::Tensor& input_ids, const ForwardArgs& args = {});
    // hidden [..., hidden] -> logits [..., vocab] in the model's dtype (as HF's lm_head).
    at::Tensor logits(const at::Tensor& hidden);
    // log softmax(logits)[target] as fp32 [B, T] for hidden [B, T, hidden] and targets [B, T]; targets < 0
    // (e.g. -100 at padding) give 0 and no gradient. Processes `chunk_tokens` tokens at a time (0: sized
    // so one chunk's fp32 logits take about 256 MB); differentiable, recomputing logits chunk by chunk in
    // backward, so no [B, T, V] tensor is ever materialised.
    at::Tensor token_logprobs(const at::Tensor& hidden, const at::Tensor& targets, int64_t chunk_tokens = 0);

    // The LM head weight ([vocab, hidden]; the embedding when tied).
    at::Tensor lm_head_weight();
    // Parameters under their HF tensor names (lm_head.weight absent when tied), in a stable order.
    std::vector<std::pair<std::string, at::Tensor>> hf_parameters();

private:
    ModelConfig config_;
    std::shared_ptr<torch::nn::Module> body_;  // "model": embed_tokens, layers, norm
    at::Tensor lm_head_;                       // undefined when tied
    at::Tensor inv_freq_;                      // [head_dim / 2] fp32 RoPE frequencies (scaling applied)
    PackedLinearWeight lm_head_packed_;        // the LM head for inference logits (models/packed_linear.h)
};
TORCH_MODULE(Transformer);

// RoPE inverse frequencies [head_dim / 2] (fp32) with the config's scaling (default, linear, llama3), as
// transformers' modeling_rope_utils computes them.
at::Tensor rope_inv_freq(const ModelConfig& config);

// Position ids restarting at 0 at every change of document id along each row: [B, T] -> [B, T] int64.
at::Tensor positions_from_documents(const at::Tensor& document_ids);

}  // namespace anvil
