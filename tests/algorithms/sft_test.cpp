// Integration tests of SFT through the `anvil` binary on a tiny generated task: held-out loss goes down;
// resume is exact (10 steps straight == 5 steps, kill -9, 5 resumed steps; parameters bitwise equal) with 1
// rank and with 2 ranks under ZeRO-1, also after a kill inside a checkpoint write; and under `anvilrun
// --max-restarts` a killed rank is restarted from the last checkpoint and the job ends with the same
// parameters as an uninterrupted one; torchrun --no-python runs the same job as anvilrun.
#include <gtest/gtest.h>

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

const std::string kConfig = std::string(R"(# tiny SFT used by tests/algorithms/sft_test.cpp
[run]
seed = 7
)") + testing_support::tiny_experiment() + R"([[stage]]
kind = "sft"
completion_field = "solution"
eval_data = "@test_tasks"
max_steps = 10
micro_batch_size = 8
lr = 3e-3
checkpoint_every = 5
eval_every = 5
)";

int shell(const std::string& cmd, std::string* output) {
    auto result = testing_support::run_command(cmd);
    *output = result.output;
    return result.code;
}

class Sft : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_sft_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        write_file_atomic(dir / "sft.toml", kConfig);
    }
    void TearDown() override { fs::remove_all(dir); }
    // Runs the config as run `name`; returns the exit code and keeps the output for messages.
    int run(const std::string& name, const std::string& prefix = "", const std::string& extra = "") {
        std::string cmd = prefix + kBin + "anvil run " + (dir / "sft.toml").string() + " --set run.output_dir=" +
                          (dir / "runs").string() + " --set run.name=" + name + " " + extra;
        return shell(cmd, &output);
    }
    std::string weights(const std::string& name) { return read_file(dir / "runs" / name / "sft" / "model" / "model.safetensors"); }
    fs::path dir;
    std::string output;
};

}  // namespace

