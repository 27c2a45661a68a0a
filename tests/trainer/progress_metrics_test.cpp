// Unit tests for trainer/progress.h (line rendering) and trainer/metrics.h (metrics.jsonl records).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/text.h"
#include "trainer/metrics.h"
#include "trainer/progress.h"

namespace anvil {

TEST(Progress, RendersCountsRateEtaAndMetrics) {
    std::string line = Progress::render("sft", 25, 100, 10.0, {{"loss", 1.2345}, {"lr", 1e-5}}, true);
    EXPECT_EQ(line, "sft 25/100 [=====>              ] 25% | 2.5 it/s | ETA 0:30 | loss 1.234 lr 1.000e-05");
    EXPECT_EQ(Progress::render("gen", 2, 4, 20.0, {}, false), "gen 2/4 50% | 10 s/it | ETA 0:20");
    EXPECT_EQ(Progress::render("x", 4, 4, 8.0, {}, false), "x 4/4 100% | 2 s/it | took 0:08");
    EXPECT_EQ(Progress::render("x", 0, 4, 0.0, {}, true), "x 0/4 [>                   ] 0%");
}

TEST(Metrics, AppendsOneObjectPerStep) {
    auto dir = std::filesystem::temp_directory_path() / ("anvil_metrics_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
        MetricsLogger m(dir, /*tensorboard=*/true);
        m.log("sft", 1, {{"loss", 2.0}, {"lr", 0.1}});
        m.log("sft", 2, {{"loss", std::nan("")}});
    }
    auto lines = split(trim(read_file(dir / "metrics.jsonl")), '\n');
    ASSERT_EQ(lines.size(), 2u);
    auto first = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(first["stage"], "sft");
    EXPECT_EQ(first["step"], 1);
    EXPECT_EQ(first["loss"], 2.0);
    EXPECT_TRUE(first.contains("time"));
    EXPECT_EQ(nlohmann::json::parse(lines[1])["loss"], "nan");
    EXPECT_TRUE(std::filesystem::exists(dir / "tensorboard"));
    MetricsLogger disabled;
    EXPECT_FALSE(disabled.enabled());
    disabled.log("x", 1, {{"a", 1}});
    std::filesystem::remove_all(dir);
}

}  // namespace anvil
