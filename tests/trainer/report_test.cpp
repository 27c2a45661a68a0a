// Unit tests of trainer/report.h: which series and evaluations a run's metric rows give, the evaluation
// table, the SVG charts and the HTML page.
#include "trainer/report.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/files.h"

namespace anvil {
namespace {

std::vector<MetricRow> sample_rows() {
    return {{"eval_initial", 0, {{"greedy_accuracy", 0.0}}},
            {"sft", 0, {{"eval_loss", 5.0}}},
            {"sft", 1, {{"loss", 4.0}, {"lr", 1e-3}}},
            {"sft", 2, {{"loss", 3.0}, {"lr", 1e-3}, {"eval_loss", 2.5}}},
            {"eval_sft", 0, {{"greedy_accuracy", 0.398}, {"pass@4", 0.554}}},
            {"grpo", 1, {{"reward", 0.2}, {"kl", 0.0}}},
            {"grpo", 2, {{"reward", 0.35}, {"kl", 0.01}}},
            {"eval_grpo", 0, {{"greedy_accuracy", 0.52}}}};
}

TEST(Report, SeriesComeFromTrainingStagesInTheRequestedOrder) {
    auto series = select_series(sample_rows(), {"reward", "loss", "eval_loss", "missing"});
    ASSERT_EQ(series.size(), 3u);
    EXPECT_EQ(series[0].stage, "sft");
    EXPECT_EQ(series[0].metric, "loss");
    EXPECT_EQ(series[0].points, (std::vector<std::pair<int64_t, double>>{{1, 4.0}, {2, 3.0}}));
    EXPECT_EQ(series[1].metric, "eval_loss");
    EXPECT_EQ(series[1].points.size(), 2u);
    EXPECT_EQ(series[2].stage, "grpo");
    EXPECT_EQ(series[2].metric, "reward");
}

TEST(Report, EvaluationTableComparesStagesInRunOrder) {
    auto evals = evaluation_rows(sample_rows());
    ASSERT_EQ(evals.size(), 3u);
    EXPECT_EQ(evals[1].stage, "eval_sft");
    const std::string table = evaluation_table(evals);
    EXPECT_NE(table.find("greedy_accuracy"), std::string::npos) << table;
    EXPECT_NE(table.find("39.8%"), std::string::npos) << table;
    EXPECT_NE(table.find("+12.2 pts"), std::string::npos) << table;  // 39.8% -> 52.0%
    EXPECT_NE(table.find("55.4%"), std::string::npos) << table;
    EXPECT_LT(table.find("eval_initial"), table.find("eval_grpo"));
}

TEST(Report, SvgChartDrawsEveryPointAndLabelsTheRange) {
    ChartSeries s{"grpo", "reward", {{1, 0.2}, {2, 0.35}, {3, 0.3}}};
    const std::string svg = svg_line_chart(s);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("<polyline"), std::string::npos);
    size_t circles = 0;
    for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
    EXPECT_EQ(circles, 3u);
    EXPECT_NE(svg.find(">0.35<"), std::string::npos) << svg;
    EXPECT_NE(svg.find(">0.2<"), std::string::npos) << svg;
    EXPECT_NE(svg.find("step 3"), std::string::npos);
    EXPECT_THROW(svg_line_chart(ChartSeries{"x", "y", {}}), Error);
    EXPECT_NO_THROW(svg_line_chart(ChartSeries{"x", "flat", {{0, 1.0}, {5, 1.0}}}));
}

TEST(Report, HtmlPageHoldsTheTableAndChartsAndEscapesNames) {
    auto rows = sample_rows();
    rows.push_back({"a<b", 0, {{"greedy_accuracy", 0.5}}});
    const std::string html = render_report_html("Run <x>", evaluation_rows(rows), select_series(rows, {"reward", "loss"}));
    EXPECT_NE(html.find("<title>Run &lt;x&gt;</title>"), std::string::npos);
    EXPECT_NE(html.find("<td>a&lt;b</td>"), std::string::npos);
    EXPECT_NE(html.find("<td>52.0%</td>"), std::string::npos);
    size_t charts = 0;
    for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++charts;
    EXPECT_EQ(charts, 2u);
}

TEST(Report, ReadsMetricsJsonlAndNamesBadLines) {
    const auto file = std::filesystem::temp_directory_path() / "anvil_report_test.jsonl";
    write_file_atomic(file, "{\"stage\":\"sft\",\"step\":1,\"time\":5,\"loss\":2.5}\n{\"stage\":\"sft\",\"step\":2,\"loss\":2.0}\n");
    auto rows = read_metric_rows(file);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].values.at("loss"), 2.0);
    EXPECT_EQ(rows[0].values.count("time"), 0u);
    write_file_atomic(file, "{\"stage\":\"sft\",\"step\":1}\nnot json\n");
    try {
        read_metric_rows(file);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("anvil_report_test.jsonl:2"), std::string::npos) << e.what();
    }
    std::filesystem::remove(file);
}

}  // namespace
}  // namespace anvil
