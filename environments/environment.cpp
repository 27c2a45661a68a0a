// Implementation of environment.h: the single-turn adapter and reward composition.
#include "environments/environment.h"

#include <regex>

#include "core/error.h"

namespace anvil::env {

std::string SingleTurnEnvironment::reset(const Task& task) {
    task_ = task;
    started_ = true;
    done_ = false;
    spans_ = {{"user", task.prompt, false}};
    return task.prompt;
}

StepResult SingleTurnEnvironment::step(const std::string& action) {
    if (!started_) throw Error("SingleTurnEnvironment: step() before reset()");
    if (done_) throw Error("SingleTurnEnvironment: step() after the episode ended");
    spans_.push_back({"assistant", action, true});
    RewardResult r = reward_(task_, action);
    done_ = true;
    return {"", r.score, r.feedback, true};
}

RewardFn weighted_sum(std::vector<WeightedReward> rewards) {
    if (rewards.empty()) throw UsageError("weighted_sum: no reward functions given");
    return [rewards = std::move(rewards)](const Task& task, const std::string& completion) {
        RewardResult total;
        for (const auto& r : rewards) {
            RewardResult part = r.fn(task, completion);
            total.score += r.weight * part.score;
            if (!part.feedback.empty()) total.feedback += (total.feedback.empty() ? "" : "\n\n") + part.feedback;
            total.parts.emplace_back(r.name, part.score);
        }
        return total;
    };
}

RewardFn format_reward(const std::string& pattern, const std::string& feedback) {
    std::shared_ptr<const std::regex> re;
    try {
        re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw UsageError(str("format reward: invalid regular expression '", pattern, "': ", e.what()));
    }
    return [re, feedback](const Task&, const std::string& completion) {
        RewardResult r;
        r.score = std::regex_search(completion, *re) ? 1.0 : 0.0;
        if (r.score == 0.0) r.feedback = feedback;
        return r;
    };
}

}  // namespace anvil::env
