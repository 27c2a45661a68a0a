// Implementation of trainer/progress.h.
#include "trainer/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "core/text.h"

namespace anvil {

ProgressMode parse_progress_mode(const std::string& name) {
    if (name == "bar") return ProgressMode::bar;
    if (name == "lines") return ProgressMode::lines;
    if (name == "off") return ProgressMode::off;
    if (name == "auto") return log::stderr_is_terminal() ? ProgressMode::bar : ProgressMode::lines;
    throw UsageError(str("unknown progress mode '", name, "' (expected auto, bar, lines or off)"));
}

Progress::Progress(std::string label, int64_t total, ProgressMode mode, double interval_seconds)
    : label_(std::move(label)), total_(total), mode_(mode), interval_(interval_seconds), start_(Clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
    if (mode_ == ProgressMode::bar && !finished_) log::status("");
}

namespace {
std::string number(double v) {
    char buf[32];
    double a = std::fabs(v);
    if (v == 0 || (a >= 1e-3 && a < 1e5))
        std::snprintf(buf, sizeof buf, "%.4g", v);
    else
        std::snprintf(buf, sizeof buf, "%.3e", v);
    return buf;
}
}  // namespace

std::string Progress::render(const std::string& label, int64_t done, int64_t total, double elapsed, const Metrics& metrics,
                             bool with_bar) {
    std::string line = str(label, " ", done, "/", total);
    double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
    if (with_bar) {
        const int width = 20;
        int filled = std::clamp(static_cast<int>(fraction * width), 0, width);
        std::string bar(width, ' ');
        for (int i = 0; i < width; ++i) bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        line += " [" + bar + "]";
    }
    line += str(" ", static_cast<int>(fraction * 100), "%");
    if (done > 0 && elapsed > 0) {
        double rate = static_cast<double>(done) / elapsed;
        line += rate >= 1 ? str(" | ", number(rate), " it/s") : str(" | ", number(1 / rate), " s/it");
        line += str(" | ", done < total ? "ETA " + format_duration(static_cast<double>(total - done) / rate)
                                        : "took " + format_duration(elapsed));
    }
    if (!metrics.empty()) {
        line += " |";
        for (const auto& [name, value] : metrics) line += str(" ", name, " ", number(value));
    }
    return line;
}

void Progress::update(int64_t done, const Metrics& metrics) {
    done_ = done;
    metrics_ = metrics;
    if (mode_ == ProgressMode::off) return;
    auto now = Clock::now();
    double since_draw = std::chrono::duration<double>(now - last_draw_).count();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    if (mode_ == ProgressMode::bar) {
        if (since_draw < 0.1 && done < total_) return;
        last_draw_ = now;
        log::status(render(label_, done_, total_, elapsed, metrics_, true));
    } else if (since_draw >= interval_ && done < total_) {
        last_draw_ = now;
        log::info(render(label_, done_, total_, elapsed, metrics_, false));
    }
}

void Progress::finish() {
    if (finished_) return;
    finished_ = true;
    if (mode_ == ProgressMode::off) return;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    if (mode_ == ProgressMode::bar) log::status("");
    log::info(render(label_, done_, total_, elapsed, metrics_, false));
}

}  // namespace anvil
