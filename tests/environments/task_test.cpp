// Unit tests for task loading: built-in formats, field mapping with dotted paths, and errors with file:line.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "core/error.h"
#include "core/files.h"
#include "environments/task.h"

namespace anvil::env {

namespace {
std::string data(const std::string& name) { return std::string(ANVIL_SOURCE_DIR) + "/tests/data/" + name; }
}  // namespace

TEST(Tasks, BuiltInFormats) {
    TaskSourceOptions o;
    o.path = data("gsm8k_test.jsonl.gz");
    o.format = "gsm8k";
    o.limit = 1;
    auto t = load_tasks(o);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].answer, "18");
    EXPECT_NE(t[0].prompt.find("Janet"), std::string::npos);

    o.path = data("humaneval.jsonl.gz");
    o.format = "humaneval";
    t = load_tasks(o);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].id, "HumanEval/0");
    EXPECT_EQ(t[0].assert_tests, std::vector<std::string>{"check(has_close_elements)"});
    EXPECT_NE(t[0].test_setup.find("def check(candidate)"), std::string::npos);

    o.path = data("mbpp_revised.jsonl.gz");
    o.format = "mbpp";
    t = load_tasks(o);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].id, "mbpp/1");
    EXPECT_EQ(t[0].assert_tests.size(), 3u);
}

TEST(Tasks, FieldMappingWithDottedPathsAndErrors) {
    auto path = std::filesystem::temp_directory_path() / ("anvil_tasks_" + std::to_string(::getpid()) + ".jsonl");
    write_file_atomic(path,
                      "{\"uid\": \"a\", \"prompt\": [{\"role\": \"user\", \"content\": \"2+2?\"}], "
                      "\"reward_model\": {\"ground_truth\": \"4\"}}\n"
                      "{\"uid\": \"b\"}\n");
    TaskSourceOptions o;
    o.path = path.string();
    o.id_field = "uid";
    o.answer_field = "reward_model.ground_truth";
    try {
        load_tasks(o);
        FAIL() << "expected an error for the record without a prompt";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(":2: missing field 'prompt'"), std::string::npos) << e.what();
    }
    o.skip_invalid = true;
    auto tasks = load_tasks(o);
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].id, "a");
    EXPECT_EQ(tasks[0].prompt, "2+2?");
    EXPECT_EQ(tasks[0].answer, "4");
    std::filesystem::remove(path);
}

TEST(Tasks, CodeTasksWithStdinStdoutTests) {
    auto path = std::filesystem::temp_directory_path() / ("anvil_io_" + std::to_string(::getpid()) + ".jsonl");
    write_file_atomic(path, "{\"id\": \"sum\", \"prompt\": \"Add two numbers.\", "
                            "\"tests\": [{\"input\": \"1 2\\n\", \"output\": \"3\\n\"}]}\n");
    TaskSourceOptions o;
    o.path = path.string();
    o.io_tests_field = "tests";
    auto tasks = load_tasks(o);
    ASSERT_EQ(tasks.size(), 1u);
    ASSERT_EQ(tasks[0].io_tests.size(), 1u);
    EXPECT_EQ(tasks[0].io_tests[0].input, "1 2\n");
    EXPECT_EQ(tasks[0].io_tests[0].expected_output, "3\n");
    std::filesystem::remove(path);
}

}  // namespace anvil::env
