// Unit tests for core/text.h.
#include <gtest/gtest.h>

#include "core/text.h"

namespace anvil {

TEST(Text, TrimAndSplit) {
    EXPECT_EQ(trim("  a b \n"), "a b");
    EXPECT_EQ(trim(" \t"), "");
    EXPECT_EQ(split("a.b..c", '.'), (std::vector<std::string>{"a", "b", "", "c"}));
    EXPECT_EQ(join({"x", "y"}, ", "), "x, y");
}

TEST(Text, EditDistanceAndSuggestion) {
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(closest_match("learnig_rate", {"seed", "learning_rate", "warmup"}), "learning_rate");
    EXPECT_EQ(closest_match("sed", {"seed", "name"}), "seed");
    EXPECT_EQ(closest_match("completely_different", {"seed", "name"}), "");
}

TEST(Text, FormatDuration) {
    EXPECT_EQ(format_duration(5), "0:05");
    EXPECT_EQ(format_duration(3725), "1:02:05");
    EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace anvil
