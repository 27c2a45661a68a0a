// Unit tests for trainer/runner.h: the run directory's contents, artifacts passed between stages, resuming
// after the last completed stage, and refusing a run directory made by a different experiment.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "trainer/run_context.h"
#include "trainer/runner.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

int produce_calls = 0, consume_calls = 0;
std::string consumed;

struct ProduceOptions {
    std::string text = "hello";
    bool fail = false;
    static const config::Section<ProduceOptions>& section() {
        static const config::Section<ProduceOptions> s = [] {
            config::Section<ProduceOptions> s("produce", "Writes a file.");
            s.field("text", &ProduceOptions::text, "Text to write.");
            s.field("fail", &ProduceOptions::fail, "Fail instead.");
            return s;
        }();
        return s;
    }
};

struct ConsumeOptions {
    std::string input = "@note";
    static const config::Section<ConsumeOptions>& section() {
        static const config::Section<ConsumeOptions> s = [] {
            config::Section<ConsumeOptions> s("consume", "Reads a file.");
            s.field("input", &ConsumeOptions::input, "File to read.");
            return s;
        }();
        return s;
    }
};

void produce(const ProduceOptions& o, RunContext& ctx) {
    ++produce_calls;
    write_file_atomic(ctx.stage_dir() / "note.txt", o.text);
    ctx.log_metrics(1, {{"chars", static_cast<double>(o.text.size())}});
    ctx.publish("note", (ctx.stage_dir() / "note.txt").string());
}

void consume(const ConsumeOptions& o, RunContext& ctx) {
    ++consume_calls;
    consumed = read_file(ctx.resolve(o.input, "input"));
    if (consumed == "boom") throw Error("consumer failed");
}

std::vector<StageKind> kinds() {
    return {stage_kind<ProduceOptions>("produce", "", produce), stage_kind<ConsumeOptions>("consume", "", consume)};
}

class RunnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_runner_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        produce_calls = consume_calls = 0;
    }
    void TearDown() override { fs::remove_all(dir); }
    Experiment load(const std::string& text, std::vector<std::string> overrides = {}) {
        write_file_atomic(dir / "exp.toml", text);
        overrides.push_back("run.output_dir=\"" + (dir / "runs").string() + "\"");
        overrides.push_back("logging.tensorboard=false");
        return load_experiment(dir / "exp.toml", overrides, kinds());
    }
    fs::path dir;
};

const char* kTwoStages = "[[stage]]\nkind = \"produce\"\n[[stage]]\nkind = \"consume\"\n";

}  // namespace

TEST_F(RunnerTest, WritesRunDirectoryAndPassesArtifacts) {
    run_experiment(load(kTwoStages), kinds());
    EXPECT_EQ(consumed, "hello");
    fs::path run = dir / "runs" / "exp";
    EXPECT_TRUE(fs::exists(run / "config.toml"));
    EXPECT_TRUE(fs::exists(run / "log.txt"));
    EXPECT_TRUE(fs::exists(run / "stages.json"));
    EXPECT_NE(read_file(run / "metrics.jsonl").find("\"stage\":\"produce\""), std::string::npos);
    EXPECT_NE(read_file(run / "log.txt").find("stage 2/2 'consume'"), std::string::npos);
}

TEST_F(RunnerTest, ResumesAfterLastCompletedStage) {
    EXPECT_THROW(run_experiment(load(kTwoStages, {"stage.produce.text=\"boom\""}), kinds()), Error);
    EXPECT_EQ(produce_calls, 1);
    EXPECT_EQ(consume_calls, 1);
    // The failed consumer is retried; the completed producer is not rerun, its artifact is restored.
    EXPECT_THROW(run_experiment(load(kTwoStages, {"stage.produce.text=\"boom\""}), kinds()), Error);
    EXPECT_EQ(produce_calls, 1);
    EXPECT_EQ(consume_calls, 2);
    EXPECT_EQ(consumed, "boom");
}

TEST_F(RunnerTest, RefusesADifferentExperimentAndResumeFalse) {
    run_experiment(load(kTwoStages), kinds());
    EXPECT_THROW(run_experiment(load("[[stage]]\nkind = \"consume\"\ninput = \"x\"\n"), kinds()), UsageError);
    EXPECT_THROW(run_experiment(load(kTwoStages, {"run.resume=false"}), kinds()), UsageError);
}

TEST_F(RunnerTest, UnknownArtifactReferenceIsAClearError) {
    try {
        run_experiment(load("[[stage]]\nkind = \"consume\"\n"), kinds());
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("input = \"@note\" but no earlier stage produced 'note'"), std::string::npos)
            << e.what();
    }
}

}  // namespace anvil
