// Implementation of trainer/report.h.
#include "trainer/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/jsonl.h"

namespace anvil {

namespace {

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// A short label for an axis value.
std::string axis_label(double v) {
    char buf[64];
    const double a = std::fabs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e5))
        std::snprintf(buf, sizeof buf, "%.2e", v);
    else
        std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string escape_html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// Metrics shown in the evaluation table, in this order, when some evaluation stage logged them.
std::vector<std::string> table_columns(const std::vector<MetricRow>& evaluations) {
    std::vector<std::string> columns;
    for (const MetricRow& r : evaluations)
        for (const auto& [name, v] : r.values)
            if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    std::stable_sort(columns.begin(), columns.end(), [](const std::string& a, const std::string& b) {
        return (a == "greedy_accuracy") > (b == "greedy_accuracy");
    });
    return columns;
}

}  // namespace

std::vector<MetricRow> read_metric_rows(const std::filesystem::path& file) {
    std::vector<MetricRow> rows;
    for_each_jsonl(file, false, [&](const nlohmann::json& j, size_t) {
        MetricRow r;
        r.stage = j.at("stage").get<std::string>();
        r.step = j.at("step").get<int64_t>();
        for (const auto& [name, v] : j.items())
            if (name != "stage" && name != "step" && name != "time" && v.is_number()) r.values[name] = v.get<double>();
        rows.push_back(std::move(r));
    });
    return rows;
}

std::vector<ChartSeries> select_series(const std::vector<MetricRow>& rows, const std::vector<std::string>& metrics) {
    std::vector<std::string> stages;
    std::map<std::string, std::set<int64_t>> steps;
    for (const MetricRow& r : rows) {
        if (std::find(stages.begin(), stages.end(), r.stage) == stages.end()) stages.push_back(r.stage);
        steps[r.stage].insert(r.step);
    }
    std::vector<ChartSeries> out;
    for (const std::string& stage : stages) {
        if (steps[stage].size() < 2) continue;
        for (const std::string& metric : metrics) {
            ChartSeries s{stage, metric, {}};
            for (const MetricRow& r : rows) {
                if (r.stage != stage) continue;
                auto it = r.values.find(metric);
                if (it != r.values.end() && std::isfinite(it->second)) s.points.emplace_back(r.step, it->second);
            }
            if (!s.points.empty()) out.push_back(std::move(s));
        }
    }
    return out;
}

std::vector<MetricRow> evaluation_rows(const std::vector<MetricRow>& rows) {
    std::map<std::string, int> logged;
    for (const MetricRow& r : rows) logged[r.stage] += 1;
    std::vector<MetricRow> out;
    for (const MetricRow& r : rows)
        if (logged[r.stage] == 1 && r.step == 0) out.push_back(r);
    return out;
}

std::string evaluation_table(const std::vector<MetricRow>& evaluations) {
    if (evaluations.empty()) return "";
    const std::vector<std::string> columns = table_columns(evaluations);
    size_t name_width = 5;
    for (const MetricRow& r : evaluations) name_width = std::max(name_width, r.stage.size());
    auto pad = [](std::string s, size_t width) { return s.size() >= width ? s : s + std::string(width - s.size(), ' '); };
    std::string out = pad("stage", name_width + 2);
    for (const auto& c : columns) out += pad(c, std::max<size_t>(c.size(), 8) + 2);
    out += "change\n";
    const MetricRow* previous = nullptr;
    for (const MetricRow& r : evaluations) {
        std::string line = pad(r.stage, name_width + 2);
        for (const auto& c : columns) {
            auto it = r.values.find(c);
            line += pad(it == r.values.end() ? "-" : fixed(100 * it->second, 1) + "%", std::max<size_t>(c.size(), 8) + 2);
        }
        if (previous && r.values.count(columns[0]) && previous->values.count(columns[0])) {
            const double delta = 100 * (r.values.at(columns[0]) - previous->values.at(columns[0]));
            line += (delta >= 0 ? "+" : "") + fixed(delta, 1) + " pts";
        }
        out += line + "\n";
        previous = &r;
    }
    return out;
}

