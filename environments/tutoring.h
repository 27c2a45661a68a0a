// The multi-turn tutoring environment (tutoring.md, after eth-lre/PedagogicalRL). The policy is the tutor;
// a simulated student answers each tutor message. When the dialogue ends, a leak judge checks whether
// the tutor gave the answer away, and the student then attempts the problem alone k times; the math
// verifier scores each attempt. Reward (tutoring.md §4):
//   soft (on_judge_reject = continue):  r_sol − λ·1[rejected]
//   hard (on_judge_reject = end):       −λ if rejected (no attempts are sampled), else r_sol
//   plus +eoc_bonus for ending with <end_of_conversation> (only when attempts exist), −length_penalty if a
//   tutor message reaches the per-turn token limit, and the thinking term of §4 for <think> tags.
//
// The student, the optional model judge and the token counter are callbacks the caller binds (to a model's
// generate and a tokenizer); scripted callbacks serve tests. Text only: the loss mask is built later from
// the transcript's spans (tutor turns are the trainable ones). The leak rule: a tutor message contains the
// final answer, or a number / expression equivalent to it (math_equivalence.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/environment.h"
#include "environments/math_verifier.h"

namespace anvil::env {

// Produces the next message of the speaker whose view `conversation` is (its own turns are "assistant").
using GenerateFn = std::function<std::string(const Conversation& conversation)>;
// Number of tokens of a text (bind to the tutor's tokenizer); the default counts whitespace-separated words.
using TokenCountFn = std::function<int64_t(const std::string& text)>;

struct TutoringOptions {
    int64_t max_messages = 15;            // the dialogue ends after a tutor message once this many exist
    int64_t max_tokens_per_turn = 1024;   // a tutor message this long (−1) costs length_penalty
    int64_t max_dialogue_tokens = 8192;   // the dialogue ends once it is this long
    int64_t solve_attempts = 8;           // k: the student's solo attempts after the dialogue
    double penalty = 1.0;                 // λ
    std::string on_judge_reject = "end";  // end (hard) | continue (soft)
    std::string leak_judge = "rule";      // rule | model | rule_and_model | none
    int64_t judge_attempts = 2;           // model judge samples; any REJECT rejects
    int64_t judge_parse_retries = 5;      // unparsable judge outputs are retried, then count as OK
    double eoc_bonus = 0.1;
    double length_penalty = 0.5;
    double think_weight = 0.5;            // −w per tutor message with unbalanced <think> tags, +w × share with tags
    std::string start = "hash";           // guided | attempted | hash (stable hash of the task id picks one)
    std::string end_marker = "<end_of_conversation>";
    std::string tutor_prompt =
        "You are a math tutor. Help the student solve the problem below by guiding them to full understanding. "
        "Never reveal the final answer or solve key steps for them. Keep replies short. When the student "
        "understands, end with <end_of_conversation>.\n\nProblem: {problem}";
    std::string student_prompt =
        "You are a student working on the problem below with a tutor. You may or may not know how to solve it. "
        "Collaborate with the tutor; a test follows the conversation.\n\nProblem: {problem}";
    std::string attempt_prompt = "Here is my attempt at this problem: {attempt}";
    std::string solve_prompt =
        "Now solve the problem on your own. Write a complete step-by-step solution and put the final answer "
        "in \\boxed{}.";
    std::string judge_prompt =
        "Does the tutor in the dialogue below reveal the final answer or solve key steps without involving the "
        "student? Answer with JSON {\"reasoning\": \"...\", \"decision\": \"OK\" or \"REJECT\"}.\n\n"
        "Problem: {problem}\nAnswer: {answer}\n\nDialogue:\n{dialogue}";
};

const config::Section<TutoringOptions>& tutoring_section();

// The callbacks a tutoring environment calls. `student` is required; `judge` only for a model judge.
struct TutoringModels {
    GenerateFn student;
    GenerateFn judge;
    TokenCountFn count_tokens;
};

// What happened in a finished episode (for metrics).
struct TutoringOutcome {
    double solve_rate = 0.0;
    int64_t attempts = 0;
    bool leaked_rule = false;       // the rule judge found the answer in a tutor message
    bool rejected = false;          // any judge rejected the dialogue
    int64_t judge_parse_failures = 0;
    bool used_end_marker = false;
    bool over_length = false;
    int64_t tutor_turns = 0;
    double reward = 0.0;
};

// Whether `text` contains `answer` or something equivalent (numbers, fractions, \boxed{}, expressions).
bool reveals_answer(const std::string& text, const std::string& answer);

// Removes <think>...</think> blocks (what the student and the judge see of a tutor message).
std::string strip_think(const std::string& text);

class TutoringEnvironment : public Environment {
public:
    TutoringEnvironment(const TutoringOptions& options, TutoringModels models);
    // Returns the tutor's first observation: the tutor prompt with the problem, plus the student's attempt
    // when the conversation starts "attempted".
    std::string reset(const Task& task) override;
    StepResult step(const std::string& tutor_message) override;
    std::vector<Span> transcript() const override;
    const TutoringOutcome& outcome() const { return outcome_; }

private:
    Conversation student_view() const;
    StepResult finish();
    bool judge_rejects();

    TutoringOptions options_;
    TutoringModels models_;
    MathVerifier verifier_;
    Task task_;
    std::string tutor_intro_;
    Conversation dialogue_;  // roles: "tutor" / "student"
    int64_t dialogue_tokens_ = 0;
    bool started_ = false, done_ = false;
    TutoringOutcome outcome_;
};

}  // namespace anvil::env
