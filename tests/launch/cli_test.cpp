// Integration tests of the `anvil` executable as a user meets it: exit codes (0 / 2 usage-or-config /
// 1 runtime), one-line errors naming file:line:col and key with suggestions, every shipped config passing
// `anvil config check`, configs/REFERENCE.md being current, and a real run producing its run directory.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/files.h"
#include "tests/support/process.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

using Result = testing_support::CommandResult;

Result anvil(const std::string& args) {
    return testing_support::run_command(std::string(ANVIL_BINARY_DIR) + "/bin/anvil " + args);
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_cli_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    std::string config(const std::string& text) {
        write_file_atomic(dir / "c.toml", text);
        return (dir / "c.toml").string();
    }
    fs::path dir;
};

}  // namespace

TEST_F(Cli, HelpAndVersion) {
    Result r = anvil("--help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.output.find("config check"), std::string::npos);
    EXPECT_EQ(anvil("").code, 2);
    r = anvil("run --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.output.find("--set KEY=VALUE"), std::string::npos);
    r = anvil("version");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.output.find("LibTorch 2.11"), std::string::npos);
}

TEST_F(Cli, UsageErrorsExitTwoWithSuggestions) {
    Result r = anvil("cofig check x.toml");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("unknown command 'cofig'"), std::string::npos) << r.output;
    r = anvil("run");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("expected CONFIG"), std::string::npos) << r.output;
    r = anvil("run x.toml --sett a=b");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("unknown flag --sett (did you mean --set?)"), std::string::npos) << r.output;
    r = anvil("run /nonexistent/x.toml");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find("/nonexistent/x.toml: no such config file"), std::string::npos) << r.output;
}

TEST_F(Cli, MisspeltKeyExitsTwoWithPositionPathAndSuggestion) {
    std::string c = config("[run]\nseed = 1\n\n[[stage]]\nkind = \"arithmetic_tasks\"\ntrain_cout = 10\n");
    Result r = anvil("config check " + c);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find(c + ":6:14: unknown key 'stage[0] (arithmetic_tasks).train_cout' (did you mean "
                                "'stage[0] (arithmetic_tasks).train_count'?)"),
              std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos);
}

TEST_F(Cli, WrongTypeNamesExpectedType) {
    std::string c = config("[run]\nseed = \"one\"\n[[stage]]\nkind = \"arithmetic_tasks\"\n");
    Result r = anvil("config check " + c);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.output.find(c + ":2:8: run.seed: expected integer, got string"), std::string::npos) << r.output;
}

TEST_F(Cli, EveryShippedConfigChecks) {
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(ANVIL_SOURCE_DIR) / "configs")) {
        if (entry.path().extension() != ".toml") continue;
        Result r = anvil("config check " + entry.path().string());
        EXPECT_EQ(r.code, 0) << entry.path() << "\n" << r.output;
        EXPECT_NE(r.output.find("OK"), std::string::npos);
        // Each config documents how to run it in its opening comment.
        EXPECT_EQ(read_file(entry.path()).rfind("#", 0), 0u) << entry.path() << " must start with a comment";
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST_F(Cli, ReferenceDocumentIsCurrent) {
    Result r = anvil("config reference --out " + (dir / "REFERENCE.md").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(read_file(dir / "REFERENCE.md"), read_file(fs::path(ANVIL_SOURCE_DIR) / "configs" / "REFERENCE.md"))
        << "configs/REFERENCE.md is stale: run `build/bin/anvil config reference --out configs/REFERENCE.md`";
}

TEST_F(Cli, RunProducesRunDirectoryAndRuntimeErrorsExitOne) {
    std::string c = config("[[stage]]\nkind = \"arithmetic_tasks\"\ntrain_count = 20\ntest_count = 5\n");
    std::string out = "--set run.output_dir=" + (dir / "runs").string();
    Result r = anvil("run " + c + " " + out);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_TRUE(fs::exists(dir / "runs" / "c" / "arithmetic_tasks" / "train.jsonl"));
    EXPECT_TRUE(fs::exists(dir / "runs" / "c" / "config.toml"));
    // A run directory whose state file is corrupt is a runtime failure with a message, not a crash.
    write_file_atomic(dir / "runs" / "c" / "stages.json", "{not json");
    r = anvil("run " + c + " " + out);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find("stages.json: unreadable run state"), std::string::npos) << r.output;
}

}  // namespace anvil
