// What a running stage sees: the experiment, its own name and directory inside the run directory, the
// metrics logger, a progress display configured by [logging], and the artifacts earlier stages published
// (e.g. "tokenizer" or "model" -> a path), which configs reference as "@tokenizer" / "@model", and the
// distributed world of the job.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "trainer/experiment.h"
#include "trainer/metrics.h"
#include "trainer/progress.h"

namespace anvil {

class DistributedWorld;

class RunContext {
public:
    RunContext(const Experiment& experiment, std::filesystem::path run_dir, MetricsLogger& metrics,
               DistributedWorld& world);

    const Experiment& experiment() const { return experiment_; }
    const std::filesystem::path& run_dir() const { return run_dir_; }
    // The ranks of this job (a single process when not launched distributed).
    DistributedWorld& world() const { return world_; }

    // Switches to the next stage; creates <run>/<stage name>/.
    void begin_stage(const StageConfig& stage);
    const std::string& stage_name() const { return stage_name_; }
    const std::filesystem::path& stage_dir() const { return stage_dir_; }

    // A progress display for `total` units of the current stage, labelled with the stage name.
    std::unique_ptr<Progress> progress(int64_t total, const std::string& what = "") const;
    // Records metrics for the current stage.
    void log_metrics(int64_t step, const Metrics& values) { metrics_.log(stage_name_, step, values); }

    // Makes `value` available to later stages as "@<name>" (the latest publication of a name wins).
    void publish(const std::string& name, const std::string& value);
    const std::map<std::string, std::string>& artifacts() const { return artifacts_; }
    // "@name" -> the published value; anything else is returned unchanged. `key` names the config key
    // holding the reference, for the error when nothing was published under that name.
    std::string resolve(const std::string& value, const std::string& key) const;

private:
    const Experiment& experiment_;
    std::filesystem::path run_dir_, stage_dir_;
    std::string stage_name_;
    MetricsLogger& metrics_;
    DistributedWorld& world_;
    std::map<std::string, std::string> artifacts_;
};

}  // namespace anvil
