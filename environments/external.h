// Plug-in level 3: an environment in another process, written in any language, speaking JSON lines over
// its stdin/stdout. One child process serves many episodes; requests carry an episode id. The child is
// trusted researcher code (it is not sandboxed), but never trusted to answer: every request has a
// timeout, and a child that crashes, exits, hangs or writes garbage becomes an anvil::Error naming the
// command and the request and carrying the tail of its stderr.
//
// Protocol (version 1). Anvil writes one JSON object per line; the child answers each with one line.
//   -> {"type": "hello", "protocol": 1}
//   <- {"protocol": 1, "name": "<environment name>"}
//   -> {"type": "reset", "episode": 7, "task": {"id", "prompt", "answer", "meta"}}
//   <- {"observation": "<first message to the policy>"}
//   -> {"type": "step", "episode": 7, "action": "<policy message>"}
//   <- {"observation": "...", "reward": 0.0, "feedback": "...", "done": false}
//   -> {"type": "score", "task": {...}, "completion": "..."}        (plug-in level 1 through a process)
//   <- {"score": 1.0, "feedback": "..."}
//   -> {"type": "close_episode", "episode": 7}                      (no answer expected)
//   -> {"type": "shutdown"}                                          (no answer; the child should exit)
// Any answer may instead be {"error": "<message>"}, which becomes an anvil::Error. Missing optional fields
// default to "" / 0 / false. The child must log to stderr only: stdout is the protocol.
// Example: environments/examples/guess_number.py.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/environment.h"

namespace anvil::env {

struct ExternalOptions {
    std::vector<std::string> command;  // argv; argv[0] is looked up on PATH
    double startup_timeout_seconds = 30.0;
    double request_timeout_seconds = 30.0;
    int64_t stderr_tail_bytes = 4096;
};

const config::Section<ExternalOptions>& external_section();

// One child process; thread-safe (requests are serialised).
class ExternalProcess {
public:
    explicit ExternalProcess(const ExternalOptions& options);  // starts the child and says hello
    ~ExternalProcess();
    ExternalProcess(const ExternalProcess&) = delete;
    ExternalProcess& operator=(const ExternalProcess&) = delete;

    // Sends `request`, returns the answer; throws anvil::Error on timeout, exit, garbage or {"error"}.
    nlohmann::json request(const nlohmann::json& request);
    // Sends without waiting for an answer.
    void notify(const nlohmann::json& message);
    int64_t new_episode_id();
    const std::string& name() const { return name_; }

private:
    [[noreturn]] void fail(const std::string& what);
    void write_line(const std::string& line, double timeout_seconds, const std::string& what);
    std::string read_line(double timeout_seconds, const std::string& what);
    void read_stderr();
    void stop();
    bool reaped();  // true once the child's exit status is known (reaps it)

    ExternalOptions options_;
    std::string command_text_, name_;
    pid_t pid_ = -1;
    int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
    std::string out_buffer_, stderr_tail_;
    bool broken_ = false;
    std::optional<int> exit_status_;
    int64_t next_episode_ = 0;
    std::mutex mutex_;
};

// An Environment whose episodes live in an external process (shared by many instances).
class ExternalEnvironment : public Environment {
public:
    explicit ExternalEnvironment(std::shared_ptr<ExternalProcess> process) : process_(std::move(process)) {}
    ~ExternalEnvironment() override;
    std::string reset(const Task& task) override;
    StepResult step(const std::string& action) override;
    std::vector<Span> transcript() const override { return spans_; }

private:
    std::shared_ptr<ExternalProcess> process_;
    int64_t episode_ = -1;
    std::vector<Span> spans_;
};

// A reward function answered by the process's "score" request.
RewardFn external_reward(std::shared_ptr<ExternalProcess> process);

// The task as the protocol sends it.
nlohmann::json task_to_json(const Task& task);

}  // namespace anvil::env
