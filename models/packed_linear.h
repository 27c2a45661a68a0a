// Inference matmuls on the CPU through oneDNN with the weight reordered once into oneDNN's blocked layout
// (mkldnn::_reorder_linear_weight / mkldnn::_linear_pointwise, the kernels LibTorch's inductor uses for frozen
// CPU models). at::linear goes to MKL's sgemm, which repacks the weight on every call and, on AMD CPUs, runs a
// generic kernel: for the rollout engine's 32-row decode matmuls oneDNN is 2-4x faster (bench/README.md).
// Results equal at::linear up to the summation order (fp32 rounding, ~1e-6 relative).
// Not here: autograd (training forwards keep at::linear), other dtypes or devices.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace anvil {

// The weight of one linear layer in oneDNN's layout, reordered again only when the weight changed (another
// storage, or an in-place update such as an optimizer step or a checkpoint load bumping its version).
class PackedLinearWeight {
public:
    // Whether `linear` may serve this call: CPU fp32 input and weight, LibTorch built with oneDNN, and no
    // gradient needed (grad mode off, or neither requires grad).
    static bool applies(const at::Tensor& x, const at::Tensor& weight);

    // at::linear(x, weight, bias) for x [..., in], weight [out, in], bias [out] or undefined.
    at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

private:
    at::Tensor packed_;
    const void* source_ = nullptr;
    uint32_t version_ = 0;
};

}  // namespace anvil
