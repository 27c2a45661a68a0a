// A run's report: a self-contained HTML page (inline SVG line charts, no scripts, no external files) of the
// per-step metrics in <run>/metrics.jsonl, and a text table comparing every evaluation stage (the stages
// that logged only step 0) side by side. Pure functions over parsed metric rows; the "report" stage
// (algorithms/report_stage.h) reads the file and writes <run>/report.html.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace anvil {

// One line of metrics.jsonl.
struct MetricRow {
    std::string stage;
    int64_t step = 0;
    std::map<std::string, double> values;
};

// Reads metrics.jsonl; malformed lines are an error naming file and line.
std::vector<MetricRow> read_metric_rows(const std::filesystem::path& file);

// One chart: a metric of a stage over its steps.
struct ChartSeries {
    std::string stage, metric;
    std::vector<std::pair<int64_t, double>> points;
};

// The series to draw: for every stage with more than one logged step, each metric named in `metrics` that
// it logged, in the order of `metrics`.
std::vector<ChartSeries> select_series(const std::vector<MetricRow>& rows, const std::vector<std::string>& metrics);

// The evaluation stages (only a step-0 row) in run order, each with its values, for the comparison table.
std::vector<MetricRow> evaluation_rows(const std::vector<MetricRow>& rows);

// A text table: one row per evaluation stage, one column per metric they share (percentages), with the
// change of the first column against the previous row.
std::string evaluation_table(const std::vector<MetricRow>& evaluations);

// An SVG line chart (width × height pixels) with axes, min/max labels and the last value.
std::string svg_line_chart(const ChartSeries& series, int width = 420, int height = 220);

// The whole page.
std::string render_report_html(const std::string& title, const std::vector<MetricRow>& evaluations,
                               const std::vector<ChartSeries>& series);

}  // namespace anvil
