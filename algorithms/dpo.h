// Stage kind "dpo": Direct Preference Optimization and its variants (specs/dpo.md) on preference pairs
// (algorithms/preference_data.h), data parallel through the training loop (trainer/training_loop.h).
// Each micro-batch runs chosen and rejected responses as one batch of 2B rows; the sequence log-probs (sum over
// completion tokens, or their mean with length_normalize and for IPO) go to algorithms/dpo_loss.h, plus
// rpo_alpha × the chosen responses' NLL when RPO is on.
// The reference log-probs come from (dpo.md §5):
//   - "cached" (default): computed once by the reference model before training and kept in
//     <stage>/reference_logps.safetensors (reused on resume), or taken from the data's ref_chosen_logps /
//     ref_rejected_logps when every pair has them; the reference model is then freed;
//   - "model": a frozen reference model kept in memory and run on every micro-batch;
//   - "none": reference-free (a uniform reference, ℓref = 0).
// The reference is the starting checkpoint unless reference_model names another. Metrics: loss, the implicit
// rewards of chosen and rejected, reward accuracy and margin, mean log-probs; held-out: eval_loss,
// eval_reward_accuracy, eval_reward_margin and eval_logp_accuracy (P[ℓθ(y_w) > ℓθ(y_l)], meaningful before
// training too). The data order is a seeded permutation per epoch (algorithms/data_order.h), so resume is exact.
#pragma once

#include <string>

#include "algorithms/preference_data.h"
#include "core/config_schema.h"
#include "trainer/training_options.h"

namespace anvil {

class RunContext;

struct DpoOptions {
    std::string model = "@model";
    std::string reference_mode = "cached";
    std::string reference_model = "";
    PreferenceDataOptions pairs;
    int64_t seed = 0;
    std::string loss_type = "sigmoid";
    double beta = 0.1;
    double label_smoothing = 0.0;
    bool length_normalize = false;
    double rpo_alpha = 0.0;
    TrainingOptions training;

    static const config::Section<DpoOptions>& section();
};

void run_dpo_stage(const DpoOptions& options, RunContext& ctx);

}  // namespace anvil
