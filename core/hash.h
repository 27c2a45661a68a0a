// Stable hashing and mixing, the same on every machine and run: 64-bit FNV-1a (Fowler, Noll, Vo) for
// decisions keyed by content (held-out membership, Goldfish token dropping), and SplitMix64 (Steele et al.
// 2014) for seeds and small reproducible random streams (generated tasks, per-sample sampling seeds). Not
// for security.
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

// The SplitMix64 finaliser: a bijective mix of 64 bits.
constexpr uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

inline constexpr uint64_t kSplitMix64Gamma = 0x9E3779B97F4A7C15ull;

// The SplitMix64 generator: state advances by the golden-ratio gamma, each output is the mix of the state.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() { return splitmix64_mix(state += kSplitMix64Gamma); }
    // Uniform in [lo, hi] (modulo draw: a bias of at most (hi − lo + 1) / 2^64).
    int64_t uniform(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
};

}  // namespace anvil
