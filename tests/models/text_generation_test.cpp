// Unit tests of models/text_generation.h prompt encoding: a chat record's conversation is rendered through the
// template exactly once (encode_conversation), and a plain prompt through the template as one user turn
// (encode_prompts), with the real Qwen3 tokenizer and chat template of tests/fixtures/tokenizers/qwen3.
#include "models/text_generation.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "tests/models/model_test_util.h"

namespace anvil {
namespace {
namespace fs = std::filesystem;

size_t count(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

class TextGenerationTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_textgen_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        ModelConfig config = testing_util::tiny_config("qwen3");
        config.vocab_size = 151936;  // the Qwen3 tokenizer's ids
        save_checkpoint(*init_random_model(config, 1), dir);
        const fs::path fixture = fs::path(ANVIL_SOURCE_DIR) / "tests/fixtures/tokenizers/qwen3";
        write_file_atomic(dir / "tokenizer.json", read_file(fixture / "tokenizer.json.gz"));
        fs::copy_file(fixture / "tokenizer_config.json", dir / "tokenizer_config.json", fs::copy_options::overwrite_existing);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
};

TEST_F(TextGenerationTest, ConversationsAreRenderedOnce) {
    TextGenerator text = TextGenerator::load(dir, at::kFloat, "auto");
    ASSERT_TRUE(text.chat_template());
    const std::vector<ChatMessage> history = {{"system", "Be brief.", std::nullopt},
                                              {"user", "What is 2 + 3?", std::nullopt},
                                              {"assistant", "5", std::nullopt},
                                              {"user", "And 4 + 4?", std::nullopt}};
    const std::vector<int64_t> ids = text.encode_conversation(history);
    const std::string decoded = text.tokenizer().decode(std::vector<TokenId>(ids.begin(), ids.end()), false);
    ChatRenderOptions options;
    options.add_generation_prompt = true;
    EXPECT_EQ(decoded, text.chat_template()->render(history, options));
    EXPECT_EQ(count(decoded, "<|im_start|>user"), 2u) << decoded;
    EXPECT_EQ(count(decoded, "<|im_start|>assistant"), 2u) << decoded;
    // A plain prompt is one user turn.
    EXPECT_EQ(text.encode_prompts({"What is 2 + 3?"}).front(), text.encode_conversation({{"user", "What is 2 + 3?", std::nullopt}}));
}

TEST_F(TextGenerationTest, ConversationsNeedAChatTemplate) {
    TextGenerator text = TextGenerator::load(dir, at::kFloat, "");
    EXPECT_THROW(text.encode_conversation({{"user", "hi", std::nullopt}}), Error);
}

}  // namespace
}  // namespace anvil
