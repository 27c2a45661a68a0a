// Next-token sampling from logits: greedy, temperature, top-k, top-p (nucleus) and min-p, with a caller-owned
// at::Generator so runs are reproducible. Pure tensor functions; the decode loop is models/rollout.h. The
// filters apply in transformers' order: temperature, then top-k, then top-p, then min-p.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace anvil {

struct SamplingParams {
    double temperature = 1.0;  // 0: greedy (argmax); otherwise logits are divided by it
    int64_t top_k = 0;         // keep the k most likely tokens; 0: off
    double top_p = 1.0;        // keep the smallest set whose probability reaches top_p; 1: off
    double min_p = 0.0;        // drop tokens below min_p × the top token's probability; 0: off

    // Throws anvil::UsageError naming the field when a value is out of range.
    void validate() const;
};

// logits [B, V] -> the filtered logits (fp32) that sampling draws from: removed tokens are -inf. Temperature
// must be > 0 here.
at::Tensor filter_logits(const at::Tensor& logits, const SamplingParams& params);

// logits [B, V] -> token ids [B] int64, drawn with `generator` (a generator of the logits' device).
at::Tensor sample_tokens(const at::Tensor& logits, const SamplingParams& params, at::Generator& generator);

// The same draw with the caller's uniforms: `uniforms` [B] fp64 on the CPU, each in (0, 1] (row b takes the
// first token whose cumulative probability reaches uniforms[b]). Ignored for greedy decoding.
at::Tensor sample_tokens(const at::Tensor& logits, const SamplingParams& params, const std::vector<double>& uniforms);

// A counter-based uniform in (0, 1]: a pure function of (seed, counter) (SplitMix64), so a sequence's draws
// do not depend on which other sequences share its batch, rank or device.
double counter_uniform(uint64_t seed, uint64_t counter);

// A generator for `device` seeded with `seed`.
at::Generator make_generator(at::Device device, uint64_t seed);

}  // namespace anvil
