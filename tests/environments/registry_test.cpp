// Unit tests for selecting environments by name from a config table: built-ins, composed format rewards,
// errors naming keys, and a user-registered environment.
#include <gtest/gtest.h>

#include "core/error.h"
#include "environments/registry.h"

namespace anvil::env {

namespace {

config::Value val(config::Value v, int line) {
    v.pos = {"exp.toml", line, 1};
    return v;
}
config::Value text(const std::string& s, int line) { return val({std::string(s), {}}, line); }
config::Value number(double x, int line) { return val({x, {}}, line); }

EnvironmentSpec read(const config::Table& table, config::Diagnostics& diag) {
    return read_environment_spec(table, {"exp.toml", 10, 1}, "stage[0].environment", diag);
}

}  // namespace

TEST(Registry, MathWithFormatRewardFromATable) {
    config::Diagnostics diag;
    config::Value sources = val({config::Array{text("boxed", 4)}, {}}, 4);
    auto spec = read({{"name", text("math", 2)},
                      {"format_pattern", text("</think>", 3)},
                      {"format_weight", number(0.5, 3)},
                      {"answer_sources", sources}},
                     diag);
    ASSERT_TRUE(diag.empty()) << diag.messages()[0];
    auto factory = make_environment(spec);
    Task t;
    t.prompt = "1+1?";
    t.answer = "2";
    auto r = factory->reward()(t, "thinking</think> \\boxed{2}");
    EXPECT_DOUBLE_EQ(r.score, 1.5);
    ASSERT_EQ(r.parts.size(), 2u);
    EXPECT_EQ(r.parts[1].first, "format");
    r = factory->reward()(t, "The answer is 2");
    EXPECT_DOUBLE_EQ(r.score, 0.0);
    EXPECT_NE(r.feedback.find("\\boxed{}"), std::string::npos);
    EXPECT_NE(r.feedback.find("format"), std::string::npos);
    auto env = factory->make();
    EXPECT_EQ(env->reset(t), "1+1?");
    auto step = env->step("\\boxed{2}");
    EXPECT_TRUE(step.done);
    EXPECT_DOUBLE_EQ(step.reward, 1.0);
}

TEST(Registry, FormatRewardSurvivesLongCompletionsAndRejectsBadPatterns) {
    auto fmt = format_reward("^(a|b)*c$", "end with c");
    std::string long_text(300'000, 'a');  // std::regex overflows the stack on this
    EXPECT_EQ(fmt(Task{}, long_text).score, 0.0);
    EXPECT_EQ(fmt(Task{}, long_text + "c").score, 1.0);
    EXPECT_EQ(fmt(Task{}, "ab").feedback, "end with c");
    EXPECT_THROW(format_reward("(unclosed", ""), UsageError);
}

TEST(Registry, ErrorsNameTheKey) {
    config::Diagnostics diag;
    read({{"name", text("maht", 2)}}, diag);
    ASSERT_EQ(diag.messages().size(), 1u);
    EXPECT_NE(diag.messages()[0].find("exp.toml:2:1"), std::string::npos) << diag.messages()[0];
    EXPECT_NE(diag.messages()[0].find("did you mean 'math'"), std::string::npos) << diag.messages()[0];

    config::Diagnostics diag2;
    read({{"name", text("code", 2)}, {"workers", number(2.0, 5)}, {"memroy_mb", number(1.0, 6)}}, diag2);
    std::string all;
    for (const auto& m : diag2.messages()) all += m + "\n";
    EXPECT_NE(all.find("stage[0].environment.workers: expected integer"), std::string::npos) << all;
    EXPECT_NE(all.find("unknown key 'stage[0].environment.memroy_mb'"), std::string::npos) << all;

    EnvironmentSpec tutoring;
    tutoring.common.name = "tutoring";
    EXPECT_THROW(make_environment(tutoring), UsageError) << "no student bound";
}

TEST(Registry, UserRegisteredEnvironment) {
    register_environment("length", [](const EnvironmentSpec& spec, const EnvironmentContext&) {
        const config::Value* target = config::find(spec.raw, "target");
        double want = target ? std::get<double>(target->data) : 10.0;
        class Factory : public EnvironmentFactory {
        public:
            explicit Factory(double want)
                : fn_([want](const Task&, const std::string& c) {
                      return RewardResult{c.size() == want ? 1.0 : 0.0, "", {}};
                  }) {}
            std::unique_ptr<Environment> make() override { return std::make_unique<SingleTurnEnvironment>(fn_); }
            RewardFn reward() override { return fn_; }

        private:
            RewardFn fn_;
        };
        return std::unique_ptr<EnvironmentFactory>(std::make_unique<Factory>(want));
    });
    auto names = environment_names();
    EXPECT_NE(std::find(names.begin(), names.end(), "length"), names.end());
    config::Diagnostics diag;
    auto spec = read({{"name", text("length", 2)}, {"target", number(3.0, 3)}}, diag);
    ASSERT_TRUE(diag.empty());
    EXPECT_DOUBLE_EQ(make_environment(spec)->reward()(Task{}, "abc").score, 1.0);
}

}  // namespace anvil::env
