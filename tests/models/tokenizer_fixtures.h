// Shared by the tokenizer tests: where the fixtures live, and the Qwen3 tokenizer parsed once per test binary
// (an 11 MB tokenizer.json takes about half a second to load).
#pragma once

#include <string>

#include "models/bpe_tokenizer.h"

namespace anvil::test {

inline const std::string kTokenizerFixtures = std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/tokenizers/";

inline const BpeTokenizer& qwen3_tokenizer() {
    static const auto tok = BpeTokenizer::load(kTokenizerFixtures + "qwen3/tokenizer.json.gz");
    return *tok;
}

}  // namespace anvil::test
