// Implementation of math_expr.h: a recursive-descent parser over the normalised answer text.
#include "environments/math_expr.h"

#include <cctype>
#include <cmath>
#include <vector>

namespace anvil::env {

namespace {

__int128 gcd128(__int128 a, __int128 b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b != 0) {
        __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

constexpr __int128 kLimit = (static_cast<__int128>(1) << 100);

std::optional<Rational> make_rational(__int128 num, __int128 den) {
    if (den == 0) return std::nullopt;
    if (den < 0) num = -num, den = -den;
    __int128 g = gcd128(num, den);
    if (g > 1) num /= g, den /= g;
    if (num > kLimit || num < -kLimit || den > kLimit) return std::nullopt;
    return Rational{num, den};
}

bool small(const Rational& r) {
    const __int128 lim = static_cast<__int128>(1) << 50;
    return r.num < lim && r.num > -lim && r.den < lim;
}

std::optional<Rational> add(const Rational& a, const Rational& b) {
    if (!small(a) || !small(b)) return std::nullopt;
    return make_rational(a.num * b.den + b.num * a.den, a.den * b.den);
}
std::optional<Rational> mul(const Rational& a, const Rational& b) {
    if (!small(a) || !small(b)) return std::nullopt;
    return make_rational(a.num * b.num, a.den * b.den);
}

}  // namespace

std::optional<Rational> parse_decimal(std::string_view text) {
    if (text.empty()) return std::nullopt;
    __int128 num = 0, den = 1;
    bool seen_dot = false, seen_digit = false;
    for (char c : text) {
        if (c == '.') {
            if (seen_dot) return std::nullopt;
            seen_dot = true;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            if (num > kLimit / 10 || den > kLimit / 10) return std::nullopt;
            num = num * 10 + (c - '0');
            if (seen_dot) den *= 10;
            seen_digit = true;
        } else {
            return std::nullopt;
        }
    }
    if (!seen_digit) return std::nullopt;
    return make_rational(num, den);
}

enum class Op { num, var, pi, neg, add, sub, mul, div, pow, sqrt, root, fact, func };

struct ExprNode {
    Op op;
    Rational value;  // Op::num
    char var = 0;    // Op::var
    std::string func;
    std::shared_ptr<const ExprNode> a, b;
};

namespace {

using NodePtr = std::shared_ptr<const ExprNode>;

NodePtr node(Op op, NodePtr a = nullptr, NodePtr b = nullptr) {
    auto n = std::make_shared<ExprNode>();
    n->op = op;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
}

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    NodePtr parse_all() {
        NodePtr e = expr();
        if (!e || pos_ != s_.size()) return nullptr;
        return e;
    }
    std::set<char> vars;

private:
    std::string_view s_;
    size_t pos_ = 0;
    int depth_ = 0;

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    bool eat(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    bool eat_word(std::string_view w) {
        if (s_.substr(pos_, w.size()) != w) return false;
        size_t after = pos_ + w.size();
        // A command name must not continue with letters (\pi vs \pink).
        if (w[0] == '\\' && after < s_.size() && std::isalpha(static_cast<unsigned char>(s_[after]))) return false;
        pos_ = after;
        return true;
    }

    NodePtr expr() {
        if (++depth_ > 200) return nullptr;
        NodePtr left = term();
        while (left && (peek() == '+' || peek() == '-')) {
            char op = s_[pos_++];
            NodePtr right = term();
            if (!right) return nullptr;
            left = node(op == '+' ? Op::add : Op::sub, left, right);
        }
        --depth_;
        return left;
    }

    bool starts_factor() const {
        char c = peek();
        if (c == '\0') return false;
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '(' || c == '{' || c == '.') return true;
        if (c == '\\') {
            for (std::string_view w : {"\\frac", "\\sqrt", "\\pi", "\\sin", "\\cos", "\\tan", "\\ln", "\\log", "\\exp"})
                if (s_.substr(pos_, w.size()) == w) return true;
        }
        return false;
    }

