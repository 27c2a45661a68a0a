// Progress display for long work (training steps, generation, evaluation): on a terminal a live status line
// "label 120/500 [=====>    ] 24% | 3.2 it/s | ETA 1:58 | loss 1.234"; elsewhere the same text as a plain
// log line every `interval` seconds (and at the end), so CI logs and log.txt stay readable. It only displays:
// recording metrics is trainer/metrics.h's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "trainer/metrics.h"

namespace anvil {

enum class ProgressMode { bar, lines, off };

// "auto" picks bar on a terminal and lines otherwise.
ProgressMode parse_progress_mode(const std::string& name);

class Progress {
public:
    Progress(std::string label, int64_t total, ProgressMode mode, double interval_seconds);
    ~Progress();

    // Reports that `done` of `total` units are complete, with the latest metrics to show.
    void update(int64_t done, const Metrics& metrics = {});
    // Prints the final line and removes the live status line.
    void finish();

    // The text of one progress line (exposed for tests).
    static std::string render(const std::string& label, int64_t done, int64_t total, double elapsed_seconds,
                              const Metrics& metrics, bool with_bar);

private:
    using Clock = std::chrono::steady_clock;
    std::string label_;
    int64_t total_, done_ = 0;
    ProgressMode mode_;
    double interval_;
    Clock::time_point start_, last_draw_;
    Metrics metrics_;
    bool finished_ = false;
};

}  // namespace anvil
