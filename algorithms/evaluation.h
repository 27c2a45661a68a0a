// Evaluation of a policy on a held-out task set with any single-turn environment: greedy accuracy, mean@n
// over n sampled completions per task, and the unbiased pass@k estimator of Chen et al. 2021 ("Evaluating
// Large Language Models Trained on Code", eq. 1; ttc-rl.md §evaluation): pass@k = 1 − C(n−c, k) / C(n, k)
// for c correct among n samples, averaged over tasks. The estimators are pure functions; evaluate_model
// runs the generation and scoring; the "eval" stage and `anvil eval` write the results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/registry.h"
#include "environments/task.h"
#include "trainer/metrics.h"

namespace anvil {

class Progress;
class RunContext;
class TextGenerator;

// Unbiased pass@k for one task with `correct` of `n` samples correct (k <= n).
double pass_at_k(int64_t n, int64_t correct, int64_t k);

struct EvalOptions {
    std::string model = "@model";
    env::TaskSourceOptions tasks = env::task_source("@test_tasks");
    env::EnvironmentSpec environment = env::environment_named("math");
    std::string prompt_template = "{prompt}";
    std::string chat_template = "";
    std::string dtype = "float32";
    int64_t max_new_tokens = 256;
    std::vector<std::string> stop;
    int64_t samples = 0;
    double temperature = 1.0;
    double top_p = 1.0;
    std::vector<int64_t> pass_k = {1};
    double correct_threshold = 1.0;
    int64_t batch_size = 64;
    int64_t seed = 0;

    static const config::Section<EvalOptions>& section();
};

struct TaskEvaluation {
    std::string id, prompt;
    std::string greedy_completion;
    double greedy_score = 0;
    std::string greedy_feedback;
    std::vector<std::string> samples;
    std::vector<double> sample_scores;
};

struct EvalReport {
    std::vector<TaskEvaluation> tasks;
    double greedy_accuracy = 0;
    int64_t samples_per_task = 0;
    double mean_at_n = 0;                                 // when samples_per_task > 0
    std::vector<std::pair<int64_t, double>> pass_at_k;    // when samples_per_task > 0

    Metrics metrics() const;
    // A small text table of the numbers above.
    std::string table(const std::string& title) const;
};

// The text shown to the model for a task: prompt_template with "{prompt}" replaced.
std::string render_prompt(const std::string& prompt_template, const env::Task& task);

EvalReport evaluate_model(const TextGenerator& generator, const std::vector<env::Task>& tasks, const env::RewardFn& reward,
                          const EvalOptions& options, Progress* progress);

// The "eval" stage: evaluates @model (or the configured model) and writes <stage>/samples.jsonl and
// <stage>/results.json; metrics go to metrics.jsonl.
void run_eval_stage(const EvalOptions& options, RunContext& ctx);

// One JSON object per task (prompt, greedy completion and score, samples and scores).
std::string eval_samples_jsonl(const EvalReport& report);

}  // namespace anvil
