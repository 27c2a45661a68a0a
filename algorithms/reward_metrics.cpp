// Implementation of algorithms/reward_metrics.h.
#include "algorithms/reward_metrics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace anvil {

RewardPairMetrics reward_pair_metrics(const at::Tensor& chosen, const at::Tensor& rejected, int64_t bins) {
    ANVIL_CHECK(chosen.dim() == 2 && chosen.size(1) == 3 && chosen.sizes() == rejected.sizes() && chosen.size(0) > 0,
                "reward_pair_metrics: chosen ", chosen.sizes(), " and rejected ", rejected.sizes(), " must be [N, 3], N >= 1");
    ANVIL_CHECK(bins >= 1, "reward_pair_metrics: bins must be >= 1");
    at::Tensor c = chosen.detach().to(at::kCPU, at::kDouble), r = rejected.detach().to(at::kCPU, at::kDouble);
    RewardPairMetrics m;
    m.pairs = c.size(0);
    m.accuracy = (c.select(1, 0) > r.select(1, 0)).to(at::kDouble).mean().item<double>();
    m.confident_true = (c.select(1, 1) > r.select(1, 2)).to(at::kDouble).mean().item<double>();
    m.confident_false = (c.select(1, 2) < r.select(1, 1)).to(at::kDouble).mean().item<double>();

    // Calibration of p = σ(r_c − r_l) on the pairs and their flips.
    at::Tensor p = at::sigmoid(c.select(1, 0) - r.select(1, 0));
    at::Tensor probs = at::cat({p, 1 - p});
    at::Tensor labels = at::cat({at::ones_like(p), at::zeros_like(p)});
    at::Tensor bin = (probs * static_cast<double>(bins)).floor().clamp(0, static_cast<double>(bins - 1)).to(at::kLong);
    const double n = static_cast<double>(probs.size(0));
    for (int64_t b = 0; b < bins; ++b) {
        at::Tensor in = bin == b;
        const double count = in.sum().item<double>();
        if (count == 0) continue;
        const double gap = std::abs(labels.masked_select(in).mean().item<double>() - probs.masked_select(in).mean().item<double>());
        m.ece += count / n * gap;
        m.mce = std::max(m.mce, gap);
    }
    m.brier = (probs - labels).pow(2).mean().item<double>();

    const double tr = m.accuracy, fr = 1 - m.accuracy;
    auto ratio = [](double num, double den) { return den == 0 ? 0.0 : num / den; };
    for (double beta : {0.0, 0.01, 0.2, 1.0})
        m.ranking.emplace_back(beta, ratio(m.confident_true, (1 - beta) * tr + beta) -
                                         ratio(m.confident_false, (1 - beta) * fr + beta));
    return m;
}

Metrics RewardPairMetrics::metrics(const std::string& prefix) const {
    Metrics out = {{prefix + "accuracy", accuracy}, {prefix + "confident_true", confident_true},
                   {prefix + "confident_false", confident_false}, {prefix + "ece", ece}, {prefix + "mce", mce},
                   {prefix + "brier", brier}};
    for (const auto& [beta, score] : ranking) {
        char name[32];
        std::snprintf(name, sizeof name, "ranking_b%g", beta);
        out.emplace_back(prefix + name, score);
    }
    return out;
}

std::string RewardPairMetrics::table(const std::string& title) const {
    std::string out = str(title, " (", pairs, " pairs)\n");
    for (const auto& [name, value] : metrics()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%8.4f", value);
        out += str("  ", name, std::string(name.size() < 18 ? 18 - name.size() : 1, ' '), buf, "\n");
    }
    return out;
}

}  // namespace anvil
