// Integration tests of the GRPO stage through the `anvil` binary, on a tiny model briefly fine-tuned on a
// generated arithmetic task (made once per test binary): a run with every option on (KL to the reference,
// dual-clip, dynamic sampling, overlong filtering, two optimizer steps per rollout) writes its metrics,
// completions, checkpoints and model; resume after kill -9 is bitwise exact; and 2 Gloo ranks reproduce 1
// rank with the same global batch (same rollout rewards every step, parameters within 1e-6).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/text.h"
#include "models/safetensors.h"
#include "tests/support/process.h"
#include "tests/support/tiny_experiment.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

const std::string kBin = std::string(ANVIL_BINARY_DIR) + "/bin/";

const std::string kBaseConfig = std::string(R"(# the SFT model the GRPO tests start from
[run]
name = "base"
seed = 3
)") + testing_support::tiny_experiment("max_operand = 20\n") + R"([[stage]]
kind = "sft"
completion_field = "solution"
max_steps = 200
micro_batch_size = 16
lr = 3e-3
)";

const char* kGrpoConfig = R"(# GRPO with every option on, used by tests/algorithms/grpo_test.cpp
[run]
seed = 11
[logging]
tensorboard = false
progress = "off"
[[stage]]
kind = "grpo"
model = "BASE/sft/model"
tasks = { path = "BASE/arithmetic_tasks/train.jsonl" }
eval_tasks = { path = "BASE/arithmetic_tasks/test.jsonl" }
eval_max_tasks = 12
# A format reward beside correctness, so that this weak model's groups do not all score alike.
environment = { name = "math", format_pattern = "The answer is", format_weight = 0.5 }
max_new_tokens = 24
prompts_per_step = 4
group_size = 4
micro_batch_size = 4
mini_batches = 2
ppo_epochs = 1
max_steps = 6
checkpoint_every = 2
eval_every = 6
lr = 1e-3
kl_coef = 0.05
dual_clip = 3.0
dynamic_sampling = true
mask_truncated = true
log_completions_every = 1
)";

class Grpo : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        root = fs::temp_directory_path() / ("anvil_grpo_" + std::to_string(::getpid()));
        fs::remove_all(root);
        fs::create_directories(root);
        write_file_atomic(root / "base.toml", kBaseConfig);
        auto r = testing_support::run_command(kBin + "anvil run " + (root / "base.toml").string() + " --set run.output_dir=" +
                                              (root / "runs").string());
        ASSERT_EQ(r.code, 0) << r.output;
        std::string grpo = kGrpoConfig;
        const std::string base = (root / "runs" / "base").string();
        for (size_t at; (at = grpo.find("BASE")) != std::string::npos;) grpo.replace(at, 4, base);
        write_file_atomic(root / "grpo.toml", grpo);
    }
    static void TearDownTestSuite() { fs::remove_all(root); }

    int run(const std::string& name, const std::string& prefix = "", const std::string& extra = "") {
        auto r = testing_support::run_command(prefix + kBin + "anvil run " + (root / "grpo.toml").string() +
                                              " --set run.output_dir=" + (root / "runs").string() + " --set run.name=" + name +
                                              " " + extra);
        output = r.output;
        return r.code;
    }
    static fs::path run_dir(const std::string& name) { return root / "runs" / name; }
    static std::string weights(const std::string& name) { return read_file(run_dir(name) / "grpo" / "model" / "model.safetensors"); }
    // The grpo stage's metric rows, by step.
    static std::map<int64_t, nlohmann::json> metrics(const std::string& name) {
        std::map<int64_t, nlohmann::json> out;
        for (const auto& line : split(trim(read_file(run_dir(name) / "metrics.jsonl")), '\n')) {
            auto j = nlohmann::json::parse(line);
            if (j["stage"] == "grpo") out[j["step"].get<int64_t>()].update(j);
        }
        return out;
    }

    static fs::path root;
    std::string output;
};

fs::path Grpo::root;

}  // namespace

