// Integration tests of the preference stages through the `anvil` binary on generated verifiable pairs: one
// setup run (tasks, tokenizer, tiny model, a little SFT, preference_pairs), then DPO and reward-model runs on its
// outputs. DPO starts at ln 2 (policy = reference); the cached and the frozen-model reference give the same
// training; every loss type runs; resume after kill -9 is bitwise exact for DPO and for the reward model; two
// ranks train DPO data-parallel; the reward model (single head and a 4-head ensemble) reports its held-out
// metrics and `anvil eval --reward-model` prints them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/text.h"
#include "tests/support/process.h"
#include "tests/support/tiny_experiment.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

const std::string kBin = std::string(ANVIL_BINARY_DIR) + "/bin/";

const std::string kSetup = std::string(R"(# data and a tiny SFT model for tests/algorithms/preference_test.cpp
[run]
seed = 3
)") + testing_support::tiny_experiment() + R"([[stage]]
kind = "sft"
completion_field = "solution"
max_steps = 20
micro_batch_size = 16
lr = 3e-3
[[stage]]
kind = "preference_pairs"
[[stage]]
kind = "preference_pairs"
name = "sampled_pairs"
rejected = "sample"
max_train_tasks = 60
samples = 2
max_new_tokens = 24
)";

std::string stage_config(const std::string& kind, const fs::path& setup, const std::string& extra) {
    return str("[run]\nseed = 3\n[logging]\ntensorboard = false\nprogress = \"off\"\n[[stage]]\nkind = \"", kind, "\"\n",
               "model = \"", (setup / "sft" / "model").string(), "\"\n", "data = \"",
               (setup / "preference_pairs" / "train_pairs.jsonl").string(), "\"\n", "eval_data = \"",
               (setup / "preference_pairs" / "test_pairs.jsonl").string(), "\"\n",
               "max_steps = 10\nmicro_batch_size = 8\nlr = 3e-3\ncheckpoint_every = 5\neval_every = 5\n", extra);
}

std::vector<nlohmann::json> metrics(const fs::path& run, const std::string& stage) {
    std::vector<nlohmann::json> out;
    for (const auto& line : split(trim(read_file(run / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] == stage) out.push_back(j);
    }
    return out;
}

class Preference : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir = fs::temp_directory_path() / ("anvil_pref_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        write_file_atomic(dir / "setup.toml", kSetup);
        auto r = testing_support::run_command(kBin + "anvil run " + (dir / "setup.toml").string() + " --set run.output_dir=" +
                                              (dir / "runs").string() + " --set run.name=setup");
        setup_ok = r.code == 0;
        setup_output = r.output;
    }
    static void TearDownTestSuite() { fs::remove_all(dir); }
    void SetUp() override { ASSERT_TRUE(setup_ok) << setup_output; }

    fs::path setup() const { return dir / "runs" / "setup"; }
    fs::path run_dir(const std::string& name) const { return dir / "runs" / name; }
    // Runs one stage of `kind` on the setup's model and pairs as run `name`; returns the exit code.
    int run(const std::string& kind, const std::string& name, const std::string& extra = "", const std::string& prefix = "",
            const std::string& launcher = "") {
        const fs::path config = dir / (name + ".toml");
        write_file_atomic(config, stage_config(kind, setup(), extra));
        auto r = testing_support::run_command(prefix + launcher + kBin + "anvil run " + config.string() + " --set run.output_dir=" +
                                              (dir / "runs").string() + " --set run.name=" + name);
        output = r.output;
        return r.code;
    }
    std::string file(const std::string& name, const std::string& path) { return read_file(run_dir(name) / path); }

    static inline fs::path dir;
    static inline bool setup_ok = false;
    static inline std::string setup_output;
    std::string output;
};

}  // namespace

