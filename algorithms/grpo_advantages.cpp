// Implementation of algorithms/grpo_advantages.h.
#include "algorithms/grpo_advantages.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace anvil {

namespace {

void check_rewards(const at::Tensor& rewards) {
    ANVIL_CHECK(rewards.dim() == 2 && rewards.size(1) >= 1, "rewards must be [prompts, group], got ", rewards.sizes());
}

// C(n − c, k) / C(n, k): the chance that k of n responses drawn without replacement are all wrong.
double all_wrong_ratio(int64_t n, int64_t c, int64_t k) {
    double ratio = 1.0;
    for (int64_t i = 0; i < k; ++i) {
        if (n - c - i <= 0) return 0.0;
        ratio *= static_cast<double>(n - c - i) / static_cast<double>(n - i);
    }
    return ratio;
}

}  // namespace

at::Tensor group_advantages(const at::Tensor& rewards, bool scale_by_std, double eps) {
    check_rewards(rewards);
    if (rewards.size(1) == 1) return scale_by_std ? rewards / (1.0 + eps) : rewards.clone();
    at::Tensor centred = rewards - rewards.mean(1, true);
    if (!scale_by_std) return centred;
    return centred / (rewards.std(1, /*unbiased=*/true, true) + eps);
}

at::Tensor passk_advantages(const at::Tensor& rewards, int64_t k, double eps) {
    check_rewards(rewards);
    const int64_t groups = rewards.size(0), n = rewards.size(1);
    ANVIL_CHECK(k >= 1 && k <= n, "pass@k advantage needs 1 <= k <= group size (", n, "), got k = ", k);
    at::Tensor pass1 = group_advantages(rewards, true, eps).to(at::kDouble).contiguous();
    at::Tensor correct = (rewards > 0.5).to(at::kCPU).contiguous();
    at::Tensor out = at::empty({groups, n}, at::kDouble);
    const bool* is_correct = correct.data_ptr<bool>();
    const double* a1 = pass1.data_ptr<double>();
    double* a = out.data_ptr<double>();
    for (int64_t g = 0; g < groups; ++g) {
        int64_t c = 0;
        for (int64_t i = 0; i < n; ++i) c += is_correct[g * n + i];
        const double rho = 1.0 - all_wrong_ratio(n, c, k);
        const double sigma = std::sqrt(rho * (1.0 - rho));
        // C(n−c−1, k−1) / C(n−1, k−1): a wrong response's chance that the other k−1 drawn are wrong too.
        const double wrong_rest = all_wrong_ratio(n - 1, c, k - 1);
        const double w = static_cast<double>(c) / static_cast<double>(n);
        for (int64_t i = 0; i < n; ++i) {
            double passk = 0.0;
            if (sigma > 0) passk = is_correct[g * n + i] ? (1.0 - rho) / sigma : (1.0 - rho - wrong_rest) / sigma;
            a[g * n + i] = w * passk + (1.0 - w) * a1[g * n + i];
        }
    }
    return out.to(rewards.dtype()).to(rewards.device());
}

at::Tensor constant_groups(const at::Tensor& rewards) {
    check_rewards(rewards);
    return (rewards == rewards.select(1, 0).unsqueeze(1)).all(1);
}

}  // namespace anvil