TEST_F(Grpo, RunsWithEveryOptionAndRecordsWhatItDid) {
    ASSERT_EQ(run("options"), 0) << output;
    auto m = metrics("options");
    ASSERT_TRUE(m.count(0) && m[0].contains("eval_greedy_accuracy")) << "baseline evaluation at step 0";
    for (int64_t step = 1; step <= 6; ++step) {
        ASSERT_TRUE(m.count(step)) << step;
        for (const char* key : {"loss", "reward", "solve_rate", "kl", "entropy", "clip_fraction_low", "clip_fraction_high",
                                "dual_clip_fraction", "approx_kl_old", "constant_group_fraction", "completion_tokens"})
            EXPECT_TRUE(m[step].contains(key)) << key << " at step " << step;
        EXPECT_GT(m[step]["entropy"].get<double>(), 0);
        EXPECT_GE(m[step]["kl"].get<double>(), 0);
    }
    EXPECT_TRUE(m[6].contains("eval_greedy_accuracy"));
    // The first optimizer step of a rollout is on-policy: π_θ = π_old up to float rounding; the second is not.
    EXPECT_LT(m[1]["approx_kl_old"].get<double>(), 1e-9);
    EXPECT_GT(m[2]["approx_kl_old"].get<double>(), 0);
    EXPECT_LT(m[1]["kl"].get<double>(), 1e-9) << "the policy starts at the reference";
    // Three rollouts (2 optimizer steps each), each with its completions file.
    for (int r = 0; r < 3; ++r) {
        const auto file = run_dir("options") / "grpo" / "completions" / str("rollout-00000", r, ".jsonl");
        ASSERT_TRUE(fs::exists(file)) << file;
        EXPECT_EQ(split(trim(read_file(file)), '\n').size(), 16u);
        auto first = nlohmann::json::parse(split(read_file(file), '\n')[0]);
        for (const char* key : {"task", "completion", "reward", "advantage", "tokens", "truncated", "in_loss"})
            EXPECT_TRUE(first.contains(key)) << key;
    }
    EXPECT_EQ(trim(read_file(run_dir("options") / "grpo" / "checkpoints" / "latest")), "step-6");
    // log_kl measures the KL to the starting policy without putting it in the loss.
    ASSERT_EQ(run("log_kl", "", "--set stage.grpo.kl_coef=0 --set stage.grpo.log_kl=true --set stage.grpo.max_steps=2 "
                               "--set stage.grpo.checkpoint_every=2 --set stage.grpo.eval_every=2"),
              0)
        << output;
    EXPECT_GT(metrics("log_kl")[2]["kl"].get<double>(), 0);
    EXPECT_TRUE(fs::exists(run_dir("options") / "grpo" / "model" / "config.json"));
    EXPECT_NE(weights("options"), read_file(root / "runs" / "base" / "sft" / "model" / "model.safetensors"));
}

TEST_F(Grpo, ConfigErrorsNameTheKey) {
    EXPECT_EQ(run("bad", "", "--set stage.grpo.max_steps=5"), 2);
    EXPECT_NE(output.find("max_steps"), std::string::npos) << output;
    EXPECT_EQ(run("bad2", "", "--set stage.grpo.micro_batch_size=3"), 2);
    EXPECT_NE(output.find("micro_batch_size = 3"), std::string::npos) << output;
    EXPECT_EQ(run("bad3", "", "--set stage.grpo.loss_aggregation=mean"), 2);
    EXPECT_NE(output.find("loss_aggregation"), std::string::npos) << output;
}

TEST_F(Grpo, ResumeAfterKillIsBitwiseExact) {
    ASSERT_EQ(run("straight"), 0) << output;
    EXPECT_EQ(run("killed", "ANVIL_FAULT_KILL_AFTER_STEP=4 "), 128 + 9) << output;
    EXPECT_EQ(trim(read_file(run_dir("killed") / "grpo" / "checkpoints" / "latest")), "step-4");
    ASSERT_EQ(run("killed"), 0) << output;
    EXPECT_NE(output.find("resuming stage 'grpo'"), std::string::npos) << output;
    EXPECT_TRUE(weights("straight") == weights("killed")) << "resumed parameters differ from the uninterrupted run";
}

