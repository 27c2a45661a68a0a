// Implementation of environments/arithmetic_tasks.h.
#include "environments/arithmetic_tasks.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "core/hash.h"

namespace anvil {
namespace {

// The digits of n >= 0, least significant first.
std::vector<int64_t> digits(int64_t n) {
    std::vector<int64_t> d;
    do {
        d.push_back(n % 10);
        n /= 10;
    } while (n > 0);
    return d;
}

// Column addition of two magnitudes: "4 + 9 = 13, 6 + 7 + 1 = 14".
std::string add_columns(int64_t x, int64_t y) {
    const std::vector<int64_t> dx = digits(x), dy = digits(y);
    std::string out;
    int64_t carry = 0;
    for (size_t i = 0; i < std::max(dx.size(), dy.size()); ++i) {
        const int64_t a = i < dx.size() ? dx[i] : 0, b = i < dy.size() ? dy[i] : 0, sum = a + b + carry;
        out += str(i ? ", " : "", a, " + ", b, carry ? " + 1" : "", " = ", sum);
        carry = sum / 10;
    }
    return out;
}

// Column subtraction of magnitudes top >= bottom with borrows: "14 - 9 = 5, 6 - 1 - 2 = 3".
std::string subtract_columns(int64_t top, int64_t bottom) {
    const std::vector<int64_t> dt = digits(top), db = digits(bottom);
    std::string out;
    int64_t borrow = 0;
    for (size_t i = 0; i < dt.size(); ++i) {
        const int64_t a = dt[i], b = i < db.size() ? db[i] : 0, value = a - borrow;
        const bool borrows = value < b;
        out += str(i ? ", " : "", borrows ? "1" : "", a, borrow ? " - 1" : "", " - ", b, " = ", value + (borrows ? 10 : 0) - b);
        borrow = borrows ? 1 : 0;
    }
    return out;
}

// Evaluates left to right with * binding tighter, writing one worked line per reduction as the solution.
ArithmeticTask make_task(SplitMix64& rng, const ArithmeticTaskOptions& o, bool columns) {
    int64_t terms = rng.uniform(o.min_terms, o.max_terms);
    std::vector<int64_t> values;
    std::vector<char> ops;
    for (int64_t i = 0; i < terms; ++i) {
        values.push_back(rng.uniform(o.min_operand, o.max_operand));
        if (i + 1 < terms) ops.push_back(o.operators[static_cast<size_t>(rng.uniform(0, static_cast<int64_t>(o.operators.size()) - 1))]);
    }
    auto expression = [](const std::vector<int64_t>& v, const std::vector<char>& op) {
        std::string s = std::to_string(v[0]);
        for (size_t i = 0; i < op.size(); ++i) s += str(" ", op[i], " ", v[i + 1]);
        return s;
    };
    ArithmeticTask task;
    task.prompt = str("What is ", expression(values, ops), "?");
    std::string steps;
    while (!ops.empty()) {
        size_t i = 0;
        for (size_t k = 0; k < ops.size(); ++k)
            if (ops[k] == '*') {
                i = k;
                break;
            }
        int64_t a = values[i], b = values[i + 1];
        steps += arithmetic_step(a, ops[i], b, columns);
        values[i] = ops[i] == '*' ? a * b : ops[i] == '+' ? a + b : a - b;
        values.erase(values.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
    }
    task.answer = std::to_string(values[0]);
    task.solution = str(steps, "The answer is \\boxed{", task.answer, "}.");
    return task;
}

}  // namespace

std::string arithmetic_step(int64_t a, char op, int64_t b, bool columns) {
    ANVIL_CHECK(op == '+' || op == '-' || op == '*', "unknown arithmetic operator '", op, "'");
    const int64_t result = op == '*' ? a * b : op == '+' ? a + b : a - b;
    const std::string equation = str(a, " ", op, " ", b, " = ", result, ". ");
    if (!columns || op == '*') return equation;
    // a op b = x + y on magnitudes: a sum when both signs agree (a subtracted 0 counts as negative), else a difference.
    const int64_t x = a < 0 ? -a : a, y = b < 0 ? -b : b;
    const bool negative_x = a < 0, negative_y = op == '+' ? b < 0 : b >= 0;
    if (negative_x == negative_y) return str("Column by column, ", x, " + ", y, ": ", add_columns(x, y), ", so ", equation);
    const int64_t top = std::max(x, y), bottom = std::min(x, y);
    return str("Column by column, ", top, " - ", bottom, ": ", subtract_columns(top, bottom), ", so ", equation);
}

const config::Section<ArithmeticTaskOptions>& ArithmeticTaskOptions::section() {
    static const config::Section<ArithmeticTaskOptions> s = [] {
        config::Section<ArithmeticTaskOptions> s("arithmetic", "Generated arithmetic problems.");
        s.field("train_count", &ArithmeticTaskOptions::train_count, "Problems in train.jsonl.").min(1);
        s.field("test_count", &ArithmeticTaskOptions::test_count, "Held-out problems in test.jsonl, disjoint from train.").min(0);
        s.field("min_operand", &ArithmeticTaskOptions::min_operand, "Smallest operand.").min(0);
        s.field("max_operand", &ArithmeticTaskOptions::max_operand, "Largest operand.").min(0).max(1e9);
        s.field("min_terms", &ArithmeticTaskOptions::min_terms, "Fewest operands in a problem.").min(2);
        s.field("max_terms", &ArithmeticTaskOptions::max_terms, "Most operands in a problem.").min(2).max(8);
        s.field("operators", &ArithmeticTaskOptions::operators, "Operators to draw from, any of \"+-*\".");
        s.field("column_fraction", &ArithmeticTaskOptions::column_fraction,
                "Share of problems (train and test) whose solution works each + and - column by column, right to left, "
                "instead of stating it; 0 = none, 1 = all. Drawn from its own stream, so the problems do not change.")
            .min(0)
            .max(1);
        s.field("seed", &ArithmeticTaskOptions::seed, "Generator seed, added to run.seed.").min(0);
        s.check([](const ArithmeticTaskOptions& o, const config::Reporter& report) {
            if (o.max_operand < o.min_operand) report("max_operand", "must be >= min_operand");
            if (o.max_terms < o.min_terms) report("max_terms", "must be >= min_terms");
            if (o.operators.empty() || o.operators.find_first_not_of("+-*") != std::string::npos)
                report("operators", "must be a non-empty string of +, - and *");
        });
        return s;
    }();
    return s;
}

ArithmeticTaskSets generate_arithmetic_tasks(const ArithmeticTaskOptions& o) {
    SplitMix64 rng{static_cast<uint64_t>(o.seed)};
    SplitMix64 style_rng{static_cast<uint64_t>(o.seed) ^ 0x5DEECE66Dull};
    std::unordered_set<std::string> seen;
    ArithmeticTaskSets sets;
    const int64_t wanted = o.train_count + o.test_count;
    const int64_t max_attempts = 50 * wanted + 1000;
    for (int64_t attempt = 0; static_cast<int64_t>(seen.size()) < wanted; ++attempt) {
        if (attempt >= max_attempts)
            throw UsageError(str("cannot generate ", wanted, " distinct arithmetic problems from operands [", o.min_operand,
                                 ", ", o.max_operand, "] with ", o.min_terms, "-", o.max_terms,
                                 " terms; widen the ranges or ask for fewer"));
        const bool columns = static_cast<double>(style_rng.next() >> 11) * 0x1.0p-53 < o.column_fraction;
        ArithmeticTask task = make_task(rng, o, columns);
        if (!seen.insert(task.prompt).second) continue;
        bool to_test = static_cast<int64_t>(sets.test.size()) < o.test_count;  // test first: it stays fixed as train grows
        auto& set = to_test ? sets.test : sets.train;
        task.id = str(to_test ? "test-" : "train-", set.size());
        set.push_back(std::move(task));
    }
    return sets;
}

std::string arithmetic_tasks_jsonl(const std::vector<ArithmeticTask>& tasks) {
    std::string out;
    for (const auto& t : tasks) {
        nlohmann::ordered_json j = {{"id", t.id}, {"prompt", t.prompt}, {"answer", t.answer}, {"solution", t.solution},
                                    {"data_source", "arithmetic"}};
        out += j.dump() + "\n";
    }
    return out;
}

}  // namespace anvil
