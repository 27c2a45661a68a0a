// The clipped policy-gradient loss of GRPO / DAPO / Dr.GRPO and its KL regulariser, as pure functions over
// per-token log-probs (ttc-rl.md §3; landscape.md GRPO options). The loss for token t of a completion with
// advantage A, ρ_t = exp(log π_θ − log π_old):
//   ℓ_t = max(−A·ρ_t, −A·clip(ρ_t, 1 − ε_low, 1 + ε_high))          (PPO, Schulman et al. 2017; DAPO clip-higher)
//   ℓ_t = min(ℓ_t, −A·c) when A < 0 and dual_clip c > 1                 (dual-clip PPO, Ye et al. 2020; as verl)
//   ℓ_t += β·KL_t(π_θ ‖ π_ref) with the k1, k2 or k3 estimator            (Schulman 2020, "Approximating KL")
// aggregated as
//   token-mean:               Σ_{s,t} ℓ / (number of tokens)                         (DAPO; TRL "dapo"/"bnpo")
//   seq-mean-token-mean:      Σ_s (Σ_t ℓ / n_s) / (number of sequences)              (GRPO paper; TRL "grpo")
//   seq-mean-token-sum-norm:  Σ_s (Σ_t ℓ / L_max) / (number of sequences)            (Dr.GRPO; TRL "dr_grpo")
// The token and sequence counts are those of the whole optimizer step (all micro-batches and ranks) when the
// caller passes them, so a step split into micro-batches and ranks gives the loss of the unsplit batch.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>

namespace anvil {

enum class LossAggregation { token_mean, seq_mean_token_mean, seq_mean_token_sum_norm };
enum class KlEstimator { k1, k2, k3 };

// "token-mean" | "seq-mean-token-mean" | "seq-mean-token-sum-norm"; "k1" | "k2" | "k3".
LossAggregation loss_aggregation_from_name(const std::string& name);
KlEstimator kl_estimator_from_name(const std::string& name);

struct PolicyLossOptions {
    double clip_low = 0.2;
    double clip_high = 0.2;
    double dual_clip = 0.0;  // c > 1 turns dual-clip on; 0 = off
    LossAggregation aggregation = LossAggregation::token_mean;
    int64_t max_completion_length = 0;  // L_max of seq-mean-token-sum-norm
    double kl_coef = 0.0;               // β; the reference log-probs are needed when > 0
    KlEstimator kl_estimator = KlEstimator::k3;
};

// Normalisers of the whole optimizer step; <= 0 means "this batch's own count".
struct LossNormalizer {
    double tokens = 0;
    double sequences = 0;
};

struct PolicyLoss {
    at::Tensor loss;  // scalar, differentiable in logp
    // Sums over this batch's completion tokens (divide by `tokens` for means): tokens whose ratio was clipped
    // below (A < 0, ρ < 1 − ε_low) or above (A > 0, ρ > 1 + ε_high), where dual-clip bound the loss, the
    // KL estimate to the reference, and 0.5·(log ρ)² (an estimate of KL(π_old ‖ π_θ)).
    double clipped_low = 0, clipped_high = 0, dual_clipped = 0, kl = 0, approx_kl_old = 0;
    double tokens = 0;
};

// Per-token KL estimate of KL(π_θ ‖ π_ref) from samples of π_θ: k1 = log π_θ − log π_ref,
// k2 = ½(log π_θ − log π_ref)², k3 = exp(log π_ref − log π_θ) − (log π_ref − log π_θ) − 1.
at::Tensor kl_penalty(const at::Tensor& logp, const at::Tensor& ref_logp, KlEstimator estimator);

// logp, old_logp, ref_logp (may be undefined when kl_coef = 0; when given, the KL sum is measured either way)
// and mask: [B, T] (mask 1 on completion tokens, float);
// advantages [B] (one per completion) or [B, T].
PolicyLoss policy_loss(const at::Tensor& logp, const at::Tensor& old_logp, const at::Tensor& ref_logp,
                       const at::Tensor& advantages, const at::Tensor& mask, const PolicyLossOptions& options,
                       const LossNormalizer& normalizer = {});

}  // namespace anvil