    NodePtr term() {
        NodePtr left = unary();
        while (left) {
            if (peek() == '*' || peek() == '/') {
                char op = s_[pos_++];
                NodePtr right = unary();
                if (!right) return nullptr;
                left = node(op == '*' ? Op::mul : Op::div, left, right);
            } else if (eat_word("\\cdot") || eat_word("\\times")) {
                NodePtr right = unary();
                if (!right) return nullptr;
                left = node(Op::mul, left, right);
            } else if (eat_word("\\div")) {
                NodePtr right = unary();
                if (!right) return nullptr;
                left = node(Op::div, left, right);
            } else if (starts_factor()) {  // implicit multiplication: 2x, 3\sqrt{2}, (x+1)(x-1)
                NodePtr right = power();
                if (!right) return nullptr;
                left = node(Op::mul, left, right);
            } else {
                break;
            }
        }
        return left;
    }

    NodePtr unary() {
        if (eat('-')) {
            NodePtr a = unary();
            return a ? node(Op::neg, a) : nullptr;
        }
        if (eat('+')) return unary();
        return power();
    }

    NodePtr power() {
        NodePtr base = postfix(primary());
        if (base && eat('^')) {
            NodePtr exponent;
            if (peek() == '{') exponent = group();
            else if (peek() == '-') exponent = unary();
            else exponent = postfix(single());
            if (!exponent) return nullptr;
            return node(Op::pow, base, exponent);
        }
        return base;
    }

    NodePtr postfix(NodePtr n) {
        while (n && eat('!')) n = node(Op::fact, n);
        return n;
    }

    NodePtr group() {  // {expr}
        if (!eat('{')) return nullptr;
        NodePtr e = expr();
        if (!e || !eat('}')) return nullptr;
        return e;
    }

    // A \frac or \sqrt argument: {expr} or one digit / letter (\frac12).
    NodePtr argument() {
        if (peek() == '{') return group();
        return single();
    }

    NodePtr single() {
        char c = peek();
        if (std::isdigit(static_cast<unsigned char>(c))) {
            ++pos_;
            auto n = std::make_shared<ExprNode>();
            n->op = Op::num;
            n->value = Rational{c - '0', 1};
            return n;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            ++pos_;
            return variable(c);
        }
        if (c == '\\') return primary();
        return nullptr;
    }

    NodePtr variable(char c) {
        vars.insert(c);
        auto n = std::make_shared<ExprNode>();
        n->op = Op::var;
        n->var = c;
        return n;
    }

