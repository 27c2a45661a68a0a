// Implementation of algorithms/policy_loss.h.
#include "algorithms/policy_loss.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"

namespace anvil {

LossAggregation loss_aggregation_from_name(const std::string& name) {
    if (name == "token-mean") return LossAggregation::token_mean;
    if (name == "seq-mean-token-mean") return LossAggregation::seq_mean_token_mean;
    if (name == "seq-mean-token-sum-norm") return LossAggregation::seq_mean_token_sum_norm;
    throw UsageError(str("unknown loss aggregation '", name, "' (token-mean, seq-mean-token-mean, seq-mean-token-sum-norm)"));
}

KlEstimator kl_estimator_from_name(const std::string& name) {
    if (name == "k1") return KlEstimator::k1;
    if (name == "k2") return KlEstimator::k2;
    if (name == "k3") return KlEstimator::k3;
    throw UsageError(str("unknown KL estimator '", name, "' (k1, k2, k3)"));
}

at::Tensor kl_penalty(const at::Tensor& logp, const at::Tensor& ref_logp, KlEstimator estimator) {
    at::Tensor log_ratio = logp - ref_logp;
    switch (estimator) {
        case KlEstimator::k1: return log_ratio;
        case KlEstimator::k2: return 0.5 * log_ratio.square();
        case KlEstimator::k3: return at::exp(-log_ratio) + log_ratio - 1.0;
    }
    return log_ratio;
}

PolicyLoss policy_loss(const at::Tensor& logp, const at::Tensor& old_logp, const at::Tensor& ref_logp,
                       const at::Tensor& advantages, const at::Tensor& mask, const PolicyLossOptions& o,
                       const LossNormalizer& normalizer) {
    ANVIL_CHECK(logp.dim() == 2 && logp.sizes() == old_logp.sizes() && logp.sizes() == mask.sizes(),
                "policy_loss: logp, old_logp and mask must be [B, T] alike, got ", logp.sizes(), ", ", old_logp.sizes(), ", ",
                mask.sizes());
    ANVIL_CHECK(o.kl_coef == 0.0 || (ref_logp.defined() && ref_logp.sizes() == logp.sizes()),
                "policy_loss: kl_coef > 0 needs reference log-probs shaped like logp");
    const at::Tensor adv = advantages.dim() == 1 ? advantages.unsqueeze(1) : advantages;
    const at::Tensor m = mask.to(logp.scalar_type());

    at::Tensor log_ratio = logp - old_logp;
    at::Tensor ratio = at::exp(log_ratio);
    at::Tensor unclipped = -adv * ratio;
    at::Tensor clipped = -adv * at::clamp(ratio, 1.0 - o.clip_low, 1.0 + o.clip_high);
    at::Tensor loss = at::maximum(unclipped, clipped);
    at::Tensor dual = at::zeros_like(m, at::kBool);
    if (o.dual_clip > 1.0) {
        at::Tensor bound = -adv * o.dual_clip;
        dual = (adv < 0) & (loss > bound);
        loss = at::where(adv < 0, at::minimum(loss, bound), loss);
    }
    at::Tensor kl;
    if (ref_logp.defined()) {  // measured whenever the reference is given; in the loss when kl_coef != 0
        ANVIL_CHECK(ref_logp.sizes() == logp.sizes(), "policy_loss: ref_logp ", ref_logp.sizes(), " is not shaped like logp ", logp.sizes());
        kl = kl_penalty(logp, ref_logp, o.kl_estimator);
        if (o.kl_coef != 0.0) loss = loss + o.kl_coef * kl;
    }

    const double local_tokens = m.sum().item<double>();
    const double tokens = normalizer.tokens > 0 ? normalizer.tokens : local_tokens;
    const double sequences = normalizer.sequences > 0 ? normalizer.sequences : static_cast<double>(logp.size(0));
    PolicyLoss out;
    at::Tensor masked = loss * m;
    switch (o.aggregation) {
        case LossAggregation::token_mean:
            out.loss = masked.sum() / std::max(tokens, 1.0);
            break;
        case LossAggregation::seq_mean_token_mean:
            out.loss = (masked.sum(1) / m.sum(1).clamp_min(1.0)).sum() / std::max(sequences, 1.0);
            break;
        case LossAggregation::seq_mean_token_sum_norm:
            ANVIL_CHECK(o.max_completion_length > 0, "seq-mean-token-sum-norm needs max_completion_length > 0");
            out.loss = masked.sum() / static_cast<double>(o.max_completion_length) / std::max(sequences, 1.0);
            break;
    }

    at::NoGradGuard no_grad;
    auto masked_sum = [&](const at::Tensor& x) { return (x.to(m.scalar_type()) * m).sum().item<double>(); };
    out.clipped_low = masked_sum((ratio < 1.0 - o.clip_low) & (adv < 0));
    out.clipped_high = masked_sum((ratio > 1.0 + o.clip_high) & (adv > 0));
    out.dual_clipped = masked_sum(dual);
    if (kl.defined()) out.kl = masked_sum(kl);
    out.approx_kl_old = masked_sum(0.5 * log_ratio.square());
    out.tokens = local_tokens;
    return out;
}

}  // namespace anvil
