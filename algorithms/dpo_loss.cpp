// Implementation of algorithms/dpo_loss.h.
#include "algorithms/dpo_loss.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"

namespace anvil {

const std::vector<std::string>& dpo_loss_types() {
    static const std::vector<std::string> types = {"sigmoid", "robust", "ipo", "hinge"};
    return types;
}

at::Tensor sequence_logprobs(const at::Tensor& token_logprobs, const at::Tensor& mask, bool length_normalize) {
    ANVIL_CHECK(token_logprobs.dim() == 2 && token_logprobs.sizes() == mask.sizes(), "sequence_logprobs: log-probs ",
                token_logprobs.sizes(), " and mask ", mask.sizes(), " must be the same [N, T]");
    at::Tensor m = mask.to(token_logprobs.scalar_type());
    at::Tensor sums = (token_logprobs * m).sum(1);
    return length_normalize ? sums / m.sum(1).clamp_min(1) : sums;
}

at::Tensor chosen_nll(const at::Tensor& chosen_token_logprobs, const at::Tensor& mask) {
    ANVIL_CHECK(chosen_token_logprobs.sizes() == mask.sizes(), "chosen_nll: log-probs ", chosen_token_logprobs.sizes(),
                " and mask ", mask.sizes(), " differ");
    at::Tensor m = mask.to(chosen_token_logprobs.scalar_type());
    return -(chosen_token_logprobs * m).sum() / m.sum().clamp_min(1);
}

DpoLoss dpo_loss(const at::Tensor& policy_chosen, const at::Tensor& policy_rejected, const at::Tensor& reference_chosen,
                 const at::Tensor& reference_rejected, const DpoLossOptions& o) {
    const auto& types = dpo_loss_types();
    ANVIL_CHECK(std::find(types.begin(), types.end(), o.loss_type) != types.end(), "dpo_loss: unknown loss_type '", o.loss_type, "'");
    ANVIL_CHECK(o.beta > 0, "dpo_loss: beta must be > 0, got ", o.beta);
    ANVIL_CHECK(o.label_smoothing >= 0 && o.label_smoothing < 0.5, "dpo_loss: label_smoothing must be in [0, 0.5), got ",
                o.label_smoothing);
    ANVIL_CHECK(policy_chosen.sizes() == policy_rejected.sizes() && policy_chosen.sizes() == reference_chosen.sizes() &&
                    policy_chosen.sizes() == reference_rejected.sizes() && policy_chosen.dim() == 1,
                "dpo_loss: the four log-prob tensors must be [B] of one size; got ", policy_chosen.sizes(), " ",
                policy_rejected.sizes(), " ", reference_chosen.sizes(), " ", reference_rejected.sizes());
    const auto wide = policy_chosen.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    at::Tensor pc = policy_chosen.to(wide), pr = policy_rejected.to(wide);
    at::Tensor rc = reference_chosen.to(wide).detach(), rr = reference_rejected.to(wide).detach();
    const double beta = o.beta, eps = o.label_smoothing;
    at::Tensor h = (pc - pr) - (rc - rr);
    at::Tensor losses;
    if (o.loss_type == "sigmoid") {
        losses = -at::log_sigmoid(beta * h) * (1 - eps) - at::log_sigmoid(-beta * h) * eps;
    } else if (o.loss_type == "robust") {
        losses = (-at::log_sigmoid(beta * h) * (1 - eps) + at::log_sigmoid(-beta * h) * eps) / (1 - 2 * eps);
    } else if (o.loss_type == "ipo") {
        losses = (h - 1 / (2 * beta)).pow(2);
    } else {
        losses = at::relu(1 - beta * h);
    }
    return {losses, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()};
}

}  // namespace anvil
