// A compiled PCRE2 regular expression (UTF + UCP, JIT when available) for tokenizer pre-tokenizers: the
// Split patterns of HF tokenizer.json files (Oniguruma syntax in the reference; the patterns in use are
// written in the common subset). Match-finding only; the split behaviours live in models/bpe_tokenizer.cpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anvil {

class TokenizerRegex {
public:
    // `literal`: the pattern is a plain string to find, not a regex. Throws anvil::Error with `where`
    // (file and key) and PCRE2's message when the pattern does not compile.
    TokenizerRegex(const std::string& pattern, bool literal, const std::string& where);
    ~TokenizerRegex();
    TokenizerRegex(const TokenizerRegex&) = delete;
    TokenizerRegex& operator=(const TokenizerRegex&) = delete;

    // The [begin, end) byte ranges of the successive non-overlapping matches in `text` (valid UTF-8).
    // An empty match advances by one character, as Rust's regex iterators do.
    void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace anvil
