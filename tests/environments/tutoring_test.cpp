// Unit tests for the tutoring environment with a scripted student and a scripted tutor: full episodes,
// the rule leak judge and the model judge, soft and hard modes, limits, transcript spans, and loading
// MathDial / MathTutorBench problems.
#include <gtest/gtest.h>

#include "core/error.h"
#include "environments/task.h"
#include "environments/tutoring.h"

namespace anvil::env {

namespace {

Task spoons() {
    Task t;
    t.id = "mathdial/6000025";
    t.prompt = "Julia bought a package of spoons, her husband 5 more; she used 3 and had 12. How many were in hers?";
    t.answer = "10";
    return t;
}

// A scripted student: chats politely; in solo attempts it answers correctly in `correct_of_8` of every 8.
struct ScriptedStudent {
    int correct_of_8 = 6;
    int attempts = 0, chats = 0;
    std::vector<Conversation> seen;
    std::string operator()(const Conversation& c) {
        seen.push_back(c);
        if (c.back().role == "user" && c.back().content.find("\\boxed{}") != std::string::npos) {
            return (attempts++ % 8) < correct_of_8 ? "So 12 + 3 - 5 = 10, the answer is \\boxed{10}."
                                                   : "I think it is \\boxed{4}.";
        }
        ++chats;
        return "Hmm, I subtracted 3 from 12. Should I add it instead?";
    }
};

TutoringOptions options() {
    TutoringOptions o;
    o.start = "guided";
    o.solve_attempts = 8;
    o.penalty = 1.0;
    return o;
}

}  // namespace

TEST(Tutoring, RevealsAnswerRule) {
    EXPECT_TRUE(reveals_answer("So the package had 10 spoons.", "10"));
    EXPECT_TRUE(reveals_answer("The answer is \\boxed{10}", "10"));
    EXPECT_TRUE(reveals_answer("That is 0.5 of the cake", "\\frac{1}{2}"));
    EXPECT_TRUE(reveals_answer("it is $\\frac{2}{4}$", "0.5"));
    EXPECT_TRUE(reveals_answer("we get 1,200 dollars", "1200"));
    EXPECT_TRUE(reveals_answer("Try x+1 here", "x + 1"));
    EXPECT_FALSE(reveals_answer("What happens if you add the 3 spoons back to the 12?", "10"));
    EXPECT_FALSE(reveals_answer("No numbers at all.", "10"));
    EXPECT_EQ(strip_think("<think>the answer is 10</think> What did you do first?"), "What did you do first?");
}

TEST(Tutoring, FullEpisodeWithoutLeakScoresTheSolveRate) {
    auto student = std::make_shared<ScriptedStudent>();
    TutoringEnvironment env(options(), {[student](const Conversation& c) { return (*student)(c); }, {}, {}});
    std::string first = env.reset(spoons());
    EXPECT_NE(first.find("Julia bought"), std::string::npos);
    auto r = env.step("<think>They subtracted instead of adding.</think>Walk me through your first step.");
    EXPECT_FALSE(r.done);
    EXPECT_NE(r.observation.find("subtracted"), std::string::npos);
    // The student never sees the tutor's hidden thinking.
    for (const auto& m : student->seen.back()) EXPECT_EQ(m.content.find("<think>"), std::string::npos);
    r = env.step("Good question. What happens to the spoons she used: are they still part of the total?");
    EXPECT_FALSE(r.done);
    r = env.step("Great, you've got it. <end_of_conversation>");
    ASSERT_TRUE(r.done);
    const auto& out = env.outcome();
    EXPECT_FALSE(out.rejected);
    EXPECT_EQ(out.attempts, 8);
    EXPECT_DOUBLE_EQ(out.solve_rate, 0.75);
    // r_sol + eoc bonus + think term (1 of 3 tutor messages used <think>, all balanced).
    EXPECT_NEAR(r.reward, 0.75 + 0.1 + 0.5 * (1.0 / 3.0), 1e-12);
    EXPECT_NE(r.feedback.find("6 of 8"), std::string::npos) << r.feedback;
    // Transcript: the intro, then tutor (trainable) and student (not) turns.
    auto spans = env.transcript();
    ASSERT_EQ(spans.size(), 6u);
    EXPECT_FALSE(spans[0].trainable);
    EXPECT_TRUE(spans[1].trainable);
    EXPECT_EQ(spans[1].role, "assistant");
    EXPECT_FALSE(spans[2].trainable);
    EXPECT_EQ(spans[2].role, "user");
    EXPECT_TRUE(spans[5].trainable);
    EXPECT_THROW(env.step("more"), Error);
}

TEST(Tutoring, LeakIsPenalisedHardAndSoft) {
    auto student = std::make_shared<ScriptedStudent>();
    GenerateFn fn = [student](const Conversation& c) { return (*student)(c); };
    TutoringEnvironment hard(options(), {fn, {}, {}});
    hard.reset(spoons());
    hard.step("Just add them: 12 + 3 - 5 = 10. <end_of_conversation>");
    EXPECT_TRUE(hard.outcome().leaked_rule);
    EXPECT_EQ(hard.outcome().attempts, 0) << "hard mode samples no attempts";
    EXPECT_DOUBLE_EQ(hard.outcome().reward, -1.0);
    EXPECT_EQ(student->attempts, 0);

    TutoringOptions soft_options = options();
    soft_options.on_judge_reject = "continue";
    soft_options.penalty = 0.25;
    TutoringEnvironment soft(soft_options, {fn, {}, {}});
    soft.reset(spoons());
    auto r = soft.step("Just add them: 12 + 3 - 5 = 10. <end_of_conversation>");
    EXPECT_TRUE(soft.outcome().rejected);
    EXPECT_EQ(soft.outcome().attempts, 8);
    EXPECT_NEAR(r.reward, 0.75 - 0.25 + 0.1, 1e-12);

    TutoringOptions no_judge = options();
    no_judge.leak_judge = "none";
    TutoringEnvironment free(no_judge, {fn, {}, {}});
    free.reset(spoons());
    r = free.step("Just add them: 12 + 3 - 5 = 10. <end_of_conversation>");
    EXPECT_FALSE(free.outcome().rejected);
    EXPECT_NEAR(r.reward, 0.75 + 0.1, 1e-12);
}

TEST(Tutoring, ModelJudgeRetriesUnparsableOutputs) {
    auto student = std::make_shared<ScriptedStudent>();
    int calls = 0;
    TutoringOptions o = options();
    o.leak_judge = "model";
    GenerateFn judge = [&calls](const Conversation& c) -> std::string {
        EXPECT_NE(c[0].content.find("Answer: 10"), std::string::npos);
        return ++calls == 1 ? "I cannot decide" : R"({"reasoning": "gave it away", "decision": "REJECT"})";
    };
    TutoringEnvironment env(o, {[student](const Conversation& c) { return (*student)(c); }, judge, {}});
    env.reset(spoons());
    env.step("Think about it. <end_of_conversation>");
    EXPECT_TRUE(env.outcome().rejected);
    EXPECT_EQ(env.outcome().judge_parse_failures, 1);
    EXPECT_EQ(calls, 3);  // attempt 1: one failure + REJECT; attempt 2: REJECT
    EXPECT_THROW(TutoringEnvironment(o, {[student](const Conversation& c) { return (*student)(c); }, {}, {}}),
                 UsageError);
}

TEST(Tutoring, TurnAndTokenLimitsAndAttemptedStart) {
    auto student = std::make_shared<ScriptedStudent>();
    GenerateFn fn = [student](const Conversation& c) { return (*student)(c); };
    TutoringOptions o = options();
    o.max_messages = 4;
    o.start = "attempted";
    TutoringEnvironment env(o, {fn, {}, {}});
    std::string first = env.reset(spoons());
    EXPECT_NE(first.find("Here is my attempt at this problem: "), std::string::npos) << first;
    auto r = env.step("Which numbers did you use?");  // messages: attempt, tutor, student
    EXPECT_FALSE(r.done);
    r = env.step("Check the spoons she used.");  // 4 messages: ends
    EXPECT_TRUE(r.done);
    EXPECT_FALSE(env.outcome().used_end_marker);
    EXPECT_NEAR(r.reward, 0.75, 1e-12);

    TutoringOptions tokens = options();
    tokens.max_tokens_per_turn = 5;
    TutoringEnvironment longwinded(tokens, {fn, {}, [](const std::string& s) { return static_cast<int64_t>(s.size()); }});
    longwinded.reset(spoons());
    r = longwinded.step("A long message. <end_of_conversation>");
    EXPECT_TRUE(longwinded.outcome().over_length);
    EXPECT_NEAR(r.reward, 0.75 + 0.1 - 0.5, 1e-12);
}

TEST(Tutoring, LoadsMathDialAndMathTutorBenchProblems) {
    TaskSourceOptions o;
    o.path = std::string(ANVIL_SOURCE_DIR) + "/tests/data/mathdial_test_head.jsonl.gz";
    o.format = "mathdial";
    auto dial = load_tasks(o);
    ASSERT_EQ(dial.size(), 20u);
    EXPECT_EQ(dial[0].id, "mathdial/6000025");
    EXPECT_EQ(dial[0].answer, "10");
    o.path = std::string(ANVIL_SOURCE_DIR) + "/tests/data/mathdial_bridge_head.json.gz";
    o.format = "mathtutorbench";
    auto bench = load_tasks(o);
    ASSERT_FALSE(bench.empty());
    EXPECT_EQ(bench[0].answer, "10");
    EXPECT_NE(bench[0].prompt.find("Ignatius"), std::string::npos);
}

}  // namespace anvil::env
