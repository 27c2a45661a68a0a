// A stable content hash: 64-bit FNV-1a (Fowler, Noll, Vo), the same value on every machine and run, for
// decisions keyed by content (held-out membership, Goldfish token dropping). Not for security.
#pragma once

#include <cstdint>
#include <string_view>

namespace anvil {

inline constexpr uint64_t kFnv1aBasis = 14695981039346656037ull;

// FNV-1a of `bytes`, continuing from `hash` (so a sequence of pieces hashes as their concatenation).
constexpr uint64_t fnv1a(std::string_view bytes, uint64_t hash = kFnv1aBasis) {
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

}  // namespace anvil
