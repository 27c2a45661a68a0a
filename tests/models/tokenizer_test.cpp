// Tests of models/tokenizer.h (loading a checkpoint directory, resolving bos / eos / pad from
// tokenizer_config.json and generation_config.json), of the errors a malformed tokenizer.json gives, and of the
// Unicode helpers (lossy UTF-8 decoding as Rust's from_utf8_lossy does it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "models/bpe_tokenizer.h"
#include "models/tokenizer_unicode.h"
#include "tests/models/tokenizer_fixtures.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;
const std::string& kFixtures = test::kTokenizerFixtures;

// The message of the anvil::Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

class CheckpointDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_tok_test_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    void copy_qwen() {
        fs::copy_file(kFixtures + "qwen3/tokenizer.json.gz", dir / "tokenizer.json.gz");
        fs::copy_file(kFixtures + "qwen3/tokenizer_config.json", dir / "tokenizer_config.json");
    }
    fs::path dir;
};

TEST_F(CheckpointDir, QwenSpecialTokensFromConfigAndGenerationConfig) {
    copy_qwen();
    write_file_atomic(dir / "generation_config.json",
                      R"({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643})");
    auto tok = load_tokenizer(dir);
    EXPECT_EQ(tok->vocab_size(), 151669u);
    EXPECT_EQ(tok->special_ids().eos, (std::vector<TokenId>{151645, 151643}));
    EXPECT_TRUE(tok->is_eos(151643) && tok->is_eos(151645));
    ASSERT_TRUE(tok->special_ids().pad && tok->special_ids().bos);
    EXPECT_EQ(*tok->special_ids().pad, 151643);
    EXPECT_EQ(*tok->special_ids().bos, 151643);  // tokenizer_config says null; generation_config fills it
    EXPECT_TRUE(tok->is_special(151644));
    EXPECT_FALSE(tok->is_special(151667));  // <think> is an added token but not special
    EXPECT_EQ(tok->token_to_id("<think>"), 151667);
    EXPECT_EQ(tok->id_to_token(151667), "<think>");
    EXPECT_EQ(tok->added_tokens().size(), 26u);
    EXPECT_EQ(tok->id_to_token(9707), "Hello");
    EXPECT_FALSE(tok->token_to_id("no such token").has_value());
    EXPECT_NE(error_of([&] { tok->id_to_token(200000); }).find("200000"), std::string::npos);
}

TEST_F(CheckpointDir, SpecialTokensMapFillsWhatTokenizerConfigLeavesOut) {
    fs::copy_file(kFixtures + "qwen3/tokenizer.json.gz", dir / "tokenizer.json.gz");
    write_file_atomic(dir / "tokenizer_config.json", R"({"pad_token": "<|endoftext|>"})");
    write_file_atomic(dir / "special_tokens_map.json",
                      R"({"eos_token": {"content": "<|im_end|>", "lstrip": false}, "pad_token": "<|im_start|>",
                          "bos_token": null})");
    auto tok = load_tokenizer(dir);
    EXPECT_EQ(tok->special_ids().eos, std::vector<TokenId>{151645});
    EXPECT_EQ(tok->special_ids().pad, 151643);  // tokenizer_config.json wins
    EXPECT_FALSE(tok->special_ids().bos.has_value());
}

TEST_F(CheckpointDir, ErrorsNameTheFileAndKey) {
    EXPECT_NE(error_of([&] { load_tokenizer(dir); }).find("no tokenizer found"), std::string::npos);
    EXPECT_NE(error_of([&] { load_tokenizer(dir / "missing"); }).find("not a directory"), std::string::npos);
    copy_qwen();
    write_file_atomic(dir / "generation_config.json", R"({"eos_token_id": [151645, 999999]})");
    std::string e = error_of([&] { load_tokenizer(dir); });
    EXPECT_NE(e.find("generation_config.json"), std::string::npos) << e;
    EXPECT_NE(e.find("eos_token_id[1]"), std::string::npos) << e;
    write_file_atomic(dir / "generation_config.json", "{}");
    write_file_atomic(dir / "tokenizer_config.json", R"({"eos_token": "<|nope|>"})");
    e = error_of([&] { load_tokenizer(dir); });
    EXPECT_NE(e.find("tokenizer_config.json"), std::string::npos) << e;
    EXPECT_NE(e.find("eos_token"), std::string::npos) << e;
    write_file_atomic(dir / "tokenizer_config.json", "{not json");
    EXPECT_NE(error_of([&] { load_tokenizer(dir); }).find("tokenizer_config.json"), std::string::npos);
}

