// Implementation of code_verifier.h.
#include "environments/code_verifier.h"

#include <signal.h>

#include <algorithm>
#include <random>

#include "core/error.h"
#include "core/text.h"

namespace anvil::env {

namespace {

// sdpo.md §9.1 truncation limits.
constexpr size_t kInputChars = 250, kInputLines = 8, kOutputChars = 250, kDebugLines = 10, kDebugLineChars = 300,
                 kFeedbackChars = 2000;

std::string random_marker() {
    static thread_local std::mt19937_64 rng(std::random_device{}());
    return str("__anvil_ok_", std::hex, rng(), rng());
}

// Trailing whitespace of each line and trailing blank lines are ignored.
std::string canonical_output(const std::string& text) {
    std::vector<std::string> lines = split(text, '\n');
    for (auto& l : lines) {
        size_t end = l.find_last_not_of(" \t\r");
        l = end == std::string::npos ? "" : l.substr(0, end + 1);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return join(lines, "\n");
}

// The last `lines` lines of a traceback, each cut to kDebugLineChars.
std::string tail_lines(const std::string& text, size_t lines) {
    std::vector<std::string> all = split(canonical_output(text), '\n');
    size_t start = all.size() > lines ? all.size() - lines : 0;
    std::vector<std::string> kept;
    for (size_t i = start; i < all.size(); ++i) kept.push_back(truncate_text(all[i], kDebugLineChars));
    return join(kept, "\n");
}

std::string last_line(const std::string& text) {
    std::vector<std::string> all = split(canonical_output(text), '\n');
    return all.empty() ? "" : all.back();
}

}  // namespace

SandboxLimits CodeVerifierOptions::limits() const {
    SandboxLimits l;
    l.cpu_seconds = cpu_seconds;
    l.wall_seconds = wall_seconds;
    l.memory_mb = memory_mb;
    l.file_size_mb = file_size_mb;
    l.max_processes = max_processes;
    l.max_output_bytes = max_output_kb * 1024;
    l.allow_network = allow_network;
    return l;
}

const config::Section<CodeVerifierOptions>& code_verifier_section() {
    static const config::Section<CodeVerifierOptions> section = [] {
        config::Section<CodeVerifierOptions> s("code", "Code verifier: Python programs run against tests in a sandbox.");
        s.field("cpu_seconds", &CodeVerifierOptions::cpu_seconds, "CPU-time limit per test (RLIMIT_CPU).").min(0.1);
        s.field("wall_seconds", &CodeVerifierOptions::wall_seconds,
                "Wall-clock limit per test; the whole process group is killed after it.")
            .min(0.1);
        s.field("memory_mb", &CodeVerifierOptions::memory_mb, "Address-space limit per test in MiB (RLIMIT_AS).")
            .min(64);
        s.field("file_size_mb", &CodeVerifierOptions::file_size_mb, "Largest file a test may write, in MiB.").min(0);
        s.field("max_processes", &CodeVerifierOptions::max_processes,
                "Process-count limit (RLIMIT_NPROC, per run uid when Anvil runs as root).")
            .min(1);
        s.field("max_output_kb", &CodeVerifierOptions::max_output_kb,
                "Output kept per stream in KiB; a test writing more is killed.")
            .min(1);
        s.field("allow_network", &CodeVerifierOptions::allow_network,
                "Let tests use the network (otherwise a private network namespace where the kernel allows).");
        s.field("workers", &CodeVerifierOptions::workers, "Tests run in parallel.").min(1).max(256);
        s.field("sparse_reward", &CodeVerifierOptions::sparse_reward,
                "Reward 1 only when all tests pass, else 0 (otherwise the pass fraction).");
        s.field("extract", &CodeVerifierOptions::extract, "Which part of the completion is the program.")
            .choices({"longest_block", "last_block", "whole"});
        s.field("python", &CodeVerifierOptions::python,
                "Absolute path of the Python interpreter; empty finds python3.");
        return s;
    }();
    return section;
}

const char* test_status_name(TestStatus status) {
    switch (status) {
        case TestStatus::passed: return "passed";
        case TestStatus::failed: return "failed";
        case TestStatus::runtime_error: return "runtime_error";
        case TestStatus::timeout: return "timeout";
        case TestStatus::memory_error: return "memory_error";
        case TestStatus::output_limit: return "output_limit";
        case TestStatus::crashed: return "crashed";
        case TestStatus::sandbox_error: return "sandbox_error";
    }
    return "?";
}

WorkerPool::WorkerPool(int workers) {
    for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { loop(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void WorkerPool::loop() {
    while (true) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
            if (queue_.empty()) return;
            job = std::move(queue_.back());
            queue_.pop_back();
        }
        job();
        done_cv_.notify_all();
    }
}

void WorkerPool::run_all(std::vector<std::function<void()>> jobs) {
    // Each call waits for its own jobs through a counter of its own.
    auto remaining = std::make_shared<size_t>(jobs.size());
    auto first_error = std::make_shared<std::exception_ptr>();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& job : jobs) {
            queue_.push_back([job = std::move(job), remaining, first_error, this] {
                try {
                    job();
                } catch (...) {
                    std::lock_guard<std::mutex> l(mutex_);
                    if (!*first_error) *first_error = std::current_exception();
                }
                std::lock_guard<std::mutex> l(mutex_);
                --*remaining;
            });
        }
    }
    cv_.notify_all();
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return *remaining == 0; });
    if (*first_error) std::rethrow_exception(*first_error);
}

