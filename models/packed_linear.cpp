// Implementation of models/packed_linear.h: the two oneDNN operators are looked up once in the dispatcher
// (they have no C++ API header) and called typed.
#include "models/packed_linear.h"

#include <ATen/Config.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>

#include "core/error.h"

namespace anvil {
namespace {

using ReorderFn = at::Tensor(const at::Tensor&, std::optional<int64_t>);
using LinearFn = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&, c10::string_view,
                            c10::List<std::optional<c10::Scalar>>, std::optional<c10::string_view>);

const c10::TypedOperatorHandle<ReorderFn>& reorder_op() {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("mkldnn::_reorder_linear_weight", "").typed<ReorderFn>();
    return op;
}

const c10::TypedOperatorHandle<LinearFn>& linear_op() {
    static const auto op =
        c10::Dispatcher::singleton().findSchemaOrThrow("mkldnn::_linear_pointwise", "").typed<LinearFn>();
    return op;
}

}  // namespace

bool PackedLinearWeight::applies(const at::Tensor& x, const at::Tensor& weight) {
    if (!AT_MKLDNN_ENABLED()) return false;
    if (!x.is_cpu() || !weight.is_cpu() || x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat)
        return false;
    return !c10::GradMode::is_enabled() || !(x.requires_grad() || weight.requires_grad());
}

at::Tensor PackedLinearWeight::linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
    ANVIL_CHECK(applies(x, weight), "packed linear: needs CPU fp32 tensors without autograd");
    ANVIL_CHECK(weight.dim() == 2 && x.size(-1) == weight.size(1), "packed linear: input ", x.sizes(),
                " does not match the weight ", weight.sizes());
    const uint32_t version = weight._version();
    if (!packed_.defined() || source_ != weight.const_data_ptr() || version_ != version) {
        packed_ = reorder_op().call(weight.contiguous(), std::nullopt);
        source_ = weight.const_data_ptr();
        version_ = version;
    }
    const std::optional<at::Tensor> b = bias.defined() ? std::optional<at::Tensor>(bias) : std::nullopt;
    return linear_op().call(x.contiguous(), packed_, b, "none", c10::List<std::optional<c10::Scalar>>(), std::nullopt);
}

}  // namespace anvil
