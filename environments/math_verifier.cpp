// Implementation of math_verifier.h.
#include "environments/math_verifier.h"

#include "core/error.h"

namespace anvil::env {

const config::Section<MathVerifierOptions>& math_verifier_section() {
    static const config::Section<MathVerifierOptions> section = [] {
        config::Section<MathVerifierOptions> s("math", "Math verifier: final-answer extraction and equivalence.");
        s.field("answer_sources", &MathVerifierOptions::answer_sources,
                "Where to look for the final answer, in order: boxed, answer_is, hashes, last_number.");
        s.field("required_source", &MathVerifierOptions::required_source,
                "The answer format the prompt asks for; answers found only through another source get "
                "format_score and a 'wrong format' feedback. Empty accepts every listed source.")
            .choices({"", "boxed", "answer_is", "hashes", "last_number"});
        s.field("format_score", &MathVerifierOptions::format_score,
                "Score of a correct answer given in the wrong format.")
            .min(0)
            .max(1);
        s.field("relative_tolerance", &MathVerifierOptions::relative_tolerance,
                "Relative tolerance for irrational values and for random-point evaluation.")
            .min(0);
        s.field("percent_as_fraction", &MathVerifierOptions::percent_as_fraction,
                "Accept 0.5 for 50% (50 is always accepted).");
        s.field("strip_units", &MathVerifierOptions::strip_units, "Accept '12 cm' for a bare reference 12.");
        s.field("reveal_answer_in_feedback", &MathVerifierOptions::reveal_answer_in_feedback,
                "Put the reference answer in wrong-answer feedback (leaks the answer to the SDPO teacher).");
        s.check([](const MathVerifierOptions& o, const config::Reporter& report) {
            if (o.answer_sources.empty()) report("answer_sources", "must list at least one source");
            for (const auto& name : o.answer_sources) {
                try {
                    parse_answer_source(name);
                } catch (const UsageError& e) {
                    report("answer_sources", e.what());
                }
            }
        });
        return s;
    }();
    return section;
}

MathVerifier::MathVerifier(const MathVerifierOptions& options) : options_(options) {
    for (const auto& name : options.answer_sources) order_.push_back(parse_answer_source(name));
    if (order_.empty()) throw UsageError("math verifier: answer_sources is empty");
    if (!options.required_source.empty()) parse_answer_source(options.required_source);
    equivalence_.relative_tolerance = options.relative_tolerance;
    equivalence_.percent_as_fraction = options.percent_as_fraction;
    equivalence_.strip_units = options.strip_units;
}

MathVerdict MathVerifier::verify(const std::string& completion, const std::string& reference) const {
    MathVerdict v;
    auto found = extract_answer(completion, order_);
    if (!found) {
        v.feedback = options_.required_source == "boxed" || (options_.required_source.empty() && order_[0] == AnswerSource::boxed)
                         ? "Your response did not contain a final answer in \\boxed{}."
                         : "Your response did not contain a final answer.";
        return v;
    }
    v.found = true;
    v.extracted = found->text;
    v.right_format = options_.required_source.empty() || answer_source_name(found->source) == options_.required_source;
    v.correct = answers_equivalent(found->text, reference, equivalence_);
    if (v.correct) {
        v.score = v.right_format ? 1.0 : options_.format_score;
        if (!v.right_format)
            v.feedback = options_.required_source == "boxed"
                             ? "Your final answer was not given in the required format: put it in \\boxed{}."
                             : "Your final answer was not given in the required format.";
    } else if (options_.reveal_answer_in_feedback) {
        v.feedback = str("Your final answer ", found->text, " is wrong; the correct answer is ", reference, ".");
    } else {
        v.feedback = str("Your final answer ", found->text, " is wrong.");
    }
    return v;
}

RewardFn MathVerifier::reward() const {
    MathVerifier self = *this;
    return [self](const Task& task, const std::string& completion) {
        MathVerdict v = self.verify(completion, task.answer);
        return RewardResult{v.score, v.feedback, {{"math", v.score}}};
    };
}

}  // namespace anvil::env
