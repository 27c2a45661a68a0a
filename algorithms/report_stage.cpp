// Implementation of algorithms/report_stage.h.
#include "algorithms/report_stage.h"

#include "core/files.h"
#include "core/log.h"
#include "trainer/experiment.h"
#include "trainer/report.h"
#include "trainer/run_context.h"

namespace anvil {

const config::Section<ReportOptions>& ReportOptions::section() {
    static const config::Section<ReportOptions> s = [] {
        config::Section<ReportOptions> s("report", "An HTML report of the run.");
        s.field("title", &ReportOptions::title, "Page title; \"\" = the run name.");
        s.field("metrics", &ReportOptions::metrics, "Per-step metrics charted for every training stage that logged them.");
        return s;
    }();
    return s;
}

void run_report_stage(const ReportOptions& options, RunContext& ctx) {
    const auto metrics_file = ctx.run_dir() / "metrics.jsonl";
    const std::vector<MetricRow> rows = read_metric_rows(metrics_file);
    const std::vector<MetricRow> evaluations = evaluation_rows(rows);
    const std::vector<ChartSeries> series = select_series(rows, options.metrics);
    const std::string title = options.title.empty() ? str("Anvil run '", ctx.experiment().run.name, "'") : options.title;
    const auto out = ctx.run_dir() / "report.html";
    write_file_atomic(out, render_report_html(title, evaluations, series));
    if (!evaluations.empty()) log::info("evaluations of this run:\n", evaluation_table(evaluations));
    log::info("report with ", series.size(), " charts: ", out.string());
    ctx.publish("report", out.string());
}

}  // namespace anvil
