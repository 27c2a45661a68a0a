// Single-token attention over a KV cache (CPU, fp32); see decode_attention.h. The loops are plain contiguous
// float loops that GCC vectorises at -O3 for the build's target (the dot product keeps kLanes independent
// partial sums, so no -ffast-math reassociation is needed). Per (sequence, KV head): scores of every valid
// slot for the group's query heads, their softmax, then the probability-weighted value rows, four at a time.
#include "models/decode_attention.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace anvil {
namespace {

constexpr int64_t kLanes = 16;

// sum_i a[i] * b[i]: kLanes partial sums, added pairwise.
float dot(const float* a, const float* b, int64_t n) {
    float acc[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
    for (int64_t half = kLanes / 2; half > 1; half /= 2)
        for (int64_t l = 0; l < half; ++l) acc[l] += acc[l + half];
    float s = acc[0] + acc[1];
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

// y += p[0] x[0] + ... + p[3] x[3] for the rows x[r] = x + r * n: four rows per pass over y.
void axpy4(float* y, const float* p, const float* x, int64_t n) {
    const float *x0 = x, *x1 = x + n, *x2 = x + 2 * n, *x3 = x + 3 * n;
    const float p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
    for (int64_t i = 0; i < n; ++i) y[i] += p0 * x0[i] + p1 * x1[i] + p2 * x2[i] + p3 * x3[i];
}

// y += a * x.
void axpy(float* y, float a, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// The cache rows are read once per step, mostly from memory: ask for row j + kPrefetchRows while on row j
// (the hardware prefetchers stop at page boundaries).
constexpr int64_t kPrefetchRows = 16;
void prefetch_row(const float* row, int64_t n) {
    for (int64_t i = 0; i < n; i += 64 / static_cast<int64_t>(sizeof(float))) __builtin_prefetch(row + i);
}

}  // namespace

bool decode_attention_applies(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values) {
    for (const at::Tensor* t : {&q, &keys, &values})
        if (!t->device().is_cpu() || t->scalar_type() != at::kFloat) return false;
    if (!keys.is_contiguous() || !values.is_contiguous()) return false;
    return !c10::GradMode::is_enabled() || !(q.requires_grad() || keys.requires_grad() || values.requires_grad());
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, int64_t length,
                            const at::Tensor& key_valid) {
    ANVIL_CHECK(q.dim() == 4 && q.size(2) == 1 && keys.dim() == 4 && keys.sizes() == values.sizes(),
                "decode_attention: expected q [B, H, 1, D] and keys, values [B, KVH, capacity, D], got ", q.sizes(),
                ", ", keys.sizes(), ", ", values.sizes());
    const int64_t batch = q.size(0), heads = q.size(1), dim = q.size(3);
    const int64_t kv_heads = keys.size(1), capacity = keys.size(2);
    ANVIL_CHECK(keys.size(0) == batch && keys.size(3) == dim && kv_heads > 0 && heads % kv_heads == 0,
                "decode_attention: q ", q.sizes(), " does not match the cache ", keys.sizes());
    ANVIL_CHECK(length >= 1 && length <= capacity, "decode_attention: length ", length, " outside [1, ", capacity,
                "]");
    ANVIL_CHECK(decode_attention_applies(q, keys, values),
                "decode_attention: needs CPU fp32 tensors, a contiguous cache and no autograd");
    const bool* mask = nullptr;
    int64_t mask_row = 0, mask_col = 0;
    if (key_valid.defined()) {
        ANVIL_CHECK(key_valid.scalar_type() == at::kBool && key_valid.dim() == 2 && key_valid.size(0) == batch &&
                        key_valid.size(1) >= length && key_valid.device().is_cpu(),
                    "decode_attention: key_valid must be a CPU bool [", batch, ", >= ", length, "], got ",
                    key_valid.sizes(), " ", key_valid.scalar_type());
        mask = key_valid.data_ptr<bool>();
        mask_row = key_valid.stride(0);
        mask_col = key_valid.stride(1);
    }
    const at::Tensor qc = q.contiguous();
    at::Tensor out = at::empty({batch, heads, 1, dim}, q.options());
    const float* q_ptr = qc.data_ptr<float>();
    const float* k_ptr = keys.data_ptr<float>();
    const float* v_ptr = values.data_ptr<float>();
    float* out_ptr = out.data_ptr<float>();
    const int64_t group = heads / kv_heads;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dim)));

    // One task per (sequence, KV head): its `group` query heads are rows [b * heads + kvh * group, + group).
    at::parallel_for(0, batch * kv_heads, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> probs(static_cast<size_t>(group * length));
        std::vector<float> acc(static_cast<size_t>(group * dim));
        std::vector<float> sums(static_cast<size_t>(group));
        std::vector<char> valid(static_cast<size_t>(length));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t b = task / kv_heads;
            const float* k = k_ptr + task * capacity * dim;
            const float* v = v_ptr + task * capacity * dim;
            const float* qg = q_ptr + task * group * dim;  // (b * kv_heads + kvh) * group == b * heads + kvh * group
            float* og = out_ptr + task * group * dim;
            for (int64_t j = 0; j < length; ++j)
                valid[j] = j == length - 1 || mask == nullptr || mask[b * mask_row + j * mask_col];

            for (int64_t j = 0; j < length; ++j) {
                if (j + kPrefetchRows < length) prefetch_row(k + (j + kPrefetchRows) * dim, dim);
                if (!valid[j]) continue;
                for (int64_t g = 0; g < group; ++g) probs[g * length + j] = dot(qg + g * dim, k + j * dim, dim) * scale;
            }
            for (int64_t g = 0; g < group; ++g) {
                float* p = probs.data() + g * length;
                float max = -std::numeric_limits<float>::infinity();
                for (int64_t j = 0; j < length; ++j)
                    if (valid[j]) max = std::max(max, p[j]);
                float sum = 0.f;
                for (int64_t j = 0; j < length; ++j) {
                    p[j] = valid[j] ? std::exp(p[j] - max) : 0.f;
                    sum += p[j];
                }
                sums[g] = sum;
            }
            // Masked slots have probability 0: skip their rows (they may hold anything).
            std::fill(acc.begin(), acc.end(), 0.f);
            int64_t j = 0;
            for (; j + 4 <= length; j += 4) {
                for (int64_t r = j + kPrefetchRows; r < std::min(j + 4 + kPrefetchRows, length); ++r)
                    prefetch_row(v + r * dim, dim);
                if (valid[j] && valid[j + 1] && valid[j + 2] && valid[j + 3]) {
                    for (int64_t g = 0; g < group; ++g)
                        axpy4(&acc[g * dim], &probs[g * length + j], v + j * dim, dim);
                    continue;
                }
                for (int64_t r = j; r < j + 4; ++r)
                    if (valid[r])
                        for (int64_t g = 0; g < group; ++g) axpy(&acc[g * dim], probs[g * length + r], v + r * dim, dim);
            }
            for (; j < length; ++j)
                if (valid[j])
                    for (int64_t g = 0; g < group; ++g) axpy(&acc[g * dim], probs[g * length + j], v + j * dim, dim);
            for (int64_t g = 0; g < group; ++g) {
                const float inv = 1.f / sums[g];
                for (int64_t d = 0; d < dim; ++d) og[g * dim + d] = acc[g * dim + d] * inv;
            }
        }
    });
    return out;
}

}  // namespace anvil
