// Unit tests for models/packed_linear.h: equal to at::linear up to fp32 summation order, and never stale: an
// in-place update of the weight (an optimizer step, a checkpoint load) or a new weight tensor is reordered again.
#include "models/packed_linear.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace anvil {
namespace {

void expect_close(const at::Tensor& got, const at::Tensor& want) {
    ASSERT_EQ(got.sizes(), want.sizes());
    const double scale = want.abs().max().item<double>();
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-6 * scale + 1e-7);
}

TEST(PackedLinear, MatchesAtLinearForMatricesAndBatches) {
    torch::NoGradGuard no_grad;
    at::manual_seed(3);
    for (const auto& [rows, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 16, 8}, {32, 256, 768}, {7, 64, 1000}}) {
        const at::Tensor w = at::randn({out, in}), b = at::randn({out});
        PackedLinearWeight packed;
        const at::Tensor x = at::randn({rows, in});
        ASSERT_TRUE(PackedLinearWeight::applies(x, w));
        expect_close(packed.linear(x, w, {}), at::linear(x, w));
        expect_close(packed.linear(x, w, b), at::linear(x, w, b));
        const at::Tensor x3 = at::randn({2, rows, in});  // [B, T, in] as the transformer calls it
        expect_close(packed.linear(x3, w, b), at::linear(x3, w, b));
    }
}

TEST(PackedLinear, FollowsInPlaceUpdatesAndNewWeights) {
    torch::NoGradGuard no_grad;
    at::manual_seed(4);
    at::Tensor w = at::randn({12, 8});
    const at::Tensor x = at::randn({5, 8});
    PackedLinearWeight packed;
    expect_close(packed.linear(x, w, {}), at::linear(x, w));
    w.mul_(-0.5);  // as an optimizer step updates a parameter: same storage, new version
    expect_close(packed.linear(x, w, {}), at::linear(x, w));
    w.copy_(at::randn({12, 8}));  // as a checkpoint load does
    expect_close(packed.linear(x, w, {}), at::linear(x, w));
    const at::Tensor other = at::randn({12, 8});
    expect_close(packed.linear(x, other, {}), at::linear(x, other));
}

TEST(PackedLinear, AppliesOnlyWithoutAutogradOnCpuFp32) {
    const at::Tensor w = at::randn({4, 3}).requires_grad_(true);
    const at::Tensor x = at::randn({2, 3});
    EXPECT_FALSE(PackedLinearWeight::applies(x, w));  // grad mode on and the weight requires grad: training
    {
        torch::NoGradGuard no_grad;
        EXPECT_TRUE(PackedLinearWeight::applies(x, w));
        EXPECT_FALSE(PackedLinearWeight::applies(x.to(at::kDouble), w));
        EXPECT_FALSE(PackedLinearWeight::applies(x, w.to(at::kBFloat16)));
    }
}

}  // namespace
}  // namespace anvil
