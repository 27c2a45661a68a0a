// Implementation of environment.h: the single-turn adapter and reward composition.
#include "environments/environment.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

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
    // PCRE2 rather than std::regex: libstdc++'s regex recurses per character and can overflow the stack on
    // a long completion; PCRE2 keeps its backtracking on the heap, bounded by a match limit.
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* raw = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(), PCRE2_UTF, &error,
                                    &offset, nullptr);
    if (!raw) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        throw UsageError(str("format reward: invalid regular expression '", pattern, "' at offset ", offset, ": ",
                             reinterpret_cast<const char*>(message)));
    }
    std::shared_ptr<pcre2_code> code(raw, pcre2_code_free);
    return [code, feedback](const Task&, const std::string& completion) {
        std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> match(
            pcre2_match_data_create_from_pattern(code.get(), nullptr), pcre2_match_data_free);
        std::unique_ptr<pcre2_match_context, void (*)(pcre2_match_context*)> context(pcre2_match_context_create(nullptr),
                                                                                    pcre2_match_context_free);
        pcre2_set_match_limit(context.get(), 10'000'000);
        // Invalid UTF-8 in a completion is matched byte-wise rather than rejected.
        int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(completion.data()), completion.size(), 0,
                             PCRE2_NO_UTF_CHECK, match.get(), context.get());
        RewardResult r;
        r.score = rc >= 0 ? 1.0 : 0.0;  // no match, or the match limit was hit: no format reward
        if (r.score == 0.0) r.feedback = feedback;
        return r;
    };
}

}  // namespace anvil::env
