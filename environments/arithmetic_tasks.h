// Generated arithmetic word-free problems ("What is 37 + 45 - 12?") with worked solutions, for demos,
// quickstarts and tests that need a verifiable task a tiny model can learn in minutes. Generation is
// deterministic for a seed (its own integer RNG, independent of the standard library's distributions);
// train and test sets never share a problem. Rows use Anvil's RL JSONL superset (specs/conventions.md §6.4):
// {id, prompt, answer, solution, data_source}. Writing the JSONL files is the caller's choice of path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config_schema.h"

namespace anvil {

struct ArithmeticTaskOptions {
    int64_t train_count = 5000;
    int64_t test_count = 500;
    int64_t min_operand = 0;
    int64_t max_operand = 99;
    int64_t min_terms = 2;
    int64_t max_terms = 3;
    std::string operators = "+-";
    int64_t seed = 0;

    static const config::Section<ArithmeticTaskOptions>& section();
};

struct ArithmeticTask {
    std::string id, prompt, answer, solution;
};

struct ArithmeticTaskSets {
    std::vector<ArithmeticTask> train, test;
};

// Throws UsageError if the options cannot produce that many distinct problems.
ArithmeticTaskSets generate_arithmetic_tasks(const ArithmeticTaskOptions& options);

// One JSON object per line: {"id","prompt","answer","solution","data_source":"arithmetic"}.
std::string arithmetic_tasks_jsonl(const std::vector<ArithmeticTask>& tasks);

}  // namespace anvil
