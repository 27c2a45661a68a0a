// Single-token attention over a KV cache on the CPU in fp32: the decode step of the rollout engine, where
// at::scaled_dot_product_attention spends most of its time in per-(sequence, head) matrix-vector calls.
// One pass per (sequence, KV head) reads that head's cached keys and values once for all the query heads
// that share it (GQA), with a max-subtracted fp32 softmax and scale 1/sqrt(head_dim), as SDPA's default.
// Not here: prompt blocks (t > 1), other dtypes or devices, autograd; the transformer keeps SDPA for those
// (models/transformer.cpp).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace anvil {

// Whether decode_attention can serve these tensors: CPU, fp32, contiguous cache, and nothing that needs a
// gradient (grad mode off, or none of them requires grad).
bool decode_attention_applies(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values);

// q [B, H, 1, D] (any strides) for the token at cache slot length - 1; keys, values [B, KVH, capacity, D]
// contiguous, H a multiple of KVH (query head h reads KV head h / (H / KVH)); key_valid [B, >= length] bool
// (any strides) or undefined for all valid. The query attends to its own slot and to every earlier slot j
// with key_valid[b, j]. Returns softmax(q k^T / sqrt(D)) v as [B, H, 1, D], contiguous fp32.
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, int64_t length,
                            const at::Tensor& key_valid);

}  // namespace anvil
