// Unit tests for the generated arithmetic tasks: the worked lines in both styles (golden strings and a
// column-by-column property check over every pair of small operands) and how column_fraction mixes them
// without changing the problems.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "environments/arithmetic_tasks.h"

namespace anvil {

TEST(ArithmeticTasks, StepsStatedDirectly) {
    EXPECT_EQ(arithmetic_step(64, '+', 79, false), "64 + 79 = 143. ");
    EXPECT_EQ(arithmetic_step(25, '-', 79, false), "25 - 79 = -54. ");
    EXPECT_EQ(arithmetic_step(6, '*', 7, true), "6 * 7 = 42. ");
}

TEST(ArithmeticTasks, StepsColumnByColumn) {
    EXPECT_EQ(arithmetic_step(64, '+', 79, true), "Column by column, 64 + 79: 4 + 9 = 13, 6 + 7 + 1 = 14, so 64 + 79 = 143. ");
    EXPECT_EQ(arithmetic_step(7, '+', 58, true), "Column by column, 7 + 58: 7 + 8 = 15, 0 + 5 + 1 = 6, so 7 + 58 = 65. ");
    EXPECT_EQ(arithmetic_step(92, '-', 14, true), "Column by column, 92 - 14: 12 - 4 = 8, 9 - 1 - 1 = 7, so 92 - 14 = 78. ");
    EXPECT_EQ(arithmetic_step(25, '-', 79, true), "Column by column, 79 - 25: 9 - 5 = 4, 7 - 2 = 5, so 25 - 79 = -54. ");
    EXPECT_EQ(arithmetic_step(7, '-', 63, true), "Column by column, 63 - 7: 13 - 7 = 6, 6 - 1 - 0 = 5, so 7 - 63 = -56. ");
    EXPECT_EQ(arithmetic_step(100, '-', 1, true),
              "Column by column, 100 - 1: 10 - 1 = 9, 10 - 1 - 0 = 9, 1 - 1 - 0 = 0, so 100 - 1 = 99. ");
    EXPECT_EQ(arithmetic_step(55, '-', 0, true), "Column by column, 55 - 0: 5 - 0 = 5, 5 - 0 = 5, so 55 - 0 = 55. ");
    // Intermediate results of longer problems can be negative: the columns work on magnitudes.
    EXPECT_EQ(arithmetic_step(-54, '+', 20, true), "Column by column, 54 - 20: 4 - 0 = 4, 5 - 2 = 3, so -54 + 20 = -34. ");
    EXPECT_EQ(arithmetic_step(-54, '-', 20, true), "Column by column, 54 + 20: 4 + 0 = 4, 5 + 2 = 7, so -54 - 20 = -74. ");
}

// Reading the column results back (a sum's last column whole, then each earlier column's units digit; a
// difference's digits) must give the magnitude of the stated result, for every pair of operands.
TEST(ArithmeticTasks, ColumnsSpellTheResult) {
    const std::regex line(R"(Column by column, (\d+) ([+-]) (\d+): (.*), so .* = (-?\d+)\. )");
    const std::regex column(R"(= (\d+))");
    for (int64_t a = -120; a <= 120; ++a)
        for (int64_t b = 0; b <= 120; ++b)
            for (char op : {'+', '-'}) {
                const std::string text = arithmetic_step(a, op, b, true);
                std::smatch m;
                ASSERT_TRUE(std::regex_match(text, m, line)) << text;
                std::vector<std::string> results;
                const std::string columns = m[4];
                for (std::sregex_iterator it(columns.begin(), columns.end(), column), end; it != end; ++it)
                    results.push_back((*it)[1]);
                std::string spelled;
                for (size_t i = 0; i < results.size(); ++i) {
                    const bool whole = m[2] == "+" && i + 1 == results.size();
                    spelled = (whole ? results[i] : results[i].substr(results[i].size() - 1)) + spelled;
                }
                const int64_t result = op == '+' ? a + b : a - b;
                EXPECT_EQ(std::stoll(spelled), result < 0 ? -result : result) << text;
                EXPECT_EQ(std::stoll(m[5].str()), result) << text;
            }
}

TEST(ArithmeticTasks, ColumnFractionMixesStylesOfTheSameProblems) {
    ArithmeticTaskOptions o;
    o.train_count = 2000;
    o.test_count = 200;
    o.max_terms = 2;
    const ArithmeticTaskSets plain = generate_arithmetic_tasks(o);
    o.column_fraction = 0.3;
    const ArithmeticTaskSets mixed = generate_arithmetic_tasks(o);
    o.column_fraction = 1.0;
    const ArithmeticTaskSets all = generate_arithmetic_tasks(o);
    ASSERT_EQ(mixed.train.size(), plain.train.size());
    size_t columns = 0;
    for (size_t i = 0; i < plain.train.size(); ++i) {
        EXPECT_EQ(mixed.train[i].prompt, plain.train[i].prompt);
        EXPECT_EQ(all.train[i].answer, plain.train[i].answer);
        EXPECT_EQ(plain.train[i].solution.find("Column"), std::string::npos);
        EXPECT_EQ(all.train[i].solution.rfind("Column by column, ", 0), 0u) << all.train[i].solution;
        const bool is_columns = mixed.train[i].solution.rfind("Column by column, ", 0) == 0;
        EXPECT_EQ(mixed.train[i].solution, is_columns ? all.train[i].solution : plain.train[i].solution);
        columns += is_columns;
    }
    EXPECT_GT(columns, 500u);
    EXPECT_LT(columns, 700u);
    for (size_t i = 0; i < plain.test.size(); ++i) EXPECT_EQ(mixed.test[i].prompt, plain.test[i].prompt);
}

}  // namespace anvil
