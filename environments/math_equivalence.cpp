// Implementation of math_equivalence.h.
#include "environments/math_equivalence.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "environments/math_answer.h"
#include "environments/math_expr.h"

namespace anvil::env {

namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Splits at `sep` (a single character or "\\\\") outside (), [], {} and \{ \}.
std::vector<std::string> split_top(const std::string& s, std::string_view sep) {
    std::vector<std::string> parts;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
            depth += s[i + 1] == '{' ? 1 : -1;
            ++i;
            continue;
        }
        if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
            parts.push_back(s.substr(start, i - start));
            start = i + sep.size();
            i = start - 1;
            continue;
        }
        if (c == '\\') {  // skip a command name so "\\" rows and "\cup" are seen whole
            if (i + 1 < s.size() && s[i + 1] == '\\' && sep != "\\\\") ++i;
            continue;
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        else if (c == ')' || c == ']' || c == '}') --depth;
    }
    parts.push_back(s.substr(start));
    return parts;
}

// A run of three or more letters that is not a LaTeX command: the answer is words, not algebra.
bool has_word(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        if (!is_alpha(s[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && is_alpha(s[j])) ++j;
        if (j - i >= 3 && (i == 0 || s[i - 1] != '\\')) return true;
        i = j;
    }
    return false;
}

bool close(double a, double b, double tol) {
    if (!std::isfinite(a) || !std::isfinite(b)) return false;
    return std::fabs(a - b) <= tol * std::max({1.0, std::fabs(a), std::fabs(b)});
}

bool exprs_equal(const Expr& a, const Expr& b, const EquivalenceOptions& o) {
    if (a.variables().empty() && b.variables().empty()) {
        auto ra = a.exact(), rb = b.exact();
        if (ra && rb) return *ra == *rb;
        return close(a.eval({}), b.eval({}), o.relative_tolerance);
    }
    std::set<char> vars = a.variables();
    vars.insert(b.variables().begin(), b.variables().end());
    std::mt19937_64 rng(20240527);
    std::uniform_real_distribution<double> dist(0.3, 2.9);
    int valid = 0;
    for (int attempt = 0; attempt < 4 * o.random_points && valid < o.random_points; ++attempt) {
        std::map<char, double> point;
        for (char v : vars) point[v] = dist(rng);
        double x = a.eval(point), y = b.eval(point);
        if (!std::isfinite(x) && !std::isfinite(y)) continue;
        if (!close(x, y, o.relative_tolerance)) return false;
        ++valid;
    }
    return valid >= 2;
}

// "x=", "y=", "f(x)=" style left-hand sides that may be dropped when the other answer has none.
bool simple_lhs(const std::string& s) {
    if (s.size() == 1 && is_alpha(s[0])) return true;
    return s.size() == 4 && is_alpha(s[0]) && s[1] == '(' && is_alpha(s[2]) && s[3] == ')';
}

std::string strip_prefix_in(const std::string& s) {
    size_t p = s.find("\\in");
    if (p != std::string::npos && p > 0 && p <= 2 && simple_lhs(s.substr(0, p))) return s.substr(p + 3);
    return s;
}

// "12cm" -> "12", "5dollars" -> "5": a trailing run of two or more letters after a number.
std::string strip_trailing_unit(const std::string& s) {
    size_t end = s.size();
    if (end >= 2 && s[end - 2] == '^' && is_digit(s[end - 1])) end -= 2;
    size_t j = end;
    while (j > 0 && is_alpha(s[j - 1])) --j;
    if (end - j < 2 || j == 0 || !(is_digit(s[j - 1]) || s[j - 1] == '}' || s[j - 1] == ')')) return s;
    return s.substr(0, j);
}

struct Matrix {
    std::vector<std::vector<std::string>> rows;
};

std::optional<Matrix> as_matrix(const std::string& s) {
    if (!s.starts_with("\\begin{")) return std::nullopt;
    size_t close_env = s.find('}');
    std::string name = s.substr(7, close_env - 7);
    std::string end_tag = "\\end{" + name + "}";
    if (!s.ends_with(end_tag)) return std::nullopt;
    std::string body = s.substr(close_env + 1, s.size() - close_env - 1 - end_tag.size());
    Matrix m;
    for (auto& row : split_top(body, "\\\\"))
        if (!row.empty()) m.rows.push_back(split_top(row, "&"));
    return m;
}

bool equal_norm(const std::string& a, const std::string& b, const EquivalenceOptions& o, int depth);

bool ordered_equal(const std::vector<std::string>& a, const std::vector<std::string>& b,
                   const EquivalenceOptions& o, int depth) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!equal_norm(a[i], b[i], o, depth + 1)) return false;
    return true;
}

bool unordered_equal(const std::vector<std::string>& a, const std::vector<std::string>& b,
                     const EquivalenceOptions& o, int depth) {
    if (a.size() != b.size()) return false;
    std::vector<bool> used(b.size(), false);
    for (const auto& x : a) {
        bool matched = false;
        for (size_t j = 0; j < b.size() && !matched; ++j)
            if (!used[j] && equal_norm(x, b[j], o, depth + 1)) used[j] = matched = true;
        if (!matched) return false;
    }
    return true;
}