    NodePtr primary() {
        char c = peek();
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            size_t start = pos_;
            while (std::isdigit(static_cast<unsigned char>(peek())) || peek() == '.') ++pos_;
            auto value = parse_decimal(s_.substr(start, pos_ - start));
            if (!value) return nullptr;
            auto n = std::make_shared<ExprNode>();
            n->op = Op::num;
            n->value = *value;
            return n;
        }
        if (std::isalpha(static_cast<unsigned char>(c))) {
            ++pos_;
            return variable(c);
        }
        if (c == '(' || c == '{' || c == '[') {
            char close = c == '(' ? ')' : c == '{' ? '}' : ']';
            ++pos_;
            NodePtr e = expr();
            if (!e || !eat(close)) return nullptr;
            return e;
        }
        if (eat_word("\\frac")) {
            NodePtr a = argument();
            NodePtr b = a ? argument() : nullptr;
            return b ? node(Op::div, a, b) : nullptr;
        }
        if (eat_word("\\sqrt")) {
            if (eat('[')) {
                NodePtr index = expr();
                if (!index || !eat(']')) return nullptr;
                NodePtr a = argument();
                return a ? node(Op::root, a, index) : nullptr;
            }
            NodePtr a = argument();
            return a ? node(Op::sqrt, a) : nullptr;
        }
        if (eat_word("\\pi")) return node(Op::pi);
        for (std::string_view f : {"\\sin", "\\cos", "\\tan", "\\ln", "\\log", "\\exp"}) {
            if (eat_word(f)) {
                NodePtr a = (peek() == '(' || peek() == '{') ? primary() : power();
                if (!a) return nullptr;
                auto n = std::make_shared<ExprNode>();
                n->op = Op::func;
                n->func = std::string(f.substr(1));
                n->a = a;
                return n;
            }
        }
        return nullptr;
    }
};

std::optional<Rational> exact_of(const ExprNode& n) {
    switch (n.op) {
        case Op::num: return n.value;
        case Op::neg: {
            auto a = exact_of(*n.a);
            if (!a) return std::nullopt;
            return Rational{-a->num, a->den};
        }
        case Op::add:
        case Op::sub: {
            auto a = exact_of(*n.a), b = exact_of(*n.b);
            if (!a || !b) return std::nullopt;
            if (n.op == Op::sub) b->num = -b->num;
            return add(*a, *b);
        }
        case Op::mul: {
            auto a = exact_of(*n.a), b = exact_of(*n.b);
            if (!a || !b) return std::nullopt;
            return mul(*a, *b);
        }
        case Op::div: {
            auto a = exact_of(*n.a), b = exact_of(*n.b);
            if (!a || !b || b->num == 0) return std::nullopt;
            auto inverse = make_rational(b->den, b->num);
            if (!inverse) return std::nullopt;
            return mul(*a, *inverse);
        }
        case Op::pow: {
            auto a = exact_of(*n.a), b = exact_of(*n.b);
            if (!a || !b || b->den != 1 || b->num > 64 || b->num < -64) return std::nullopt;
            if (b->num < 0 && a->num == 0) return std::nullopt;
            Rational r{1, 1};
            for (__int128 i = 0; i < (b->num < 0 ? -b->num : b->num); ++i) {
                auto next = mul(r, *a);
                if (!next) return std::nullopt;
                r = *next;
            }
            if (b->num < 0) return make_rational(r.den, r.num);
            return r;
        }
        case Op::fact: {
            auto a = exact_of(*n.a);
            if (!a || a->den != 1 || a->num < 0 || a->num > 30) return std::nullopt;
            __int128 r = 1;
            for (__int128 i = 2; i <= a->num; ++i) r *= i;
            return Rational{r, 1};
        }
        default: return std::nullopt;
    }
}

double eval_of(const ExprNode& n, const std::map<char, double>& vars);

double eval_node(const ExprNode& n, const std::map<char, double>& vars) {
    const double nan = std::nan("");
    switch (n.op) {
        case Op::num: return n.value.to_double();
        case Op::var: {
            auto it = vars.find(n.var);
            return it == vars.end() ? nan : it->second;
        }
        case Op::pi: return M_PI;
        case Op::neg: return -eval_of(*n.a, vars);
        case Op::add: return eval_of(*n.a, vars) + eval_of(*n.b, vars);
        case Op::sub: return eval_of(*n.a, vars) - eval_of(*n.b, vars);
        case Op::mul: return eval_of(*n.a, vars) * eval_of(*n.b, vars);
        case Op::div: {
            double d = eval_of(*n.b, vars);
            return d == 0 ? nan : eval_of(*n.a, vars) / d;
        }
        case Op::pow: return std::pow(eval_of(*n.a, vars), eval_of(*n.b, vars));
        case Op::sqrt: return std::sqrt(eval_of(*n.a, vars));
        case Op::root: {
            double x = eval_of(*n.a, vars), k = eval_of(*n.b, vars);
            if (x < 0 && std::fmod(k, 2.0) == 1.0) return -std::pow(-x, 1.0 / k);
            return std::pow(x, 1.0 / k);
        }
        case Op::fact: {
            double x = eval_of(*n.a, vars);
            return x < 0 ? nan : std::tgamma(x + 1);
        }
        case Op::func: {
            double x = eval_of(*n.a, vars);
            if (n.func == "sin") return std::sin(x);
            if (n.func == "cos") return std::cos(x);
            if (n.func == "tan") return std::tan(x);
            if (n.func == "ln") return std::log(x);
            if (n.func == "log") return std::log10(x);
            return std::exp(x);
        }
    }
    return nan;
}

// Overflow is not a value: 1/(2005!) would otherwise equal 1/(2004!) as 0 == 0.
double eval_of(const ExprNode& n, const std::map<char, double>& vars) {
    double x = eval_node(n, vars);
    return std::isfinite(x) ? x : std::nan("");
}

}  // namespace

std::optional<Expr> Expr::parse(std::string_view text) {
    Parser p(text);
    NodePtr root = p.parse_all();
    if (!root) return std::nullopt;
    Expr e;
    e.root_ = root;
    e.vars_ = std::move(p.vars);
    return e;
}

std::optional<Rational> Expr::exact() const { return exact_of(*root_); }

double Expr::eval(const std::map<char, double>& vars) const { return eval_of(*root_, vars); }

}  // namespace anvil::env
