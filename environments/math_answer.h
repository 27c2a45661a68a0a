// Final-answer extraction from a model's completion and the text normalisation applied before comparing
// answers (LaTeX spacing, \dfrac, \text{}, degrees, percent and dollar signs, thousands separators).
// Deciding whether two answers are equal is math_equivalence.h; scoring and feedback is math_verifier.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anvil::env {

// Where a final answer may come from, tried in the configured order.
//   boxed:        the last \boxed{...} or \fbox{...} (nested braces allowed)
//   hashes:       the text after the last "####" (GSM8K style)
//   answer_is:    the text after the last "the answer is" (case-insensitive), up to the end of the sentence
//   last_number:  the last number in the text (fallback)
enum class AnswerSource { boxed, hashes, answer_is, last_number };

// Parses "boxed" | "hashes" | "answer_is" | "last_number"; throws UsageError otherwise.
AnswerSource parse_answer_source(const std::string& name);
const char* answer_source_name(AnswerSource source);

struct ExtractedAnswer {
    std::string text;
    AnswerSource source;
};

// The first source in `order` that finds an answer in `completion`.
std::optional<ExtractedAnswer> extract_answer(std::string_view completion, const std::vector<AnswerSource>& order);

// The contents of the last \boxed{...} / \fbox{...} in `text`, braces balanced; nullopt when none is closed.
std::optional<std::string> last_boxed(std::string_view text);

// The brace-balanced group starting at text[open] == '{'; returns the inside and sets `end` past the '}'.
std::optional<std::string> brace_group(std::string_view text, size_t open, size_t* end);

// Canonical text of an answer: no $, \left/\right, spacing commands or whitespace; \dfrac/\tfrac -> \frac;
// \text{x}/\mathrm{x}/... -> x; degrees, \$ and trailing periods removed; "1,000" -> "1000"; "\%" -> "%".
std::string normalize_answer(std::string_view answer);

}  // namespace anvil::env
