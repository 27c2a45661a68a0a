// Per-step metrics of a run: one JSON object per line in <run>/metrics.jsonl ({"stage", "step", "time",
// metric: value, ...}) and, optionally, TensorBoard scalars tagged "<stage>/<metric>". Only the writing rank
// (rank 0) records; other ranks hold a disabled logger. Aggregating metrics across ranks is the caller's job.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace anvil {

class TensorBoardWriter;

using Metrics = std::vector<std::pair<std::string, double>>;

class MetricsLogger {
public:
    // A logger that records nothing (non-zero ranks, dry runs).
    MetricsLogger();
    MetricsLogger(const std::filesystem::path& run_dir, bool tensorboard);
    ~MetricsLogger();
    MetricsLogger(MetricsLogger&&) noexcept;
    MetricsLogger& operator=(MetricsLogger&&) noexcept;

    void log(const std::string& stage, int64_t step, const Metrics& values);
    bool enabled() const { return jsonl_ != nullptr; }

private:
    std::FILE* jsonl_ = nullptr;
    std::unique_ptr<TensorBoardWriter> tensorboard_;
};

}  // namespace anvil
