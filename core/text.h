// Small string helpers shared by every room: trimming, splitting, and "did you mean" suggestions.
// Nothing here knows about configs, tensors or files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace anvil {

std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// Levenshtein distance between two strings.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Formats seconds as H:MM:SS or M:SS.
std::string format_duration(double seconds);

}  // namespace anvil
