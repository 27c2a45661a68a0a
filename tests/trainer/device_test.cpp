// Unit tests for trainer/device.h: device selection (a clear error for cuda without a GPU), the autocast
// choices, the autocast scope (bf16 matmuls inside, fp32 again after, nesting restores the outer state, and
// the chunked log-probs follow it consistently in forward and backward) and the peak-memory metric.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "models/logprobs.h"
#include "trainer/device.h"

namespace anvil {

TEST(Device, SelectsTheDeviceAndRefusesCudaWithoutAGpu) {
    EXPECT_EQ(select_device("cpu", 0), c10::Device(c10::kCPU));
    if (at::hasCUDA()) {
        EXPECT_EQ(select_device("auto", 0), c10::Device(c10::kCUDA, 0));
        EXPECT_EQ(select_device("cuda", 0), c10::Device(c10::kCUDA, 0));
    } else {
        EXPECT_EQ(select_device("auto", 0), c10::Device(c10::kCPU));
        try {
            select_device("cuda", 0);
            FAIL() << "cuda without a GPU must be refused";
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("no CUDA GPU is visible"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(select_device("tpu", 0), UsageError);
}

TEST(Device, AutocastChoices) {
    const c10::Device cpu(c10::kCPU), gpu(c10::kCUDA, 0);
    EXPECT_EQ(autocast_dtype("auto", gpu), at::kBFloat16);
    EXPECT_EQ(autocast_dtype("auto", cpu), std::nullopt);
    EXPECT_EQ(autocast_dtype("bf16", cpu), at::kBFloat16);
    EXPECT_EQ(autocast_dtype("off", gpu), std::nullopt);
    EXPECT_THROW(autocast_dtype("fp8", cpu), UsageError);
}

TEST(Device, AutocastScopeRunsMatmulsInBf16AndRestores) {
    const c10::Device cpu(c10::kCPU);
    at::Tensor x = at::randn({4, 8}), w = at::randn({3, 8});
    EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat);
    {
        AutocastGuard outer(cpu, at::kBFloat16);
        EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16);
        {
            AutocastGuard off(cpu, std::nullopt);  // an empty scope changes nothing
            EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16);
        }
        EXPECT_TRUE(at::autocast::is_autocast_enabled(c10::kCPU));
        {
            AutocastOff pause(cpu);  // e.g. an RL rollout inside a training hook
            EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat);
        }
        EXPECT_EQ(at::linear(x, w).scalar_type(), at::kBFloat16);
    }
    EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::kCPU));
    EXPECT_EQ(at::linear(x, w).scalar_type(), at::kFloat);
}

TEST(Device, ChunkedLogprobsUnderAutocastMatchBf16Logits) {
    at::manual_seed(0);
    at::Tensor hidden = at::randn({6, 16}).requires_grad_(true), weight = at::randn({50, 16}).requires_grad_(true);
    at::Tensor targets = at::randint(0, 50, {6}, at::kLong);
    targets[2] = -100;
    at::Tensor got;
    {
        AutocastGuard guard(c10::Device(c10::kCPU), at::kBFloat16);
        got = chunked_token_logprobs(hidden, weight, targets, /*chunk_tokens=*/4);
    }
    (got * at::arange(6, at::kFloat)).sum().backward();
    at::Tensor grad_h = hidden.grad().clone(), grad_w = weight.grad().clone();
    hidden.mutable_grad() = at::Tensor();
    weight.mutable_grad() = at::Tensor();
    // Reference: bf16 logits upcast to fp32, as autocast's nn.Linear followed by log_softmax in fp32.
    at::Tensor logits = at::linear(hidden.to(at::kBFloat16), weight.to(at::kBFloat16)).to(at::kFloat);
    at::Tensor want = at::log_softmax(logits, -1).gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1);
    want = want.masked_fill(targets < 0, 0.0);
    EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-5)) << got << want;
    (want * at::arange(6, at::kFloat)).sum().backward();
    EXPECT_TRUE(at::allclose(grad_h, hidden.grad(), 1e-2, 1e-2)) << grad_h - hidden.grad();
    EXPECT_TRUE(at::allclose(grad_w, weight.grad(), 1e-2, 1e-2)) << grad_w - weight.grad();
    EXPECT_EQ(grad_h.scalar_type(), at::kFloat);
}

TEST(Device, PeakMemoryIsReported) {
    EXPECT_GT(peak_memory_gb(c10::Device(c10::kCPU)), 0.0);
    if (at::hasCUDA()) {
        const c10::Device gpu(c10::kCUDA, 0);
        reset_peak_memory(gpu);
        at::Tensor big = at::empty({64 << 20}, at::TensorOptions().device(gpu).dtype(at::kByte));
        EXPECT_GE(peak_memory_gb(gpu), 64.0 / 1024);
    }
}

}  // namespace anvil
