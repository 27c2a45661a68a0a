// The DPO loss family on sequence log-probabilities (specs/dpo.md §2-3), as TRL's DPOTrainer.dpo_loss computes
// it (trl/trainer/dpo_trainer.py, v0.23): with h = (ℓθ(y_w) − ℓθ(y_l)) − (ℓref(y_w) − ℓref(y_l)), β = beta and
// ε = label_smoothing,
//   sigmoid (DPO, Rafailov et al. 2023; cDPO when ε > 0): −(1−ε)·log σ(βh) − ε·log σ(−βh)
//   robust  (rDPO, Chowdhury et al. 2024):                 [−(1−ε)·log σ(βh) + ε·log σ(−βh)] / (1 − 2ε)
//   ipo     (Azar et al. 2023):                            (h − 1/(2β))²
//   hinge   (SLiC, Zhao et al. 2023):                      max(0, 1 − βh)
// and the implicit rewards r = β·(ℓθ − ℓref) of each side. Whether ℓ is the sum over completion tokens (DPO's
// default) or their mean (IPO, length-normalised variants) is the caller's choice, made when it computes ℓ.
// Pure tensor maths: no model, no data.
#pragma once

#include <ATen/Tensor.h>

#include <string>
#include <vector>

namespace anvil {

struct DpoLossOptions {
    std::string loss_type = "sigmoid";  // sigmoid | robust | ipo | hinge
    double beta = 0.1;
    double label_smoothing = 0.0;  // ε of cDPO / rDPO; [0, 0.5)
};

// The loss types dpo_loss accepts.
const std::vector<std::string>& dpo_loss_types();

struct DpoLoss {
    at::Tensor losses;            // [B] per pair, differentiable in the policy log-probs
    at::Tensor chosen_rewards;    // [B] β·(ℓθ(y_w) − ℓref(y_w)), detached
    at::Tensor rejected_rewards;  // [B] β·(ℓθ(y_l) − ℓref(y_l)), detached
};

// Sequence log-probabilities from per-token ones (dpo.md §1): Σ_t token_logprobs[i, t] over the positions where
// `mask` is true/non-zero, or their mean with `length_normalize` (IPO and the length-normalised variants). [N, T] -> [N].
at::Tensor sequence_logprobs(const at::Tensor& token_logprobs, const at::Tensor& mask, bool length_normalize);

// RPO's extra term (Pang et al. 2024, "Iterative Reasoning Preference Optimization"; TRL loss_type "sft"): the
// negative log-likelihood of the chosen responses, averaged over all their tokens in the batch. Keeps DPO from
// lowering the chosen responses' likelihood along with the rejected ones'. [N, T] -> scalar.
at::Tensor chosen_nll(const at::Tensor& chosen_token_logprobs, const at::Tensor& mask);

// All inputs are [B] sequence log-probabilities (any float dtype; computed in fp32 or wider). Throws
// anvil::Error on an unknown loss type, β <= 0 or ε outside [0, 0.5).
DpoLoss dpo_loss(const at::Tensor& policy_chosen, const at::Tensor& policy_rejected, const at::Tensor& reference_chosen,
                 const at::Tensor& reference_rejected, const DpoLossOptions& options);

}  // namespace anvil