TEST_F(Sft, HeldOutLossGoesDown) {
    ASSERT_EQ(run("loss"), 0) << output;
    std::vector<double> eval;
    for (const auto& line : split(trim(read_file(dir / "runs" / "loss" / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] == "sft" && j.contains("eval_loss")) eval.push_back(j["eval_loss"]);
    }
    ASSERT_EQ(eval.size(), 3u);  // before training, step 5, step 10
    EXPECT_LT(eval[1], eval[0]);
    EXPECT_LT(eval[2], eval[1]);
    EXPECT_LT(eval[2], eval[0] * 0.9) << "held-out loss " << eval[0] << " -> " << eval[2];
    EXPECT_TRUE(fs::exists(dir / "runs" / "loss" / "sft" / "checkpoints" / "step-10" / "trainer_state.json"));
    // With the Goldfish loss some target tokens carry no loss; training still lowers the held-out loss.
    ASSERT_EQ(run("goldfish", "", "--set stage.sft.goldfish_k=4"), 0) << output;
    std::vector<double> goldfish;
    for (const auto& line : split(trim(read_file(dir / "runs" / "goldfish" / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] == "sft" && j.contains("eval_loss")) goldfish.push_back(j["eval_loss"]);
    }
    ASSERT_EQ(goldfish.size(), 3u);
    EXPECT_LT(goldfish[2], goldfish[0]);
    EXPECT_NE(goldfish[2], eval[2]);  // the option changes training
    // Packing changes only the layout: the same examples and loss, so the same held-out losses up to rounding.
    ASSERT_EQ(run("packed", "", "--set stage.sft.packing=true --set stage.sft.max_length=128"), 0) << output;
    std::vector<double> packed;
    for (const auto& line : split(trim(read_file(dir / "runs" / "packed" / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] == "sft" && j.contains("eval_loss")) packed.push_back(j["eval_loss"]);
    }
    ASSERT_EQ(packed.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(packed[i], eval[i], 1e-3 * eval[i]) << "evaluation " << i;
    // bf16 autocast (here on the CPU): the same training in lower precision, weights still saved in fp32.
    ASSERT_EQ(run("bf16", "", "--set stage.sft.autocast=bf16"), 0) << output;
    std::vector<double> bf16;
    for (const auto& line : split(trim(read_file(dir / "runs" / "bf16" / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] == "sft" && j.contains("eval_loss")) bf16.push_back(j["eval_loss"]);
    }
    ASSERT_EQ(bf16.size(), 3u);
    EXPECT_LT(bf16[2], bf16[0] * 0.9);
    EXPECT_NE(bf16[2], eval[2]);  // autocast changes the arithmetic
    EXPECT_NEAR(bf16[2], eval[2], 0.05 * eval[2]);
    const auto config = nlohmann::json::parse(read_file(dir / "runs" / "bf16" / "sft" / "model" / "config.json"));
    EXPECT_EQ(config.contains("dtype") ? config["dtype"] : config["torch_dtype"], "float32");
}

TEST_F(Sft, MetricsReportLossLrGradNormThroughputTimeAndMemory) {
    ASSERT_EQ(run("metrics", "", "--set stage.sft.max_steps=2 --set stage.sft.eval_every=0"), 0) << output;
    int steps = 0;
    for (const auto& line : split(trim(read_file(dir / "runs" / "metrics" / "metrics.jsonl")), '\n')) {
        auto j = nlohmann::json::parse(line);
        if (j["stage"] != "sft" || !j.contains("loss")) continue;
        ++steps;
        for (const char* key : {"loss", "lr", "grad_norm", "tokens_per_second", "step_seconds", "peak_memory_gb"}) {
            ASSERT_TRUE(j.contains(key) && j[key].is_number()) << key << " missing in " << line;
            EXPECT_GT(j[key].get<double>(), 0) << key << " in " << line;
        }
    }
    EXPECT_EQ(steps, 2);
}

TEST_F(Sft, HashedHeldOutSplitDoesNotDependOnRecordOrder) {
    const std::string split_args = "--set stage.sft.eval_data= --set stage.sft.eval_fraction=0.25 --set stage.sft.max_steps=1";
    ASSERT_EQ(run("ordered", "", split_args), 0) << output;
    const std::string ordered_log = output;
    // The same records in reverse order: a positional split would hold out other records.
    auto lines = split(trim(read_file(dir / "runs" / "ordered" / "arithmetic_tasks" / "train.jsonl")), '\n');
    std::string reversed;
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) reversed += *it + "\n";
    write_file_atomic(dir / "reversed.jsonl", reversed);
    ASSERT_EQ(run("reversed", "", split_args + " --set stage.sft.data=" + (dir / "reversed.jsonl").string()), 0) << output;
    auto baseline = [&](const std::string& name) {
        for (const auto& line : split(trim(read_file(dir / "runs" / name / "metrics.jsonl")), '\n')) {
            auto j = nlohmann::json::parse(line);
            if (j["stage"] == "sft" && j["step"] == 0) return j["eval_loss"].get<double>();
        }
        return -1.0;
    };
    EXPECT_GT(baseline("ordered"), 0);
    EXPECT_NEAR(baseline("ordered"), baseline("reversed"), 1e-5 * baseline("ordered"));
    auto held_out = [](const std::string& log) {
        const auto end = log.find(" held out)");
        return end == std::string::npos ? -1 : std::stoi(log.substr(log.rfind(' ', end - 1) + 1));
    };
    EXPECT_EQ(held_out(ordered_log), held_out(output)) << output;
    EXPECT_GT(held_out(output), 60) << output;  // about a quarter of 400 records
    EXPECT_LT(held_out(output), 140) << output;
}

TEST_F(Sft, ResumeAfterKillIsBitwiseExact) {
    ASSERT_EQ(run("straight"), 0) << output;
    EXPECT_EQ(run("killed", "ANVIL_FAULT_KILL_AFTER_STEP=5 "), 128 + 9) << output;
    EXPECT_EQ(trim(read_file(dir / "runs" / "killed" / "sft" / "checkpoints" / "latest")), "step-5");
    ASSERT_EQ(run("killed"), 0) << output;
    EXPECT_NE(output.find("resuming stage 'sft'"), std::string::npos) << output;
    EXPECT_TRUE(weights("straight") == weights("killed")) << "resumed parameters differ from the uninterrupted run";
    // Killed inside the checkpoint write of step 10 (model and optimizer files written, not committed):
    // `latest` still names step 5, the torn directory is removed on resume, and the job ends the same.
    EXPECT_EQ(run("torn", "ANVIL_FAULT_KILL_IN_CHECKPOINT_WRITE=10 "), 128 + 9) << output;
    const fs::path checkpoints = dir / "runs" / "torn" / "sft" / "checkpoints";
    EXPECT_EQ(trim(read_file(checkpoints / "latest")), "step-5");
    EXPECT_TRUE(fs::exists(checkpoints / ".tmp-step-10" / "model" / "model.safetensors"));
    EXPECT_FALSE(fs::exists(checkpoints / ".tmp-step-10" / "trainer_state.json"));
    EXPECT_FALSE(fs::exists(checkpoints / "step-10"));
    ASSERT_EQ(run("torn"), 0) << output;
    EXPECT_NE(output.find("removed 1 unfinished checkpoint"), std::string::npos) << output;
    EXPECT_NE(output.find("resuming stage 'sft' from " + (checkpoints / "step-5").string()), std::string::npos) << output;
    EXPECT_EQ(trim(read_file(checkpoints / "latest")), "step-10");
    EXPECT_TRUE(weights("straight") == weights("torn")) << "the run resumed after a torn checkpoint differs";
}

TEST_F(Sft, TwoRanksWithZero1ResumeExactlyAndSurviveAKilledRank) {
    const std::string launch = kBin + "anvilrun --standalone --nproc-per-node 2 ";
    const std::string args = "--set stage.sft.micro_batch_size=4 --set stage.sft.zero1=true";
    std::string cmd_tail = " " + kBin + "anvil run " + (dir / "sft.toml").string() + " --set run.output_dir=" +
                           (dir / "runs").string() + " " + args;
    ASSERT_EQ(shell(launch + cmd_tail + " --set run.name=two", &output), 0) << output;
    // The whole job killed after step 5, then started again: resumes from the step-5 checkpoint.
    EXPECT_NE(shell("ANVIL_FAULT_KILL_AFTER_STEP=5:0 " + launch + cmd_tail + " --set run.name=twokill", &output), 0);
    ASSERT_EQ(shell(launch + cmd_tail + " --set run.name=twokill", &output), 0) << output;
    EXPECT_TRUE(weights("two") == weights("twokill"));
    // Rank 1 killed after writing its optimizer shard of step 10: rank 0 never commits it.
    EXPECT_NE(shell("ANVIL_FAULT_KILL_IN_CHECKPOINT_WRITE=10:1 " + launch + cmd_tail + " --set run.name=torn", &output), 0);
    EXPECT_EQ(trim(read_file(dir / "runs" / "torn" / "sft" / "checkpoints" / "latest")), "step-5");
    ASSERT_EQ(shell(launch + cmd_tail + " --set run.name=torn", &output), 0) << output;
    EXPECT_TRUE(weights("two") == weights("torn"));
    // One rank killed under --max-restarts: the launcher restarts both, which resume from the checkpoint.
    ASSERT_EQ(shell("ANVIL_FAULT_KILL_AFTER_STEP=5:1 " + kBin + "anvilrun --standalone --nproc-per-node 2 --max-restarts 2" +
                        cmd_tail + " --set run.name=restarted",
                    &output),
              0)
        << output;
    EXPECT_NE(output.find("rank 1 failed with signal 9"), std::string::npos) << output;
    EXPECT_TRUE(weights("two") == weights("restarted"));
}

TEST_F(Sft, TorchrunNoPythonLaunchesTheNativeBinary) {
    // torchrun comes with the pinned torch wheel, beside the Python that scripts/setup.sh prepared.
    const std::string torchrun = (fs::path(ANVIL_PYTHON).parent_path() / "torchrun").string();
    ASSERT_TRUE(fs::exists(torchrun)) << torchrun;
    const std::string args = " --set stage.sft.micro_batch_size=4 --set stage.sft.zero1=true --set run.output_dir=" +
                             (dir / "runs").string();
    ASSERT_EQ(shell(kBin + "anvilrun --standalone --nproc-per-node 2 " + kBin + "anvil run " + (dir / "sft.toml").string() +
                        args + " --set run.name=anvilrun",
                    &output),
              0)
        << output;
    ASSERT_EQ(shell(torchrun + " --standalone --nproc-per-node 2 --no-python " + kBin + "anvil run " +
                        (dir / "sft.toml").string() + args + " --set run.name=torchrun",
                    &output),
              0)
        << output;
    EXPECT_TRUE(weights("anvilrun") == weights("torchrun")) << "the two launchers must give the same job";
}

}  // namespace anvil
