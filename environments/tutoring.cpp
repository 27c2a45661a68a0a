// Implementation of tutoring.h.
#include "environments/tutoring.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "environments/math_answer.h"
#include "environments/math_equivalence.h"

namespace anvil::env {

namespace {

std::string fill(std::string text, const std::string& key, const std::string& value) {
    const std::string slot = "{" + key + "}";
    size_t pos = 0;
    while ((pos = text.find(slot, pos)) != std::string::npos) {
        text.replace(pos, slot.size(), value);
        pos += value.size();
    }
    return text;
}

int64_t word_count(const std::string& text) {
    int64_t n = 0;
    bool in_word = false;
    for (char c : text) {
        bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

// FNV-1a: a hash that is the same in every process (tutoring.md §3.1 warns about salted hashes).
uint64_t stable_hash(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

bool is_number_char(char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ','; }

// Candidate answers mentioned in a text: numbers ("1,200", "3.5", "-2", "3/4", "50%"), \frac{}{} and
// \boxed{} groups, and $...$ math spans.
std::vector<std::string> mentioned_values(const std::string& text) {
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size();) {
        if (std::isdigit(static_cast<unsigned char>(text[i]))) {
            size_t start = i;
            if (start > 0 && text[start - 1] == '-') --start;
            while (i < text.size() && (is_number_char(text[i]) || (text[i] == '/' && i + 1 < text.size() &&
                                                                    std::isdigit(static_cast<unsigned char>(text[i + 1])))))
                ++i;
            std::string n = text.substr(start, i - start);
            while (!n.empty() && (n.back() == '.' || n.back() == ',')) n.pop_back();
            if (i < text.size() && text[i] == '%') n += "%";
            out.push_back(n);
            continue;
        }
        ++i;
    }
    for (std::string_view cmd : {"\\frac", "\\dfrac", "\\boxed", "\\sqrt"}) {
        size_t pos = 0;
        while ((pos = text.find(cmd, pos)) != std::string::npos) {
            size_t end = pos + cmd.size();
            std::string piece(cmd);
            for (int groups = 0; groups < (cmd == "\\boxed" || cmd == "\\sqrt" ? 1 : 2); ++groups) {
                size_t next = 0;
                auto g = brace_group(text, end, &next);
                if (!g) break;
                piece += "{" + *g + "}";
                end = next;
            }
            out.push_back(cmd == "\\boxed" ? piece.substr(7, piece.size() - 8) : piece);
            pos = end;
        }
    }
    for (size_t pos = 0; (pos = text.find('$', pos)) != std::string::npos;) {
        size_t end = text.find('$', pos + 1);
        if (end == std::string::npos) break;
        out.push_back(text.substr(pos + 1, end - pos - 1));
        pos = end + 1;
    }
    return out;
}

// The judge's decision in its output: true = REJECT, false = OK, nullopt = unparsable.
std::optional<bool> parse_decision(const std::string& output) {
    size_t open = output.find('{'), close = output.rfind('}');
    if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
    try {
        auto j = nlohmann::json::parse(output.substr(open, close - open + 1));
        std::string d = j.value("decision", std::string());
        for (char& c : d) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (d == "OK") return false;
        if (d == "REJECT") return true;
    } catch (const nlohmann::json::exception&) {
    }
    return std::nullopt;
}

}  // namespace

const config::Section<TutoringOptions>& tutoring_section() {
    static const config::Section<TutoringOptions> section = [] {
        using O = TutoringOptions;
        config::Section<O> s("tutoring", "Multi-turn tutoring environment: the policy tutors a simulated student.");
        s.field("max_messages", &O::max_messages,
                "The dialogue ends after a tutor message once it holds this many messages (15 in PedagogicalRL).")
            .min(1);
        s.field("max_tokens_per_turn", &O::max_tokens_per_turn,
                "Per-message token limit; a tutor message reaching it minus one costs length_penalty.")
            .min(1);
        s.field("max_dialogue_tokens", &O::max_dialogue_tokens, "The dialogue ends once it has this many tokens.")
            .min(1);
        s.field("solve_attempts", &O::solve_attempts, "Solo attempts of the student after the dialogue (k).").min(1);
        s.field("penalty", &O::penalty, "λ: the penalty of a dialogue a judge rejects.").min(0);
        s.field("on_judge_reject", &O::on_judge_reject,
                "end: a rejected dialogue scores −λ without attempts (hard); continue: r_sol − λ (soft).")
            .choices({"end", "continue"});
        s.field("leak_judge", &O::leak_judge, "Which judge checks for answer leaking.")
            .choices({"rule", "model", "rule_and_model", "none"});
        s.field("judge_attempts", &O::judge_attempts, "Samples of the model judge; any REJECT rejects.").min(1);
        s.field("judge_parse_retries", &O::judge_parse_retries,
                "Retries of an unparsable model-judge output before it counts as OK.")
            .min(1);
        s.field("eoc_bonus", &O::eoc_bonus, "Bonus for ending with the end marker (only when attempts exist).");
        s.field("length_penalty", &O::length_penalty, "Penalty when a tutor message reaches the turn limit.");
        s.field("think_weight", &O::think_weight,
                "Thinking term: −w per tutor message with unbalanced <think> tags, +w × share of messages with them.");
        s.field("start", &O::start, "Who opens: guided (tutor), attempted (student's attempt first), hash (either, "
                                     "by a stable hash of the task id).")
            .choices({"guided", "attempted", "hash"});
        s.field("end_marker", &O::end_marker, "Text with which the tutor ends the dialogue.");
        s.field("tutor_prompt", &O::tutor_prompt, "The tutor's first observation; {problem} is replaced.");
        s.field("student_prompt", &O::student_prompt, "The student's system prompt; {problem} is replaced.");
        s.field("attempt_prompt", &O::attempt_prompt, "How a student's opening attempt is shown; {attempt}.");
        s.field("solve_prompt", &O::solve_prompt, "The instruction for the student's solo attempts.");
        s.field("judge_prompt", &O::judge_prompt,
                "The model judge's prompt; {problem}, {answer} and {dialogue} are replaced.");
        return s;
    }();
    return section;
}

std::string strip_think(const std::string& text) {
    std::string out = text;
    size_t open;
    while ((open = out.find("<think>")) != std::string::npos) {
        size_t close = out.find("</think>", open);
        out.erase(open, close == std::string::npos ? std::string::npos : close + 8 - open);
    }
    return trim(out);
}

bool reveals_answer(const std::string& text, const std::string& answer) {
    std::string norm_answer = normalize_answer(answer);
    if (norm_answer.empty()) return false;
    // Non-numeric answers ("x+1", "\text{Monday}") are found as normalised text.
    bool has_digit = false, has_alpha = false;
    for (char c : norm_answer) {
        has_digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
        has_alpha |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    }
    if ((has_alpha || !has_digit) && normalize_answer(text).find(norm_answer) != std::string::npos) return true;
    for (const auto& value : mentioned_values(text))
        if (answers_equivalent(value, answer)) return true;
    return false;
}

TutoringEnvironment::TutoringEnvironment(const TutoringOptions& options, TutoringModels models)
    : options_(options), models_(std::move(models)) {
    if (!models_.student) throw UsageError("tutoring environment: no student model bound");
    bool model_judge = options_.leak_judge == "model" || options_.leak_judge == "rule_and_model";
    if (model_judge && !models_.judge)
        throw UsageError(str("tutoring environment: leak_judge = '", options_.leak_judge, "' needs a judge model"));
    if (!models_.count_tokens) models_.count_tokens = word_count;
}

std::string TutoringEnvironment::reset(const Task& task) {
    task_ = task;
    dialogue_.clear();
    outcome_ = {};
    started_ = true;
    done_ = false;
    tutor_intro_ = fill(options_.tutor_prompt, "problem", task.prompt);
    dialogue_tokens_ = models_.count_tokens(tutor_intro_);
    bool attempted = options_.start == "attempted" ||
                     (options_.start == "hash" && stable_hash(task.id.empty() ? task.prompt : task.id) % 2 == 1);
    if (!attempted) return tutor_intro_;
    Conversation solo = {{"system", fill(options_.student_prompt, "problem", task.prompt)},
                         {"user", options_.solve_prompt}};
    std::string attempt = fill(options_.attempt_prompt, "attempt", models_.student(solo));
    dialogue_.push_back({"student", attempt});
    dialogue_tokens_ += models_.count_tokens(attempt);
    return tutor_intro_ + "\n\n" + attempt;
}

Conversation TutoringEnvironment::student_view() const {
    Conversation c = {{"system", fill(options_.student_prompt, "problem", task_.prompt)}};
    for (const auto& m : dialogue_)
        c.push_back({m.role == "tutor" ? "user" : "assistant", m.role == "tutor" ? strip_think(m.content) : m.content});
    return c;
}

StepResult TutoringEnvironment::step(const std::string& tutor_message) {
    if (!started_) throw Error("tutoring environment: step() before reset()");
    if (done_) throw Error("tutoring environment: step() after the episode ended");
    dialogue_.push_back({"tutor", tutor_message});
    ++outcome_.tutor_turns;
    int64_t tokens = models_.count_tokens(tutor_message);
    dialogue_tokens_ += tokens;
    if (tokens >= options_.max_tokens_per_turn - 1) outcome_.over_length = true;
    if (tutor_message.find(options_.end_marker) != std::string::npos) outcome_.used_end_marker = true;
    if (outcome_.used_end_marker || static_cast<int64_t>(dialogue_.size()) >= options_.max_messages ||
        dialogue_tokens_ >= options_.max_dialogue_tokens)
        return finish();
    std::string reply = models_.student(student_view());
    dialogue_.push_back({"student", reply});
    dialogue_tokens_ += models_.count_tokens(reply);
    if (dialogue_tokens_ >= options_.max_dialogue_tokens) return finish();
    return {reply, 0.0, "", false};
}

bool TutoringEnvironment::judge_rejects() {
    const std::string& mode = options_.leak_judge;
    bool rejected = false;
    if (mode == "rule" || mode == "rule_and_model") {
        for (const auto& m : dialogue_)
            if (m.role == "tutor" && reveals_answer(strip_think(m.content), task_.answer)) outcome_.leaked_rule = true;
        rejected |= outcome_.leaked_rule;
    }
    if (mode == "model" || mode == "rule_and_model") {
        std::string dialogue_text;
        for (const auto& m : dialogue_)
            dialogue_text += (m.role == "tutor" ? "Tutor: " + strip_think(m.content) : "Student: " + m.content) + "\n";
        std::string prompt = fill(fill(fill(options_.judge_prompt, "problem", task_.prompt), "answer", task_.answer),
                                  "dialogue", dialogue_text);
        for (int64_t a = 0; a < options_.judge_attempts; ++a) {
            std::optional<bool> decision;
            for (int64_t r = 0; r < options_.judge_parse_retries && !decision; ++r) {
                decision = parse_decision(models_.judge({{"user", prompt}}));
                if (!decision) ++outcome_.judge_parse_failures;
            }
            rejected |= decision.value_or(false);
        }
        if (outcome_.judge_parse_failures > 0)
            log::debug("tutoring: ", outcome_.judge_parse_failures, " unparsable judge output(s) for task ", task_.id);
    }
    return rejected;
}

StepResult TutoringEnvironment::finish() {
    done_ = true;
    outcome_.rejected = judge_rejects();
    const bool hard = options_.on_judge_reject == "end";
    StepResult r;
    r.done = true;
    double reward = 0.0;
    std::vector<std::string> notes;
    if (outcome_.rejected) notes.push_back("The tutor gave away the answer.");
    if (outcome_.rejected && hard) {
        reward = -options_.penalty;
    } else {
        Conversation solve = student_view();
        solve.push_back({"user", options_.solve_prompt});
        int64_t solved = 0;
        for (int64_t k = 0; k < options_.solve_attempts; ++k)
            solved += verifier_.verify(models_.student(solve), task_.answer).correct;
        outcome_.attempts = options_.solve_attempts;
        outcome_.solve_rate = static_cast<double>(solved) / static_cast<double>(options_.solve_attempts);
        reward = outcome_.solve_rate - (outcome_.rejected ? options_.penalty : 0.0);
        if (outcome_.used_end_marker) reward += options_.eoc_bonus;
        int64_t unbalanced = 0, with_think = 0;
        for (const auto& m : dialogue_) {
            if (m.role != "tutor") continue;
            size_t opens = 0, closes = 0;
            for (size_t p = 0; (p = m.content.find("<think>", p)) != std::string::npos; ++p) ++opens;
            for (size_t p = 0; (p = m.content.find("</think>", p)) != std::string::npos; ++p) ++closes;
            unbalanced += opens != closes;
            with_think += opens > 0;
        }
        reward += options_.think_weight * (static_cast<double>(with_think) / outcome_.tutor_turns - unbalanced);
        notes.push_back(str("The student solved the problem alone in ", solved, " of ", options_.solve_attempts,
                            " attempts."));
    }
    if (outcome_.over_length) {
        reward -= options_.length_penalty;
        notes.push_back("A tutor message was too long.");
    }
    outcome_.reward = reward;
    r.reward = reward;
    r.feedback = join(notes, " ");
    return r;
}

std::vector<Span> TutoringEnvironment::transcript() const {
    std::vector<Span> spans = {{"user", tutor_intro_, false}};
    size_t first = 0;
    if (!dialogue_.empty() && dialogue_[0].role == "student") {
        spans[0].text += "\n\n" + dialogue_[0].content;  // the opening attempt is part of the first observation
        first = 1;
    }
    for (size_t i = first; i < dialogue_.size(); ++i) {
        bool tutor = dialogue_[i].role == "tutor";
        spans.push_back({tutor ? "assistant" : "user", dialogue_[i].content, tutor});
    }
    return spans;
}

}  // namespace anvil::env
