// SentencePiece tokenizers through libsentencepiece: loading a `tokenizer.model` (Llama-1/2, Mistral style
// checkpoints, or a demo model trained here) behind the Tokenizer interface, and training a small model from a
// text file through libsentencepiece_train (BPE or unigram, user-defined special tokens such as <|im_start|>,
// byte fallback). HF tokenizer.json files are models/bpe_tokenizer.h.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace anvil {

class SentencePieceTokenizer : public Tokenizer {
public:
    // `add_bos` / `add_eos`: whether encode(..., add_special = true) adds special_ids().bos / the first eos
    // (LlamaTokenizer: bos only). The special ids start as the model's own and may be replaced (load_tokenizer).
    static std::unique_ptr<SentencePieceTokenizer> load(const std::filesystem::path& model_file, bool add_bos = true,
                                                        bool add_eos = false);
    SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp, std::string source, bool add_bos,
                           bool add_eos);
    ~SentencePieceTokenizer() override;

    std::vector<TokenId> encode(std::string_view text, bool add_special = false) const override;
    // With skip_special = false, control tokens (<s>, </s>) appear as their text.
    std::string decode(std::span<const TokenId> ids, bool skip_special = false) const override;
    std::optional<TokenId> token_to_id(std::string_view token) const override;
    std::string id_to_token(TokenId id) const override;
    size_t vocab_size() const override;
    // Control and unknown pieces (<s>, </s>, <unk>, <pad>).
    bool is_special(TokenId id) const override;
    // The user-defined symbols, matched whole in the text.
    std::vector<AddedToken> added_tokens() const override;

private:
    std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
    std::string source_;
    bool add_bos_, add_eos_;
};

// Options of SentencePiece training (the names of spm_train's flags).
struct SentencePieceTrainOptions {
    std::filesystem::path input;         // UTF-8 text, one sentence per line
    std::filesystem::path model_prefix;  // writes <prefix>.model and <prefix>.vocab
    int vocab_size = 8000;
    std::string model_type = "bpe";                 // bpe | unigram
    std::vector<std::string> user_defined_symbols;  // e.g. <|im_start|>, <|im_end|>: always one piece each
    bool byte_fallback = true;                      // unknown characters become <0xNN> byte pieces instead of <unk>
    double character_coverage = 1.0;
    bool hard_vocab_limit = true;  // false: a smaller vocabulary is fine when the text is too small
    // Llama-style text handling by default, so decode(encode(text)) == text: no Unicode normalization, runs of
    // spaces kept, digits split one per piece, a space prefixed to the text ("▁Hello").
    std::string normalization_rule_name = "identity";  // or nmt_nfkc, nfkc, ...
    bool remove_extra_whitespaces = false;
    bool split_digits = true;
    bool add_dummy_prefix = true;
    bool allow_whitespace_only_pieces = true;
    int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  // -1 disables
    int num_threads = 1;
    size_t input_sentence_size = 0;  // 0: every sentence
};

// Trains a model; throws anvil::Error with SentencePiece's message (naming the input) when it fails.
void train_sentencepiece(const SentencePieceTrainOptions& options);

}  // namespace anvil
