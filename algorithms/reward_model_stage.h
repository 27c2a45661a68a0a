// Stage kind "reward_model": trains a reward model (models/reward_model.h) on preference pairs with the
// Bradley–Terry loss (algorithms/bradley_terry.h; per-pair "margin" from the data, centering term optional):
//   - heads = 1, head_layers = 0: the plain single-head reward model (TRL's RewardTrainer);
//   - heads = K > 1: RewardUQ's ENS-MLP (reward-uq.md §3.1), each head regularised toward its own random initial
//     weights with weight λ_t (anchor_weight, decaying by anchor_decay), answering mean ∓ β·std.
// With freeze_backbone the features of every response are computed once and only the heads train (fast: no
// backbone forward per step); otherwise backbone and heads train together. Held-out evaluation reports the
// reward-model metrics of algorithms/reward_metrics.h (eval_accuracy, eval_ece, eval_confident_true, ...).
// Data parallel and exactly resumable through trainer/training_loop.h. Publishes @reward_model.
#pragma once

#include <string>
#include <vector>

#include "algorithms/reward_metrics.h"
#include "algorithms/preference_data.h"
#include "core/config_schema.h"
#include "trainer/training_options.h"

namespace anvil {

class RunContext;
class RewardModel;
struct PreferenceExample;

struct RewardModelOptions {
    std::string model = "@model";
    PreferenceDataOptions pairs;
    int64_t seed = 0;
    int64_t heads = 1;
    int64_t head_hidden = 128;
    int64_t head_layers = 0;
    double bound_beta = 1.0;
    bool freeze_backbone = false;
    double center_coefficient = 0.0;
    double anchor_weight = 0.0;
    std::string anchor_decay = "none";
    double anchor_decay_base = 0.9;
    double anchor_decay_scaler = 50.0;
    TrainingOptions training;

    static const config::Section<RewardModelOptions>& section();
};

// Scores the chosen and rejected response of every pair with `rm` (no gradients, eval mode) and returns the
// reward-model metrics. `pad` is the padding token id.
RewardPairMetrics evaluate_reward_model(const RewardModel& rm, const std::vector<PreferenceExample>& pairs, int64_t pad);

void run_reward_model_stage(const RewardModelOptions& options, RunContext& ctx);

}  // namespace anvil
