// Slow tests: every HumanEval canonical solution and every MBPP (revised) reference solution passes its
// tests in the sandbox (no dataset bugs needed excusing with mbpp_revised.jsonl: all 974 pass).
#include <gtest/gtest.h>

#include "environments/code_verifier.h"
#include "environments/task.h"

namespace anvil::env {

namespace {

void check_all(const std::string& file, const std::string& format, size_t expected) {
    TaskSourceOptions src;
    src.path = std::string(ANVIL_SOURCE_DIR) + "/tests/data/" + file;
    src.format = format;
    auto tasks = load_tasks(src);
    ASSERT_EQ(tasks.size(), expected);
    CodeVerifierOptions o;
    o.workers = 4;
    o.wall_seconds = 20;
    o.cpu_seconds = 10;
    CodeVerifier verifier(o);
    size_t passed = 0, tests = 0;
    for (const auto& t : tasks) {
        CodeResult r = verifier.run(t.reference_solution, t);
        tests += r.tests.size();
        passed += r.pass_fraction == 1.0;
        EXPECT_EQ(r.pass_fraction, 1.0) << t.id << " fails:\n" << r.feedback;
    }
    std::printf("[%s] %zu of %zu reference solutions pass (%zu test runs)\n", file.c_str(), passed, tasks.size(), tests);
}

}  // namespace

TEST(CodeDatasets, HumanEvalCanonicalSolutionsPass) { check_all("humaneval.jsonl.gz", "humaneval", 164); }

TEST(CodeDatasets, MbppReferenceSolutionsPass) { check_all("mbpp_revised.jsonl.gz", "mbpp", 974); }

}  // namespace anvil::env
