// Implementation of sandbox.h: fork/exec with rlimits, namespaces and a polling parent.
#include "environments/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <linux/mount.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/log.h"

namespace anvil::env {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Writes a message to fd 2 and exits: the only reporting possible between fork and exec.
[[noreturn]] void child_fail(int err_fd, const char* what) {
    const char* reason = strerrordesc_np(errno);  // a static string: no allocation after fork
    (void)!write(err_fd, "sandbox: ", 9);
    (void)!write(err_fd, what, strlen(what));
    (void)!write(err_fd, ": ", 2);
    (void)!write(err_fd, reason, strlen(reason));
    (void)!write(err_fd, "\n", 1);
    _exit(126);
}

void set_limit(int resource, rlim_t soft, rlim_t hard, int err_fd, const char* name) {
    struct rlimit rl{soft, hard};
    if (setrlimit(resource, &rl) != 0) child_fail(err_fd, name);
}

// The uids of concurrent runs. Each Anvil process claims a block of kUidsPerBlock uids with a lock file
// (released by the kernel when the process ends), so two processes on one machine (e.g. local ranks)
// never share a uid, and kill(-1) from a run's uid cannot reach another run's programs.
constexpr int64_t kUidsPerBlock = 64, kUidBlocks = 1024;

class UidPool {
public:
    int64_t acquire(int64_t base) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (block_ < 0) claim_block();
        cv_.wait(lock, [&] { return in_use_.size() < static_cast<size_t>(kUidsPerBlock); });
        for (int64_t i = 0;; ++i) {
            int64_t uid = base + block_ * kUidsPerBlock + i;
            if (in_use_.insert(uid).second) return uid;
        }
    }
    // The first uid of this process's block (claiming it if needed).
    int64_t first_uid(int64_t base) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (block_ < 0) claim_block();
        return base + block_ * kUidsPerBlock;
    }
    void release(int64_t uid) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            in_use_.erase(uid);
        }
        cv_.notify_one();
    }

private:
    void claim_block() {
        for (int64_t b = 0; b < kUidBlocks; ++b) {
            std::string path = (fs::temp_directory_path() / str("anvil-sandbox-uids-", b, ".lock")).string();
            int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0) continue;
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                block_ = b;  // the descriptor stays open (and locked) for the life of the process
                return;
            }
            close(fd);
        }
        throw Error(str("sandbox: all ", kUidBlocks, " uid blocks are claimed by other processes"));
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    std::set<int64_t> in_use_;
    int64_t block_ = -1;
};

UidPool& uid_pool() {
    static UidPool pool;
    return pool;
}

}  // namespace

std::pair<int64_t, int64_t> sandbox_uid_range(const SandboxLimits& limits) {
    int64_t first = uid_pool().first_uid(limits.uid_base);
    return {first, first + kUidsPerBlock};
}

namespace {

struct ChildSetup {
    char** argv;
    char** envp;
    const char* workdir;
    int stdin_fd, stdout_fd, stderr_fd, status_fd;
    int64_t uid;  // -1: keep the parent's uid
    bool new_netns;
    bool read_only_root;  // a private mount namespace where all but the working directory is read-only
    rlim_t cpu, memory, file_size, processes, open_files;
    int64_t wall_ns;
    pid_t parent;
};

struct SupervisorReport {
    int32_t timed_out;
    int32_t wait_status;
};

int64_t monotonic_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_ms(int ms) {
    struct timespec ts{0, ms * 1000000L};
    nanosleep(&ts, nullptr);
}

// In a new mount namespace: every mount read-only and nosuid, except `workdir` (a bind mount of itself).
bool make_root_read_only(const char* workdir) {
    if (unshare(CLONE_NEWNS) != 0) return false;
    if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
    if (workdir && mount(workdir, workdir, nullptr, MS_BIND, nullptr) != 0) return false;
    struct mount_attr read_only{};
    read_only.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID;
    if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &read_only, sizeof read_only) != 0) return false;
    if (!workdir) return true;
    struct mount_attr writable{};
    writable.attr_clr = MOUNT_ATTR_RDONLY;
    return syscall(SYS_mount_setattr, AT_FDCWD, workdir, 0, &writable, sizeof writable) == 0;
}

