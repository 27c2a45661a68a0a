// Unit tests for trainer/config_toml.h: TOML syntax errors with positions, value conversion, --set overrides.
#include <gtest/gtest.h>

#include "core/error.h"
#include "trainer/config_toml.h"

namespace anvil::config {

TEST(ConfigToml, ConvertsValuesWithPositions) {
    Value root = parse_toml_text("[run]\nname = \"x\"\nseed = 7\nlr = 0.5\nflag = true\nlist = [1, 2]\n", "t.toml");
    const Table& run = *find(*root.table(), "run")->table();
    EXPECT_EQ(std::get<std::string>(find(run, "name")->data), "x");
    EXPECT_EQ(std::get<int64_t>(find(run, "seed")->data), 7);
    EXPECT_EQ(std::get<double>(find(run, "lr")->data), 0.5);
    EXPECT_EQ(std::get<bool>(find(run, "flag")->data), true);
    EXPECT_EQ(std::get<Array>(find(run, "list")->data).size(), 2u);
    EXPECT_EQ(find(run, "seed")->pos.describe(), "t.toml:3:8");
}

TEST(ConfigToml, SyntaxErrorNamesFileLineColumn) {
    try {
        parse_toml_text("[run]\nname = \"x\nseed = 1\n", "bad.toml");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.toml:2:"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("TOML syntax error"), std::string::npos);
    }
}

TEST(ConfigToml, OverridesTypedValuesStringsAndStages) {
    Value root = parse_toml_text(
        "[run]\nseed = 1\n[[stage]]\nkind = \"a\"\n[[stage]]\nkind = \"b\"\nname = \"second\"\nlr = 1.0\n", "t.toml");
    apply_override(root, "run.seed=9");
    apply_override(root, "run.name=plain words");
    apply_override(root, "logging.level=\"debug\"");
    apply_override(root, "stage.second.lr=0.25");
    apply_override(root, "stage.0.extra=[1,2]");
    const Table& t = *root.table();
    const Table& run = *find(t, "run")->table();
    EXPECT_EQ(std::get<int64_t>(find(run, "seed")->data), 9);
    EXPECT_EQ(std::get<std::string>(find(run, "name")->data), "plain words");
    EXPECT_EQ(find(run, "seed")->pos.describe(), "--set");
    EXPECT_EQ(std::get<std::string>(find(*find(t, "logging")->table(), "level")->data), "debug");
    const auto& stages = std::get<Array>(find(t, "stage")->data);
    EXPECT_EQ(std::get<double>(find(*stages[1].table(), "lr")->data), 0.25);
    EXPECT_EQ(std::get<Array>(find(*stages[0].table(), "extra")->data).size(), 2u);
}

TEST(ConfigToml, BadOverridesAreUsageErrors) {
    Value root = parse_toml_text("[[stage]]\nkind = \"a\"\n", "t.toml");
    EXPECT_THROW(apply_override(root, "noequals"), UsageError);
    EXPECT_THROW(apply_override(root, "seed=1"), UsageError);
    EXPECT_THROW(apply_override(root, "stage.7.lr=1"), UsageError);
    EXPECT_THROW(apply_override(root, "stage.missing.lr=1"), UsageError);
}

}  // namespace anvil::config
