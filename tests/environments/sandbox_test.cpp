// Unit tests for the sandbox and the code verifier: the hostile battery (fork bomb, memory bomb, infinite
// loop, deep recursion, huge output, writes outside the work dir, reading the parent's environment, network,
// killing the parent, sleeping past the timeout, a daemon left behind), each contained, classified, and
// leaving this process healthy; then test kinds and feedback of the code verifier.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/text.h"
#include "environments/code_verifier.h"
#include "environments/sandbox.h"

namespace anvil::env {

namespace fs = std::filesystem;

namespace {

SandboxLimits tight() {
    SandboxLimits l;
    l.cpu_seconds = 1;
    l.wall_seconds = 2;
    l.memory_mb = 512;
    l.max_processes = 16;
    l.max_output_bytes = 1 << 16;
    return l;
}

RunResult py(const std::string& program, const SandboxLimits& limits = tight(), const std::string& stdin_text = "") {
    return run_sandboxed({default_python(), "-I", "main.py"}, {{"main.py", program}}, stdin_text, limits);
}

// Processes owned by this test process's sandbox uids (none may survive a run). Other processes running
// sandboxes at the same time (e.g. a parallel test binary) use other uid blocks and are not counted.
int sandbox_processes() {
    auto [first, last] = sandbox_uid_range(SandboxLimits{});
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::ifstream status(entry.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (!line.starts_with("Uid:")) continue;
            int64_t uid = std::atoll(line.c_str() + 4);
            if (uid >= first && uid < last) ++count;
            break;
        }
    }
    return count;
}

void expect_clean() {
    if (sandbox_capabilities().per_run_uid) {
        EXPECT_EQ(sandbox_processes(), 0);
    }
}

}  // namespace

TEST(Sandbox, RunsAProgramWithStdinInAnEmptyDirectory) {
    auto r = py("import os, sys\nprint(sorted(os.listdir('.')))\nprint(sys.stdin.read().upper())", tight(), "hello");
    ASSERT_EQ(r.status, RunStatus::exited) << r.stderr_text;
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_text, "['main.py']\nHELLO\n");
    auto e = py("raise SystemExit(3)");
    EXPECT_EQ(e.exit_code, 3);
}

TEST(Sandbox, ForkBombIsContained) {
    auto r = py("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
    EXPECT_TRUE(r.status == RunStatus::timeout || r.status == RunStatus::signaled) << run_status_name(r.status);
    EXPECT_LT(r.wall_seconds, 5.0);
    expect_clean();
}

TEST(Sandbox, MemoryBombFailsWithMemoryError) {
    auto r = py("x = bytearray(4 << 30)\n");
    ASSERT_EQ(r.status, RunStatus::exited);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.stderr_text.find("MemoryError"), std::string::npos) << r.stderr_text;
}

TEST(Sandbox, InfiniteLoopHitsTheCpuLimit) {
    SandboxLimits l = tight();
    l.wall_seconds = 5;
    auto r = py("while True:\n    pass\n", l);
    ASSERT_EQ(r.status, RunStatus::signaled);
    EXPECT_EQ(r.signal, SIGXCPU);
}

TEST(Sandbox, DeepRecursionIsContained) {
    auto r = py("def f(n):\n    return f(n + 1) + 1\nf(0)\n");
    ASSERT_EQ(r.status, RunStatus::exited);
    EXPECT_NE(r.stderr_text.find("RecursionError"), std::string::npos) << r.stderr_text;
    // Without Python's guard the C stack overflows (SIGSEGV), or memory or CPU time runs out first.
    r = py("import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n");
    bool crashed = r.status == RunStatus::signaled && (r.signal == SIGSEGV || r.signal == SIGXCPU);
    bool raised = r.status == RunStatus::exited && r.exit_code != 0;
    EXPECT_TRUE(crashed || raised || r.status == RunStatus::timeout) << run_status_name(r.status) << " " << r.signal;
}

TEST(Sandbox, HugeOutputIsCutAndKilled) {
    auto r = py("while True:\n    print('x' * 1000)\n");
    EXPECT_EQ(r.status, RunStatus::output_limit);
    EXPECT_EQ(r.stdout_text.size(), static_cast<size_t>(tight().max_output_bytes));
    EXPECT_TRUE(r.stdout_truncated);
}

