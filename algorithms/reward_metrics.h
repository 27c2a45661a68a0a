// How well a reward model with bounds ranks held-out preference pairs (reward-uq.md §5), from the [N, 3]
// (reward, lower, upper) answers for the chosen and the rejected response of each pair:
//   - accuracy (true rate) TR = P[r_c > r_l], false rate FR = 1 − TR;
//   - confident-true rate CTR = P[lo_c > up_l] and confident-false rate CFR = P[up_c < lo_l];
//   - expected / maximum calibration error of p = σ(r_c − r_l) over 20 equal-width bins on [0, 1], each pair
//     augmented with its flip (p, label 1) and (1 − p, label 0); a probability p falls in bin min(⌊p·bins⌋, bins−1);
//   - the Brier score mean (p − y)² over the same augmented set;
//   - the combined ranking score R_β = CTR / ((1−β)·TR + β) − CFR / ((1−β)·FR + β) for β ∈ {0, 0.01, 0.2, 1}
//     (a 0/0 term counts as 0).
// Pure functions; the reward-model stage and `anvil eval --reward-model` print and log them.
#pragma once

#include <ATen/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "trainer/metrics.h"

namespace anvil {

struct RewardPairMetrics {
    int64_t pairs = 0;
    double accuracy = 0, confident_true = 0, confident_false = 0;
    double ece = 0, mce = 0, brier = 0;
    std::vector<std::pair<double, double>> ranking;  // (β, R_β)

    // Named metrics ("accuracy", "confident_true", ..., "ranking_b0.2"), each name prefixed by `prefix`.
    Metrics metrics(const std::string& prefix = "") const;
    // A small text table, one metric per line.
    std::string table(const std::string& title) const;
};

// chosen, rejected: [N, 3] (reward, lower, upper), N >= 1.
RewardPairMetrics reward_pair_metrics(const at::Tensor& chosen, const at::Tensor& rejected, int64_t bins = 20);

}  // namespace anvil
