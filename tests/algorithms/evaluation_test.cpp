// Unit tests for algorithms/evaluation.h: the unbiased pass@k estimator against its closed form
// 1 − C(n−c,k)/C(n,k) (Chen et al. 2021), and prompt rendering.
#include <gtest/gtest.h>

#include "algorithms/evaluation.h"
#include "core/error.h"

namespace anvil {

namespace {
double binomial(int64_t n, int64_t k) {
    double r = 1;
    for (int64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
    return r;
}
}  // namespace

TEST(PassAtK, MatchesTheClosedForm) {
    EXPECT_DOUBLE_EQ(pass_at_k(5, 2, 1), 0.4);
    EXPECT_NEAR(pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0, 1e-15);
    EXPECT_DOUBLE_EQ(pass_at_k(4, 0, 2), 0.0);
    EXPECT_DOUBLE_EQ(pass_at_k(4, 3, 2), 1.0);  // n − c < k: every k-subset holds a correct sample
    for (int64_t n : {1, 7, 16})
        for (int64_t c = 0; c <= n; ++c)
            for (int64_t k = 1; k <= n; ++k) {
                double expected = n - c < k ? 1.0 : 1.0 - binomial(n - c, k) / binomial(n, k);
                EXPECT_NEAR(pass_at_k(n, c, k), expected, 1e-12) << n << " " << c << " " << k;
            }
    EXPECT_THROW(pass_at_k(3, 1, 4), Error);
}

TEST(Evaluation, RendersPromptsAndReportsMetrics) {
    env::Task task;
    task.prompt = "What is 2 + 2?";
    EXPECT_EQ(render_prompt("Question: {prompt}\nAnswer:", task), "Question: What is 2 + 2?\nAnswer:");
    EvalReport report;
    report.greedy_accuracy = 0.5;
    report.samples_per_task = 4;
    report.mean_at_n = 0.25;
    report.pass_at_k = {{1, 0.25}, {4, 0.75}};
    Metrics m = report.metrics();
    ASSERT_EQ(m.size(), 4u);
    EXPECT_EQ(m[1].first, "mean@4");
    EXPECT_EQ(m[3].first, "pass@4");
    EXPECT_NE(report.table("t").find("pass@4             75.00%"), std::string::npos) << report.table("t");
}

}  // namespace anvil
