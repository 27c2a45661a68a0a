// Temperature / top-k / top-p / min-p filtering and seeded sampling; see sampling.h. The filters follow
// transformers' TopKLogitsWarper, TopPLogitsWarper and MinPLogitsWarper (generation/logits_process.py).
#include "models/sampling.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <functional>
#include <limits>

#include "core/error.h"
#include "core/hash.h"

namespace anvil {

void SamplingParams::validate() const {
    if (!(temperature >= 0.0)) throw UsageError(str("sampling.temperature must be >= 0, got ", temperature));
    if (top_k < 0) throw UsageError(str("sampling.top_k must be >= 0, got ", top_k));
    if (!(top_p > 0.0 && top_p <= 1.0)) throw UsageError(str("sampling.top_p must be in (0, 1], got ", top_p));
    if (!(min_p >= 0.0 && min_p <= 1.0)) throw UsageError(str("sampling.min_p must be in [0, 1], got ", min_p));
}

at::Tensor filter_logits(const at::Tensor& logits, const SamplingParams& p) {
    const double neg_inf = -std::numeric_limits<double>::infinity();
    at::Tensor l = logits.to(at::kFloat);
    if (p.temperature != 1.0) l = l / p.temperature;
    const int64_t vocab = l.size(-1);
    if (p.top_k > 0 && p.top_k < vocab) {
        at::Tensor kth = std::get<0>(at::topk(l, p.top_k, -1)).narrow(-1, p.top_k - 1, 1);
        l = l.masked_fill(l < kth, neg_inf);
    }
    if (p.top_p < 1.0) {
        auto [sorted, order] = at::sort(l, -1, /*descending=*/true);
        at::Tensor probs = at::softmax(sorted, -1);
        // Drop a token when the tokens before it already reach top_p; the top token always stays.
        at::Tensor drop_sorted = (probs.cumsum(-1) - probs) >= p.top_p;
        at::Tensor drop = at::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
        l = l.masked_fill(drop, neg_inf);
    }
    if (p.min_p > 0.0) {
        at::Tensor probs = at::softmax(l, -1);
        at::Tensor threshold = std::get<0>(probs.max(-1, true)) * p.min_p;
        l = l.masked_fill(probs < threshold, neg_inf);
    }
    return l;
}

namespace {

// Inverse-CDF sampling on the CPU: each row walks its probabilities, accumulating in fp64, up to the first
// index whose running sum reaches u (so it stops halfway through the vocabulary on average and allocates
// nothing per row). u > 0, so the index found has a positive probability; if rounding leaves the running sum
// just short of u, the last token with a positive probability is taken.
at::Tensor sample_rows_cpu(const at::Tensor& probs, const at::Tensor& u) {
    const at::Tensor p = probs.contiguous();
    const int64_t rows = p.size(0), vocab = p.size(1);
    at::Tensor out = at::empty({rows}, at::kLong);
    const float* prob = p.data_ptr<float>();
    const double* target = u.data_ptr<double>();
    int64_t* token = out.data_ptr<int64_t>();
    at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const float* row = prob + r * vocab;
            double sum = 0;
            int64_t pick = -1, last_positive = 0;
            for (int64_t v = 0; v < vocab; ++v) {
                if (row[v] <= 0.0f) continue;
                last_positive = v;
                sum += row[v];
                if (sum >= target[r]) {
                    pick = v;
                    break;
                }
            }
            token[r] = pick >= 0 ? pick : last_positive;
        }
    });
    return out;
}

// Inverse-CDF sampling: one uniform u per row in (0, 1] (from `uniforms(rows, fp64 options)`), scaled by the
// row's total probability, against the cumulative probabilities in fp64, instead of at::multinomial's one
// exponential draw per vocabulary entry. The first index whose cumulative sum reaches u always has a positive
// probability; filtered tokens never win.
at::Tensor draw(const at::Tensor& logits, const SamplingParams& params,
                const std::function<at::Tensor(int64_t, const at::TensorOptions&)>& uniforms) {
    ANVIL_CHECK(logits.dim() == 2, "sample_tokens: logits must be [B, V], got ", logits.sizes());
    if (params.temperature == 0.0) return logits.argmax(-1);
    at::Tensor probs = at::softmax(filter_logits(logits, params), -1);
    const at::TensorOptions fp64 = probs.options().dtype(at::kDouble);
    if (probs.is_cpu()) {
        at::Tensor total = probs.sum(-1, /*keepdim=*/false, at::kDouble);
        return sample_rows_cpu(probs, uniforms(probs.size(0), fp64) * total);
    }
    at::Tensor cdf = probs.to(at::kDouble).cumsum(-1);
    at::Tensor total = cdf.narrow(-1, cdf.size(-1) - 1, 1);
    at::Tensor u = uniforms(cdf.size(0), fp64).unsqueeze(1) * total;
    return at::searchsorted(cdf, u).squeeze(-1).clamp_max(cdf.size(-1) - 1);
}

}  // namespace

at::Tensor sample_tokens(const at::Tensor& logits, const SamplingParams& params, at::Generator& generator) {
    return draw(logits, params, [&](int64_t rows, const at::TensorOptions& fp64) { return 1.0 - at::rand({rows}, generator, fp64); });
}

at::Tensor sample_tokens(const at::Tensor& logits, const SamplingParams& params, const std::vector<double>& uniforms) {
    return draw(logits, params, [&](int64_t rows, const at::TensorOptions& fp64) {
        ANVIL_CHECK(static_cast<int64_t>(uniforms.size()) == rows, "sample_tokens: ", uniforms.size(), " uniforms for ", rows,
                    " rows");
        return at::tensor(uniforms, at::kDouble).to(fp64.device());
    });
}

double counter_uniform(uint64_t seed, uint64_t counter) {
    const uint64_t z = splitmix64_mix(seed + (counter + 1) * kSplitMix64Gamma);
    return static_cast<double>((z >> 11) + 1) * 0x1.0p-53;  // (0, 1]
}

at::Generator make_generator(at::Device device, uint64_t seed) {
    at::Generator gen = at::globalContext().defaultGenerator(device).clone();
    gen.set_current_seed(seed);
    return gen;
}

}  // namespace anvil
