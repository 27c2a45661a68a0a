// Stage kind "preference_pairs": preference pairs a tiny model can learn, made from verifiable tasks with worked
// solutions (e.g. the arithmetic_tasks stage's). Chosen = the task's solution, which the math verifier accepts.
// Rejected, by `rejected`:
//   - "sample" (on-policy): completions sampled from `model` that the verifier rejects — the model's own
//     mistakes, distinct per task; tasks where every sample is right give no pair;
//   - "perturb": the solution with its final answer replaced by a wrong number (answer ± 1..max_delta) wherever
//     that number appears as a whole number, which the verifier rejects.
// Pairs whose chosen side does not verify, or that cannot be made, are skipped and counted. Writes train_pairs.jsonl and
// test_pairs.jsonl ({id, prompt, chosen, rejected, answer, score_chosen, score_rejected}; the string shape of
// algorithms/preference_data.h) and publishes them as @train_pairs and @test_pairs. Deterministic for a seed.
#pragma once

#include <optional>
#include <string>

#include "core/config_schema.h"

namespace anvil {

class RunContext;

struct PreferencePairsOptions {
    std::string train_tasks = "@train_tasks";
    std::string test_tasks = "@test_tasks";
    std::string solution_field = "solution";
    std::string rejected = "perturb";
    int64_t pairs_per_task = 1;
    int64_t max_delta = 10;
    std::string model = "@model";
    int64_t samples = 4;
    double temperature = 1.0;
    int64_t max_new_tokens = 64;
    int64_t batch_size = 64;
    int64_t max_train_tasks = 0;
    int64_t seed = 0;

    static const config::Section<PreferencePairsOptions>& section();
};

// `solution` with every whole-number occurrence of `answer` (not part of a longer number, a decimal or a
// negative number) replaced by `wrong`; nullopt when `answer` does not occur that way.
std::optional<std::string> replace_answer(const std::string& solution, const std::string& answer, const std::string& wrong);

void run_preference_pairs_stage(const PreferencePairsOptions& options, RunContext& ctx);

}  // namespace anvil