TEST(Sandbox, CannotWriteOutsideItsDirectory) {
    if (!sandbox_capabilities().per_run_uid) GTEST_SKIP() << "needs root to run the child under its own uid";
    fs::path outside = fs::temp_directory_path() / ("anvil_outside_" + std::to_string(::getpid()));
    fs::create_directories(outside);
    fs::permissions(outside, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    auto r = py("open('" + (outside / "pwned").string() + "', 'w').write('x')\n");
    EXPECT_EQ(r.status, RunStatus::exited);
    EXPECT_TRUE(r.stderr_text.find("PermissionError") != std::string::npos ||
                r.stderr_text.find("Read-only file system") != std::string::npos)
        << r.stderr_text;
    EXPECT_FALSE(fs::exists(outside / "pwned"));
    if (sandbox_capabilities().read_only_root) {
        // Even world-writable places are read-only; the working directory and TMPDIR are not.
        std::string probe = "/tmp/anvil_probe_" + std::to_string(::getpid());
        auto tmp = py("import tempfile\nopen('here', 'w').write('ok')\ntempfile.NamedTemporaryFile().write(b'x')\n"
                      "open('" + probe + "', 'w').write('x')\n");
        EXPECT_NE(tmp.stderr_text.find("Read-only file system: '" + probe + "'"), std::string::npos) << tmp.stderr_text;
        EXPECT_FALSE(fs::exists(probe));
    }
    auto big = py("open('big', 'wb').write(b'x' * (64 << 20))\n");  // RLIMIT_FSIZE is 16 MiB
    EXPECT_FALSE(big.status == RunStatus::exited && big.exit_code == 0);
    fs::remove_all(outside);
}

TEST(Sandbox, CannotReadTheParentsEnvironment) {
    setenv("ANVIL_SANDBOX_SECRET", "hunter2", 1);
    auto r = py("import os\nprint(dict(os.environ))\n"
                "try:\n    print(open('/proc/%d/environ' % os.getppid()).read())\nexcept OSError as e:\n"
                "    print('denied', type(e).__name__)\n");
    unsetenv("ANVIL_SANDBOX_SECRET");
    ASSERT_EQ(r.status, RunStatus::exited) << r.stderr_text;
    EXPECT_EQ(r.stdout_text.find("hunter2"), std::string::npos) << r.stdout_text;
}

TEST(Sandbox, HasNoNetwork) {
    if (!sandbox_capabilities().network_namespace) GTEST_SKIP() << "no network namespaces on this kernel";
    int server = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
    listen(server, 1);
    int port = ntohs(addr.sin_port);
    auto r = py(str("import socket\ns = socket.create_connection(('127.0.0.1', ", port, "), timeout=1)\nprint('connected')\n"));
    close(server);
    EXPECT_EQ(r.stdout_text.find("connected"), std::string::npos);
    EXPECT_NE(r.stderr_text.find("Error"), std::string::npos) << r.stderr_text;
}

TEST(Sandbox, CannotKillTheParent) {
    // Without a uid of its own the program shares ours and could signal this process: not containable.
    if (!sandbox_capabilities().per_run_uid) GTEST_SKIP() << "needs root to run the child under its own uid";
    auto r = py("import os, signal\n"
                "try:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError as e:\n    print('denied')\n"
                "os.kill(-1, signal.SIGKILL)\nprint('alive')\n");
    EXPECT_EQ(r.status, RunStatus::exited);  // kill(-1) spares the caller and reaches nothing else
    EXPECT_NE(r.stdout_text.find("denied"), std::string::npos);
    EXPECT_NE(r.stdout_text.find("alive"), std::string::npos);
}

TEST(Sandbox, SleepingPastTheTimeoutIsKilled) {
    auto r = py("import time\ntime.sleep(100)\n");
    EXPECT_EQ(r.status, RunStatus::timeout);
    EXPECT_LT(r.wall_seconds, 4.0);
}

TEST(Sandbox, DaemonLeftBehindIsKilled) {
    if (!sandbox_capabilities().per_run_uid) GTEST_SKIP() << "needs root to run the child under its own uid";
    auto r = py("import os, time, sys\nif os.fork() == 0:\n    os.setsid()\n    sys.stdout.close()\n"
                "    sys.stderr.close()\n    os.close(1)\n    os.close(2)\n    time.sleep(60)\nprint('parent done')\n");
    EXPECT_EQ(r.status, RunStatus::exited);
    EXPECT_LT(r.wall_seconds, 2.0);
    expect_clean();
}

TEST(Sandbox, RejectsFileNamesOutsideTheDirectory) {
    EXPECT_THROW(run_sandboxed({default_python(), "x"}, {{"../escape.py", "pass"}}, "", tight()), Error);
}

namespace {

CodeVerifierOptions fast_options() {
    CodeVerifierOptions o;
    o.cpu_seconds = 1;
    o.wall_seconds = 2;
    o.memory_mb = 512;
    o.workers = 2;
    return o;
}

Task assert_task() {
    Task t;
    t.id = "add";
    t.assert_tests = {"assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 5"};
    return t;
}

}  // namespace

TEST(CodeVerifier, AssertTestsPassFractionAndFeedback) {
    CodeVerifier v(fast_options());
    auto r = v.verify("Here:\n```python\ndef add(a, b):\n    return a + b\n```\n", assert_task());
    ASSERT_EQ(r.tests.size(), 3u);
    EXPECT_EQ(r.tests[0].status, TestStatus::passed);
    EXPECT_EQ(r.tests[2].status, TestStatus::failed);
    EXPECT_DOUBLE_EQ(r.pass_fraction, 2.0 / 3.0);
    EXPECT_TRUE(r.feedback.starts_with("Wrong Answer")) << r.feedback;
    EXPECT_NE(r.feedback.find("assert add(2, 2) == 5"), std::string::npos) << r.feedback;
}

TEST(CodeVerifier, ExitingEarlyDoesNotPass) {
    CodeVerifier v(fast_options());
    for (const char* hack : {"import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"}) {
        auto r = v.run(std::string("def add(a, b):\n    return 0\n") + hack, assert_task());
        EXPECT_EQ(r.pass_fraction, 0.0) << hack;
    }
}

TEST(CodeVerifier, RuntimeErrorTimeoutAndFormatFeedback) {
    CodeVerifier v(fast_options());
    auto r = v.run("def add(a, b):\n    print('debug line')\n    return a + b + undefined_name\n", assert_task());
    EXPECT_EQ(r.tests[0].status, TestStatus::runtime_error);
    EXPECT_TRUE(r.feedback.starts_with("Runtime Error")) << r.feedback;
    EXPECT_NE(r.feedback.find("NameError"), std::string::npos) << r.feedback;
    EXPECT_NE(r.feedback.find("debug line"), std::string::npos) << r.feedback;

    r = v.run("def add(a, b):\n    while True:\n        pass\n", assert_task());
    EXPECT_EQ(r.tests[0].status, TestStatus::timeout);
    EXPECT_NE(r.feedback.find("Time Limit Exceeded"), std::string::npos) << r.feedback;

    r = v.run("def add(a, b):\n    x = bytearray(4 << 30)\n", assert_task());
    EXPECT_EQ(r.tests[0].status, TestStatus::memory_error);

    r = v.verify("no code here", assert_task());
    EXPECT_FALSE(r.code_found);
    EXPECT_NE(r.feedback.find("code block"), std::string::npos);
}

TEST(CodeVerifier, HostileSolutionsAreClassified) {
    CodeVerifierOptions o = fast_options();
    o.max_output_kb = 16;
    CodeVerifier v(o);
    Task t;
    t.id = "hostile";
    t.assert_tests = {"assert True"};
    const std::pair<const char*, TestStatus> cases[] = {
        {"import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", TestStatus::timeout},
        {"x = bytearray(4 << 30)\n", TestStatus::memory_error},
        {"while True:\n    pass\n", TestStatus::timeout},
        {"def f(n):\n    return f(n + 1)\nf(0)\n", TestStatus::runtime_error},
        {"while True:\n    print('x' * 1000)\n", TestStatus::output_limit},
        {"open('/etc/anvil_sandbox_probe', 'w').write('x')\n", TestStatus::runtime_error},
        {"import time\ntime.sleep(100)\n", TestStatus::timeout},
        {"import ctypes\nctypes.string_at(0)\n", TestStatus::crashed},
    };
    for (const auto& [program, expected] : cases) {
        auto r = v.run(program, t);
        EXPECT_EQ(r.tests[0].status, expected) << program << "\n" << test_status_name(r.tests[0].status) << "\n"
                                               << r.tests[0].error;
    }
    EXPECT_FALSE(fs::exists("/etc/anvil_sandbox_probe"));
    // The parent is healthy: an ordinary solution still passes.
    EXPECT_EQ(v.run("x = 1\n", t).pass_fraction, 1.0);
    expect_clean();
}

TEST(CodeVerifier, StdinStdoutTests) {
    Task t;
    t.id = "sum";
    t.io_tests = {{"1 2\n", "3\n"}, {"5 5\n", "10"}, {"2 2\n", "5\n"}};
    CodeVerifier v(fast_options());
    auto r = v.run("a, b = map(int, input().split())\nprint(a + b)   \n", t);
    EXPECT_EQ(r.tests[0].status, TestStatus::passed);
    EXPECT_EQ(r.tests[1].status, TestStatus::passed);
    EXPECT_EQ(r.tests[2].status, TestStatus::failed);
    EXPECT_NE(r.feedback.find("Input: 2 2\nOutput: 4\nExpected: 5"), std::string::npos) << r.feedback;
    auto reward = v.reward();
    EXPECT_DOUBLE_EQ(reward(t, "```python\nprint(sum(map(int, input().split())))\n```").score, 2.0 / 3.0);
}

TEST(CodeVerifier, TruncationLimits) {
    EXPECT_EQ(truncate_text("abcdef", 3), "abc...(truncated)");
    EXPECT_EQ(truncate_text("1\n2\n3\n4", 100, 2), "1\n2...(truncated)");
    EXPECT_EQ(truncate_text("short", 100, 8), "short");
    std::vector<TestOutcome> many(5);
    for (auto& t : many) {
        t.status = TestStatus::failed;
        t.input = std::string(1000, 'i');
        t.expected = std::string(1000, 'e');
        t.output = std::string(1000, 'o');
    }
    many[3].input = "short input";
    std::string fb = code_feedback(many);
    EXPECT_LE(fb.size(), 2000u + 20u);
    EXPECT_NE(fb.find("Input: short input"), std::string::npos) << "shortest failing case comes first";
}

}  // namespace anvil::env
