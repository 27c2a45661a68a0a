// Unit tests for trainer/experiment.h with two test-only stage kinds: every bad-input class of a whole
// config file (unknown section, unknown key with suggestion, wrong type, out of range, missing kind,
// unknown kind, duplicate stage names) is reported with file:line:col and the key path.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "trainer/experiment.h"

namespace anvil {
namespace {

struct AlphaOptions {
    int64_t steps = 5;
    double lr = 0.1;
    std::string data;
    static const config::Section<AlphaOptions>& section() {
        static const config::Section<AlphaOptions> s = [] {
            config::Section<AlphaOptions> s("alpha", "Alpha stage.");
            s.field("steps", &AlphaOptions::steps, "Steps.").min(1);
            s.field("learning_rate", &AlphaOptions::lr, "Learning rate.");
            s.field("data", &AlphaOptions::data, "Data file.").required();
            return s;
        }();
        return s;
    }
};

struct BetaOptions {
    bool flag = false;
    static const config::Section<BetaOptions>& section() {
        static const config::Section<BetaOptions> s = [] {
            config::Section<BetaOptions> s("beta", "Beta stage.");
            s.field("flag", &BetaOptions::flag, "A flag.");
            return s;
        }();
        return s;
    }
};

void run_alpha(const AlphaOptions&, RunContext&) {}
void run_beta(const BetaOptions&, RunContext&) {}

std::vector<StageKind> kinds() {
    return {stage_kind<AlphaOptions>("alpha", "Alpha.", run_alpha), stage_kind<BetaOptions>("beta", "Beta.", run_beta)};
}

std::filesystem::path write_config(const std::string& text) {
    auto p = std::filesystem::temp_directory_path() / ("anvil_exp_" + std::to_string(::getpid()) + ".toml");
    write_file_atomic(p, text);
    return p;
}

std::string load_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
    auto p = write_config(text);
    try {
        load_experiment(p, overrides, kinds());
    } catch (const UsageError& e) {
        std::string msg = e.what();
        // Report paths relative to the file so expectations stay short.
        for (size_t pos; (pos = msg.find(p.string())) != std::string::npos;) msg.replace(pos, p.string().size(), "F");
        return msg;
    }
    return "";
}

}  // namespace

TEST(Experiment, LoadsStagesWithDefaultsAndOverrides) {
    auto p = write_config("[run]\nseed = 5\n[[stage]]\nkind = \"alpha\"\ndata = \"d.jsonl\"\n[[stage]]\nkind = \"beta\"\n");
    Experiment exp = load_experiment(p, {"stage.alpha.steps=9"}, kinds());
    EXPECT_EQ(exp.run.seed, 5);
    EXPECT_EQ(exp.run.name, p.stem().string());
    ASSERT_EQ(exp.stages.size(), 2u);
    const auto& alpha = static_cast<const TypedStageConfig<AlphaOptions>&>(*exp.stages[0]).options;
    EXPECT_EQ(alpha.steps, 9);
    EXPECT_EQ(alpha.data, "d.jsonl");
    EXPECT_EQ(exp.stages[1]->name, "beta");
    std::string resolved = render_experiment(exp);
    EXPECT_NE(resolved.find("[[stage]]\nkind = \"alpha\"\nname = \"alpha\"\n# Steps.\nsteps = 9\n"), std::string::npos);
    EXPECT_NE(resolved.find("progress = \"auto\""), std::string::npos);
}

TEST(Experiment, MisspeltKeyInStageSuggestsTheRightOne) {
    EXPECT_EQ(load_error("[[stage]]\nkind = \"alpha\"\ndata = \"d\"\nlearning_rte = 0.1\n"),
              "F:4:16: unknown key 'stage[0] (alpha).learning_rte' (did you mean 'stage[0] (alpha).learning_rate'?)");
}

TEST(Experiment, MisspeltKeyInRunSection) {
    EXPECT_EQ(load_error("[run]\nsed = 1\n[[stage]]\nkind = \"beta\"\n"),
              "F:2:7: unknown key 'run.sed' (did you mean 'run.seed'?)");
}

TEST(Experiment, WrongTypeNamesTheExpectedType) {
    EXPECT_EQ(load_error("[[stage]]\nkind = \"alpha\"\ndata = \"d\"\nsteps = \"many\"\n"),
              "F:4:9: stage[0] (alpha).steps: expected integer, got string");
    EXPECT_EQ(load_error("[run]\nresume = 1\n[[stage]]\nkind = \"beta\"\n"), "F:2:10: run.resume: expected boolean, got integer");
}

TEST(Experiment, OutOfRangeAndChoices) {
    EXPECT_EQ(load_error("[[stage]]\nkind = \"alpha\"\ndata = \"d\"\nsteps = 0\n"),
              "F:4:9: stage[0] (alpha).steps: must be >= 1, got 0");
    EXPECT_EQ(load_error("[logging]\nlevel = \"loud\"\n[[stage]]\nkind = \"beta\"\n"),
              "F:2:9: logging.level: 'loud' is not one of [\"debug\", \"info\", \"warn\", \"error\"]");
}

TEST(Experiment, MissingRequiredKeyAndKind) {
    EXPECT_EQ(load_error("[[stage]]\nkind = \"alpha\"\n"),
              "F:1:1: missing required key 'stage[0] (alpha).data' (Data file.)");
    EXPECT_NE(load_error("[[stage]]\nflag = true\n").find("stage[0].kind: missing required key"), std::string::npos);
    EXPECT_NE(load_error("[run]\nseed = 1\n").find("no [[stage]] tables"), std::string::npos);
}

TEST(Experiment, UnknownKindAndSectionSuggest) {
    std::string e = load_error("[[stage]]\nkind = \"alpah\"\n");
    EXPECT_NE(e.find("F:2:8: stage[0].kind: unknown stage kind 'alpah' (did you mean 'alpha'?)"), std::string::npos) << e;
    e = load_error("[logginng]\nlevel = \"info\"\n[[stage]]\nkind = \"beta\"\n");
    EXPECT_NE(e.find("unknown section 'logginng' (did you mean 'logging'?)"), std::string::npos) << e;
}

TEST(Experiment, DuplicateStageNamesAreRejected) {
    std::string e = load_error("[[stage]]\nkind = \"beta\"\n[[stage]]\nkind = \"beta\"\n");
    EXPECT_NE(e.find("another stage is already named 'beta'"), std::string::npos) << e;
}

TEST(Experiment, AllProblemsAreReportedTogether) {
    std::string e = load_error("[run]\nseed = -1\n[[stage]]\nkind = \"alpha\"\nsteps = 0\n");
    EXPECT_NE(e.find("3 problems"), std::string::npos) << e;
}

TEST(Experiment, OverrideErrorsPointAtSet) {
    EXPECT_EQ(load_error("[[stage]]\nkind = \"beta\"\n", {"stage.beta.flag=3"}),
              "--set: stage[0] (beta).flag: expected boolean, got integer");
}

TEST(Experiment, ReferenceListsEveryKindAndKey) {
    std::string md = reference_markdown(kinds());
    EXPECT_NE(md.find("## [run]"), std::string::npos);
    EXPECT_NE(md.find("### kind = \"beta\""), std::string::npos);
    EXPECT_NE(md.find("| `data` | string | *required* | Data file. |"), std::string::npos);
    EXPECT_NE(md.find("| `steps` | integer | `5` | Steps. At least 1. |"), std::string::npos);
}

}  // namespace anvil
