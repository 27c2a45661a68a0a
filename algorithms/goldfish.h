// Goldfish loss (Hans et al. 2024, "Be like a Goldfish, Don't Memorize!", hashed variant; used by the Apertus
// models): exclude from the loss every target token whose preceding `context` tokens hash to 0 mod k, so about
// 1 in k tokens never receives gradient and a passage seen many times is still never learned verbatim. The
// decision depends only on the local context, so a repeated passage drops the same tokens every time.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace anvil {

// `input_ids` [B, L] and next-token `targets` [B, L] (targets[b, t] predicts input_ids[b, t + 1]; < 0 means
// no loss). Returns a copy of `targets` with -100 wherever the Goldfish rule drops the token: a 64-bit FNV-1a
// hash of the up to `context` tokens input_ids[b, t + 1 − context .. t] (those before the target token),
// dropped when hash % k == 0. k >= 2, context >= 1.
at::Tensor goldfish_targets(const at::Tensor& input_ids, const at::Tensor& targets, int64_t k, int64_t context);

}  // namespace anvil
