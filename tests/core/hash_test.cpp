// Unit tests for core/hash.h against the FNV-1a 64-bit reference test vectors.
#include <gtest/gtest.h>

#include "core/hash.h"

namespace anvil {

TEST(Hash, Fnv1aMatchesTheReferenceVectors) {
    EXPECT_EQ(fnv1a(""), 0xcbf29ce484222325ull);
    EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ull);
    EXPECT_EQ(fnv1a("bar", fnv1a("foo")), fnv1a("foobar"));
}

}  // namespace anvil