TEST_F(Preference, PairsHaveAVerifiedChosenAndAWrongRejectedResponse) {
    for (const char* stage : {"preference_pairs", "sampled_pairs"}) {
        const auto lines = split(trim(read_file(setup() / stage / "train_pairs.jsonl")), '\n');
        ASSERT_GT(lines.size(), 20u) << stage;
        for (const auto& line : lines) {
            auto j = nlohmann::json::parse(line);
            EXPECT_NE(j["chosen"], j["rejected"]) << line;
            EXPECT_NE(j["chosen"].get<std::string>().find("\\boxed{" + j["answer"].get<std::string>() + "}"), std::string::npos) << line;
            if (std::string(stage) == "preference_pairs") {  // a perturbed solution never holds the right answer
                EXPECT_EQ(j["rejected"].get<std::string>().find("\\boxed{" + j["answer"].get<std::string>() + "}"), std::string::npos)
                    << line;
            }
        }
    }
    EXPECT_LE(split(trim(read_file(setup() / "sampled_pairs" / "train_pairs.jsonl")), '\n').size(), 60u);
}

TEST_F(Preference, DpoStartsAtLn2AndBothReferenceModesTrainAlike) {
    ASSERT_EQ(run("dpo", "frozen", "reference_mode = \"model\"\n"), 0) << output;
    ASSERT_EQ(run("dpo", "cached"), 0) << output;
    EXPECT_TRUE(fs::exists(run_dir("cached") / "dpo" / "reference_logps.safetensors"));
    auto frozen = metrics(run_dir("frozen"), "dpo"), cached = metrics(run_dir("cached"), "dpo");
    ASSERT_EQ(frozen.size(), 11u);  // the step-0 evaluation, then 10 steps
    ASSERT_EQ(cached.size(), 11u);
    // Step 0: policy = reference, h = 0, the sigmoid loss is ln 2 and every implicit reward is 0.
    EXPECT_NEAR(frozen[0]["eval_loss"].get<double>(), std::log(2.0), 1e-6);
    EXPECT_NEAR(frozen[1]["loss"].get<double>(), std::log(2.0), 1e-6);
    EXPECT_NEAR(frozen[1]["reward_margin"].get<double>(), 0.0, 1e-6);
    EXPECT_NEAR(cached[1]["loss"].get<double>(), std::log(2.0), 1e-5);
    for (size_t i = 1; i < frozen.size(); ++i)
        EXPECT_NEAR(frozen[i]["loss"].get<double>(), cached[i]["loss"].get<double>(), 2e-3) << "step " << i;
    EXPECT_NEAR(frozen.back()["eval_loss"].get<double>(), cached.back()["eval_loss"].get<double>(), 2e-3);
    // Training moves the policy away from the reference: the training pairs' margins grow.
    double early = 0, late = 0;
    for (size_t i = 1; i <= 3; ++i) early += cached[i]["reward_margin"].get<double>();
    for (size_t i = 8; i <= 10; ++i) late += cached[i]["reward_margin"].get<double>();
    EXPECT_GT(late, early);
}

TEST_F(Preference, EveryDpoLossTypeTrains) {
    for (const char* extra : {"loss_type = \"ipo\"\n", "loss_type = \"hinge\"\n",
                              "loss_type = \"robust\"\nlabel_smoothing = 0.1\n",
                              "loss_type = \"sigmoid\"\nlabel_smoothing = 0.1\nlength_normalize = true\n",
                              "reference_mode = \"none\"\n"}) {
        const std::string name = "loss" + std::to_string(std::hash<std::string>()(extra) % 100000);
        ASSERT_EQ(run("dpo", name, extra), 0) << extra << output;
        auto m = metrics(run_dir(name), "dpo");
        ASSERT_EQ(m.size(), 11u) << extra;
        EXPECT_TRUE(std::isfinite(m.back()["eval_loss"].get<double>())) << extra;
        EXPECT_NE(m.back()["eval_loss"].get<double>(), m.front()["eval_loss"].get<double>()) << extra;
    }
    EXPECT_EQ(run("dpo", "badloss", "loss_type = \"kto\"\n"), 2);
    EXPECT_NE(output.find("loss_type"), std::string::npos) << output;
}

