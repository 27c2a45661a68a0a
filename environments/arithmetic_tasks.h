// Generated arithmetic word-free problems ("What is 37 + 45 - 12?") with worked solutions, for demos,
// quickstarts and tests that need a verifiable task a tiny model can learn in minutes. A solution states each
// reduction directly ("64 + 79 = 143. ") or, for a configurable share of problems, works each + and - column
// by column, right to left ("Column by column, 64 + 79: 4 + 9 = 13, 6 + 7 + 1 = 14, so 64 + 79 = 143. "),
// so that a model fine-tuned on the mixture knows two strategies of different reliability. Generation is
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
    double column_fraction = 0.0;
    int64_t seed = 0;

    static const config::Section<ArithmeticTaskOptions>& section();
};

struct ArithmeticTask {
    std::string id, prompt, answer, solution;
};

struct ArithmeticTaskSets {
    std::vector<ArithmeticTask> train, test;
};

// The worked line of one reduction `a op b` (op one of + - *) in the given style, e.g. "64 + 79 = 143. " or
// "Column by column, 64 + 79: 4 + 9 = 13, 6 + 7 + 1 = 14, so 64 + 79 = 143. ". Columns work on magnitudes:
// a sum of two signs that differ becomes the larger magnitude minus the smaller ("25 - 79" works "79 - 25");
// products are always stated directly.
std::string arithmetic_step(int64_t a, char op, int64_t b, bool columns);

// Throws UsageError if the options cannot produce that many distinct problems.
ArithmeticTaskSets generate_arithmetic_tasks(const ArithmeticTaskOptions& options);

// One JSON object per line: {"id","prompt","answer","solution","data_source":"arithmetic"}.
std::string arithmetic_tasks_jsonl(const std::vector<ArithmeticTask>& tasks);

}  // namespace anvil
