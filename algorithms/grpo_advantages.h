// Group-relative advantages for GRPO-style RL (pure functions over reward tensors). Rewards of one rollout
// batch are laid out [P, G]: P prompts with G sampled completions each. Not here: the policy loss
// (algorithms/policy_loss.h) and the rollout itself (algorithms/grpo.h).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace anvil {

// Outcome advantages, broadcast later to every completion token (ttc-rl.md §3; Shao et al. 2024, DeepSeekMath
// eq. 3): A_i = (r_i − mean_g r) / (std_g r + eps) with the Bessel-corrected std of the group, or just
// r_i − mean_g r when scale_by_std is false (Dr.GRPO, Liu et al. 2025, §3.1). A group of size 1 uses mean 0
// and std 1 (as verl does). rewards [P, G] float -> advantages [P, G] in the same dtype.
at::Tensor group_advantages(const at::Tensor& rewards, bool scale_by_std, double eps);

// The pass@k-combined advantage of ttc-rl.md §3.1 for binary rewards (1 = correct): A = w·A_passk +
// (1 − w)·A_pass1 with w = the group's share of correct responses, A_pass1 = group_advantages(..., true, eps)
// and A_passk the analytic pass@k advantage (Chen et al. 2025, "Pass@k Training"): with n responses of which
// c are correct, ρ = 1 − C(n−c, k)/C(n, k), σ = sqrt(ρ(1−ρ)); correct ones get (1 − ρ)/σ, wrong ones
// (1 − ρ − C(n−c−1, k−1)/C(n−1, k−1))/σ; σ = 0 gives 0. Needs 1 <= k <= G.
at::Tensor passk_advantages(const at::Tensor& rewards, int64_t k, double eps);

// Rows of [P, G] rewards whose G values are all equal (no learning signal; DAPO's dynamic sampling drops
// them, Yu et al. 2025 §3.2) -> bool [P].
at::Tensor constant_groups(const at::Tensor& rewards);

}  // namespace anvil
