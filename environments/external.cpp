// Implementation of external.h.
#include "environments/external.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"

namespace anvil::env {

namespace {

using Clock = std::chrono::steady_clock;

std::string find_on_path(const std::string& program) {
    if (program.find('/') != std::string::npos) return program;
    const char* env_path = std::getenv("PATH");
    for (const auto& dir : split(env_path ? env_path : "/usr/bin:/bin", ':')) {
        std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    throw UsageError(str("external environment: '", program, "' not found on PATH"));
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 100));
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return str("exited with code ", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return str("was killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
    return "stopped";
}

}  // namespace

const config::Section<ExternalOptions>& external_section() {
    static const config::Section<ExternalOptions> section = [] {
        config::Section<ExternalOptions> s("external",
                                           "An environment in another process speaking JSON lines (environments/external.h).");
        s.field("command", &ExternalOptions::command,
                "Command line of the environment process, e.g. [\"python3\", \"env.py\"].")
            .required();
        s.field("startup_timeout_seconds", &ExternalOptions::startup_timeout_seconds,
                "Time the process has to answer the hello request.")
            .min(0.1);
        s.field("request_timeout_seconds", &ExternalOptions::request_timeout_seconds,
                "Time the process has to answer each later request.")
            .min(0.1);
        s.field("stderr_tail_bytes", &ExternalOptions::stderr_tail_bytes,
                "How much of the process's stderr error messages quote.")
            .min(0);
        s.check([](const ExternalOptions& o, const config::Reporter& report) {
            if (o.command.empty()) report("command", "must name a program");
        });
        return s;
    }();
    return section;
}

ExternalProcess::ExternalProcess(const ExternalOptions& options) : options_(options) {
    if (options.command.empty()) throw UsageError("external environment: empty command");
    command_text_ = join(options.command, " ");
    std::string program = find_on_path(options.command[0]);
    std::vector<char*> argv;
    for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv[0] = program.data();
    argv.push_back(nullptr);

    int in_pair[2], out_pipe[2], err_pipe[2];
    ANVIL_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) == 0 && pipe2(out_pipe, O_CLOEXEC) == 0 &&
                    pipe2(err_pipe, O_CLOEXEC) == 0,
                "external environment: cannot create pipes: ", strerror(errno));
    pid_ = fork();
    if (pid_ == 0) {
        setpgid(0, 0);
        dup2(in_pair[1], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv.data());
        const char* msg = "external environment: execv failed\n";
        (void)!write(2, msg, strlen(msg));
        _exit(127);
    }
    close(in_pair[1]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    in_fd_ = in_pair[0];
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (pid_ < 0) {
        stop();
        throw Error(str("external environment '", command_text_, "': fork failed: ", strerror(errno)));
    }
    for (int fd : {in_fd_, out_fd_, err_fd_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    std::lock_guard<std::mutex> lock(mutex_);
    write_line(nlohmann::json{{"type", "hello"}, {"protocol", 1}}.dump(), options_.startup_timeout_seconds, "hello");
    std::string line = read_line(options_.startup_timeout_seconds, "hello");
    nlohmann::json hello;
    try {
        hello = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
        fail(str("answered hello with a line that is not JSON: ", line.substr(0, 200)));
    }
    if (!hello.is_object() || hello.value("protocol", 0) != 1)
        fail(str("answered hello with ", line.substr(0, 200), " (expected {\"protocol\": 1, ...})"));
    name_ = hello.value("name", command_text_);
}

ExternalProcess::~ExternalProcess() {
    if (!broken_ && pid_ > 0) {
        try {
            write_line(nlohmann::json{{"type", "shutdown"}}.dump(), 1.0, "shutdown");
        } catch (const Error&) {
        }
    }
    stop();
}

void ExternalProcess::stop() {
    if (pid_ > 0 && !exit_status_) {
        // A second to exit on its own, then the whole process group is killed.
        auto deadline = Clock::now() + std::chrono::seconds(1);
        while (!reaped() && Clock::now() < deadline) poll(nullptr, 0, 5);
        kill(-pid_, SIGKILL);
        if (!exit_status_) {
            kill(pid_, SIGKILL);
            int status = 0;
            waitpid(pid_, &status, 0);
            exit_status_ = status;
        }
    } else if (pid_ > 0) {
        kill(-pid_, SIGKILL);  // helpers the process left in its group
    }
    pid_ = -1;
    for (int* fd : {&in_fd_, &out_fd_, &err_fd_})
        if (*fd >= 0) close(*fd), *fd = -1;
}

void ExternalProcess::read_stderr() {
    char buf[4096];
    ssize_t n;
    while (err_fd_ >= 0 && (n = read(err_fd_, buf, sizeof buf)) > 0) {
        stderr_tail_.append(buf, static_cast<size_t>(n));
        size_t keep = static_cast<size_t>(options_.stderr_tail_bytes);
        if (stderr_tail_.size() > keep) stderr_tail_.erase(0, stderr_tail_.size() - keep);
    }
}

bool ExternalProcess::reaped() {
    if (exit_status_) return true;
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
    return exit_status_.has_value();
}

void ExternalProcess::fail(const std::string& what) {
    broken_ = true;
    std::string exit_note;
    if (reaped()) {
        exit_note = str(" (the process ", describe_wait_status(*exit_status_), ")");
    } else if (pid_ > 0) {
        kill(-pid_, SIGKILL);
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        exit_status_ = status;
        exit_note = " (the process was killed)";
    }
    read_stderr();
    stop();
    std::string tail = trim(stderr_tail_);
    throw Error(str("external environment '", command_text_, "' ", what, exit_note,
                    tail.empty() ? std::string("; its stderr was empty") : "; stderr tail:\n" + tail));
}

void ExternalProcess::write_line(const std::string& line, double timeout_seconds, const std::string& what) {
    std::string data = line + "\n";
    size_t written = 0;
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
    while (written < data.size()) {
        ssize_t n = send(in_fd_, data.data() + written, data.size() - written, MSG_NOSIGNAL);
        if (n > 0) {
            written += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) fail(str("stopped reading its input during '", what, "'"));
        if (Clock::now() > deadline) fail(str("did not read the '", what, "' request within ", timeout_seconds, " s"));
        struct pollfd fds[2] = {{in_fd_, POLLOUT, 0}, {err_fd_, POLLIN, 0}};
        poll(fds, 2, remaining_ms(deadline));
        read_stderr();
    }
}

std::string ExternalProcess::read_line(double timeout_seconds, const std::string& what) {
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
    while (true) {
        size_t nl = out_buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = out_buffer_.substr(0, nl);
            out_buffer_.erase(0, nl + 1);
            if (trim(line).empty()) continue;
            return line;
        }
        if (Clock::now() > deadline) fail(str("did not answer '", what, "' within ", timeout_seconds, " s"));
        struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
        poll(fds, 2, remaining_ms(deadline));
        read_stderr();
        char buf[16384];
        ssize_t n = read(out_fd_, buf, sizeof buf);
        if (n > 0) out_buffer_.append(buf, static_cast<size_t>(n));
        else if (n == 0) {
            // EOF: give the process a moment to finish exiting so the message can say how it ended.
            auto grace = Clock::now() + std::chrono::milliseconds(500);
            while (Clock::now() < grace && !reaped()) poll(nullptr, 0, 5);
            fail(str("closed its output instead of answering '", what, "'"));
        }
    }
}

nlohmann::json ExternalProcess::request(const nlohmann::json& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string what = request.value("type", std::string("request"));
    if (broken_) throw Error(str("external environment '", command_text_, "' failed earlier; cannot send '", what, "'"));
    write_line(request.dump(), options_.request_timeout_seconds, what);
    std::string line = read_line(options_.request_timeout_seconds, what);
    nlohmann::json answer;
    try {
        answer = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
        fail(str("answered '", what, "' with a line that is not JSON: ", line.substr(0, 200)));
    }
    if (!answer.is_object()) fail(str("answered '", what, "' with ", line.substr(0, 200), " (expected an object)"));
    if (answer.contains("error")) {
        read_stderr();
        throw Error(str("external environment '", command_text_, "' reported an error for '", what,
                        "': ", answer["error"].is_string() ? answer["error"].get<std::string>() : answer["error"].dump()));
    }
    return answer;
}

void ExternalProcess::notify(const nlohmann::json& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return;
    write_line(message.dump(), options_.request_timeout_seconds, message.value("type", std::string("notify")));
}

int64_t ExternalProcess::new_episode_id() {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_episode_++;
}

nlohmann::json task_to_json(const Task& task) {
    return {{"id", task.id}, {"prompt", task.prompt}, {"answer", task.answer}, {"meta", task.meta}};
}

namespace {

// Reads an optional field with a type check that names the field.
template <class T>
T field_or(const nlohmann::json& answer, const char* key, T fallback, const std::string& what) {
    if (!answer.contains(key) || answer[key].is_null()) return fallback;
    try {
        return answer[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(str("external environment: field '", key, "' of the '", what, "' answer has the wrong type: ",
                        answer[key].dump()));
    }
}

}  // namespace

ExternalEnvironment::~ExternalEnvironment() {
    if (episode_ < 0) return;
    try {
        process_->notify({{"type", "close_episode"}, {"episode", episode_}});
    } catch (const Error& e) {
        log::warn(e.what());
    }
}

std::string ExternalEnvironment::reset(const Task& task) {
    if (episode_ >= 0) process_->notify({{"type", "close_episode"}, {"episode", episode_}});
    episode_ = process_->new_episode_id();
    auto answer = process_->request({{"type", "reset"}, {"episode", episode_}, {"task", task_to_json(task)}});
    std::string observation = field_or<std::string>(answer, "observation", "", "reset");
    spans_ = {{"user", observation, false}};
    return observation;
}

StepResult ExternalEnvironment::step(const std::string& action) {
    if (episode_ < 0) throw Error("external environment: step() before reset()");
    spans_.push_back({"assistant", action, true});
    auto answer = process_->request({{"type", "step"}, {"episode", episode_}, {"action", action}});
    StepResult r;
    r.observation = field_or<std::string>(answer, "observation", "", "step");
    r.reward = field_or<double>(answer, "reward", 0.0, "step");
    r.feedback = field_or<std::string>(answer, "feedback", "", "step");
    r.done = field_or<bool>(answer, "done", false, "step");
    if (!r.done && !r.observation.empty()) spans_.push_back({"user", r.observation, false});
    return r;
}

RewardFn external_reward(std::shared_ptr<ExternalProcess> process) {
    return [process](const Task& task, const std::string& completion) {
        auto answer = process->request({{"type", "score"}, {"task", task_to_json(task)}, {"completion", completion}});
        RewardResult r;
        r.score = field_or<double>(answer, "score", 0.0, "score");
        r.feedback = field_or<std::string>(answer, "feedback", "", "score");
        r.parts = {{process->name(), r.score}};
        return r;
    };
}

}  // namespace anvil::env
