// Tasks: one problem an environment poses (prompt, reference answer, tests), and loading them from JSONL
// with a field mapping from the config or a built-in format (GSM8K, MATH, MBPP, HumanEval, MathDial,
// MathTutorBench's MathDial-Bridge JSON array, Anvil's own RL row of conventions.md §6.4). Nothing here
// scores anything.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config_schema.h"

namespace anvil::env {

// One stdin/stdout test of a program.
struct IoTest {
    std::string input;
    std::string expected_output;
};

struct Task {
    std::string id;
    std::string prompt;       // the text shown to the policy
    std::string answer;       // reference final answer (math); may be empty for code tasks
    std::string data_source;  // "gsm8k", "math", "mbpp", "humaneval", ... (selects nothing by itself)
    // Code tasks: each assert test is one Python snippet that must run without error after the solution;
    // test_setup runs before each of them (imports, helper definitions).
    std::string test_setup;
    std::vector<std::string> assert_tests;
    std::vector<IoTest> io_tests;
    std::string reference_solution;  // the dataset's solution, when it has one (code or worked text)
    nlohmann::json meta = nlohmann::json::object();  // every other field of the record, untouched
};

// How records map to tasks. `format` picks a built-in mapping; with format = "fields" the *_field keys
// name the JSON fields to read (a dotted path reaches into objects, e.g. "reward_model.ground_truth").
struct TaskSourceOptions {
    std::string path;                 // JSONL (.jsonl or .jsonl.gz); a JSON array for mathtutorbench
    std::string format = "fields";    // fields | gsm8k | math | mbpp | humaneval | mathdial | mathtutorbench
    std::string id_field = "id";
    std::string prompt_field = "prompt";
    std::string answer_field = "answer";
    std::string tests_field = "";     // array of assert snippets
    std::string io_tests_field = "";  // array of {"input": str, "output": str} stdin/stdout tests
    int64_t limit = 0;                // 0 = all records
    bool skip_invalid = false;        // skip and count malformed records instead of failing
};

const config::Section<TaskSourceOptions>& task_source_section();

// Default options reading `path` (a file or an @artifact such as @train_tasks).
TaskSourceOptions task_source(const std::string& path);

// Loads tasks; errors name the file and line.
std::vector<Task> load_tasks(const TaskSourceOptions& options);

// One record to a task under a built-in format or a field mapping; throws anvil::Error naming the field.
Task task_from_record(const nlohmann::json& record, const TaskSourceOptions& options, size_t index);

// The text after the last "####" of a GSM8K solution, commas removed (conventions.md §6.1).
std::string gsm8k_final_answer(const std::string& solution);

}  // namespace anvil::env
