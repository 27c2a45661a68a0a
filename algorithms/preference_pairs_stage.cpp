// Implementation of algorithms/preference_pairs_stage.h.
#include "algorithms/preference_pairs_stage.h"

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/log.h"
#include "environments/math_verifier.h"
#include "environments/task.h"
#include "trainer/run_context.h"

namespace anvil {

const config::Section<PreferencePairsOptions>& PreferencePairsOptions::section() {
    static const config::Section<PreferencePairsOptions> s = [] {
        config::Section<PreferencePairsOptions> s("preference_pairs", "Verifiable preference pairs from tasks with solutions.");
        s.field("train_tasks", &PreferencePairsOptions::train_tasks, "Tasks (JSONL with prompt, answer, solution) for train_pairs.jsonl.");
        s.field("test_tasks", &PreferencePairsOptions::test_tasks, "Tasks for test_pairs.jsonl; \"\" = none.");
        s.field("solution_field", &PreferencePairsOptions::solution_field, "Field holding the worked solution (the chosen response).");
        s.field("pairs_per_task", &PreferencePairsOptions::pairs_per_task, "Pairs per task, each with another wrong answer.")
            .min(1)
            .max(20);
        s.field("max_delta", &PreferencePairsOptions::max_delta, "A wrong answer is the answer ± 1..max_delta.").min(1);
        s.field("seed", &PreferencePairsOptions::seed, "Seed of the wrong answers, added to run.seed.").min(0);
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

struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

struct PairCounts {
    size_t written = 0, skipped = 0;
};

PairCounts write_pairs(const std::string& tasks_path, const std::filesystem::path& out, const PreferencePairsOptions& o,
                       uint64_t seed) {
    env::TaskSourceOptions source;
    source.path = tasks_path;
    const std::vector<env::Task> tasks = env::load_tasks(source);
    const env::MathVerifier verifier;
    SplitMix64 rng{seed};
    PairCounts counts;
    std::string text;
    for (const env::Task& task : tasks) {
        auto solution = task.meta.find(o.solution_field);
        if (solution == task.meta.end() || !solution->is_string()) {
            counts.skipped += static_cast<size_t>(o.pairs_per_task);
            continue;
        }
        const std::string chosen = solution->get<std::string>();
        if (!verifier.verify(chosen, task.answer).correct) {
            counts.skipped += static_cast<size_t>(o.pairs_per_task);
            continue;
        }
        char* end = nullptr;
        const long long answer = std::strtoll(task.answer.c_str(), &end, 10);
        const bool integer = !task.answer.empty() && *end == '\0';
        for (int64_t k = 0; k < o.pairs_per_task; ++k) {
            const int64_t magnitude = 1 + static_cast<int64_t>(rng.next() % static_cast<uint64_t>(o.max_delta));
            const int64_t delta = (rng.next() & 1) ? magnitude : -magnitude;
            std::optional<std::string> rejected;
            if (integer) rejected = replace_answer(chosen, task.answer, std::to_string(answer + delta));
            if (!rejected || verifier.verify(*rejected, task.answer).correct) {
                ++counts.skipped;
                continue;
            }
            nlohmann::ordered_json row = {{"id", str(task.id, "-", k)}, {"prompt", task.prompt}, {"chosen", chosen},
                                          {"rejected", *rejected},       {"answer", task.answer}, {"score_chosen", 1.0},
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
    const auto train = ctx.stage_dir() / "train_pairs.jsonl";
    PairCounts t = write_pairs(ctx.resolve(options.train_tasks, "train_tasks"), train, options, seed);
    ANVIL_CHECK(t.written > 0, "stage '", ctx.stage_name(), "': no pair could be made from ", options.train_tasks);
    ctx.publish("train_pairs", train.string());
    std::string test_note;
    if (!options.test_tasks.empty()) {
        const auto test = ctx.stage_dir() / "test_pairs.jsonl";
        PairCounts e = write_pairs(ctx.resolve(options.test_tasks, "test_tasks"), test, options, seed + 1);
        ctx.publish("test_pairs", test.string());
        test_note = str(", ", e.written, " held-out (", e.skipped, " skipped)");
    }
    log::info("wrote ", t.written, " training pairs (", t.skipped, " skipped)", test_note, " to ", ctx.stage_dir().string());
}

}  // namespace anvil
