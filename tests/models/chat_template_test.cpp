// Tests of models/chat_template.h: the built-in renderers must equal transformers' apply_chat_template on the
// Qwen3 (published tokenizer_config.json), Qwen2.5 and Llama-3 templates for every conversation of
// tests/fixtures/chat_cases.json (system / no system, multi-turn, <think> history, generation prompt on and off,
// enable_thinking); plus family detection, selection by name, and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "models/bpe_tokenizer.h"
#include "models/chat_template.h"
#include "tests/models/tokenizer_fixtures.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;
const std::string& kFixtures = test::kTokenizerFixtures;

std::vector<ChatMessage> messages_of(const nlohmann::json& list) {
    std::vector<ChatMessage> out;
    for (const auto& m : list) {
        out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>(), std::nullopt});
        if (m.contains("reasoning_content")) out.back().reasoning_content = m["reasoning_content"].get<std::string>();
    }
    return out;
}

TEST(ChatTemplate, MatchesTransformersOnEveryFixtureConversation) {
    auto cases = nlohmann::json::parse(read_file(kFixtures + "chat_cases.json"));
    ChatTemplate qwen3 = ChatTemplate::from_checkpoint(kFixtures + "qwen3");
    ChatTemplate qwen25 = ChatTemplate::detect(read_file(kFixtures + "qwen2_5_chat_template.jinja"), "qwen2.5");
    ChatTemplate llama3 = ChatTemplate::detect(read_file(kFixtures + "llama3_chat_template.jinja"), "llama3");
    EXPECT_EQ(qwen3.name(), "qwen3");
    EXPECT_EQ(qwen25.name(), "qwen2.5");
    EXPECT_EQ(qwen25.default_system(), "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
    EXPECT_EQ(llama3.name(), "llama3");
    std::map<std::string, std::pair<const ChatTemplate*, std::string>> by_family = {
        {"qwen3", {&qwen3, "qwen3"}}, {"qwen2_5", {&qwen25, "qwen2.5"}}, {"llama3", {&llama3, "llama3"}}};
    ASSERT_GE(cases.size(), 50u);
    for (const auto& c : cases) {
        auto [detected, name] = by_family.at(c["template"].get<std::string>());
        ChatRenderOptions options;
        options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
        if (c.contains("enable_thinking")) options.enable_thinking = c["enable_thinking"].get<bool>();
        auto messages = messages_of(c["messages"]);
        std::string expected = c["text"].get<std::string>();
        EXPECT_EQ(detected->render(messages, options), expected) << c.dump();
        EXPECT_EQ(ChatTemplate::by_name(name).render(messages, options), expected) << c.dump();
    }
}

TEST(ChatTemplate, Qwen3KeepsExplicitReasoningAfterTheLastQuery) {
    ChatTemplate t = ChatTemplate::by_name("qwen3");
    std::vector<ChatMessage> m = {{"user", "Q", std::nullopt}, {"assistant", "A", std::string("\nthink hard\n")}};
    EXPECT_EQ(t.render(m),
              "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nthink hard\n</think>\n\nA<|im_end|>\n");
}

TEST(ChatTemplate, RenderedChatTokenizesWithWholeSpecialTokens) {
    const BpeTokenizer* tok = &test::qwen3_tokenizer();
    std::vector<ChatMessage> m = {{"system", "Be brief.", std::nullopt}, {"user", "Hi!", std::nullopt}};
    ChatRenderOptions options;
    options.add_generation_prompt = true;
    auto ids = tok->encode(ChatTemplate::by_name("qwen3").render(m, options));
    TokenId im_start = *tok->token_to_id("<|im_start|>");
    EXPECT_EQ(ids.front(), im_start);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), im_start), 3);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), *tok->token_to_id("<|im_end|>")), 2);
}

TEST(ChatTemplate, PlainTemplate) {
    std::vector<ChatMessage> m = {
        {"system", "S", std::nullopt}, {"user", "U", std::nullopt}, {"assistant", "A", std::nullopt}};
    ChatRenderOptions options;
    options.add_generation_prompt = true;
    EXPECT_EQ(ChatTemplate::by_name("plain").render(m, options), "System: S\n\nUser: U\n\nAssistant: A\n\nAssistant:");
}

TEST(ChatTemplate, DetectionAndSelectionErrors) {
    EXPECT_EQ(ChatTemplate::detect("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                                   "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
                                   "generic")
                  .name(),
              "chatml");
    EXPECT_EQ(
        ChatTemplate::detect("{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}", "q2").name(),
        "qwen2");
    try {
        ChatTemplate::detect("{{ bos_token }}[INST] {{ message }} [/INST]",
                             "mistral/tokenizer_config.json: key 'chat_template'");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("mistral/tokenizer_config.json"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ChatTemplate::detect("<|start_header_id|>system<|end_header_id|>Cutting Knowledge Date", "llama31"),
                 Error);
    EXPECT_THROW(ChatTemplate::by_name("vicuna"), UsageError);
    std::vector<ChatMessage> tool = {{"tool", "42", std::nullopt}};
    EXPECT_THROW(ChatTemplate::by_name("chatml").render(tool), UsageError);
}

TEST(ChatTemplate, FromCheckpointPrefersChatTemplateJinjaAndReadsLists) {
    fs::path dir = fs::temp_directory_path() / ("anvil_chat_test_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    EXPECT_THROW(ChatTemplate::from_checkpoint(dir), Error);
    write_file_atomic(dir / "tokenizer_config.json",
                      R"({"bos_token": "<B>", "chat_template": [{"name": "tool_use", "template": "x"},
                          {"name": "default", "template": "<|start_header_id|>{{ m }}"}]})");
    ChatTemplate t = ChatTemplate::from_checkpoint(dir);
    EXPECT_EQ(t.family(), ChatTemplate::Family::llama3);
    std::vector<ChatMessage> m = {{"user", " hi ", std::nullopt}};
    EXPECT_EQ(t.render(m), "<B><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    EXPECT_EQ(ChatTemplate::select("llama3", dir).render(m), t.render(m));  // the checkpoint's bos, by name
    EXPECT_EQ(ChatTemplate::select("plain", dir).name(), "plain");
    write_file_atomic(dir / "chat_template.jinja", read_file(kFixtures + "qwen2_5_chat_template.jinja"));
    EXPECT_EQ(ChatTemplate::from_checkpoint(dir).name(), "qwen2.5");
    EXPECT_EQ(ChatTemplate::select("auto", dir).name(), "qwen2.5");
    EXPECT_THROW(ChatTemplate::select("nope", dir), UsageError);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace anvil