std::optional<std::string> extract_code(const std::string& completion, const std::string& mode) {
    if (mode == "whole") {
        if (trim(completion).empty()) return std::nullopt;
        return completion;
    }
    std::vector<std::string> blocks;
    size_t pos = 0;
    while ((pos = completion.find("```", pos)) != std::string::npos) {
        size_t body = completion.find('\n', pos);
        if (body == std::string::npos) break;
        size_t end = completion.find("```", body);
        if (end == std::string::npos) break;
        blocks.push_back(completion.substr(body + 1, end - body - 1));
        pos = end + 3;
    }
    if (blocks.empty()) return std::nullopt;
    if (mode == "last_block") return blocks.back();
    return *std::max_element(blocks.begin(), blocks.end(),
                             [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
}

std::string truncate_text(const std::string& text, size_t max_chars, size_t max_lines) {
    std::string out = text;
    bool cut = false;
    if (max_lines > 0) {
        size_t pos = 0;
        for (size_t line = 0; line < max_lines && pos != std::string::npos; ++line) {
            pos = out.find('\n', pos);
            if (pos != std::string::npos) ++pos;
        }
        if (pos != std::string::npos && pos < out.size()) {
            out.resize(pos - 1);
            cut = true;
        }
    }
    if (out.size() > max_chars) {
        out.resize(max_chars);
        cut = true;
    }
    return cut ? out + "...(truncated)" : out;
}

CodeVerifier::CodeVerifier(const CodeVerifierOptions& options)
    : options_(options),
      limits_(options.limits()),
      python_(options.python.empty() ? default_python() : options.python),
      pool_(static_cast<int>(options.workers)) {
    ANVIL_CHECK(python_[0] == '/', "code verifier: python must be an absolute path, got '", python_, "'");
}

TestOutcome CodeVerifier::run_one(const std::string& program, const std::string& stdin_text,
                                  const std::string& expected, bool is_assert, const std::string& marker,
                                  const std::string& input_label) {
    TestOutcome t;
    t.input = input_label;
    t.expected = expected;
    RunResult r = run_sandboxed({python_, "-I", "-B", "main.py"}, {{"main.py", program}}, stdin_text, limits_);
    t.seconds = r.wall_seconds;
    t.output = r.stdout_text;
    std::string err_last = last_line(r.stderr_text);
    switch (r.status) {
        case RunStatus::spawn_failed:
            t.status = TestStatus::sandbox_error;
            t.error = r.stderr_text;
            return t;
        case RunStatus::timeout:
            t.status = TestStatus::timeout;
            t.error = "Time Limit Exceeded";
            return t;
        case RunStatus::output_limit:
            t.status = TestStatus::output_limit;
            t.error = "Output Limit Exceeded";
            return t;
        case RunStatus::signaled:
            t.status = r.signal == SIGXCPU || r.signal == SIGKILL ? TestStatus::timeout : TestStatus::crashed;
            t.error = r.signal == SIGXCPU ? "Time Limit Exceeded (CPU time)"
                                          : str("killed by signal ", r.signal, " (", strsignal(r.signal), ")");
            if (!r.stderr_text.empty()) t.error += "\n" + tail_lines(r.stderr_text, kDebugLines);
            return t;
        case RunStatus::exited: break;
    }
    if (is_assert) {
        // The marker ends the program's output only if every statement before it ran.
        std::string out = canonical_output(r.stdout_text);
        bool marker_seen = out.ends_with(marker);
        if (marker_seen) {
            out.resize(out.size() - marker.size());
            t.output = out;
        }
        if (r.exit_code == 0 && marker_seen) {
            t.status = TestStatus::passed;
            return t;
        }
        if (err_last.starts_with("AssertionError")) {
            t.status = TestStatus::failed;
            t.error = tail_lines(r.stderr_text, kDebugLines);
            return t;
        }
        if (r.exit_code == 0) {
            t.status = TestStatus::failed;
            t.error = "the program exited before the test finished";
            return t;
        }
    } else if (r.exit_code == 0) {
        t.status = canonical_output(r.stdout_text) == canonical_output(expected) ? TestStatus::passed : TestStatus::failed;
        return t;
    }
    t.status = err_last.starts_with("MemoryError") ? TestStatus::memory_error : TestStatus::runtime_error;
    t.error = r.stderr_text.empty() ? str("exit code ", r.exit_code) : tail_lines(r.stderr_text, kDebugLines);
    return t;
}

CodeResult CodeVerifier::run(const std::string& code, const Task& task) {
    CodeResult result;
    result.code_found = true;
    const size_t n_assert = task.assert_tests.size(), n = n_assert + task.io_tests.size();
    ANVIL_CHECK(n > 0, "code verifier: task '", task.id, "' has no tests");
    result.tests.resize(n);
    std::vector<std::function<void()>> jobs;
    for (size_t i = 0; i < n; ++i) {
        jobs.push_back([&, i] {
            if (i < n_assert) {
                std::string marker = random_marker();
                std::string program = code + "\n\n" + task.test_setup + "\n\n" + task.assert_tests[i] +
                                      "\nprint()\nprint(" + "'" + marker + "'" + ")\n";
                result.tests[i] = run_one(program, "", "", true, marker, task.assert_tests[i]);
            } else {
                const IoTest& io = task.io_tests[i - n_assert];
                result.tests[i] = run_one(code, io.input, io.expected_output, false, "", canonical_output(io.input));
            }
        });
    }
    pool_.run_all(std::move(jobs));
    size_t passed = 0;
    for (const auto& t : result.tests) passed += t.status == TestStatus::passed;
    result.pass_fraction = static_cast<double>(passed) / static_cast<double>(n);
    result.feedback = code_feedback(result.tests);
    return result;
}

CodeResult CodeVerifier::verify(const std::string& completion, const Task& task) {
    auto code = extract_code(completion, options_.extract);
    if (!code) {
        CodeResult r;
        r.feedback = "Your response did not contain a program in a ```python code block.";
        return r;
    }
    return run(*code, task);
}

RewardFn CodeVerifier::reward() {
    return [this](const Task& task, const std::string& completion) {
        CodeResult r = verify(completion, task);
        double score = options_.sparse_reward ? (r.pass_fraction == 1.0 ? 1.0 : 0.0) : r.pass_fraction;
        return RewardResult{score, r.feedback, {{"code", score}}};
    };
}

std::string code_feedback(const std::vector<TestOutcome>& tests) {
    auto input_text = [](const TestOutcome& t) { return truncate_text(t.input, kInputChars, kInputLines); };
    std::string fb;
    for (const auto& t : tests) {
        if (t.status == TestStatus::runtime_error || t.status == TestStatus::memory_error ||
            t.status == TestStatus::crashed || t.status == TestStatus::sandbox_error) {
            fb = str("Runtime Error\n", t.error, "\nLast Input: ", input_text(t));
            if (!trim(t.output).empty()) fb += "\nDebug Output:\n" + tail_lines(t.output, kDebugLines);
            return truncate_text(fb, kFeedbackChars);
        }
    }
    for (const auto& t : tests) {
        if (t.status == TestStatus::timeout || t.status == TestStatus::output_limit) {
            fb = str(t.error, "\nLast Input: ", input_text(t));
            return truncate_text(fb, kFeedbackChars);
        }
    }
    std::vector<const TestOutcome*> failed;
    for (const auto& t : tests)
        if (t.status == TestStatus::failed) failed.push_back(&t);
    if (failed.empty()) return "";
    std::stable_sort(failed.begin(), failed.end(),
                     [](const TestOutcome* a, const TestOutcome* b) { return a->input.size() < b->input.size(); });
    fb = "Wrong Answer";
    for (size_t i = 0; i < failed.size() && i < 2; ++i) {
        const TestOutcome& t = *failed[i];
        fb += str("\nInput: ", input_text(t));
        if (t.expected.empty()) {  // an assert test: the assertion is the expectation
            if (!t.error.empty()) fb += "\n" + t.error;
            if (!trim(t.output).empty()) fb += "\nDebug Output:\n" + tail_lines(t.output, kDebugLines);
        } else {
            fb += str("\nOutput: ", truncate_text(canonical_output(t.output), kOutputChars),
                      "\nExpected: ", truncate_text(canonical_output(t.expected), kOutputChars));
        }
    }
    return truncate_text(fb, kFeedbackChars);
}

}  // namespace anvil::env