// The program: runs in its own process group under the limits, then execs. Never returns.
[[noreturn]] void exec_program(const ChildSetup& c) {
    setpgid(0, 0);
    if (dup2(c.stdin_fd, 0) < 0 || dup2(c.stdout_fd, 1) < 0 || dup2(c.stderr_fd, 2) < 0) child_fail(c.stderr_fd, "dup2");
    if (chdir(c.workdir) != 0) child_fail(2, "chdir");
    set_limit(RLIMIT_CPU, c.cpu, c.cpu + 1, 2, "RLIMIT_CPU");
    set_limit(RLIMIT_AS, c.memory, c.memory, 2, "RLIMIT_AS");
    set_limit(RLIMIT_FSIZE, c.file_size, c.file_size, 2, "RLIMIT_FSIZE");
    set_limit(RLIMIT_NPROC, c.processes, c.processes, 2, "RLIMIT_NPROC");
    set_limit(RLIMIT_NOFILE, c.open_files, c.open_files, 2, "RLIMIT_NOFILE");
    set_limit(RLIMIT_CORE, 0, 0, 2, "RLIMIT_CORE");
    if (c.uid >= 0) {
        if (setgroups(0, nullptr) != 0) child_fail(2, "setgroups");
        if (setresgid(c.uid, c.uid, c.uid) != 0) child_fail(2, "setresgid");
        if (setresuid(c.uid, c.uid, c.uid) != 0) child_fail(2, "setresuid");
    }
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(c.argv[0], c.argv, c.envp);
    child_fail(2, "execve");
}

// The supervisor: a child subreaper between the parent and the program. It starts the program, enforces the
// wall clock, and once the program is gone kills and reaps everything the program left behind (orphans
// reparent to it), then reports [program pid][timed_out, wait status] on the status pipe. Only
// async-signal-safe calls here: the parent may be multi-threaded.
[[noreturn]] void supervise(const ChildSetup& c) {
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != c.parent) _exit(1);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (c.new_netns && unshare(CLONE_NEWNET) != 0) {
        if (dup2(c.stderr_fd, 2) >= 0) child_fail(2, "unshare(CLONE_NEWNET)");
        _exit(1);
    }
    if (c.read_only_root && !make_root_read_only(c.workdir)) {
        if (dup2(c.stderr_fd, 2) >= 0) child_fail(2, "read-only mount namespace");
        _exit(1);
    }
    const int64_t deadline = monotonic_ns() + c.wall_ns;
    // SIGCHLD stays blocked here so sigtimedwait can sleep until a child changes state or a tick passes.
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_signal, nullptr);
    pid_t program = fork();
    if (program == 0) exec_program(c);
    close(c.stdin_fd);
    close(c.stdout_fd);
    close(c.stderr_fd);
    if (program < 0) _exit(1);
    int32_t pid32 = program;
    (void)!write(c.status_fd, &pid32, sizeof pid32);
    SupervisorReport report{0, 0};
    bool program_done = false;
    while (!program_done) {
        int status = 0;
        pid_t w = waitpid(-1, &status, WNOHANG);
        if (w == program) {
            report.wait_status = status;
            program_done = true;
        } else if (w <= 0) {
            if (monotonic_ns() > deadline) {
                kill(-program, SIGKILL);
                report.timed_out = 1;
            }
            struct timespec tick{0, 20 * 1000000L};
            sigtimedwait(&child_signal, nullptr, &tick);
        }
    }
    // Everything the program started dies now. Under a run uid, kill(-1) from that uid reaches exactly
    // the run's processes, including those that left the process group; each ends up our child (we are
    // the subreaper), so "no children left" means nothing of the run survives.
    kill(-program, SIGKILL);
    if (c.uid >= 0 && setresgid(c.uid, c.uid, c.uid) == 0 && setresuid(c.uid, c.uid, c.uid) == 0) {
        while (true) {
            kill(-1, SIGKILL);
            pid_t w = waitpid(-1, nullptr, WNOHANG);
            if (w < 0 && errno == ECHILD) break;
            if (w == 0) sleep_ms(1);
        }
    } else {
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }
    (void)!write(c.status_fd, &report, sizeof report);
    _exit(0);
}

