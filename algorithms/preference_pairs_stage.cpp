// Implementation of algorithms/preference_pairs_stage.h.
#include "algorithms/preference_pairs_stage.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/hash.h"
#include "core/log.h"
#include "environments/math_verifier.h"
#include "environments/task.h"
#include "models/text_generation.h"
#include "trainer/progress.h"
#include "trainer/run_context.h"

namespace anvil {

const config::Section<PreferencePairsOptions>& PreferencePairsOptions::section() {
    static const config::Section<PreferencePairsOptions> s = [] {
        config::Section<PreferencePairsOptions> s("preference_pairs", "Verifiable preference pairs from tasks with solutions.");
        s.field("train_tasks", &PreferencePairsOptions::train_tasks, "Tasks (JSONL with prompt, answer, solution) for train_pairs.jsonl.");
        s.field("test_tasks", &PreferencePairsOptions::test_tasks, "Tasks for test_pairs.jsonl; \"\" = none.");
        s.field("solution_field", &PreferencePairsOptions::solution_field, "Field holding the worked solution (the chosen response).");
        s.field("rejected", &PreferencePairsOptions::rejected,
                "Where rejected responses come from: \"sample\" = the model's own wrong samples, \"perturb\" = the solution "
                "with a wrong final answer.")
            .choices({"sample", "perturb"});
        s.field("pairs_per_task", &PreferencePairsOptions::pairs_per_task, "Most pairs per task, each with another wrong response.")
            .min(1)
            .max(20);
        s.field("max_delta", &PreferencePairsOptions::max_delta, "perturb: a wrong answer is the answer ± 1..max_delta.").min(1);
        s.field("model", &PreferencePairsOptions::model, "sample: the checkpoint whose completions are sampled (or @model).");
        s.field("samples", &PreferencePairsOptions::samples, "sample: completions drawn per task.").min(1);
        s.field("temperature", &PreferencePairsOptions::temperature, "sample: sampling temperature.").min(0.01);
        s.field("max_new_tokens", &PreferencePairsOptions::max_new_tokens, "sample: longest completion.").min(1);
        s.field("batch_size", &PreferencePairsOptions::batch_size, "sample: completions generated together.").min(1);
        s.field("max_train_tasks", &PreferencePairsOptions::max_train_tasks, "Use at most this many training tasks; 0 = all.").min(0);
        s.field("seed", &PreferencePairsOptions::seed, "Seed of the wrong answers or samples, added to run.seed.").min(0);
        return s;
    }();
    return s;
}

std::optional<std::string> replace_answer(const std::string& solution, const std::string& answer, const std::string& wrong) {
    if (answer.empty()) return std::nullopt;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::string out;
    bool found = false;
    size_t at = 0;
    for (size_t pos = solution.find(answer); pos != std::string::npos; pos = solution.find(answer, pos + 1)) {
        if (pos < at) continue;
        const size_t end = pos + answer.size();
        const char before = pos == 0 ? ' ' : solution[pos - 1];
        const bool left_ok = !digit(before) && before != '.' && (answer[0] == '-' || before != '-');
        const bool right_ok = end == solution.size() ||
                              (!digit(solution[end]) && !(solution[end] == '.' && end + 1 < solution.size() && digit(solution[end + 1])));
        if (!left_ok || !right_ok) continue;
        out += solution.substr(at, pos - at) + wrong;
        at = end;
        found = true;
    }
    if (!found) return std::nullopt;
    return out + solution.substr(at);
}

namespace {


struct PairCounts {
    size_t written = 0, skipped = 0;
};

// Up to pairs_per_task distinct wrong completions per task, sampled from `generator`.
std::vector<std::vector<std::string>> sampled_mistakes(const TextGenerator& generator, const std::vector<env::Task>& tasks,
                                                       const env::MathVerifier& verifier, const PreferencePairsOptions& o,
                                                       uint64_t seed, Progress& progress) {
    std::vector<std::vector<std::string>> wrong(tasks.size());
    RolloutOptions ro = generator.default_options();
    ro.max_new_tokens = o.max_new_tokens;
    ro.sampling = SamplingParams{};
    ro.sampling.temperature = o.temperature;
    std::vector<size_t> queue;  // task index of each completion to draw
    for (size_t t = 0; t < tasks.size(); ++t)
        for (int64_t c = 0; c < o.samples; ++c) queue.push_back(t);
    for (size_t start = 0; start < queue.size(); start += static_cast<size_t>(o.batch_size)) {
        const size_t end = std::min(queue.size(), start + static_cast<size_t>(o.batch_size));
        std::vector<std::string> prompts;
        for (size_t i = start; i < end; ++i) prompts.push_back(tasks[queue[i]].prompt);
        ro.seed = seed * 1000003ull + start;
        std::vector<TextCompletion> completions = generator.generate(prompts, ro);
        for (size_t i = start; i < end; ++i) {
            const env::Task& task = tasks[queue[i]];
            const std::string& text = completions[i - start].text;
            auto& mistakes = wrong[queue[i]];
            if (static_cast<int64_t>(mistakes.size()) < o.pairs_per_task && !verifier.verify(text, task.answer).correct &&
                std::find(mistakes.begin(), mistakes.end(), text) == mistakes.end())
                mistakes.push_back(text);
        }
        progress.update(static_cast<int64_t>(end), {});
    }
    return wrong;
}

PairCounts write_pairs(const std::string& tasks_path, const std::filesystem::path& out, const PreferencePairsOptions& o,
                       int64_t limit, uint64_t seed, const TextGenerator* generator, RunContext& ctx) {
    env::TaskSourceOptions source;
    source.path = tasks_path;
    source.limit = limit;
    const std::vector<env::Task> tasks = env::load_tasks(source);
    const env::MathVerifier verifier;
    std::vector<std::vector<std::string>> mistakes;
    if (generator) {
        auto progress = ctx.progress(static_cast<int64_t>(tasks.size()) * o.samples, "samples");
        mistakes = sampled_mistakes(*generator, tasks, verifier, o, seed, *progress);
        progress->finish();
    }
    SplitMix64 rng{seed};
    PairCounts counts;
    std::string text;
    for (size_t t = 0; t < tasks.size(); ++t) {
        const env::Task& task = tasks[t];
        auto solution = task.meta.find(o.solution_field);
        if (solution == task.meta.end() || !solution->is_string() ||
            !verifier.verify(solution->get<std::string>(), task.answer).correct) {
            counts.skipped += static_cast<size_t>(o.pairs_per_task);
            continue;
        }
        const std::string chosen = solution->get<std::string>();
        std::vector<std::string> rejected;
        if (generator) {
            rejected = mistakes[t];
        } else {
            char* end = nullptr;
            const long long answer = std::strtoll(task.answer.c_str(), &end, 10);
            const bool integer = !task.answer.empty() && *end == '\0';
            for (int64_t k = 0; k < o.pairs_per_task; ++k) {
                const int64_t magnitude = 1 + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(o.max_delta));
                const int64_t delta = (rng.next() & 1) ? magnitude : -magnitude;
                std::optional<std::string> wrong;
                if (integer) wrong = replace_answer(chosen, task.answer, std::to_string(answer + delta));
                if (wrong && !verifier.verify(*wrong, task.answer).correct) rejected.push_back(*wrong);
            }
        }
        counts.skipped += static_cast<size_t>(o.pairs_per_task) - rejected.size();
        for (size_t k = 0; k < rejected.size(); ++k) {
            nlohmann::ordered_json row = {{"id", str(task.id, "-", k)}, {"prompt", task.prompt}, {"chosen", chosen},
                                          {"rejected", rejected[k]},     {"answer", task.answer}, {"score_chosen", 1.0},
                                          {"score_rejected", 0.0}};
            text += row.dump() + "\n";
            ++counts.written;
        }
    }
    write_file_atomic(out, text);
    return counts;
}

}  // namespace

