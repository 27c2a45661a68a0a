// Reward-model training objectives on scalar rewards (reward-uq.md §3.1, active-preferences.md §3):
//   - the Bradley–Terry pairwise loss mean[−log σ(r_c − r_r − m)] with an optional per-pair margin m (TRL
//     RewardTrainer, Llama-2's margin), applied to each ensemble head separately when rewards are [B, K], plus
//     the reward-centering term c·mean[(r_c + r_r)²] (Eisenstein et al. 2023; TRL center_rewards_coefficient);
//   - the anchor penalty that keeps each ensemble head near its own random initial weights θ_k⁰ (anchored
//     ensembles, Pearce et al. 2020): mean_k[mean over head k's parameters of (θ_k − θ_k⁰)²];
//   - the decaying weight λ_t of that penalty (ActiveUltraFeedback: λ_0·base^(scaler·t/T), or linear).
// Pure tensor maths: no model, no data.
#pragma once

#include <ATen/Tensor.h>

#include <string>
#include <vector>

namespace anvil {

// chosen, rejected: [B] or [B, K] rewards; margin: undefined (0) or [B]. Returns the scalar loss.
at::Tensor bradley_terry_loss(const at::Tensor& chosen, const at::Tensor& rejected, const at::Tensor& margin = {},
                              double center_coefficient = 0.0);

// parameters[i] and anchors[i] have the same shape [K, ...] (head k's slice is [k]). Returns the scalar
// mean_k[ Σ_i ‖θ_{i,k} − θ⁰_{i,k}‖² / (parameters per head) ], differentiable in the parameters.
at::Tensor anchor_penalty(const std::vector<at::Tensor>& parameters, const std::vector<at::Tensor>& anchors);

// λ_t after `done` of `total` steps: "none" → λ_0; "exponential" → λ_0·base^(scaler·done/total);
// "linear" → λ_0·(1 − done/total). Throws anvil::Error on another schedule name.
double anchor_weight(double lambda0, const std::string& schedule, double base, double scaler, int64_t done, int64_t total);

}  // namespace anvil
