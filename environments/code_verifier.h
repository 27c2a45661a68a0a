// The code verifier: extracts a Python program from a completion, runs it against a task's tests in the
// sandbox (sandbox.h) on a pool of parallel workers, and returns the pass fraction, the status of every
// test and LeetCode-style feedback as in the SDPO reference (sdpo.md §9.1): the first runtime error with its
// traceback tail, else a timeout with its input, else a format notice, else up to two failing cases
// (shortest first) with input, output and expected, all truncated to the spec's limits.
//
// Assert tests pass when the program (solution, then the task's test_setup, then the assert) exits 0 and
// prints a per-run random marker after the assert, so a solution that exits early (sys.exit(0),
// os._exit(0)) does not pass. Stdin/stdout tests compare output with trailing whitespace ignored per line.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config_schema.h"
#include "environments/environment.h"
#include "environments/sandbox.h"

namespace anvil::env {

struct CodeVerifierOptions {
    double cpu_seconds = 4.0;
    double wall_seconds = 8.0;
    int64_t memory_mb = 1024;
    int64_t file_size_mb = 16;
    int64_t max_processes = 32;
    int64_t max_output_kb = 64;
    bool allow_network = false;
    int64_t workers = 2;          // tests run in parallel, one child each
    bool sparse_reward = false;   // reward 1 only when every test passes (else the pass fraction)
    std::string extract = "longest_block";  // longest_block | last_block | whole
    std::string python = "";      // interpreter; "" finds python3 (sandbox.h)

    SandboxLimits limits() const;
};

const config::Section<CodeVerifierOptions>& code_verifier_section();

enum class TestStatus { passed, failed, runtime_error, timeout, memory_error, output_limit, crashed, sandbox_error };
const char* test_status_name(TestStatus status);

struct TestOutcome {
    TestStatus status = TestStatus::sandbox_error;
    std::string input;     // the assert statement, or the stdin text
    std::string expected;  // for stdin/stdout tests
    std::string output;    // stdout
    std::string error;     // traceback tail or a short reason
    double seconds = 0.0;
};

struct CodeResult {
    bool code_found = false;
    double pass_fraction = 0.0;
    std::vector<TestOutcome> tests;
    std::string feedback;
};

// Runs jobs on a fixed number of threads; run_all blocks until every job of that call finished. Several
// threads may call run_all at once; a job must not call run_all on its own pool (it would wait on itself).
class WorkerPool {
public:
    explicit WorkerPool(int workers);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    void run_all(std::vector<std::function<void()>> jobs);

private:
    void loop();
    std::mutex mutex_;
    std::condition_variable cv_, done_cv_;
    std::vector<std::function<void()>> queue_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

// The program in a completion: the longest (or last) fenced code block, or the whole text.
std::optional<std::string> extract_code(const std::string& completion, const std::string& mode);

// Truncates to `max_chars` characters and `max_lines` lines (0 = no line limit), marking the cut.
std::string truncate_text(const std::string& text, size_t max_chars, size_t max_lines = 0);

class CodeVerifier {
public:
    explicit CodeVerifier(const CodeVerifierOptions& options = {});
    // Runs `code` against the task's assert and stdin/stdout tests.
    CodeResult run(const std::string& code, const Task& task);
    // Extracts the code from `completion`, then runs it; a missing program gives the format feedback.
    CodeResult verify(const std::string& completion, const Task& task);
    // A reward function sharing this verifier's worker pool (the verifier must outlive it). Safe to call
    // from several threads; each call runs its tests on the pool.
    RewardFn reward();

private:
    TestOutcome run_one(const std::string& program, const std::string& stdin_text, const std::string& expected,
                        bool is_assert, const std::string& marker, const std::string& input_label);
    CodeVerifierOptions options_;
    SandboxLimits limits_;
    std::string python_;
    WorkerPool pool_;
};

// The SDPO feedback for a set of outcomes (exposed for tests).
std::string code_feedback(const std::vector<TestOutcome>& tests);

}  // namespace anvil::env
