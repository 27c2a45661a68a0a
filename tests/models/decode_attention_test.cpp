// Unit tests for models/decode_attention.h: equal to at::scaled_dot_product_attention (GQA, boolean mask with
// the query's own slot always visible) on random caches of several shapes, all-valid and left-padded, and
// used only where it applies.
#include "models/decode_attention.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace anvil {
namespace {

// SDPA over the first `length` cache slots, with the mask the transformer builds for a single new token.
at::Tensor reference(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, int64_t length,
                     const at::Tensor& key_valid) {
    at::Tensor k = keys.narrow(2, 0, length), v = values.narrow(2, 0, length);
    std::optional<at::Tensor> mask;
    if (key_valid.defined()) {
        at::Tensor m = key_valid.narrow(1, 0, length).clone();
        m.select(1, length - 1).fill_(true);
        mask = m.view({q.size(0), 1, 1, length});
    }
    return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false, std::nullopt, q.size(1) != keys.size(1));
}

struct Shape {
    int64_t batch, heads, kv_heads, dim, capacity, length;
};

TEST(DecodeAttention, MatchesSdpa) {
    at::NoGradGuard no_grad;
    at::manual_seed(11);
    const Shape shapes[] = {{1, 1, 1, 8, 1, 1},    {2, 4, 2, 64, 20, 13}, {3, 8, 2, 24, 40, 40},
                            {4, 6, 6, 17, 9, 5},   {5, 4, 1, 128, 200, 192}, {2, 12, 4, 80, 70, 33}};
    for (const Shape& s : shapes) {
        at::Tensor q = at::randn({s.batch, s.heads, 1, s.dim}) * 2;
        at::Tensor keys = at::randn({s.batch, s.kv_heads, s.capacity, s.dim});
        at::Tensor values = at::randn({s.batch, s.kv_heads, s.capacity, s.dim});
        // Left padding: row b has b * 3 leading padding slots (clipped so the own slot stays), plus holes.
        at::Tensor padded = at::ones({s.batch, s.capacity}, at::kBool);
        for (int64_t b = 0; b < s.batch; ++b) padded[b].narrow(0, 0, std::min(b * 3, s.length - 1)).fill_(false);
        at::Tensor holes = at::rand({s.batch, s.capacity}) < 0.3;
        // Every slot but the own one masked: the query attends to itself alone.
        at::Tensor only_self = at::zeros({s.batch, s.capacity}, at::kBool);
        for (const at::Tensor& key_valid : {at::Tensor(), padded, holes, only_self, padded.t().contiguous().t()}) {
            at::Tensor got = decode_attention(q, keys, values, s.length, key_valid);
            at::Tensor want = reference(q, keys, values, s.length, key_valid);
            ASSERT_EQ(got.sizes(), want.sizes());
            EXPECT_LE((got - want).abs().max().item<float>(), 1e-5f)
                << "B " << s.batch << " H " << s.heads << " KVH " << s.kv_heads << " D " << s.dim << " L " << s.length
                << " mask " << (key_valid.defined() ? "yes" : "none");
        }
    }
}

TEST(DecodeAttention, StridedQueryAndMaskedSlotsAreIgnored) {
    at::NoGradGuard no_grad;
    at::manual_seed(12);
    // q as the transformer makes it: [B, 1, H, D] transposed to [B, H, 1, D].
    at::Tensor q = at::randn({3, 1, 4, 16}).transpose(1, 2);
    at::Tensor keys = at::randn({3, 2, 10, 16}), values = at::randn({3, 2, 10, 16});
    at::Tensor key_valid = at::rand({3, 10}) < 0.5;
    at::Tensor got = decode_attention(q, keys, values, 7, key_valid);
    EXPECT_LE((got - reference(q, keys, values, 7, key_valid)).abs().max().item<float>(), 1e-5f);
    // Slots past the length and masked slots may hold anything (here NaN) without changing the result.
    at::Tensor dirty_k = keys.clone(), dirty_v = values.clone();
    dirty_k.narrow(2, 7, 3).fill_(NAN);
    dirty_v.narrow(2, 7, 3).fill_(NAN);
    at::Tensor masked = key_valid.narrow(1, 0, 6).logical_not().nonzero();
    for (int64_t i = 0; i < masked.size(0); ++i) {
        int64_t b = masked[i][0].item<int64_t>(), j = masked[i][1].item<int64_t>();
        dirty_k[b].select(1, j).fill_(NAN);
        dirty_v[b].select(1, j).fill_(NAN);
    }
    EXPECT_TRUE(at::equal(decode_attention(q, dirty_k, dirty_v, 7, key_valid), got));
}

TEST(DecodeAttention, AppliesOnlyWithoutAutogradOnCpuFp32) {
    at::Tensor q = at::randn({1, 2, 1, 8}), cache = at::randn({1, 1, 4, 8});
    {
        at::NoGradGuard no_grad;
        EXPECT_TRUE(decode_attention_applies(q, cache, cache));
        EXPECT_TRUE(decode_attention_applies(q.requires_grad_(true), cache, cache));
        EXPECT_FALSE(decode_attention_applies(q.to(at::kBFloat16), cache, cache));
        EXPECT_FALSE(decode_attention_applies(q, cache.transpose(2, 3), cache));
    }
    EXPECT_TRUE(decode_attention_applies(at::randn({1, 2, 1, 8}), cache, cache));  // grad mode, no grad needed
    EXPECT_FALSE(decode_attention_applies(q, cache, cache));                       // q requires grad
    at::NoGradGuard no_grad;
    EXPECT_THROW(decode_attention(at::randn({1, 2, 1, 8}), cache, cache, 5, at::Tensor()), Error);  // > capacity
    at::Tensor two_kv = at::randn({1, 2, 4, 8});
    EXPECT_THROW(decode_attention(at::randn({1, 3, 1, 8}), two_kv, two_kv, 2, at::Tensor()), Error);  // 3 % 2
}

}  // namespace
}  // namespace anvil