void run_preference_pairs_stage(const PreferencePairsOptions& options, RunContext& ctx) {
    const uint64_t seed = static_cast<uint64_t>(options.seed + ctx.experiment().run.seed);
    std::optional<TextGenerator> generator;
    if (options.rejected == "sample") generator = TextGenerator::load(ctx.resolve(options.model, "model"), at::kFloat, "");
    const TextGenerator* sampler = generator ? &*generator : nullptr;
    const auto train = ctx.stage_dir() / "train_pairs.jsonl";
    PairCounts t = write_pairs(ctx.resolve(options.train_tasks, "train_tasks"), train, options, options.max_train_tasks, seed,
                               sampler, ctx);
    ANVIL_CHECK(t.written > 0, "stage '", ctx.stage_name(), "': no pair could be made from ", options.train_tasks);
    ctx.publish("train_pairs", train.string());
    std::string test_note;
    if (!options.test_tasks.empty()) {
        const auto test = ctx.stage_dir() / "test_pairs.jsonl";
        PairCounts e = write_pairs(ctx.resolve(options.test_tasks, "test_tasks"), test, options, 0, seed + 1, sampler, ctx);
        ctx.publish("test_pairs", test.string());
        test_note = str(", ", e.written, " held-out (", e.skipped, " skipped)");
    }
    log::info("wrote ", t.written, " training pairs (", t.skipped, " skipped)", test_note, " to ", ctx.stage_dir().string());
}

}  // namespace anvil
