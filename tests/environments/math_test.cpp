// Unit tests for the math verifier: answer extraction, normalisation, the table of tricky equivalences,
// feedback, and the GSM8K / MATH test sets (reference answers accepted, perturbed answers rejected).
#include <gtest/gtest.h>

#include <cctype>
#include <regex>

#include "environments/math_answer.h"
#include "environments/math_equivalence.h"
#include "environments/math_expr.h"
#include "environments/math_verifier.h"
#include "environments/task.h"

namespace anvil::env {

TEST(MathAnswer, ExtractsBoxedWithNestedBraces) {
    EXPECT_EQ(last_boxed("so \\boxed{1} then \\boxed{\\frac{\\sqrt{3}}{2}}."), "\\frac{\\sqrt{3}}{2}");
    EXPECT_EQ(last_boxed("\\boxed 5$"), "5");
    EXPECT_EQ(last_boxed("\\fbox{x+1}"), "x+1");
    EXPECT_EQ(last_boxed("\\boxed{\\{1,2\\}}"), "\\{1,2\\}");
    EXPECT_FALSE(last_boxed("\\boxed{unclosed").has_value());
    EXPECT_FALSE(last_boxed("no answer").has_value());
}

TEST(MathAnswer, SourcesInConfiguredOrder) {
    using S = AnswerSource;
    auto a = extract_answer("work\n#### 1,234\n", {S::boxed, S::hashes});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "1,234");
    EXPECT_EQ(a->source, S::hashes);
    a = extract_answer("So the answer is 3.5. Done", {S::boxed, S::answer_is});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "3.5");
    a = extract_answer("The final answer is $\\boxed{7}$.", {S::answer_is});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "7");
    a = extract_answer("I get 12 apples and then -3.25 more", {S::boxed, S::last_number});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "-3.25");
    EXPECT_FALSE(extract_answer("I get 12", {S::boxed, S::answer_is}));
    EXPECT_THROW(parse_answer_source("bogus"), UsageError);
}

TEST(MathAnswer, Normalisation) {
    EXPECT_EQ(normalize_answer("$\\dfrac{3}{4}$"), "\\frac{3}{4}");
    EXPECT_EQ(normalize_answer("1,000,000"), "1000000");
    EXPECT_EQ(normalize_answer("1\\,000"), "1000");
    EXPECT_EQ(normalize_answer("(1,2)"), "(1,2)");
    EXPECT_EQ(normalize_answer("90^\\circ"), "90");
    EXPECT_EQ(normalize_answer("\\$5.00"), "5.00");
    EXPECT_EQ(normalize_answer("\\text{Monday}."), "Monday");
    EXPECT_EQ(normalize_answer("\\left( 3, \\frac{\\pi}{2} \\right)"), "(3,\\frac{\\pi}{2})");
}

TEST(MathExpr, ExactAndNumericValues) {
    auto e = Expr::parse("\\frac{1}{2}+0.25");
    ASSERT_TRUE(e);
    ASSERT_TRUE(e->exact());
    EXPECT_EQ(*e->exact(), (Rational{3, 4}));
    e = Expr::parse("2\\sqrt{2}");
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->exact());
    EXPECT_NEAR(e->eval({}), 2.8284271247, 1e-9);
    e = Expr::parse("(x+1)(x-1)");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->variables(), (std::set<char>{'x'}));
    EXPECT_NEAR(e->eval({{'x', 3.0}}), 8.0, 1e-12);
    EXPECT_FALSE(Expr::parse("1+"));
    EXPECT_FALSE(Expr::parse("\\frac{1}"));
}

struct EquivCase {
    const char* a;
    const char* b;
    bool equal;
};

