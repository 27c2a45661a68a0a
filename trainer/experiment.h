// An experiment is one TOML file: a [run] section, a [logging] section and an ordered list of [[stage]]
// tables, each with a `kind`. This file reads it against the stage kinds the caller registers (every
// problem reported at once, each naming file:line:col and the key path), renders the fully resolved
// config, and writes the reference documentation of every key. It knows no particular stage kind: those
// are listed explicitly in launch/stage_registry.cpp.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config_schema.h"

namespace anvil {

class RunContext;

struct RunOptions {
    std::string name;  // "" = the config file's stem
    std::string output_dir = "runs";
    int64_t seed = 1234;
    int threads = 0;
    std::string device = "auto";
    bool resume = true;

    static const config::Section<RunOptions>& section();
};

struct LoggingOptions {
    std::string level = "info";
    std::string progress = "auto";
    double progress_interval = 10.0;
    bool tensorboard = true;

    static const config::Section<LoggingOptions>& section();
};

// The options of one [[stage]], type-erased; TypedStageConfig<Options> holds the concrete struct.
class StageConfig {
public:
    virtual ~StageConfig() = default;
    virtual std::string render() const = 0;

    std::string kind;
    std::string name;  // unique within the experiment; defaults to the kind
    config::SourcePos pos;
};

template <class Options>
class TypedStageConfig final : public StageConfig {
public:
    std::string render() const override { return Options::section().render(options); }
    Options options;
};

// What a stage kind contributes: its options schema and the function that runs it.
struct StageKind {
    std::string kind;
    std::string summary;
    // Whether every rank runs the stage (distributed training) or rank 0 alone (data preparation,
    // evaluation) while the others wait for its outputs.
    bool all_ranks = false;
    std::function<std::unique_ptr<StageConfig>(const config::Table&, const config::SourcePos&, const std::string& prefix,
                                               config::Diagnostics&)>
        read;
    std::function<std::vector<config::FieldInfo>()> describe;
    std::function<void(const StageConfig&, RunContext&)> run;
};

// Builds a StageKind from an options struct with a static `section()` and a run function.
template <class Options>
StageKind stage_kind(std::string kind, std::string summary, void (*run)(const Options&, RunContext&),
                     bool all_ranks = false) {
    StageKind k;
    k.kind = std::move(kind);
    k.summary = std::move(summary);
    k.all_ranks = all_ranks;
    k.read = [](const config::Table& table, const config::SourcePos& pos, const std::string& prefix,
                config::Diagnostics& diag) -> std::unique_ptr<StageConfig> {
        auto stage = std::make_unique<TypedStageConfig<Options>>();
        Options::section().read(table, pos, prefix, stage->options, diag, {"kind", "name"});
        return stage;
    };
    k.describe = [] { return Options::section().describe(); };
    k.run = [run](const StageConfig& stage, RunContext& ctx) {
        run(static_cast<const TypedStageConfig<Options>&>(stage).options, ctx);
    };
    return k;
}

struct Experiment {
    std::filesystem::path source;
    RunOptions run;
    LoggingOptions logging;
    std::vector<std::unique_ptr<StageConfig>> stages;
};

// Reads and validates `file` with `overrides` ("section.key=value") applied; throws UsageError listing
// every problem.
Experiment load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                           const std::vector<StageKind>& kinds);

const StageKind& find_stage_kind(const std::vector<StageKind>& kinds, const std::string& kind);

// The fully resolved config as TOML, every key present with its doc as a comment.
std::string render_experiment(const Experiment& experiment);

// configs/REFERENCE.md: every section, stage kind and key with type, default and doc.
std::string reference_markdown(const std::vector<StageKind>& kinds);

}  // namespace anvil
