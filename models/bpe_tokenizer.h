// Byte-level BPE from a Hugging Face `tokenizer.json` (GPT-2, Llama-3, Qwen2/2.5/3 style), encoding exactly as
// HF `tokenizers` does: added tokens split out first (honouring special / lstrip / rstrip / normalized /
// single_word), the normalizer (NFC and friends), the pre-tokenizer sequence (Split regexes through PCRE2,
// ByteLevel), BPE merges by rank, the post-processor (TemplateProcessing adds bos and the like), and the
// ByteLevel decoder. Other model kinds (WordPiece, Unigram, Metaspace BPE) are rejected with an error naming
// the key; SentencePiece `.model` files are models/sentencepiece_tokenizer.h.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/tokenizer.h"
#include "models/tokenizer_regex.h"
#include "models/tokenizer_unicode.h"

namespace anvil {

class BpeTokenizer : public Tokenizer {
public:
    // Parses the text of a tokenizer.json; `source` (the file name) prefixes every error.
    BpeTokenizer(std::string_view json_text, const std::string& source);
    static std::unique_ptr<BpeTokenizer> load(const std::filesystem::path& tokenizer_json);
    ~BpeTokenizer() override;

    std::vector<TokenId> encode(std::string_view text, bool add_special = false) const override;
    std::string decode(std::span<const TokenId> ids, bool skip_special = false) const override;
    std::optional<TokenId> token_to_id(std::string_view token) const override;
    std::string id_to_token(TokenId id) const override;
    size_t vocab_size() const override { return id_to_token_.size(); }
    bool is_special(TokenId id) const override;
    std::vector<AddedToken> added_tokens() const override { return added_; }

private:
    struct StringHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using StringMap = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

    // One pre-tokenizer step (HF Split, or the pieces of ByteLevel: its prefix space and its GPT-2 regex).
    struct SplitStep {
        enum class Behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };
        std::unique_ptr<TokenizerRegex> regex;  // null: the ByteLevel prefix-space step
        Behavior behavior = Behavior::isolated;
        bool invert = false;
    };
    // A run of text, or an added token already recognised.
    struct Segment {
        std::string_view text;
        TokenId id = -1;
    };

    void parse_added_tokens(const nlohmann::json& json);
    void parse_normalizer(const nlohmann::json& json, const std::string& key);
    void parse_pre_tokenizer(const nlohmann::json& json, const std::string& key);
    void parse_post_processor(const nlohmann::json& json, const std::string& key);
    void parse_decoder(const nlohmann::json& json, const std::string& key);
    void parse_model(const nlohmann::json& json);

    void split_added(std::string_view text, bool normalized, std::vector<Segment>& out) const;
    void pre_tokenize(std::string_view text, std::vector<std::string_view>& pieces,
                      std::vector<std::unique_ptr<std::string>>& storage) const;
    void bpe_word(std::string_view bytes, std::vector<TokenId>& out) const;
    void bpe_merge(std::string_view bytes, std::vector<TokenId>& out) const;

    std::string source_;
    StringMap vocab_;
    std::vector<std::string> id_to_token_;    // "" for ids that have no token
    std::vector<std::string> decoded_bytes_;  // what the ByteLevel decoder makes of each id
    std::vector<bool> special_;
    std::unordered_map<uint64_t, std::pair<int32_t, TokenId>> merges_;  // (left, right) -> (rank, merged id)
    TokenId byte_ids_[256];
    std::optional<TokenId> unk_id_;
    bool ignore_merges_ = false;
    bool byte_level_ = false;  // a ByteLevel pre-tokenizer was seen (required, and last)

    std::vector<AddedToken> added_;
    std::vector<const AddedToken*> raw_added_, normalized_added_;  // longest first
    bool raw_first_byte_[256] = {}, normalized_first_byte_[256] = {};

    std::vector<unicode::NormalForm> normalizers_;
    std::vector<SplitStep> pre_steps_;
    std::vector<TokenId> post_prefix_, post_suffix_;

    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> cache_;
};

}  // namespace anvil
