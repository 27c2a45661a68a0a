// The tokenizer interface every model uses, and loading one from a Hugging Face checkpoint directory
// (specs/conventions.md §2.1, §2.5): `tokenizer.json` (byte-level BPE, models/bpe_tokenizer.h) is preferred,
// else `tokenizer.model` (SentencePiece, models/sentencepiece_tokenizer.h); the special tokens (bos, eos — there
// may be several —, pad) come from tokenizer_config.json, special_tokens_map.json and generation_config.json.
// Chat templates live in models/chat_template.h; nothing here knows about tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anvil {

using TokenId = int32_t;

// A token that is matched in the text as a whole before the model sees it (HF "added tokens").
struct AddedToken {
    TokenId id = -1;
    std::string content;
    bool special = false;      // dropped by decode(..., skip_special = true)
    bool lstrip = false;       // the match swallows whitespace on its left
    bool rstrip = false;       // ... and on its right
    bool normalized = false;   // matched in the normalized text rather than the raw text
    bool single_word = false;  // only matched when not inside a word
};

// The ids a generator and a data pipeline need. `eos` lists every stop token (generation_config may give several).
struct SpecialTokenIds {
    std::optional<TokenId> bos;
    std::vector<TokenId> eos;
    std::optional<TokenId> pad;
};

// encode() and decode() may be called from several threads at once.
class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Text to ids. `add_special` adds what the tokenizer's own post-processing adds (e.g. Llama's bos).
    virtual std::vector<TokenId> encode(std::string_view text, bool add_special = false) const = 0;
    // Ids to text; `skip_special` drops special tokens. Invalid UTF-8 from partial tokens becomes U+FFFD.
    virtual std::string decode(std::span<const TokenId> ids, bool skip_special = false) const = 0;

    virtual std::optional<TokenId> token_to_id(std::string_view token) const = 0;
    // Throws anvil::Error for an id outside the vocabulary.
    virtual std::string id_to_token(TokenId id) const = 0;
    // Number of ids (model vocabulary plus added tokens): every id is below this.
    virtual size_t vocab_size() const = 0;
    virtual bool is_special(TokenId id) const = 0;
    virtual std::vector<AddedToken> added_tokens() const = 0;

    const SpecialTokenIds& special_ids() const { return special_; }
    void set_special_ids(SpecialTokenIds ids) { special_ = std::move(ids); }
    bool is_eos(TokenId id) const;

private:
    SpecialTokenIds special_;
};

// Loads the tokenizer of a checkpoint directory: tokenizer.json (or tokenizer.json.gz) when it is byte-level BPE,
// else tokenizer.model (Llama-2 / Mistral ship a SentencePiece-style tokenizer.json beside it). Errors name the
// file and key.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

// Resolves bos / eos / pad for `tok` from the optional JSON files in `dir` (tokenizer_config.json,
// special_tokens_map.json, generation_config.json), keeping the tokenizer's own defaults where none is given.
SpecialTokenIds resolve_special_ids(const Tokenizer& tok, const std::filesystem::path& dir);

}  // namespace anvil