TEST(MathEquivalence, TrickyTable) {
    const EquivCase cases[] = {
        {"0.5", "\\frac{1}{2}", true},
        {"1/2", "\\frac{1}{2}", true},
        {"50\\%", "\\frac{1}{2}", true},
        {"50\\%", "50", true},
        {"0.5", "1/2", true},
        {"\\dfrac{3}{4}", "0.75", true},
        {"\\tfrac34", "0.75", true},
        {"(1,2)", "(2,1)", false},
        {"(1,2)", "(1,2)", true},
        {"x+1", "1+x", true},
        {"x^2-1", "(x-1)(x+1)", true},
        {"x^2+1", "(x+1)^2", false},
        {"2\\sqrt{2}", "\\sqrt{8}", true},
        {"\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", true},
        {"\\frac{\\pi}{2}", "\\pi/2", true},
        {"1,000", "1000", true},
        {"10", "10.0", true},
        {"10", "10.01", false},
        {"0.333333", "\\frac{1}{3}", false},
        {"-3", "- 3", true},
        {"3", "-3", false},
        {"90^\\circ", "90", true},
        {"\\$18", "18", true},
        {"18 \\text{ dollars}", "18", true},
        {"12\\text{ cm}^2", "12", true},
        {"x=5", "5", true},
        {"y = 2x+3", "y=3+2x", true},
        {"[1,3)", "[1,3)", true},
        {"[1,3)", "[1,3]", false},
        {"(-\\infty, 2] \\cup [3, \\infty)", "(-\\infty,2]\\cup[3,\\infty)", true},
        {"x \\in [2,5]", "[2,5]", true},
        {"\\{1,2,3\\}", "\\{3,1,2\\}", true},
        {"\\{1,2\\}", "\\{1,3\\}", false},
        {"1, 2", "2, 1", true},
        {"\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", true},
        {"\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}", false},
        {"\\text{(C)}", "(C)", true},
        {"C", "\\text{(C)}", true},
        {"(B)", "\\text{(C)}", false},
        {"\\text{Monday}", "monday", true},
        {"\\text{Monday}", "\\text{Mondya}", false},
        {"5!", "120", true},
        {"2^{10}", "1024", true},
        {"\\frac{a}{b}", "a/b", true},
        {"ab", "ba", true},
        {"3x", "3y", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(answers_equivalent(c.a, c.b), c.equal) << c.a << " vs " << c.b;
}

TEST(MathVerifier, FeedbackForMissingWrongAndFormat) {
    MathVerifierOptions o;
    o.answer_sources = {"boxed", "answer_is"};
    o.required_source = "boxed";
    o.format_score = 0.5;
    MathVerifier v(o);
    auto r = v.verify("I think it is 4", "4");
    EXPECT_FALSE(r.found);
    EXPECT_EQ(r.score, 0.0);
    EXPECT_NE(r.feedback.find("\\boxed{}"), std::string::npos);
    r = v.verify("The answer is 4.", "4");
    EXPECT_TRUE(r.correct);
    EXPECT_FALSE(r.right_format);
    EXPECT_EQ(r.score, 0.5);
    EXPECT_NE(r.feedback.find("format"), std::string::npos);
    r = v.verify("\\boxed{5}", "4");
    EXPECT_FALSE(r.correct);
    EXPECT_EQ(r.score, 0.0);
    EXPECT_NE(r.feedback.find("wrong"), std::string::npos);
    EXPECT_EQ(r.feedback.find("4"), std::string::npos) << "the answer must not leak by default";
    r = v.verify("\\boxed{4}", "4");
    EXPECT_EQ(r.score, 1.0);
    EXPECT_TRUE(r.feedback.empty());
}

namespace {

// Adds one to the first integer in the answer ("\\frac{1}{2}" -> "\\frac{2}{2}", "440\\text{ cm}^2" ->
// "441\\text{ cm}^2"); answers without digits get "+1" appended.
std::string perturb(const std::string& a) {
    size_t start = 0;
    while (start < a.size() && !std::isdigit(static_cast<unsigned char>(a[start]))) ++start;
    if (start == a.size()) return a + "+1";
    size_t end = start;
    while (end < a.size() && std::isdigit(static_cast<unsigned char>(a[end]))) ++end;
    std::string digits = a.substr(start, end - start);
    // Increment the decimal string.
    int i = static_cast<int>(digits.size()) - 1;
    while (i >= 0 && digits[i] == '9') digits[i--] = '0';
    if (i < 0) digits.insert(digits.begin(), '1');
    else ++digits[i];
    return a.substr(0, start) + digits + a.substr(end);
}

// "1234567" -> "1,234,567"; anything that is not a plain integer is returned unchanged.
std::string with_thousands(const std::string& a) {
    if (a.empty() || a.find_first_not_of("0123456789") != std::string::npos || a.size() <= 3) return a;
    std::string out;
    for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0 && (a.size() - i) % 3 == 0) out += ',';
        out += a[i];
    }
    return out;
}

// \frac -> \dfrac (not inside \dfrac or \tfrac), and a space after each comma (not in "{,}").
std::string restyle(const std::string& a) {
    std::string out;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a.compare(i, 5, "\\frac") == 0 && (i == 0 || (a[i - 1] != 'd' && a[i - 1] != 't'))) {
            out += "\\dfrac";
            i += 4;
            continue;
        }
        out += a[i];
        if (a[i] == ',' && (i == 0 || a[i - 1] != '{')) out += ' ';
    }
    return out;
}