bool probe_read_only_root() {
    pid_t pid = fork();
    if (pid == 0) _exit(make_root_read_only(nullptr) ? 0 : 1);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool probe_network_namespace() {
    pid_t pid = fork();
    if (pid == 0) _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

struct Stream {
    int fd = -1;
    std::string* text = nullptr;
    bool* truncated = nullptr;
    int64_t total = 0;
};

// Reads what is available; returns false at EOF.
bool drain(Stream& s, int64_t cap) {
    char buf[16384];
    while (true) {
        ssize_t n = read(s.fd, buf, sizeof buf);
        if (n > 0) {
            s.total += n;
            int64_t room = cap - static_cast<int64_t>(s.text->size());
            if (room > 0) s.text->append(buf, static_cast<size_t>(std::min<int64_t>(room, n)));
            if (n > room) *s.truncated = true;
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return true;  // EAGAIN: nothing more for now
    }
}

}  // namespace

const char* run_status_name(RunStatus status) {
    switch (status) {
        case RunStatus::exited: return "exited";
        case RunStatus::signaled: return "signaled";
        case RunStatus::timeout: return "timeout";
        case RunStatus::output_limit: return "output_limit";
        case RunStatus::spawn_failed: return "spawn_failed";
    }
    return "?";
}

const SandboxCapabilities& sandbox_capabilities() {
    static const SandboxCapabilities caps = [] {
        SandboxCapabilities c;
        c.network_namespace = probe_network_namespace();
        c.per_run_uid = geteuid() == 0;
        c.read_only_root = probe_read_only_root();
        if (!c.network_namespace)
            log::warn("sandbox: cannot create a network namespace here (unshare(CLONE_NEWNET) refused); "
                      "sandboxed code keeps network access");
        if (!c.read_only_root)
            log::warn("sandbox: cannot create a read-only mount namespace here (needs root and Linux >= 5.12); "
                      "sandboxed code can write wherever its uid may");
        if (!c.per_run_uid)
            log::warn("sandbox: not running as root, so programs keep this user's uid: the process-count limit "
                      "counts all of this user's processes, and processes that leave their group are not killed");
        return c;
    }();
    return caps;
}

const std::string& default_python() {
    static const std::string path = [] {
        for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"})
            if (access(p, X_OK) == 0) return std::string(p);
        const char* env_path = std::getenv("PATH");
        std::string dirs = env_path ? env_path : "";
        size_t start = 0;
        while (start <= dirs.size()) {
            size_t end = dirs.find(':', start);
            if (end == std::string::npos) end = dirs.size();
            std::string candidate = dirs.substr(start, end - start) + "/python3";
            if (access(candidate.c_str(), X_OK) == 0) return candidate;
            start = end + 1;
        }
        throw Error("sandbox: no python3 interpreter found (looked in /usr/bin, /usr/local/bin and PATH)");
    }();
    return path;
}

RunResult run_sandboxed(const std::vector<std::string>& argv, const std::vector<SandboxFile>& files,
                        const std::string& stdin_text, const SandboxLimits& limits) {
    ANVIL_CHECK(!argv.empty() && !argv[0].empty() && argv[0][0] == '/',
                "sandbox: argv[0] must be an absolute path, got '", argv.empty() ? "" : argv[0], "'");
    const SandboxCapabilities& caps = sandbox_capabilities();
    RunResult result;
    auto started = Clock::now();

    // Working directory, owned by the run's uid.
    std::string dir_template = (fs::temp_directory_path() / "anvil-sandbox-XXXXXX").string();
    ANVIL_CHECK(mkdtemp(dir_template.data()) != nullptr, "sandbox: mkdtemp failed: ", strerror(errno));
    const std::string workdir = dir_template;
    int64_t uid = -1;
    if (caps.per_run_uid) uid = uid_pool().acquire(limits.uid_base);
    struct Cleanup {
        std::string dir;
        int64_t uid;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(dir, ec);
            if (uid >= 0) uid_pool().release(uid);
        }
    } cleanup{workdir, uid};
    for (const auto& f : files) {
        ANVIL_CHECK(!f.name.empty() && f.name.find('/') == std::string::npos && f.name != "." && f.name != "..",
                    "sandbox: file name '", f.name, "' must be a plain name inside the working directory");
        fs::path p = fs::path(workdir) / f.name;
        std::ofstream out(p, std::ios::binary);
        out << f.content;
        ANVIL_CHECK(out.good(), "sandbox: cannot write ", p.string());
    }
    if (uid >= 0) {
        for (const auto& entry : fs::recursive_directory_iterator(workdir))
            (void)!chown(entry.path().c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid));
        ANVIL_CHECK(chown(workdir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) == 0,
                    "sandbox: chown ", workdir, ": ", strerror(errno));
    }
    chmod(workdir.c_str(), 0700);

    // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    std::vector<std::string> env_strings = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + workdir, "TMPDIR=" + workdir,
                                            "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0",
                                            "OMP_NUM_THREADS=1"};
    std::vector<char*> cenv;
    for (auto& e : env_strings) cenv.push_back(e.data());
    cenv.push_back(nullptr);

    int in_pair[2], out_pipe[2], err_pipe[2], status_pipe[2];
    ANVIL_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) == 0, "sandbox: socketpair failed");
    ANVIL_CHECK(pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0 &&
                    pipe2(status_pipe, O_CLOEXEC) == 0,
                "sandbox: pipe failed");
    ChildSetup setup;
    setup.argv = cargv.data();
    setup.envp = cenv.data();
    setup.workdir = workdir.c_str();
    setup.stdin_fd = in_pair[1];
    setup.stdout_fd = out_pipe[1];
    setup.stderr_fd = err_pipe[1];
    setup.status_fd = status_pipe[1];
    setup.uid = uid;
    setup.new_netns = !limits.allow_network && caps.network_namespace;
    setup.read_only_root = caps.read_only_root;
    setup.cpu = static_cast<rlim_t>(std::max(1.0, std::ceil(limits.cpu_seconds)));
    setup.memory = static_cast<rlim_t>(limits.memory_mb) << 20;
    setup.file_size = static_cast<rlim_t>(limits.file_size_mb) << 20;
    setup.processes = static_cast<rlim_t>(limits.max_processes);
    setup.open_files = static_cast<rlim_t>(limits.max_open_files);
    setup.wall_ns = static_cast<int64_t>(limits.wall_seconds * 1e9);
    setup.parent = getpid();

    pid_t supervisor = fork();
    if (supervisor == 0) supervise(setup);
    for (int fd : {in_pair[1], out_pipe[1], err_pipe[1], status_pipe[1]}) close(fd);
    if (supervisor < 0) {
        for (int fd : {in_pair[0], out_pipe[0], err_pipe[0], status_pipe[0]}) close(fd);
        result.stderr_text = str("sandbox: fork failed: ", strerror(errno));
        return result;
    }
    const int in_fd = in_pair[0];
    for (int fd : {in_fd, out_pipe[0], err_pipe[0], status_pipe[0]}) set_nonblocking(fd);

    Stream streams[2] = {{out_pipe[0], &result.stdout_text, &result.stdout_truncated, 0},
                         {err_pipe[0], &result.stderr_text, &result.stderr_truncated, 0}};
    bool open_stream[2] = {true, true};
    std::string status_bytes;
    bool status_open = true, status_truncated = false;
    Stream status_stream{status_pipe[0], &status_bytes, &status_truncated, 0};
    size_t written = 0;
    bool stdin_open = !stdin_text.empty();
    if (!stdin_open) shutdown(in_fd, SHUT_WR);
    // The supervisor enforces the wall clock; this later deadline only guards against a stuck supervisor.
    const auto backstop = started + std::chrono::duration<double>(limits.wall_seconds + 3.0);
    bool supervisor_done = false, output_killed = false, backstop_killed = false;
    pid_t program = 0;

    while (true) {
        if (stdin_open) {
            ssize_t n = send(in_fd, stdin_text.data() + written, stdin_text.size() - written, MSG_NOSIGNAL);
            if (n > 0) written += static_cast<size_t>(n);
            else if (n < 0 && errno != EAGAIN && errno != EINTR) stdin_open = false;  // the program closed stdin
            if (written == stdin_text.size()) {
                shutdown(in_fd, SHUT_WR);
                stdin_open = false;
            }
        }
        struct pollfd fds[4];
        int nfds = 0;
        int index_of[3] = {-1, -1, -1};
        for (int s = 0; s < 2; ++s)
            if (open_stream[s]) index_of[s] = nfds, fds[nfds++] = {streams[s].fd, POLLIN, 0};
        if (status_open) index_of[2] = nfds, fds[nfds++] = {status_stream.fd, POLLIN, 0};
        if (stdin_open) fds[nfds++] = {in_fd, POLLOUT, 0};
        poll(fds, nfds, nfds > (stdin_open ? 1 : 0) ? 10 : 1);
        for (int s = 0; s < 2; ++s)
            if (open_stream[s] && (fds[index_of[s]].revents & (POLLIN | POLLHUP | POLLERR)))
                open_stream[s] = drain(streams[s], limits.max_output_bytes);
        if (status_open && (fds[index_of[2]].revents & (POLLIN | POLLHUP | POLLERR)))
            status_open = drain(status_stream, 64);
        if (program == 0 && status_bytes.size() >= sizeof(int32_t)) {
            int32_t p;
            memcpy(&p, status_bytes.data(), sizeof p);
            program = p;
        }
        if (!output_killed && program > 0 &&
            (streams[0].total > limits.max_output_bytes || streams[1].total > limits.max_output_bytes)) {
            kill(-program, SIGKILL);  // the supervisor sees the kill and cleans up
            output_killed = true;
        }
        if (!supervisor_done && waitpid(supervisor, nullptr, WNOHANG) == supervisor) supervisor_done = true;
        if (supervisor_done) {
            for (int s = 0; s < 2; ++s)
                if (open_stream[s]) open_stream[s] = drain(streams[s], limits.max_output_bytes);
            if (status_open) status_open = drain(status_stream, 64);
            if ((!open_stream[0] && !open_stream[1]) || Clock::now() > backstop) break;
        } else if (!backstop_killed && Clock::now() > backstop) {
            if (program > 0) kill(-program, SIGKILL);
            kill(supervisor, SIGKILL);
            backstop_killed = true;
        }
    }
    for (int fd : {in_fd, out_pipe[0], err_pipe[0], status_pipe[0]}) close(fd);

    result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    SupervisorReport report{};
    bool reported = status_bytes.size() >= sizeof(int32_t) + sizeof report;
    if (reported) memcpy(&report, status_bytes.data() + sizeof(int32_t), sizeof report);
    if (output_killed) {
        result.status = RunStatus::output_limit;
    } else if (backstop_killed || (reported && report.timed_out)) {
        result.status = RunStatus::timeout;
    } else if (!reported) {
        result.status = RunStatus::spawn_failed;
        if (result.stderr_text.empty()) result.stderr_text = "sandbox: the supervisor ended without a report";
    } else if (WIFEXITED(report.wait_status)) {
        result.status = RunStatus::exited;
        result.exit_code = WEXITSTATUS(report.wait_status);
        if (result.exit_code == 126 && result.stderr_text.starts_with("sandbox: ")) result.status = RunStatus::spawn_failed;
    } else if (WIFSIGNALED(report.wait_status)) {
        result.status = RunStatus::signaled;
        result.signal = WTERMSIG(report.wait_status);
    }
    return result;
}

}  // namespace anvil::env
