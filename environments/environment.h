// The three plug-in levels of environments (DESIGN.md §3) and the types they share:
//   1. a reward function (task, completion) -> score + optional feedback text;
//   2. a stateful multi-turn Environment: reset(task) -> first observation, step(text) -> observation,
//      reward, feedback, done; one instance per rollout;
//   3. an external process speaking JSON lines (external.h), which is an Environment to the caller.
// Everything is text: token-level loss masks are built later from the role/text spans an episode records.
// No tensors here. The registry that builds environments by name is registry.h.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "environments/task.h"

namespace anvil::env {

struct RewardResult {
    double score = 0.0;
    std::string feedback;  // for SDPO's teacher context; "" when there is nothing to say
    // Named parts of a composed reward, for logging ({"math", 1.0}, {"format", 0.0}).
    std::vector<std::pair<std::string, double>> parts;
};

// Level 1: a pure function, safe to call from several threads at once.
using RewardFn = std::function<RewardResult(const Task& task, const std::string& completion)>;

// One message of a dialogue.
struct Message {
    std::string role;  // "system" | "user" | "assistant"
    std::string content;
};
using Conversation = std::vector<Message>;

struct StepResult {
    std::string observation;  // the next message to the policy ("" when done)
    double reward = 0.0;      // reward for this step (the final reward when done)
    std::string feedback;
    bool done = false;
};

// A span of an episode's transcript: who produced which text. `trainable` marks the policy's own turns,
// the only ones that carry loss (tutoring.md §5).
struct Span {
    std::string role;
    std::string text;
    bool trainable = false;
};

// Level 2: a stateful environment. Not thread-safe; one instance per rollout.
class Environment {
public:
    virtual ~Environment() = default;
    // Starts an episode; returns the first observation (the prompt the policy answers).
    virtual std::string reset(const Task& task) = 0;
    // Consumes the policy's message.
    virtual StepResult step(const std::string& action) = 0;
    // The episode so far as role/text spans (system and observation text untrainable, actions trainable).
    virtual std::vector<Span> transcript() const = 0;
};

// Wraps a reward function as a one-step environment: reset returns the task prompt, step scores the
// completion and ends the episode.
class SingleTurnEnvironment : public Environment {
public:
    explicit SingleTurnEnvironment(RewardFn reward) : reward_(std::move(reward)) {}
    std::string reset(const Task& task) override;
    StepResult step(const std::string& action) override;
    std::vector<Span> transcript() const override { return spans_; }

private:
    RewardFn reward_;
    Task task_;
    bool started_ = false, done_ = false;
    std::vector<Span> spans_;
};

// Reward composition.
struct WeightedReward {
    std::string name;
    double weight = 1.0;
    RewardFn fn;
};
// score = Σ weight·score_i; feedback = the non-empty feedbacks joined by blank lines; parts = each score_i.
RewardFn weighted_sum(std::vector<WeightedReward> rewards);

// A format reward: 1 when `pattern` (a PCRE2 regex) matches somewhere in the completion, else 0 with
// `feedback` as feedback. Throws UsageError for an invalid pattern.
RewardFn format_reward(const std::string& pattern, const std::string& feedback);

}  // namespace anvil::env
