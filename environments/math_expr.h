// A small parser and evaluator for the math expressions that appear as final answers (after
// math_answer.h's normalisation): numbers, single-letter variables, + - * / ^ !, implicit multiplication,
// \frac, \sqrt[n]{}, \pi, \cdot, \times, \div and a few functions (\sin, \cos, \tan, \ln, \log, \exp).
// It gives an exact rational value when the expression is built from rationals only, and a numeric value
// at any assignment of the variables otherwise. It is not a computer algebra system: equivalence of
// symbolic answers is decided by evaluation at random points (math_equivalence.h).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace anvil::env {

// An exact rational p/q (q > 0, reduced); operations return nullopt on 128-bit overflow.
struct Rational {
    __int128 num = 0;
    __int128 den = 1;
    bool operator==(const Rational& o) const { return num == o.num && den == o.den; }
    double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
};

// Parses a decimal literal "12", "0.75", ".5" exactly.
std::optional<Rational> parse_decimal(std::string_view text);

struct ExprNode;

class Expr {
public:
    // Parses `text`; nullopt when it is not an expression this grammar understands.
    static std::optional<Expr> parse(std::string_view text);

    // The exact value if the expression holds no variables and only rational operations.
    std::optional<Rational> exact() const;
    // The value with `vars` assigned; NaN where undefined (division by zero, sqrt of a negative, ...).
    double eval(const std::map<char, double>& vars) const;
    const std::set<char>& variables() const { return vars_; }

private:
    std::shared_ptr<const ExprNode> root_;
    std::set<char> vars_;
};

}  // namespace anvil::env
