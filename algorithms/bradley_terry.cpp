// Implementation of algorithms/bradley_terry.h.
#include "algorithms/bradley_terry.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace anvil {

at::Tensor bradley_terry_loss(const at::Tensor& chosen, const at::Tensor& rejected, const at::Tensor& margin,
                              double center_coefficient) {
    ANVIL_CHECK(chosen.sizes() == rejected.sizes() && (chosen.dim() == 1 || chosen.dim() == 2),
                "bradley_terry_loss: chosen ", chosen.sizes(), " and rejected ", rejected.sizes(), " must both be [B] or [B, K]");
    at::Tensor diff = chosen - rejected;
    if (margin.defined()) {
        ANVIL_CHECK(margin.dim() == 1 && margin.size(0) == chosen.size(0), "bradley_terry_loss: margin ", margin.sizes(),
                    " must be [B] with B = ", chosen.size(0));
        diff = diff - (chosen.dim() == 2 ? margin.unsqueeze(1) : margin).to(diff.scalar_type());
    }
    at::Tensor loss = -at::log_sigmoid(diff).mean();
    if (center_coefficient != 0) loss = loss + center_coefficient * (chosen + rejected).pow(2).mean();
    return loss;
}

at::Tensor anchor_penalty(const std::vector<at::Tensor>& parameters, const std::vector<at::Tensor>& anchors) {
    ANVIL_CHECK(!parameters.empty() && parameters.size() == anchors.size(), "anchor_penalty: ", parameters.size(),
                " parameter tensors but ", anchors.size(), " anchors");
    const int64_t heads = parameters[0].size(0);
    at::Tensor squared;
    int64_t per_head = 0;
    for (size_t i = 0; i < parameters.size(); ++i) {
        ANVIL_CHECK(parameters[i].sizes() == anchors[i].sizes() && parameters[i].size(0) == heads,
                    "anchor_penalty: parameter ", i, " ", parameters[i].sizes(), " vs anchor ", anchors[i].sizes(),
                    " (dim 0 must be the ", heads, " heads)");
        at::Tensor s = (parameters[i] - anchors[i].detach()).pow(2).reshape({heads, -1}).sum(1);
        squared = squared.defined() ? squared + s : s;
        per_head += parameters[i][0].numel();
    }
    return (squared / static_cast<double>(per_head)).mean();
}

double anchor_weight(double lambda0, const std::string& schedule, double base, double scaler, int64_t done, int64_t total) {
    const double progress = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    if (schedule == "none") return lambda0;
    if (schedule == "exponential") return lambda0 * std::pow(base, scaler * progress);
    if (schedule == "linear") return lambda0 * (1.0 - progress);
    throw Error(str("anchor_weight: unknown schedule '", schedule, "' (none, exponential, linear)"));
}

}  // namespace anvil
