// Implementation of launch/launcher.h: fork/exec of the workers, a poll loop over their output pipes and a
// self-pipe for signals, group tear-down (SIGTERM, then SIGKILL after a grace period) and restarts.
#include "launch/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/error.h"

namespace anvil {
namespace {

int g_signal_pipe[2] = {-1, -1};
volatile sig_atomic_t g_signal = 0;

void on_signal(int sig) {
    g_signal = sig;
    char c = static_cast<char>(sig);
    [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &c, 1);
}

void say(const std::string& message) {
    std::fprintf(stderr, "[anvilrun] %s\n", message.c_str());
    std::fflush(stderr);
}

struct Worker {
    int local_rank = 0, global_rank = 0;
    pid_t pid = -1;
    int out_fd = -1;
    std::string partial;
    std::FILE* log = nullptr;
    std::optional<int> status;  // waitpid status once exited
};

std::string describe_status(int status) {
    if (WIFEXITED(status)) return str("exit code ", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return str("signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
    return "unknown status";
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

void emit_line(Worker& w, const std::string& line) {
    std::string out = str("[rank ", w.global_rank, "] ", line, "\n");
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (w.log) {
        std::fwrite(line.data(), 1, line.size(), w.log);
        std::fputc('\n', w.log);
    }
}

// Reads what is available; returns false at end of stream.
bool pump(Worker& w) {
    char buf[8192];
    ssize_t n = read(w.out_fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
        if (!w.partial.empty()) emit_line(w, w.partial);
        w.partial.clear();
        close(w.out_fd);
        w.out_fd = -1;
        std::fflush(stdout);
        if (w.log) std::fflush(w.log);
        return false;
    }
    w.partial.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = w.partial.find('\n')) != std::string::npos;) {
        std::string line = w.partial.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        emit_line(w, line);
        w.partial.erase(0, nl + 1);
    }
    std::fflush(stdout);
    return true;
}

Worker start_worker(const LaunchOptions& o, int local_rank, int restart_count) {
    Worker w;
    w.local_rank = local_rank;
    w.global_rank = o.node_rank * o.nproc_per_node + local_rank;
    if (!o.log_dir.empty()) {
        auto dir = std::filesystem::path(o.log_dir) / str("attempt_", restart_count);
        std::filesystem::create_directories(dir);
        auto path = dir / str("rank_", w.global_rank, ".log");
        w.log = std::fopen(path.c_str(), "w");
        if (!w.log) throw Error(str(path.string(), ": cannot create log file"));
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw Error(str("pipe failed: ", std::strerror(errno)));
    auto env = worker_environment(o, local_rank, restart_count);
    pid_t pid = fork();
    if (pid < 0) throw Error(str("fork failed: ", std::strerror(errno)));
    if (pid == 0) {
        setpgid(0, 0);  // its own process group, so tear-down reaches its descendants too
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> argv;
        for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "anvilrun: cannot execute %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    w.pid = pid;
    w.out_fd = fds[0];
    return w;
}

bool all_exited(const std::vector<Worker>& workers) {
    for (const auto& w : workers)
        if (!w.status || w.out_fd >= 0) return false;
    return true;
}

// One pass of the event loop: output, exits, signals. Waits up to `timeout_ms`.
void poll_once(std::vector<Worker>& workers, int timeout_ms) {
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers)
        if (w.out_fd >= 0) {
            fds.push_back({w.out_fd, POLLIN, 0});
            owners.push_back(&w);
        }
    fds.push_back({g_signal_pipe[0], POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready > 0) {
        for (size_t i = 0; i < owners.size(); ++i)
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) pump(*owners[i]);
        if (fds.back().revents & POLLIN) {
            char drain[16];
            [[maybe_unused]] ssize_t n = read(g_signal_pipe[0], drain, sizeof drain);
        }
    }
    for (auto& w : workers) {
        if (w.status) continue;
        int status;
        if (waitpid(w.pid, &status, WNOHANG) == w.pid) w.status = status;
    }
}

void signal_group(std::vector<Worker>& workers, int sig) {
    for (auto& w : workers)
        if (!w.status) kill(-w.pid, sig);
}

// Stops every worker still running: `first` now, SIGKILL after the grace period.
void tear_down(std::vector<Worker>& workers, int first, double grace_seconds) {
    signal_group(workers, first);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_seconds);
    bool killed = false;
    while (!all_exited(workers)) {
        if (!killed && std::chrono::steady_clock::now() > deadline) {
            signal_group(workers, SIGKILL);
            for (auto& w : workers)
                if (w.status) kill(-w.pid, SIGKILL);  // descendants that outlived their worker
            killed = true;
        }
        poll_once(workers, 50);
    }
    for (auto& w : workers) {
        kill(-w.pid, SIGKILL);  // nothing of the group may outlive the attempt
        if (w.log) std::fclose(w.log);
        w.log = nullptr;
    }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> worker_environment(const LaunchOptions& o, int local_rank,
                                                                     int restart_count) {
    const int world = o.nnodes * o.nproc_per_node;
    const int rank = o.node_rank * o.nproc_per_node + local_rank;
    std::vector<std::pair<std::string, std::string>> env = {
        {"LOCAL_RANK", std::to_string(local_rank)},
        {"RANK", std::to_string(rank)},
        {"GROUP_RANK", std::to_string(o.node_rank)},
        {"ROLE_RANK", std::to_string(rank)},
        {"ROLE_NAME", "default"},
        {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
        {"WORLD_SIZE", std::to_string(world)},
        {"GROUP_WORLD_SIZE", std::to_string(o.nnodes)},
        {"ROLE_WORLD_SIZE", std::to_string(world)},
        {"MASTER_ADDR", o.master_addr},
        {"MASTER_PORT", std::to_string(o.master_port)},
        {"TORCHELASTIC_RESTART_COUNT", std::to_string(restart_count)},
        {"TORCHELASTIC_MAX_RESTARTS", std::to_string(o.max_restarts)},
        {"TORCHELASTIC_RUN_ID", o.run_id},
        {"TORCHELASTIC_USE_AGENT_STORE", "False"},
        {"ANVIL_LAUNCHER_PREFIXES_OUTPUT", "1"},
    };
    if (o.nproc_per_node > 1 && !std::getenv("OMP_NUM_THREADS")) env.emplace_back("OMP_NUM_THREADS", "1");
    return env;
}

int find_free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        throw Error(str("cannot find a free port: ", std::strerror(errno)));
    close(fd);
    return ntohs(addr.sin_port);
}

int launch(const LaunchOptions& options) {
    LaunchOptions o = options;
    if (o.standalone) {
        o.nnodes = 1;
        o.node_rank = 0;
        o.master_addr = "127.0.0.1";
        o.master_port = find_free_port();
    }
    if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw Error("pipe failed");
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(sig, &sa, nullptr);

    say(str("node ", o.node_rank, "/", o.nnodes, ": starting ", o.nproc_per_node, " worker(s) of ", o.nnodes * o.nproc_per_node,
            ", master ", o.master_addr, ":", o.master_port, ", up to ", o.max_restarts, " restart(s)"));
    for (int attempt = 0;; ++attempt) {
        std::vector<Worker> workers;
        for (int r = 0; r < o.nproc_per_node; ++r) workers.push_back(start_worker(o, r, attempt));
        std::vector<std::pair<int, int>> failures;  // (global rank, status) of every worker that failed on its own
        while (!all_exited(workers)) {
            poll_once(workers, 100);
            if (g_signal) {
                int sig = g_signal;
                say(str("received ", strsignal(sig), "; forwarding to the workers"));
                tear_down(workers, sig, 10.0);
                return 128 + sig;
            }
            for (const auto& w : workers)
                if (w.status && exit_code_of(*w.status) != 0) failures.emplace_back(w.global_rank, *w.status);
            if (!failures.empty()) break;
        }
        if (failures.empty()) {
            for (auto& w : workers)
                if (w.log) std::fclose(w.log);
            say("all workers finished successfully");
            return 0;
        }
        std::string report;
        for (const auto& [rank, status] : failures) report += str(report.empty() ? "" : "; ", "rank ", rank, " failed with ", describe_status(status));
        say(report + "; stopping the other workers");
        tear_down(workers, SIGTERM, 5.0);
        const int status = failures.front().second;
        if (attempt >= o.max_restarts) {
            say(str("giving up after ", attempt, " restart(s); exit code ", exit_code_of(status)));
            return exit_code_of(status);
        }
        say(str("restarting the workers (restart ", attempt + 1, " of ", o.max_restarts, ")"));
    }
}

}  // namespace anvil
