// Whether two final answers are mathematically the same: exact rational arithmetic for numbers, fractions,
// decimals and percentages; evaluation at random points for algebraic expressions; element-wise rules for
// tuples and intervals (ordered, brackets must match), sets and bare lists (unordered), matrices and
// equations. Inputs are raw answers; both are normalised here (math_answer.h). No extraction happens here.
#pragma once

#include <string_view>

namespace anvil::env {

struct EquivalenceOptions {
    double relative_tolerance = 1e-6;  // for values that are not exact rationals (\sqrt, \pi, random points)
    int random_points = 6;             // evaluations for answers with variables
    bool percent_as_fraction = true;   // "50%" also matches 0.5 (it always matches 50)
    bool strip_units = true;           // "12 cm" matches 12 when the reference is a bare number
};

bool answers_equivalent(std::string_view candidate, std::string_view reference, const EquivalenceOptions& options = {});

}  // namespace anvil::env
