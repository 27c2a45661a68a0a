// Implementation of algorithms/evaluation.h.
#include "algorithms/evaluation.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/log.h"
#include "models/text_generation.h"
#include "trainer/distributed.h"
#include "trainer/progress.h"
#include "trainer/run_context.h"

namespace anvil {

double pass_at_k(int64_t n, int64_t correct, int64_t k) {
    ANVIL_CHECK(k >= 1 && k <= n && correct >= 0 && correct <= n, "pass@k needs 1 <= k <= n and 0 <= c <= n (n=", n,
                ", c=", correct, ", k=", k, ")");
    if (n - correct < k) return 1.0;
    // 1 − Π_{i=n−c+1}^{n} (1 − k/i), the numerically stable product form of 1 − C(n−c,k)/C(n,k).
    double miss = 1.0;
    for (int64_t i = n - correct + 1; i <= n; ++i) miss *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
    return 1.0 - miss;
}

const config::Section<EvalOptions>& EvalOptions::section() {
    static const config::Section<EvalOptions> s = [] {
        config::Section<EvalOptions> s("eval", "Evaluate a model on held-out tasks.");
        s.field("model", &EvalOptions::model, "Checkpoint directory to evaluate (or @model).");
        s.table("tasks", &EvalOptions::tasks, "Held-out tasks: [stage.tasks] with path (or @test_tasks), format, field names.",
                env::task_source_section());
        s.custom<env::EnvironmentSpec>(
            "environment", &EvalOptions::environment,
            "Scoring environment: [stage.environment] with name (math, code, external, ...) and its options.", "table",
            env::read_environment_value, env::render_environment_spec);
        s.field("prompt_template", &EvalOptions::prompt_template, "How a task is shown to the model; {prompt} is replaced.");
        s.field("chat_template", &EvalOptions::chat_template,
                "\"\" = raw text, \"auto\" = the checkpoint's chat template, or chatml, qwen3, llama3, plain.");
        s.field("dtype", &EvalOptions::dtype, "Weights' dtype while evaluating.").choices({"float32", "bfloat16"});
        s.field("max_new_tokens", &EvalOptions::max_new_tokens, "Longest completion.").min(1);
        s.field("stop", &EvalOptions::stop, "Stop a completion once it contains one of these strings.");
        s.field("samples", &EvalOptions::samples, "Sampled completions per task for mean@n and pass@k (0 = greedy only).").min(0);
        s.field("temperature", &EvalOptions::temperature, "Sampling temperature for the samples.").min(0);
        s.field("top_p", &EvalOptions::top_p, "Nucleus threshold for the samples.").min(0).max(1);
        s.field("pass_k", &EvalOptions::pass_k, "The k of pass@k (each at most samples).");
        s.field("correct_threshold", &EvalOptions::correct_threshold, "A completion is correct when its score reaches this.");
        s.field("batch_size", &EvalOptions::batch_size, "Completions generated together.").min(1);
        s.field("seed", &EvalOptions::seed, "Sampling seed, added to run.seed.").min(0);
        s.check([](const EvalOptions& o, const config::Reporter& report) {
            for (int64_t k : o.pass_k)
                if (o.samples > 0 && (k < 1 || k > o.samples)) report("pass_k", str("k = ", k, " must be in [1, samples]"));
            if (o.prompt_template.find("{prompt}") == std::string::npos) report("prompt_template", "must contain {prompt}");
        });
        return s;
    }();
    return s;
}

std::string render_prompt(const std::string& prompt_template, const env::Task& task) {
    std::string out = prompt_template;
    size_t at = out.find("{prompt}");
    if (at != std::string::npos) out.replace(at, 8, task.prompt);
    return out;
}

Metrics EvalReport::metrics() const {
    Metrics m = {{"greedy_accuracy", greedy_accuracy}};
    if (samples_per_task > 0) {
        m.emplace_back(str("mean@", samples_per_task), mean_at_n);
        for (auto [k, v] : pass_at_k) m.emplace_back(str("pass@", k), v);
    }
    return m;
}

std::string EvalReport::table(const std::string& title) const {
    std::string out = str(title, " (", tasks.size(), " tasks)\n");
    for (const auto& [name, value] : metrics()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%6.2f%%", 100.0 * value);
        out += str("  ", name, std::string(name.size() < 18 ? 18 - name.size() : 1, ' '), buf, "\n");
    }
    return out;
}

EvalReport evaluate_model(const TextGenerator& generator, const std::vector<env::Task>& tasks, const env::RewardFn& reward,
                          const EvalOptions& o, Progress* progress) {
    EvalReport report;
    report.samples_per_task = o.samples;
    report.tasks.resize(tasks.size());
    int64_t done = 0;
    // Greedy completions, then o.samples sampled ones per task, in batches of o.batch_size prompts.
    for (int64_t pass = 0; pass < (o.samples > 0 ? 2 : 1); ++pass) {
        RolloutOptions ro = generator.default_options();
        ro.max_new_tokens = o.max_new_tokens;
        ro.stop_strings = o.stop;
        ro.sampling = SamplingParams{};
        if (pass == 1) {
            ro.sampling.temperature = o.temperature;
            ro.sampling.top_p = o.top_p;
        } else {
            ro.sampling.temperature = 0.0;
        }
        const int64_t copies = pass == 0 ? 1 : o.samples;
        std::vector<std::pair<size_t, std::string>> queue;  // (task index, prompt)
        for (size_t t = 0; t < tasks.size(); ++t)
            for (int64_t c = 0; c < copies; ++c) queue.emplace_back(t, render_prompt(o.prompt_template, tasks[t]));
        for (size_t start = 0; start < queue.size(); start += static_cast<size_t>(o.batch_size)) {
            size_t end = std::min(queue.size(), start + static_cast<size_t>(o.batch_size));
            std::vector<std::string> prompts;
            for (size_t i = start; i < end; ++i) prompts.push_back(queue[i].second);
            ro.seed = static_cast<uint64_t>(o.seed) * 1000003ull + start;  // batches differ, runs repeat
            auto completions = generator.generate(prompts, ro);
            for (size_t i = start; i < end; ++i) {
                const env::Task& task = tasks[queue[i].first];
                TaskEvaluation& e = report.tasks[queue[i].first];
                const std::string& text = completions[i - start].text;
                env::RewardResult r = reward(task, text);
                e.id = task.id;
                e.prompt = queue[i].second;
                if (pass == 0) {
                    e.greedy_completion = text;
                    e.greedy_score = r.score;
                    e.greedy_feedback = r.feedback;
                } else {
                    e.samples.push_back(text);
                    e.sample_scores.push_back(r.score);
                }
            }
            done += static_cast<int64_t>(end - start);
            if (progress) progress->update(done, {});
        }
    }
    double greedy = 0, mean = 0;
    std::vector<double> pass_sums(o.pass_k.size(), 0.0);
    for (const auto& e : report.tasks) {
        greedy += e.greedy_score >= o.correct_threshold ? 1 : 0;
        if (o.samples == 0) continue;
        int64_t correct = 0;
        for (double s : e.sample_scores) correct += s >= o.correct_threshold ? 1 : 0;
        mean += static_cast<double>(correct) / static_cast<double>(o.samples);
        for (size_t j = 0; j < o.pass_k.size(); ++j) pass_sums[j] += pass_at_k(o.samples, correct, o.pass_k[j]);
    }
    const double n = static_cast<double>(std::max<size_t>(1, tasks.size()));
    report.greedy_accuracy = greedy / n;
    if (o.samples > 0) {
        report.mean_at_n = mean / n;
        for (size_t j = 0; j < o.pass_k.size(); ++j) report.pass_at_k.emplace_back(o.pass_k[j], pass_sums[j] / n);
    }
    return report;
}

std::string eval_samples_jsonl(const EvalReport& report) {
    std::string out;
    for (const auto& e : report.tasks) {
        nlohmann::ordered_json j = {{"id", e.id},
                                    {"prompt", e.prompt},
                                    {"greedy_completion", e.greedy_completion},
                                    {"greedy_score", e.greedy_score},
                                    {"greedy_feedback", e.greedy_feedback}};
        if (!e.samples.empty()) {
            j["samples"] = e.samples;
            j["sample_scores"] = e.sample_scores;
        }
        out += j.dump() + "\n";
    }
    return out;
}

void run_eval_stage(const EvalOptions& options, RunContext& ctx) {
    EvalOptions o = options;
    o.seed += ctx.experiment().run.seed;
    o.tasks.path = ctx.resolve(o.tasks.path, "tasks.path");
    const std::string model_dir = ctx.resolve(o.model, "model");
    std::vector<env::Task> tasks = env::load_tasks(o.tasks);
    ANVIL_CHECK(!tasks.empty(), o.tasks.path, ": no tasks to evaluate");
    auto factory = env::make_environment(o.environment);
    env::RewardFn reward = factory->reward();
    if (!reward)
        throw UsageError(str("stage '", ctx.stage_name(), "': environment '", o.environment.common.name,
                             "' is multi-turn; evaluation scores single-turn environments"));
    TextGenerator generator = TextGenerator::load(model_dir, o.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat, o.chat_template);
    generator.model().to(ctx.world().device());
    log::info("evaluating ", model_dir, " on ", tasks.size(), " tasks from ", o.tasks.path, " (greedy",
              o.samples > 0 ? str(" + ", o.samples, " samples each") : std::string(), ")");
    auto progress = ctx.progress(static_cast<int64_t>(tasks.size()) * (1 + o.samples), "completions");
    EvalReport report = evaluate_model(generator, tasks, reward, o, progress.get());
    progress->finish();
    write_file_atomic(ctx.stage_dir() / "samples.jsonl", eval_samples_jsonl(report));
    nlohmann::ordered_json results;
    results["model"] = model_dir;
    results["tasks"] = o.tasks.path;
    results["count"] = tasks.size();
    for (const auto& [name, value] : report.metrics()) results[name] = value;
    write_file_atomic(ctx.stage_dir() / "results.json", results.dump(2) + "\n");
    ctx.log_metrics(0, report.metrics());
    log::info(report.table(str("evaluation '", ctx.stage_name(), "'")));
    ctx.publish(ctx.stage_name() + "_results", (ctx.stage_dir() / "results.json").string());
}

}  // namespace anvil