TEST_F(Preference, DpoResumeAfterKillIsBitwiseExact) {
    ASSERT_EQ(run("dpo", "straight"), 0) << output;
    EXPECT_EQ(run("dpo", "killed", "", "ANVIL_FAULT_KILL_AFTER_STEP=5 "), 128 + 9) << output;
    EXPECT_EQ(trim(file("killed", "dpo/checkpoints/latest")), "step-5");
    ASSERT_EQ(run("dpo", "killed"), 0) << output;
    EXPECT_NE(output.find("resuming stage 'dpo'"), std::string::npos) << output;
    EXPECT_EQ(output.find("computing reference log-probs"), std::string::npos) << "the cached reference is reused\n" << output;
    EXPECT_TRUE(file("straight", "dpo/model/model.safetensors") == file("killed", "dpo/model/model.safetensors"))
        << "resumed parameters differ from the uninterrupted run";
}

TEST_F(Preference, DpoRunsOnTwoRanks) {
    const std::string launcher = kBin + "anvilrun --standalone --nproc-per-node 2 ";
    ASSERT_EQ(run("dpo", "two", "zero1 = true\n", "", launcher), 0) << output;
    auto m = metrics(run_dir("two"), "dpo");
    ASSERT_EQ(m.size(), 11u);
    EXPECT_NEAR(m[1]["loss"].get<double>(), std::log(2.0), 1e-5);
}

TEST_F(Preference, RewardModelsReportHeldOutMetricsAndResumeExactly) {
    ASSERT_EQ(run("reward_model", "single"), 0) << output;
    ASSERT_EQ(run("reward_model", "ensemble",
                  "heads = 4\nhead_layers = 2\nhead_hidden = 16\nfreeze_backbone = true\nanchor_weight = 0.1\n"
                  "anchor_decay = \"exponential\"\ncenter_coefficient = 0.01\n"),
              0)
        << output;
    for (const char* name : {"single", "ensemble"}) {
        auto m = metrics(run_dir(name), "reward_model");
        ASSERT_EQ(m.size(), 11u) << name;
        for (const char* key : {"eval_accuracy", "eval_ece", "eval_confident_true", "eval_confident_false", "eval_ranking_b1"})
            EXPECT_TRUE(m.back().contains(key)) << name << " " << key;
        EXPECT_TRUE(fs::exists(run_dir(name) / "reward_model" / "reward_model" / "reward_head.safetensors"));
    }
    // A single head has no spread: its intervals are points, so every correct ranking is a confident one.
    auto s = metrics(run_dir("single"), "reward_model");
    EXPECT_EQ(s.back()["eval_confident_true"].get<double>(), s.back()["eval_accuracy"].get<double>());
    auto e = metrics(run_dir("ensemble"), "reward_model");
    EXPECT_LT(e.back()["anchor_weight"].get<double>(), e[1]["anchor_weight"].get<double>());  // λ_t decays
    // `anvil eval --reward-model` gives the table of the stage's last evaluation.
    auto r = testing_support::run_command(kBin + "anvil eval --reward-model " +
                                          (run_dir("ensemble") / "reward_model" / "reward_model").string() + " --pairs " +
                                          (setup() / "preference_pairs" / "test_pairs.jsonl").string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("accuracy"), std::string::npos) << r.output;
    char expected[64];
    std::snprintf(expected, sizeof expected, "%8.4f", e.back()["eval_ece"].get<double>());
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output << " lacks ece " << expected;
    // Resume: the unfrozen single head, killed after step 5.
    EXPECT_EQ(run("reward_model", "rmkilled", "", "ANVIL_FAULT_KILL_AFTER_STEP=5 "), 128 + 9) << output;
    ASSERT_EQ(run("reward_model", "rmkilled"), 0) << output;
    for (const char* f : {"reward_model/reward_model/model.safetensors", "reward_model/reward_model/reward_head.safetensors"})
        EXPECT_TRUE(file("single", f) == file("rmkilled", f)) << f;
}

}  // namespace anvil
