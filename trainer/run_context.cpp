// Implementation of trainer/run_context.h.
#include "trainer/run_context.h"

#include "core/error.h"
#include "core/text.h"

namespace anvil {

RunContext::RunContext(const Experiment& experiment, std::filesystem::path run_dir, MetricsLogger& metrics,
                       DistributedWorld& world)
    : experiment_(experiment), run_dir_(std::move(run_dir)), metrics_(metrics), world_(world) {}

void RunContext::begin_stage(const StageConfig& stage) {
    stage_name_ = stage.name;
    stage_dir_ = run_dir_ / stage.name;
    std::filesystem::create_directories(stage_dir_);
}

std::unique_ptr<Progress> RunContext::progress(int64_t total, const std::string& what) const {
    const auto& logging = experiment_.logging;
    return std::make_unique<Progress>(what.empty() ? stage_name_ : stage_name_ + " " + what, total,
                                      parse_progress_mode(logging.progress), logging.progress_interval);
}

void RunContext::publish(const std::string& name, const std::string& value) { artifacts_[name] = value; }

std::string RunContext::resolve(const std::string& value, const std::string& key) const {
    if (value.empty() || value[0] != '@') return value;
    auto it = artifacts_.find(value.substr(1));
    if (it != artifacts_.end()) return it->second;
    std::vector<std::string> names;
    for (const auto& [name, path] : artifacts_) names.push_back("@" + name);
    throw UsageError(str("stage '", stage_name_, "': ", key, " = \"", value, "\" but no earlier stage produced '",
                         value.substr(1), "' (available: ", names.empty() ? "none" : join(names, ", "), ")"));
}

}  // namespace anvil
