// Unit tests for core/config_schema.h over hand-built value trees: every bad-input class (unknown key with a
// suggestion, wrong type, out of range, not a choice, missing required, cross-field check) and rendering.
#include <gtest/gtest.h>

#include "core/config_schema.h"

namespace anvil::config {
namespace {

struct Options {
    std::string name = "demo";
    int64_t steps = 10;
    double lr = 1e-5;
    bool shuffle = true;
    std::string schedule = "cosine";
    std::vector<std::string> tags;
    std::string data;
};

const Section<Options>& options_section() {
    static const Section<Options> s = [] {
        Section<Options> s("demo", "A demo section.");
        s.field("name", &Options::name, "Run name.");
        s.field("steps", &Options::steps, "Optimizer steps.").min(1);
        s.field("lr", &Options::lr, "Learning rate.").min(0).max(1);
        s.field("shuffle", &Options::shuffle, "Shuffle each epoch.");
        s.field("schedule", &Options::schedule, "LR schedule.").choices({"constant", "linear", "cosine"});
        s.field("tags", &Options::tags, "Free-form tags.");
        s.field("data", &Options::data, "Training data JSONL.").required();
        s.check([](const Options& o, const Reporter& report) {
            if (o.schedule == "constant" && o.steps > 1000) report("schedule", "constant is only for short runs");
        });
        return s;
    }();
    return s;
}

Value at(int line, auto v) { return Value{v, SourcePos{"x.toml", line, 3}}; }

std::vector<std::string> read(Table t, Options& out) {
    Diagnostics diag;
    options_section().read(t, SourcePos{"x.toml", 1, 1}, "demo", out, diag);
    return diag.messages();
}

}  // namespace

TEST(ConfigSchema, ReadsValuesAndKeepsDefaults) {
    Options o;
    auto errors = read({{"data", at(2, std::string("d.jsonl"))},
                        {"lr", at(3, int64_t{0})},
                        {"tags", at(4, Array{at(4, std::string("a")), at(4, std::string("b"))})}},
                       o);
    ASSERT_TRUE(errors.empty()) << errors[0];
    EXPECT_EQ(o.data, "d.jsonl");
    EXPECT_EQ(o.lr, 0.0);  // an integer is accepted where a float is expected
    EXPECT_EQ(o.steps, 10);
    EXPECT_EQ(o.tags, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigSchema, UnknownKeyNamesPositionPathAndSuggestion) {
    Options o;
    auto errors = read({{"data", at(2, std::string("d"))}, {"stesp", at(7, int64_t{3})}}, o);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "x.toml:7:3: unknown key 'demo.stesp' (did you mean 'demo.steps'?)");
}

TEST(ConfigSchema, WrongTypeNamesExpectedType) {
    Options o;
    auto errors = read({{"data", at(2, std::string("d"))}, {"steps", at(5, std::string("ten"))}}, o);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "x.toml:5:3: demo.steps: expected integer, got string");
}

TEST(ConfigSchema, OutOfRangeAndChoices) {
    Options o;
    auto errors = read({{"data", at(2, std::string("d"))},
                        {"steps", at(3, int64_t{0})},
                        {"lr", at(4, 2.5)},
                        {"schedule", at(5, std::string("cosin"))}},
                       o);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0], "x.toml:3:3: demo.steps: must be >= 1, got 0");
    EXPECT_EQ(errors[1], "x.toml:4:3: demo.lr: must be <= 1, got 2.5");
    EXPECT_EQ(errors[2], "x.toml:5:3: demo.schedule: 'cosin' is not one of [\"constant\", \"linear\", \"cosine\"]");
}

TEST(ConfigSchema, MissingRequiredKey) {
    Options o;
    auto errors = read({}, o);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "x.toml:1:1: missing required key 'demo.data' (Training data JSONL.)");
}

TEST(ConfigSchema, CrossFieldCheckPointsAtTheKey) {
    Options o;
    auto errors = read({{"data", at(2, std::string("d"))},
                        {"steps", at(3, int64_t{5000})},
                        {"schedule", at(9, std::string("constant"))}},
                       o);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "x.toml:9:3: demo.schedule: constant is only for short runs");
}

TEST(ConfigSchema, DiagnosticsThrowUsageErrorListingAll) {
    Diagnostics diag;
    diag.error(SourcePos{"a.toml", 1, 2}, "first");
    diag.error(SourcePos{}, "second");
    try {
        diag.throw_if_any();
        FAIL();
    } catch (const UsageError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("2 problems"), std::string::npos);
        EXPECT_NE(msg.find("a.toml:1:2: first"), std::string::npos);
        EXPECT_NE(msg.find("--set: second"), std::string::npos);
    }
}

TEST(ConfigSchema, RendersTomlAndDescribesFields) {
    Options o;
    o.data = "d.jsonl";
    o.tags = {"x"};
    std::string toml = options_section().render(o);
    EXPECT_NE(toml.find("# Learning rate.\nlr = 1e-05\n"), std::string::npos) << toml;
    EXPECT_NE(toml.find("tags = [\"x\"]\n"), std::string::npos);
    auto info = options_section().describe();
    ASSERT_EQ(info.size(), 7u);
    EXPECT_EQ(info[1].default_toml, "10");
    EXPECT_EQ(info[1].doc, "Optimizer steps. At least 1.");
    EXPECT_TRUE(info[6].required);
    EXPECT_NE(markdown_table(info).find("| `data` | string | *required* |"), std::string::npos);
}

TEST(ConfigSchema, TomlRendering) {
    EXPECT_EQ(to_toml(1.0), "1.0");
    EXPECT_EQ(to_toml(0.1), "0.1");
    EXPECT_EQ(to_toml(std::string("a\"b\n")), "\"a\\\"b\\n\"");
    EXPECT_EQ(to_toml(std::vector<int64_t>{1, 2}), "[1, 2]");
}

}  // namespace anvil::config
