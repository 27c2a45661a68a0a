// Matmuls on the CPU through oneDNN with the weight reordered into oneDNN's blocked layout
// (mkldnn::_reorder_linear_weight / mkldnn::_linear_pointwise, the kernels LibTorch's inductor uses for frozen
// CPU models). at::linear goes to MKL's sgemm, which repacks the weight on every call and, on AMD CPUs, runs a
// generic kernel: for the rollout engine's 32-row decode matmuls oneDNN is 2-4x faster, for training-sized
// ones 1.3-2x (bench/README.md). Results equal at::linear up to the summation order (fp32 rounding).
// Not here: other dtypes or devices (callers keep at::linear there).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace anvil {

// Whether the oneDNN path may serve a CPU fp32 product of `x` and `weight` (LibTorch built with oneDNN).
bool onednn_matmul_applies(const at::Tensor& x, const at::Tensor& weight);

// x [..., K] @ weight [M, K]^T, reordering `weight` for this call only; requires onednn_matmul_applies.
at::Tensor onednn_matmul_nt(const at::Tensor& x, const at::Tensor& weight);

// One linear layer's weight in oneDNN's layout, reordered again only when the weight changed (another
// storage, or an in-place update such as an optimizer step or a checkpoint load bumping its version).
class PackedLinearWeight {
public:
    // at::linear(x, weight, bias) for x [..., in], weight [out, in], bias [out] or undefined, with autograd
    // (backward: dx through oneDNN, dW and db through ATen); requires onednn_matmul_applies.
    at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

    // `weight` in oneDNN's layout, reordered if it changed since the last call.
    const at::Tensor& packed(const at::Tensor& weight);

private:
    at::Tensor packed_;
    const void* source_ = nullptr;
    uint32_t version_ = 0;
};

}  // namespace anvil
