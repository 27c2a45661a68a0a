// Implementation of trainer/metrics.h.
#include "trainer/metrics.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "trainer/tensorboard.h"

namespace anvil {

MetricsLogger::MetricsLogger() = default;

MetricsLogger::MetricsLogger(const std::filesystem::path& run_dir, bool tensorboard) {
    std::filesystem::create_directories(run_dir);
    auto path = run_dir / "metrics.jsonl";
    jsonl_ = std::fopen(path.c_str(), "a");
    if (!jsonl_) throw Error(str(path.string(), ": cannot open for appending"));
    if (tensorboard) tensorboard_ = std::make_unique<TensorBoardWriter>(run_dir / "tensorboard");
}

MetricsLogger::~MetricsLogger() {
    if (jsonl_) std::fclose(jsonl_);
}

MetricsLogger::MetricsLogger(MetricsLogger&& other) noexcept
    : jsonl_(std::exchange(other.jsonl_, nullptr)), tensorboard_(std::move(other.tensorboard_)) {}

MetricsLogger& MetricsLogger::operator=(MetricsLogger&& other) noexcept {
    if (this != &other) {
        if (jsonl_) std::fclose(jsonl_);
        jsonl_ = std::exchange(other.jsonl_, nullptr);
        tensorboard_ = std::move(other.tensorboard_);
    }
    return *this;
}

void MetricsLogger::log(const std::string& stage, int64_t step, const Metrics& values) {
    if (!jsonl_) return;
    nlohmann::ordered_json line;
    line["stage"] = stage;
    line["step"] = step;
    line["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& [name, value] : values) {
        if (std::isfinite(value))
            line[name] = value;
        else
            line[name] = std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");  // JSON has no NaN
        if (tensorboard_) tensorboard_->scalar(stage + "/" + name, step, value);
    }
    std::string text = line.dump() + "\n";
    std::fwrite(text.data(), 1, text.size(), jsonl_);
    std::fflush(jsonl_);
    if (tensorboard_) tensorboard_->flush();
}

}  // namespace anvil
