// Stage kind "report": writes <run>/report.html (trainer/report.h) from the run's metrics.jsonl — a table of
// every evaluation stage side by side and SVG charts of the chosen metrics of every training stage — and
// prints the evaluation table to the log. Usually the last stage of an experiment; publishes @report.
#pragma once

#include <string>
#include <vector>

#include "core/config_schema.h"

namespace anvil {

class RunContext;

struct ReportOptions {
    std::string title = "";
    std::vector<std::string> metrics = {"loss",          "eval_loss", "reward",      "solve_rate",
                                        "eval_greedy_accuracy", "kl", "entropy", "clip_fraction_high",
                                        "completion_tokens", "grad_norm"};

    static const config::Section<ReportOptions>& section();
};

void run_report_stage(const ReportOptions& options, RunContext& ctx);

}  // namespace anvil
