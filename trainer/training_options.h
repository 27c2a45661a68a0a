// The optimisation options every trainable stage shares (SFT, DPO, reward models, GRPO): steps, batch
// shape, AdamW, the learning-rate schedule, clipping, ZeRO-1, mixed precision, and the cadence of logging,
// evaluation and checkpoints. Stages include these keys flat in their [[stage]] table (config::Section::include).
#pragma once

#include <cstdint>
#include <string>

#include "core/config_schema.h"

namespace anvil {

struct TrainingOptions {
    int64_t max_steps = 100;
    int64_t micro_batch_size = 8;
    int64_t gradient_accumulation = 1;
    double lr = 1e-4;
    std::string lr_schedule = "cosine";
    int64_t warmup_steps = 0;
    double min_lr_ratio = 0.0;
    double weight_decay = 0.0;
    double adam_beta1 = 0.9;
    double adam_beta2 = 0.999;
    double adam_eps = 1e-8;
    double max_grad_norm = 1.0;
    bool zero1 = false;
    std::string autocast = "auto";
    int64_t eval_every = 0;
    int64_t checkpoint_every = 0;
    int64_t keep_last = 2;
    int64_t max_bad_steps = 10;

    static const config::Section<TrainingOptions>& section();
};

}  // namespace anvil
