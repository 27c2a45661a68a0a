// Implementation of trainer/training_options.h.
#include "trainer/training_options.h"

namespace anvil {

const config::Section<TrainingOptions>& TrainingOptions::section() {
    static const config::Section<TrainingOptions> s = [] {
        config::Section<TrainingOptions> s("training", "Optimisation options shared by trainable stages.");
        s.field("max_steps", &TrainingOptions::max_steps, "Optimizer steps.").min(1);
        s.field("micro_batch_size", &TrainingOptions::micro_batch_size, "Examples per rank per forward/backward.").min(1);
        s.field("gradient_accumulation", &TrainingOptions::gradient_accumulation,
                "Micro-batches per optimizer step; the global batch is micro_batch_size x this x ranks.")
            .min(1);
        s.field("lr", &TrainingOptions::lr, "Peak learning rate.").min(0);
        s.field("lr_schedule", &TrainingOptions::lr_schedule, "Learning-rate shape after warmup (transformers' schedules).")
            .choices({"constant", "linear", "cosine"});
        s.field("warmup_steps", &TrainingOptions::warmup_steps, "Steps of linear warmup from 0.").min(0);
        s.field("min_lr_ratio", &TrainingOptions::min_lr_ratio, "Final learning rate as a fraction of the peak.").min(0).max(1);
        s.field("weight_decay", &TrainingOptions::weight_decay, "AdamW decoupled weight decay.").min(0);
        s.field("adam_beta1", &TrainingOptions::adam_beta1, "AdamW beta1.").min(0).max(1);
        s.field("adam_beta2", &TrainingOptions::adam_beta2, "AdamW beta2.").min(0).max(1);
        s.field("adam_eps", &TrainingOptions::adam_eps, "AdamW epsilon.").min(0);
        s.field("max_grad_norm", &TrainingOptions::max_grad_norm, "Clip the global gradient norm to this (0 = off).").min(0);
        s.field("zero1", &TrainingOptions::zero1, "Shard the optimizer state across ranks (ZeRO-1).");
        s.field("autocast", &TrainingOptions::autocast,
                "Mixed precision of forward passes: bf16 autocast (weights, gradients and optimizer state stay fp32), "
                "off, or auto (bf16 on CUDA, off on the CPU).")
            .choices({"auto", "bf16", "off"});
        s.field("eval_every", &TrainingOptions::eval_every, "Evaluate every N steps (0 = only at the end).").min(0);
        s.field("checkpoint_every", &TrainingOptions::checkpoint_every,
                "Write a resumable checkpoint every N steps (0 = only at the end).")
            .min(0);
        s.field("keep_last", &TrainingOptions::keep_last, "Checkpoints kept; older ones are deleted.").min(1);
        s.field("max_bad_steps", &TrainingOptions::max_bad_steps,
                "Steps with a non-finite loss or gradient are skipped; abort after this many.")
            .min(0);
        return s;
    }();
    return s;
}

}  // namespace anvil