std::string svg_line_chart(const ChartSeries& series, int width, int height) {
    ANVIL_CHECK(!series.points.empty(), "svg_line_chart: no points for ", series.stage, "/", series.metric);
    const double left = 58, right = 12, top = 26, bottom = 30;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    double x0 = static_cast<double>(series.points.front().first), x1 = x0;
    double y0 = series.points.front().second, y1 = y0;
    for (const auto& [x, y] : series.points) {
        x0 = std::min(x0, static_cast<double>(x));
        x1 = std::max(x1, static_cast<double>(x));
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
    }
    if (x1 == x0) x1 = x0 + 1;
    if (y1 == y0) {
        y0 -= 0.5 * (std::fabs(y0) + 1e-9);
        y1 += 0.5 * (std::fabs(y1) + 1e-9);
    }
    auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * plot_w; };
    auto py = [&](double y) { return top + (1.0 - (y - y0) / (y1 - y0)) * plot_h; };
    std::string points;
    for (const auto& [x, y] : series.points) points += fixed(px(static_cast<double>(x)), 1) + "," + fixed(py(y), 1) + " ";
    const std::string title = escape_html(series.stage + " / " + series.metric);
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                      std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
    svg += "<text x=\"" + fixed(left, 0) + "\" y=\"16\" font-size=\"13\" font-weight=\"bold\">" + title + "</text>\n";
    svg += "<rect x=\"" + fixed(left, 0) + "\" y=\"" + fixed(top, 0) + "\" width=\"" + fixed(plot_w, 0) + "\" height=\"" +
           fixed(plot_h, 0) + "\" fill=\"#fafafa\" stroke=\"#999\"/>\n";
    svg += "<text x=\"" + fixed(left - 4, 0) + "\" y=\"" + fixed(top + 9, 0) + "\" text-anchor=\"end\">" + axis_label(y1) + "</text>\n";
    svg += "<text x=\"" + fixed(left - 4, 0) + "\" y=\"" + fixed(top + plot_h, 0) + "\" text-anchor=\"end\">" + axis_label(y0) +
           "</text>\n";
    svg += "<text x=\"" + fixed(left, 0) + "\" y=\"" + fixed(height - 10, 0) + "\">" + std::to_string(static_cast<int64_t>(x0)) + "</text>\n";
    svg += "<text x=\"" + fixed(left + plot_w, 0) + "\" y=\"" + fixed(height - 10, 0) + "\" text-anchor=\"end\">step " +
           std::to_string(static_cast<int64_t>(x1)) + "</text>\n";
    svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.6\" points=\"" + points + "\"/>\n";
    if (series.points.size() <= 40)
        for (const auto& [x, y] : series.points)
            svg += "<circle cx=\"" + fixed(px(static_cast<double>(x)), 1) + "\" cy=\"" + fixed(py(y), 1) + "\" r=\"2\" fill=\"#1f77b4\"/>\n";
    svg += "<text x=\"" + fixed(left + plot_w - 4, 0) + "\" y=\"" + fixed(top + 14, 0) + "\" text-anchor=\"end\" fill=\"#1f77b4\">last " +
           axis_label(series.points.back().second) + "</text>\n";
    svg += "</svg>\n";
    return svg;
}

std::string render_report_html(const std::string& title, const std::vector<MetricRow>& evaluations,
                               const std::vector<ChartSeries>& series) {
    std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape_html(title) +
                       "</title>\n<style>body{font-family:sans-serif;margin:24px;color:#222}"
                       "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
                       "th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:12px}"
                       "</style></head><body>\n<h1>" +
                       escape_html(title) + "</h1>\n";
    if (!evaluations.empty()) {
        const std::vector<std::string> columns = table_columns(evaluations);
        html += "<h2>Evaluations</h2>\n<table><tr><th>stage</th>";
        for (const auto& c : columns) html += "<th>" + escape_html(c) + "</th>";
        html += "</tr>\n";
        for (const MetricRow& r : evaluations) {
            html += "<tr><td>" + escape_html(r.stage) + "</td>";
            for (const auto& c : columns) {
                auto it = r.values.find(c);
                html += "<td>" + (it == r.values.end() ? std::string("-") : fixed(100 * it->second, 1) + "%") + "</td>";
            }
            html += "</tr>\n";
        }
        html += "</table>\n";
    }
    std::string current;
    for (const ChartSeries& s : series) {
        if (s.stage != current) {
            if (!current.empty()) html += "</div>\n";
            html += "<h2>" + escape_html(s.stage) + "</h2>\n<div class=\"charts\">\n";
            current = s.stage;
        }
        html += svg_line_chart(s);
    }
    if (!current.empty()) html += "</div>\n";
    html += "</body></html>\n";
    return html;
}

}  // namespace anvil
