// Implementation of models/packed_linear.h: the two oneDNN operators are looked up once in the dispatcher
// (they have no C++ API header) and called typed; the linear layer's backward is a custom autograd function.
#include "models/packed_linear.h"

#include <ATen/Config.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.h"

namespace anvil {
namespace {

using ReorderFn = at::Tensor(const at::Tensor&, std::optional<int64_t>);
using LinearFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::string_view,
                            c10::List<std::optional<c10::Scalar>>, std::optional<c10::string_view>);

at::Tensor reorder(const at::Tensor& weight) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("mkldnn::_reorder_linear_weight", "").typed<ReorderFn>();
    return op.call(weight.contiguous(), std::nullopt);
}

// x [..., K] @ packed^T (+ bias).
at::Tensor packed_product(const at::Tensor& x, const at::Tensor& packed, const at::Tensor& bias) {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("mkldnn::_linear_pointwise", "").typed<LinearFn>();
    const std::optional<at::Tensor> b = bias.defined() ? std::optional<at::Tensor>(bias) : std::nullopt;
    return op.call(x.contiguous(), packed, b, "none", c10::List<std::optional<c10::Scalar>>(), std::nullopt);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class PackedLinearFunction : public torch::autograd::Function<PackedLinearFunction> {
public:
    // x @ weight^T without the bias (autograd adds that), so every tensor argument is defined.
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, PackedLinearWeight* cache) {
        ctx->save_for_backward({x, weight});
        return packed_product(x, cache->packed(weight), {});
    }

    static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &weight = saved[1];
        const at::Tensor g = grad_outputs[0].contiguous().view({-1, weight.size(0)});
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0)) grad_x = onednn_matmul_nt(g, weight.t()).view(x.sizes());
        if (ctx->needs_input_grad(1)) grad_w = g.t().mm(x.reshape({-1, weight.size(1)}));
        return {grad_x, grad_w, at::Tensor()};
    }
};

}  // namespace

bool onednn_matmul_applies(const at::Tensor& x, const at::Tensor& weight) {
    if (!AT_MKLDNN_ENABLED()) return false;
    return x.is_cpu() && weight.is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat;
}

at::Tensor onednn_matmul_nt(const at::Tensor& x, const at::Tensor& weight) {
    ANVIL_CHECK(onednn_matmul_applies(x, weight), "oneDNN matmul: needs CPU fp32 tensors");
    ANVIL_CHECK(weight.dim() == 2 && x.size(-1) == weight.size(1), "oneDNN matmul: input ", x.sizes(),
                " does not match the weight ", weight.sizes());
    return packed_product(x, reorder(weight), {});
}

const at::Tensor& PackedLinearWeight::packed(const at::Tensor& weight) {
    const uint32_t version = weight._version();
    if (!packed_.defined() || source_ != weight.const_data_ptr() || version_ != version) {
        packed_ = reorder(weight);
        source_ = weight.const_data_ptr();
        version_ = version;
    }
    return packed_;
}

at::Tensor PackedLinearWeight::linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
    ANVIL_CHECK(onednn_matmul_applies(x, weight), "packed linear: needs CPU fp32 tensors");
    ANVIL_CHECK(weight.dim() == 2 && x.size(-1) == weight.size(1), "packed linear: input ", x.sizes(),
                " does not match the weight ", weight.sizes());
    const bool grad = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() ||
                                                     (bias.defined() && bias.requires_grad()));
    if (!grad) return packed_product(x, packed(weight), bias);
    at::Tensor y = PackedLinearFunction::apply(x, weight, this);
    return bias.defined() ? y + bias : y;
}

}  // namespace anvil
