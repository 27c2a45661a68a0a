// Stage kind "grpo": RL with verifiable rewards (RLVR) by group-relative policy optimisation (Shao et al. 2024),
// with the options researchers combine today (ttc-rl.md §3, landscape.md): std-normalised, Dr.GRPO or
// pass@k-combined advantages; PPO clipping with separate low/high ranges (DAPO clip-higher) and dual-clip;
// token-mean, seq-mean-token-mean or seq-mean-token-sum-norm aggregation; optional KL to a frozen reference
// (k1/k2/k3); dynamic sampling (groups whose rewards are all equal leave the loss) and overlong filtering
// (truncated completions leave the loss).
//
// One rollout batch: prompts_per_step prompts (sharded across ranks), group_size completions each from the
// rollout engine, rewards from the configured single-turn environment, advantages per group; then
// ppo_epochs × mini_batches optimizer steps over it with the stored rollout log-probs as π_old. Sampling is
// seeded by the global sample index, so 2 ranks reproduce 1 rank with the same global batch, and a resumed run
// (checkpoints fall on rollout boundaries) regenerates exactly the rollouts it would have seen.
// The maths is algorithms/grpo_advantages.h and algorithms/policy_loss.h; this file composes it.
#pragma once

#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/registry.h"
#include "environments/task.h"
#include "trainer/training_options.h"

namespace anvil {

class RunContext;

struct GrpoOptions {
    std::string model = "@model";
    std::string reference_model = "";
    env::TaskSourceOptions tasks = env::task_source("@train_tasks");
    env::EnvironmentSpec environment = env::environment_named("math");
    std::string prompt_template = "{prompt}";
    std::string chat_template = "";

    int64_t prompts_per_step = 16;
    int64_t group_size = 8;
    int64_t max_new_tokens = 128;
    double temperature = 1.0;
    double top_p = 1.0;
    int64_t top_k = 0;
    std::vector<std::string> stop;
    int64_t rollout_batch_size = 64;

    std::string advantage = "grpo";
    double advantage_eps = 1e-6;
    int64_t passk_k = 4;
    double clip_low = 0.2;
    double clip_high = 0.28;
    double dual_clip = 0.0;
    std::string loss_aggregation = "token-mean";
    double kl_coef = 0.0;
    std::string kl_estimator = "k3";
    bool log_kl = false;
    bool dynamic_sampling = false;
    bool mask_truncated = false;
    int64_t mini_batches = 1;
    int64_t ppo_epochs = 1;
    double correct_threshold = 1.0;

    env::TaskSourceOptions eval_tasks;
    int64_t eval_max_tasks = 500;
    int64_t log_completions_every = 10;
    int64_t seed = 0;
    TrainingOptions training = default_training();

    // Optimizer steps per rollout batch: ppo_epochs × mini_batches.
    int64_t steps_per_rollout() const { return ppo_epochs * mini_batches; }

    static TrainingOptions default_training();
    static const config::Section<GrpoOptions>& section();
};

void run_grpo_stage(const GrpoOptions& options, RunContext& ctx);

}  // namespace anvil