bool is_set(const std::string& s) { return s.size() >= 4 && s.starts_with("\\{") && s.ends_with("\\}"); }

// "(a,b)", "[a,b)", ...: brackets around a top-level comma list.
bool is_bracketed_list(const std::string& s) {
    if (s.size() < 2 || (s.front() != '(' && s.front() != '[') || (s.back() != ')' && s.back() != ']')) return false;
    // The outer brackets must enclose everything: "(1)(2)" is not a list.
    int depth = 0;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] == '(' || s[i] == '[' || s[i] == '{') ++depth;
        else if (s[i] == ')' || s[i] == ']' || s[i] == '}') --depth;
        if (depth == 0) return false;
    }
    return split_top(s.substr(1, s.size() - 2), ",").size() > 1;
}

bool equal_norm(const std::string& a, const std::string& b, const EquivalenceOptions& o, int depth) {
    if (depth > 8) return a == b;
    if (a == b) return true;
    if (a.empty() || b.empty()) return false;
    if (lower(a) == lower(b)) return true;
    // Multiple-choice letters: "(C)" matches "C".
    auto choice = [](const std::string& x) {
        if (x.size() == 3 && x[0] == '(' && x[2] == ')' && std::isupper(static_cast<unsigned char>(x[1]))) return x.substr(1, 1);
        return x;
    };
    if (choice(a) != a || choice(b) != b) return choice(a) == choice(b);

    auto ea_parts = split_top(a, "="), eb_parts = split_top(b, "=");
    if (ea_parts.size() != eb_parts.size()) {
        if (ea_parts.size() == 2 && eb_parts.size() == 1 && simple_lhs(ea_parts[0]))
            return equal_norm(ea_parts[1], b, o, depth + 1);
        if (eb_parts.size() == 2 && ea_parts.size() == 1 && simple_lhs(eb_parts[0]))
            return equal_norm(a, eb_parts[1], o, depth + 1);
        return false;
    }
    if (ea_parts.size() > 1) return ordered_equal(ea_parts, eb_parts, o, depth);

    std::string sa = strip_prefix_in(a), sb = strip_prefix_in(b);
    if (sa != a || sb != b) return equal_norm(sa, sb, o, depth + 1);

    auto ua = split_top(a, "\\cup"), ub = split_top(b, "\\cup");
    if (ua.size() > 1 || ub.size() > 1) return ordered_equal(ua, ub, o, depth);

    auto ma = as_matrix(a), mb = as_matrix(b);
    if (ma || mb) {
        if (!ma || !mb || ma->rows.size() != mb->rows.size()) return false;
        for (size_t r = 0; r < ma->rows.size(); ++r)
            if (!ordered_equal(ma->rows[r], mb->rows[r], o, depth)) return false;
        return true;
    }

    if (is_set(a) || is_set(b)) {
        std::string ia = is_set(a) ? a.substr(2, a.size() - 4) : a;
        std::string ib = is_set(b) ? b.substr(2, b.size() - 4) : b;
        return unordered_equal(split_top(ia, ","), split_top(ib, ","), o, depth);
    }
    bool la = is_bracketed_list(a), lb = is_bracketed_list(b);
    if (la || lb) {
        if (!la || !lb || a.front() != b.front() || a.back() != b.back()) return false;
        return ordered_equal(split_top(a.substr(1, a.size() - 2), ","), split_top(b.substr(1, b.size() - 2), ","),
                             o, depth);
    }
    auto ca = split_top(a, ","), cb = split_top(b, ",");
    if (ca.size() > 1 || cb.size() > 1) return unordered_equal(ca, cb, o, depth);

    bool pa = a.back() == '%', pb = b.back() == '%';
    if (pa || pb) {
        std::string na = pa ? a.substr(0, a.size() - 1) : a, nb = pb ? b.substr(0, b.size() - 1) : b;
        if (equal_norm(na, nb, o, depth + 1)) return true;
        if (!o.percent_as_fraction || (pa && pb)) return false;
        std::string scaled = "\\frac{" + (pa ? na : nb) + "}{100}";
        return equal_norm(scaled, pa ? nb : na, o, depth + 1);
    }

    if (!has_word(a) && !has_word(b)) {
        auto xa = Expr::parse(a), xb = Expr::parse(b);
        if (xa && xb && exprs_equal(*xa, *xb, o)) return true;
    }
    if (o.strip_units) {
        std::string ta = strip_trailing_unit(a), tb = strip_trailing_unit(b);
        if (ta != a || tb != b) return equal_norm(ta, tb, o, depth + 1);
    }
    return false;
}

}  // namespace

bool answers_equivalent(std::string_view candidate, std::string_view reference, const EquivalenceOptions& options) {
    return equal_norm(normalize_answer(candidate), normalize_answer(reference), options, 0);
}

}  // namespace anvil::env
