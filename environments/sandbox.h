// Running untrusted programs in a child process (DESIGN.md §3, "environments are untrusted boundaries").
//
// Each run gets: a fresh empty temporary working directory (also its TMPDIR and HOME); a scrubbed
// environment; its own process group; rlimits on CPU time, address space, file size, open files, core
// dumps and process count; where the kernel allows it, no network (a new network namespace) and a
// read-only view of every file system except the working directory (a new mount namespace; Linux >= 5.12);
// a wall-clock kill; stdout/stderr captured non-blockingly and truncated. The parent never blocks: it polls with timeouts and reaps every child.
//
// Layout: parent -> supervisor (root, its own session, a child subreaper, dies with the parent) -> program.
// The supervisor enforces the wall clock and, once the program has ended, kills and reaps everything the
// program started, even processes that left its process group (orphans reparent to the supervisor).
//
// Process-count limits: RLIMIT_NPROC counts processes per user and is not enforced for root. When the
// parent runs as root, each concurrent run therefore executes under its own unprivileged uid (each Anvil
// process claims a block of 64 uids from `uid_base` with a lock file in the temp dir), so the limit binds
// and kill(-1) from that uid reaches exactly the run's processes. Without root the program keeps the
// parent's uid: the limit then counts all of that user's processes, and a process that left the group
// survives the run (a log line says so once for each missing capability).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace anvil::env {

struct SandboxLimits {
    double cpu_seconds = 4.0;          // RLIMIT_CPU (SIGXCPU, then SIGKILL one second later)
    double wall_seconds = 8.0;         // the whole process group is killed after this
    int64_t memory_mb = 1024;          // RLIMIT_AS
    int64_t file_size_mb = 16;         // RLIMIT_FSIZE
    int64_t max_processes = 32;        // RLIMIT_NPROC (see the header comment)
    int64_t max_output_bytes = 65536;  // per stream; a run that writes more is killed (output_limit)
    int64_t max_open_files = 64;       // RLIMIT_NOFILE
    bool allow_network = false;        // true skips the network namespace
    int64_t uid_base = 61000;          // runs use uids from here to uid_base + 65535 when the parent is root
};

enum class RunStatus {
    exited,        // the program exited by itself (exit_code tells how)
    signaled,      // killed by a signal it did not get from us (segfault, SIGXCPU, ...)
    timeout,       // we killed it at wall_seconds
    output_limit,  // we killed it for writing more than max_output_bytes
    spawn_failed,  // the child could not be set up (message in stderr)
};
const char* run_status_name(RunStatus status);

struct RunResult {
    RunStatus status = RunStatus::spawn_failed;
    int exit_code = -1;  // for exited
    int signal = 0;      // for signaled
    std::string stdout_text, stderr_text;  // each at most max_output_bytes
    bool stdout_truncated = false, stderr_truncated = false;
    double wall_seconds = 0.0;
};

struct SandboxFile {
    std::string name;  // a plain file name (no '/'), created in the working directory
    std::string content;
};

// Runs `argv` (argv[0] an absolute path) in the sandbox with `files` written into its working directory
// and `stdin_text` on its standard input. Thread-safe: several runs may proceed in parallel.
RunResult run_sandboxed(const std::vector<std::string>& argv, const std::vector<SandboxFile>& files,
                        const std::string& stdin_text, const SandboxLimits& limits);

// What this machine allows, probed once (and logged once): a private network namespace; uid switching.
struct SandboxCapabilities {
    bool network_namespace = false;
    bool per_run_uid = false;
    bool read_only_root = false;  // a private mount namespace with everything but the work dir read-only
};
const SandboxCapabilities& sandbox_capabilities();

// The uids [first, last) that this process's runs use when per_run_uid holds (its claimed block), so a
// monitor can tell its own sandboxed processes from those of other Anvil processes on the machine.
std::pair<int64_t, int64_t> sandbox_uid_range(const SandboxLimits& limits);

// The Python interpreter used for code tasks: an absolute path found once on PATH ("python3").
const std::string& default_python();

}  // namespace anvil::env