void check_dataset(const std::string& file, const std::string& format, size_t expected_count) {
    TaskSourceOptions src;
    src.path = std::string(ANVIL_SOURCE_DIR) + "/tests/data/" + file;
    src.format = format;
    auto tasks = load_tasks(src);
    ASSERT_EQ(tasks.size(), expected_count);
    MathVerifier verifier;
    size_t accepted = 0, rejected = 0;
    std::vector<std::string> misses;
    for (const auto& t : tasks) {
        // Two ways a model writes its answer: boxed, and in prose with thousands separators.
        bool boxed = verifier.verify("Let me solve this step by step.\nThe answer is $\\boxed{" + t.answer + "}$.",
                                     t.answer).correct;
        bool prose = verifier.verify("So that is it.\nThe answer is " + with_thousands(t.answer) + ".", t.answer).correct;
        // MATH answers restyled: \dfrac for \frac, a space after each comma, "a/b" for a plain \frac{a}{b}.
        std::string restyled = restyle(t.answer);
        std::smatch m;
        static const std::regex plain_frac(R"(^\\frac\{(\d+)\}\{(\d+)\}$)");
        if (std::regex_match(t.answer, m, plain_frac)) restyled = m[1].str() + "/" + m[2].str();
        bool restyle_ok = format != "math" || verifier.verify("\\boxed{" + restyled + "}", t.answer).correct;
        if (boxed && (prose || format != "gsm8k") && restyle_ok)
            ++accepted;
        else if (misses.size() < 15)
            misses.push_back("not accepted: " + t.answer);
        std::string wrong = perturb(t.answer);
        if (!verifier.verify("So the answer is \\boxed{" + wrong + "}.", t.answer).correct) ++rejected;
        else if (misses.size() < 15)
            misses.push_back("not rejected: " + wrong + " vs " + t.answer);
    }
    double accept_rate = static_cast<double>(accepted) / tasks.size();
    double reject_rate = static_cast<double>(rejected) / tasks.size();
    std::string detail;
    for (const auto& m : misses) detail += "  " + m + "\n";
    EXPECT_GE(accept_rate, 0.995) << detail;
    EXPECT_GE(reject_rate, 0.995) << detail;
    std::printf("[%s] accepted %.4f, rejected perturbed %.4f of %zu\n%s", file.c_str(), accept_rate, reject_rate,
                tasks.size(), detail.c_str());
}

}  // namespace

TEST(MathVerifier, Gsm8kTestReferenceAcceptedPerturbedRejected) { check_dataset("gsm8k_test.jsonl.gz", "gsm8k", 1319); }

TEST(MathVerifier, MathTestReferenceAcceptedPerturbedRejected) { check_dataset("math_test.jsonl.gz", "math", 5000); }

}  // namespace anvil::env
