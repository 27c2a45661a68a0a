// Tests of models/sentencepiece_tokenizer.h: training small BPE and unigram models with chat special symbols and
// byte fallback, loading them behind the Tokenizer interface (also through load_tokenizer with a
// tokenizer_config.json), exact round trips, and errors that name the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "models/sentencepiece_tokenizer.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;

class SentencePieceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("anvil_sp_test_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        write_file_atomic(dir_ / "corpus.txt", read_file(std::string(ANVIL_SOURCE_DIR) +
                                                         "/tests/fixtures/tokenizers/gsm8k_train_2000.txt.gz"));
        SentencePieceTrainOptions o;
        o.input = dir_ / "corpus.txt";
        o.model_prefix = dir_ / "bpe" / "tokenizer";
        o.vocab_size = 600;
        o.model_type = "bpe";
        o.user_defined_symbols = {"<|im_start|>", "<|im_end|>"};
        o.input_sentence_size = 3000;
        train_sentencepiece(o);
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }
    static fs::path dir_;
};
fs::path SentencePieceTest::dir_;

TEST_F(SentencePieceTest, TrainedBpeModelHasSpecialSymbolsAndRoundTripsAnyText) {
    auto tok = SentencePieceTokenizer::load(dir_ / "bpe" / "tokenizer.model");
    EXPECT_EQ(tok->vocab_size(), 600u);
    auto start = tok->token_to_id("<|im_start|>"), end = tok->token_to_id("<|im_end|>");
    ASSERT_TRUE(start && end);
    auto added = tok->added_tokens();
    ASSERT_EQ(added.size(), 2u);
    EXPECT_EQ(added[0].content, "<|im_start|>");
    EXPECT_EQ(added[0].id, *start);

    std::string chat = "<|im_start|>user\nJanet has 3 apples.<|im_end|>";
    auto ids = tok->encode(chat);
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(tok->id_to_token(ids[0]), "\xE2\x96\x81");  // the dummy-prefix space "▁", then the symbol whole
    EXPECT_EQ(ids[1], *start);
    EXPECT_EQ(ids.back(), *end);
    EXPECT_EQ(tok->decode(ids), chat);

    // Byte fallback: characters never seen in training still round-trip exactly, as do spaces, tabs and digits.
    for (std::string text :
         {"Janet sells 16 eggs for $2 each.", "  two  spaces\tand a tab\n", "你好，世界 🚀", "x=12345"}) {
        EXPECT_EQ(tok->decode(tok->encode(text)), text);
    }
    auto unseen = tok->encode("你");
    EXPECT_EQ(unseen.size(), 4u);  // "▁" and three byte pieces
    EXPECT_EQ(tok->id_to_token(unseen[1]), "<0xE4>");
    EXPECT_FALSE(tok->token_to_id("no-such-piece").has_value());
}

TEST_F(SentencePieceTest, SpecialIdsAndDecodingOfControlTokens) {
    auto tok = SentencePieceTokenizer::load(dir_ / "bpe" / "tokenizer.model");
    ASSERT_TRUE(tok->special_ids().bos.has_value());
    EXPECT_EQ(*tok->special_ids().bos, 1);
    EXPECT_EQ(tok->special_ids().eos, std::vector<TokenId>{2});
    EXPECT_TRUE(tok->is_special(0) && tok->is_special(1) && tok->is_special(2));
    EXPECT_FALSE(tok->is_special(*tok->token_to_id("<|im_start|>")));

    auto ids = tok->encode("Hello there", true);
    EXPECT_EQ(ids.front(), 1);
    EXPECT_NE(ids.back(), 2);
    ids.push_back(2);
    EXPECT_EQ(tok->decode(ids, true), "Hello there");
    EXPECT_EQ(tok->decode(ids, false), "<s>Hello there</s>");
    EXPECT_THROW(tok->decode(std::vector<TokenId>{600}), Error);
    EXPECT_THROW(tok->id_to_token(-1), Error);
}

TEST_F(SentencePieceTest, LoadTokenizerReadsTheConfigBesideTheModel) {
    fs::path ckpt = dir_ / "ckpt";
    fs::create_directories(ckpt);
    fs::copy_file(dir_ / "bpe" / "tokenizer.model", ckpt / "tokenizer.model", fs::copy_options::overwrite_existing);
    write_file_atomic(ckpt / "tokenizer_config.json",
                      R"({"add_bos_token": true, "add_eos_token": true, "eos_token": {"content": "<|im_end|>"}})");
    auto tok = load_tokenizer(ckpt);
    TokenId im_end = *tok->token_to_id("<|im_end|>");
    EXPECT_EQ(tok->special_ids().eos, std::vector<TokenId>{im_end});
    auto ids = tok->encode("Hi", true);
    EXPECT_EQ(ids.front(), 1);
    EXPECT_EQ(ids.back(), im_end);
    EXPECT_TRUE(tok->is_eos(im_end));

    write_file_atomic(ckpt / "tokenizer_config.json", R"({"add_bos_token": "yes"})");
    try {
        load_tokenizer(ckpt);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("add_bos_token"), std::string::npos) << e.what();
    }
}

TEST_F(SentencePieceTest, LoadTokenizerFallsBackFromAMetaspaceTokenizerJson) {
    fs::path ckpt = dir_ / "llama2_like";
    fs::create_directories(ckpt);
    fs::copy_file(dir_ / "bpe" / "tokenizer.model", ckpt / "tokenizer.model", fs::copy_options::overwrite_existing);
    write_file_atomic(ckpt / "tokenizer.json",
                      R"({"model": {"type": "BPE", "vocab": {}, "merges": [], "byte_fallback": true},
                          "pre_tokenizer": {"type": "Metaspace"}, "decoder": {"type": "Metaspace"}})");
    auto tok = load_tokenizer(ckpt);
    EXPECT_NE(dynamic_cast<SentencePieceTokenizer*>(tok.get()), nullptr);
    fs::remove(ckpt / "tokenizer.model");
    try {
        load_tokenizer(ckpt);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("byte_fallback"), std::string::npos) << e.what();
    }
}

TEST_F(SentencePieceTest, TrainsUnigramModels) {
    SentencePieceTrainOptions o;
    o.input = dir_ / "corpus.txt";
    o.model_prefix = dir_ / "unigram" / "tokenizer";
    o.vocab_size = 500;
    o.model_type = "unigram";
    o.input_sentence_size = 2000;
    train_sentencepiece(o);
    auto tok = SentencePieceTokenizer::load(dir_ / "unigram" / "tokenizer.model");
    EXPECT_EQ(tok->vocab_size(), 500u);
    std::string text = "Natalia sold clips to 48 of her friends in April.";
    EXPECT_EQ(tok->decode(tok->encode(text)), text);
}

TEST_F(SentencePieceTest, ErrorsNameTheFile) {
    SentencePieceTrainOptions o;
    o.input = dir_ / "missing.txt";
    o.model_prefix = dir_ / "x" / "m";
    try {
        train_sentencepiece(o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
    }
    o.input = dir_ / "corpus.txt";
    o.model_type = "wordpiece";
    EXPECT_THROW(train_sentencepiece(o), Error);
    o.model_type = "bpe";
    o.user_defined_symbols = {"a,b"};
    EXPECT_THROW(train_sentencepiece(o), Error);

    write_file_atomic(dir_ / "broken.model", "not a model");
    try {
        SentencePieceTokenizer::load(dir_ / "broken.model");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("broken.model"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace anvil
