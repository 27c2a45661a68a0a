// Implementation of trainer/lr_schedule.h.
#include "trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace anvil {

double learning_rate(const LrSchedule& s, int64_t step) {
    // Warmup as transformers' get_*_schedule_with_warmup: step 0 has lr 0, step `warmup_steps` the peak.
    if (step < s.warmup_steps) return s.peak_lr * static_cast<double>(step) / static_cast<double>(s.warmup_steps);
    if (s.kind == "constant") return s.peak_lr;
    const int64_t decay_steps = std::max<int64_t>(1, s.total_steps - s.warmup_steps);
    const double progress = std::clamp(static_cast<double>(step - s.warmup_steps) / static_cast<double>(decay_steps), 0.0, 1.0);
    double factor;
    if (s.kind == "linear")
        factor = 1.0 - progress;
    else if (s.kind == "cosine")
        factor = 0.5 * (1.0 + std::cos(M_PI * progress));
    else
        throw UsageError(str("unknown learning-rate schedule '", s.kind, "' (expected constant, linear or cosine)"));
    return s.peak_lr * (s.min_lr_ratio + (1.0 - s.min_lr_ratio) * factor);
}

}  // namespace anvil
