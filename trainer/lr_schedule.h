// Learning-rate schedules as pure functions of the step: linear warmup from 0, then constant, linear decay
// or cosine decay to min_lr_ratio * peak, matching transformers' get_*_schedule_with_warmup step for step
// (past total_steps the rate stays at its final value).
#pragma once

#include <cstdint>
#include <string>

namespace anvil {

struct LrSchedule {
    std::string kind = "cosine";  // constant | linear | cosine
    double peak_lr = 1e-5;
    int64_t warmup_steps = 0;
    int64_t total_steps = 1;
    double min_lr_ratio = 0.0;
};

// The learning rate for optimizer step `step` (0-based).
double learning_rate(const LrSchedule& schedule, int64_t step);

}  // namespace anvil
