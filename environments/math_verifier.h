// The math verifier: a reward function that extracts a final answer from a completion, compares it with
// the task's reference answer (math_equivalence.h), and writes SDPO feedback (sdpo.md §9.2): missing
// answer, wrong format, and (only when enabled, since it reveals the answer) wrong answer.
#pragma once

#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/environment.h"
#include "environments/math_answer.h"
#include "environments/math_equivalence.h"

namespace anvil::env {

struct MathVerifierOptions {
    // Sources tried in order (math_answer.h): boxed, hashes, answer_is, last_number.
    std::vector<std::string> answer_sources = {"boxed", "answer_is", "hashes"};
    // The source the prompt asks for; an answer found only elsewhere scores format_score with a
    // "wrong format" feedback ("" accepts any listed source at full score).
    std::string required_source = "";
    double format_score = 0.0;           // score of a correct answer in the wrong format
    double relative_tolerance = 1e-6;
    bool percent_as_fraction = true;
    bool strip_units = true;
    bool reveal_answer_in_feedback = false;  // off by default, as in the SDPO reference
};

const config::Section<MathVerifierOptions>& math_verifier_section();

struct MathVerdict {
    bool found = false;        // an answer was extracted
    bool correct = false;
    bool right_format = false;  // found through required_source (or any source when none is required)
    std::string extracted;
    std::string feedback;
    double score = 0.0;
};

class MathVerifier {
public:
    explicit MathVerifier(const MathVerifierOptions& options = {});
    MathVerdict verify(const std::string& completion, const std::string& reference) const;
    RewardFn reward() const;

private:
    MathVerifierOptions options_;
    std::vector<AnswerSource> order_;
    EquivalenceOptions equivalence_;
};

}  // namespace anvil::env