TEST_F(Grpo, TwoRanksReproduceOneRankWithTheSameGlobalBatch) {
    // Tokens every completion of a group shares get gradients Σ_i A_i ∇log π = 0 up to float rounding, which
    // differs with the batch layout; Adam with a tiny eps would turn that rounding into full-size steps of
    // random sign. A larger eps keeps those at rounding size, so the comparison measures the algorithm.
    const std::string eps = " --set stage.grpo.adam_eps=1e-4";
    ASSERT_EQ(run("one", "", eps), 0) << output;
    // Each rank takes 2 of the 4 prompts: the global batch (and the sampling seeds) are those of one rank.
    ASSERT_EQ(run("two", kBin + "anvilrun --standalone --nproc-per-node 2 ", "--set stage.grpo.micro_batch_size=2" + eps), 0)
        << output;
    auto one = metrics("one"), two = metrics("two");
    for (int64_t step = 1; step <= 6; ++step) {
        EXPECT_EQ(one[step]["reward"], two[step]["reward"]) << "rollout rewards differ at step " << step;
        EXPECT_NEAR(one[step]["loss"].get<double>(), two[step]["loss"].get<double>(), 1e-5) << step;
    }
    safetensors::Reader a(run_dir("one") / "grpo" / "model" / "model.safetensors");
    safetensors::Reader b(run_dir("two") / "grpo" / "model" / "model.safetensors");
    double worst = 0;
    for (const auto& info : a.tensors())
        worst = std::max(worst, (a.tensor(info.name).to(at::kDouble) - b.tensor(info.name).to(at::kDouble)).abs().max().item<double>());
    EXPECT_LT(worst, 1e-6) << "largest parameter difference between 1 and 2 ranks";
}

TEST_F(Grpo, RealScaleConfigsRunAFewStepsOnATinyModel) {
    // configs/grpo_gsm8k.toml and grpo_math.toml, shrunk by --set to the tiny model and a few tasks; run from
    // the repository root as documented, on the datasets under data/.
    const std::string model = (root / "runs" / "base" / "sft" / "model").string();
    for (const std::string name : {"grpo_gsm8k", "grpo_math"}) {
        SCOPED_TRACE(name);
        std::string sets = " --set run.output_dir=" + (root / "runs").string() + " --set run.name=" + name;
        for (const char* eval : {"eval_before", "eval_after"})
            for (const std::string kv : {"chat_template=\"\"", "max_new_tokens=8", "samples=2", "pass_k=[1,2]", "tasks.limit=4", "dtype=float32"})
                sets += str(" --set 'stage.", eval, ".", kv, "'");
        sets += " --set stage.eval_before.model=" + model + " --set stage.grpo.model=" + model;
        for (const std::string kv : {"chat_template=\"\"", "tasks.limit=32", "eval_max_tasks=4", "prompts_per_step=4", "group_size=2",
                                     "max_new_tokens=8", "micro_batch_size=2", "max_steps=4", "checkpoint_every=4", "eval_every=4",
                                     "rollout_batch_size=8"})
            sets += " --set 'stage.grpo." + kv + "'";
        const std::string config = std::string(ANVIL_SOURCE_DIR) + "/configs/" + name + ".toml";
        auto check = testing_support::run_command(kBin + "anvil config check " + config);
        ASSERT_EQ(check.code, 0) << check.output;
        auto r = testing_support::run_command("cd " + std::string(ANVIL_SOURCE_DIR) + " && " + kBin + "anvil run " + config + sets);
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_TRUE(fs::exists(run_dir(name) / "grpo" / "model" / "model.safetensors"));
        EXPECT_TRUE(fs::exists(run_dir(name) / "report.html"));
        EXPECT_EQ(metrics(name).rbegin()->first, 4);
    }
}

}  // namespace anvil