// A minimal byte-level tokenizer.json: the 256 byte tokens and one merge ("h" + "i").
nlohmann::json minimal_tokenizer() {
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b) vocab[unicode::byte_to_utf8()[b]] = b;
    vocab["hi"] = 256;
    return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"h i"}}}},
            {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
            {"decoder", {{"type", "ByteLevel"}}}};
}

TEST(BpeTokenizerErrors, MalformedFilesNameTheKey) {
    auto error_for = [](const nlohmann::json& j) { return error_of([&] { BpeTokenizer(j.dump(), "t.json"); }); };
    EXPECT_EQ(error_for(minimal_tokenizer()), "");
    EXPECT_EQ(BpeTokenizer(minimal_tokenizer().dump(), "t.json").encode("hi hi"),
              (std::vector<TokenId>{256, 32, 256}));  // "Ġ" is byte 32

    auto j = minimal_tokenizer();
    j["model"]["type"] = "WordPiece";
    EXPECT_NE(error_for(j).find("t.json: model.type"), std::string::npos) << error_for(j);
    j = minimal_tokenizer();
    j["model"]["merges"] = {"h q"};
    j["model"]["vocab"].erase("q");
    EXPECT_NE(error_for(j).find("model.merges[0]"), std::string::npos) << error_for(j);
    j = minimal_tokenizer();
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}},
                            {{"type", "ByteLevel"}}}}};
    EXPECT_NE(error_for(j).find("pre_tokenizer.pretokenizers[0].pattern.Regex"), std::string::npos) << error_for(j);
    j = minimal_tokenizer();
    j["pre_tokenizer"] = {{"type", "Whitespace"}};
    EXPECT_NE(error_for(j).find("pre_tokenizer.type"), std::string::npos) << error_for(j);
    j = minimal_tokenizer();
    j["decoder"] = {{"type", "Metaspace"}};
    EXPECT_NE(error_for(j).find("decoder.type"), std::string::npos) << error_for(j);
    j = minimal_tokenizer();
    j["added_tokens"] = {{{"id", 300}}};
    EXPECT_NE(error_for(j).find("added_tokens[0]: missing key 'content'"), std::string::npos) << error_for(j);
    EXPECT_NE(error_of([] { BpeTokenizer("{", "t.json"); }).find("t.json: not valid JSON"), std::string::npos);

    BpeTokenizer tok(minimal_tokenizer().dump(), "t.json");
    EXPECT_NE(error_of([&] { tok.encode("bad \xC3 utf-8"); }).find("invalid UTF-8 at byte 4"), std::string::npos);
    EXPECT_NE(error_of([&] { tok.decode(std::vector<TokenId>{257}); }).find("257"), std::string::npos);
}

TEST(TokenizerUnicode, LossyDecodingReplacesMaximalInvalidSubparts) {
    using unicode::utf8_lossy;
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(utf8_lossy("plain ✓"), "plain ✓");
    EXPECT_EQ(utf8_lossy("\xC3"), r);
    EXPECT_EQ(utf8_lossy("a\xE2\x82"), "a" + r);
    EXPECT_EQ(utf8_lossy("\xF0\x9F\x98x"), r + "x");
    EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), r + r + r);  // a surrogate: three invalid bytes
    EXPECT_EQ(utf8_lossy("\xFF\xC0\x80"), r + r + r);
    EXPECT_EQ(unicode::first_invalid_utf8("ok\xC3\x28"), 2u);
}

TEST(TokenizerUnicode, ByteTableIsGpt2s) {
    EXPECT_EQ(unicode::byte_to_utf8()[' '], "\xC4\xA0");   // "Ġ"
    EXPECT_EQ(unicode::byte_to_utf8()['\n'], "\xC4\x8A");  // "Ċ"
    EXPECT_EQ(unicode::byte_to_utf8()['A'], "A");
    for (int b = 0; b < 256; ++b) EXPECT_EQ(unicode::code_point_to_byte(unicode::byte_to_code_point()[b]), b);
    EXPECT_EQ(unicode::code_point_to_byte(0x4E2D), -1);
}

TEST(TokenizerUnicode, DecodingPartialTokensMatchesHuggingFace) {
    const BpeTokenizer* tok = &test::qwen3_tokenizer();
    auto ids = tok->encode("\U0002070E");  // a rare CJK extension-B character, split over byte tokens
    ASSERT_GT(ids.size(), 1u);
    EXPECT_EQ(tok->decode(std::vector<TokenId>(ids.begin(), ids.end() - 1)), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace anvil
