// Unit tests for algorithms/preference_data.h (record shapes, prompt extraction, tokenization, truncation,
// file:line errors and skip_invalid, HH-RLHF conversion) and the answer replacement of
// algorithms/preference_pairs_stage.h.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "algorithms/preference_data.h"
#include "algorithms/preference_pairs_stage.h"
#include "core/error.h"
#include "core/files.h"
#include "models/tokenizer.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

nlohmann::json parse(const char* text) { return nlohmann::json::parse(text); }

struct TokenizerDir {
    TokenizerDir() {
        dir = fs::temp_directory_path() / ("anvil_prefdata_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        fs::copy_file(fs::path(ANVIL_SOURCE_DIR) / "tests/fixtures/tokenizers/tiny_gpt2_style/tokenizer.json", dir / "tokenizer.json");
        write_file_atomic(dir / "tokenizer_config.json",
                          R"({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "add_bos_token": true})");
        tokenizer = load_tokenizer(dir);
    }
    ~TokenizerDir() { fs::remove_all(dir); }
    fs::path dir;
    std::unique_ptr<Tokenizer> tokenizer;
};

}  // namespace

TEST(PreferencePair, StringShape) {
    PreferencePair p = preference_pair_from_json(parse(R"({"prompt": "2+2?", "chosen": "4", "rejected": "5", "score_chosen": 9, "margin": 0.5})"));
    EXPECT_EQ(p.prompt, "2+2?");
    EXPECT_TRUE(p.prompt_messages.empty());
    EXPECT_EQ(p.chosen, "4");
    EXPECT_EQ(p.rejected, "5");
    EXPECT_EQ(p.score_chosen, 9.0);
    EXPECT_FALSE(p.score_rejected.has_value());
    EXPECT_EQ(p.margin, 0.5);
}

TEST(PreferencePair, UltraFeedbackShapeTakesTheSharedTurnsAsPrompt) {
    PreferencePair p = preference_pair_from_json(parse(R"({"prompt": "hi", "prompt_id": "x",
        "chosen": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        "rejected": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}],
        "score_chosen": 8.5, "score_rejected": 3.0})"));
    ASSERT_EQ(p.prompt_messages.size(), 1u);
    EXPECT_EQ(p.prompt_messages[0].role, "user");
    EXPECT_EQ(p.prompt_messages[0].content, "hi");
    EXPECT_EQ(p.chosen, "hello");
    EXPECT_EQ(p.rejected, "go away");
    EXPECT_EQ(p.score_rejected, 3.0);
    // Responses only, with the prompt as messages (what `anvil data convert-hh` writes).
    PreferencePair q = preference_pair_from_json(parse(R"({"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})"));
    ASSERT_EQ(q.prompt_messages.size(), 2u);
    EXPECT_EQ(q.prompt_messages[0].role, "system");
    EXPECT_EQ(q.chosen, "a");
}

TEST(PreferencePair, MalformedRecordsNameTheProblem) {
    auto fails = [](const char* text, const std::string& needle) {
        try {
            preference_pair_from_json(parse(text));
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            return;
        }
        ADD_FAILURE() << "accepted " << text;
    };
    fails(R"({"prompt": "p", "chosen": "a"})", "'rejected'");
    fails(R"({"chosen": "a", "rejected": "b"})", "'prompt'");
    fails(R"({"prompt": "p", "chosen": "a", "rejected": [{"role": "assistant", "content": "b"}]})", "both be strings");
    fails(R"({"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
              "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})", "same conversation");
    fails(R"({"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "more"}],
              "rejected": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}]})", "exactly one assistant");
    fails(R"({"prompt": "p", "chosen": "a", "rejected": "b", "margin": "big"})", "'margin'");
    fails(R"({"prompt": [{"role": "user"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})",
          "'prompt'");
}

TEST(PreferenceData, TokenizesTruncatesAndReportsFileLine) {
    TokenizerDir t;
    const auto& special = t.tokenizer->special_ids();
    ASSERT_FALSE(special.eos.empty());
    const fs::path file = t.dir / "pairs.jsonl";
    write_file_atomic(file, R"({"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5 or so", "ref_chosen_logps": -1.5, "ref_rejected_logps": -2})"
                            "\n\n"
                            R"({"prompt": "Long", "chosen": "one two three four five six seven eight nine ten eleven twelve", "rejected": "no"})"
                            "\n");
    PreferenceEncoding o;
    o.prompt_template = "Q: {prompt}\nA:";
    o.max_length = 24;
    PreferenceDataset d = load_preference_dataset(file, o, *t.tokenizer, std::nullopt);
    ASSERT_EQ(d.examples.size(), 2u);
    const PreferenceExample& e = d.examples[0];
    std::vector<int64_t> prompt;
    for (TokenId id : t.tokenizer->encode("Q: What is 2 + 2?\nA:", true)) prompt.push_back(id);
    EXPECT_EQ(e.prompt, prompt);
    EXPECT_EQ(e.chosen.back(), special.eos.front());
    EXPECT_EQ(e.ref_chosen_logps, -1.5);
    EXPECT_FALSE(d.has_reference_logps());  // the second pair has none
    EXPECT_EQ(d.truncated, 1u);
    EXPECT_EQ(d.examples[1].prompt.size() + d.examples[1].chosen.size(), 24u);
    o.overlong = "drop";
    EXPECT_EQ(load_preference_dataset(file, o, *t.tokenizer, std::nullopt).dropped, 1u);

    // Conversational prompts need a chat template; with one, the prompt is the rendered conversation.
    const fs::path conv = t.dir / "conv.jsonl";
    write_file_atomic(conv, R"({"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]})"
                            "\n");
    EXPECT_THROW(load_preference_dataset(conv, {}, *t.tokenizer, std::nullopt), UsageError);
    PreferenceDataset c = load_preference_dataset(conv, {}, *t.tokenizer, ChatTemplate::by_name("plain"));
    std::vector<int64_t> rendered;
    ChatRenderOptions ro;
    ro.add_generation_prompt = true;
    std::vector<ChatMessage> messages = {{"user", "hi", std::nullopt}};
    for (TokenId id : t.tokenizer->encode(ChatTemplate::by_name("plain").render(messages, ro), false)) rendered.push_back(id);
    EXPECT_EQ(c.examples.at(0).prompt, rendered);

    // Malformed lines: file:line, or skipped and counted.
    write_file_atomic(file, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n{\"prompt\": \"p\"}\nnot json\n");
    try {
        load_preference_dataset(file, {}, *t.tokenizer, std::nullopt);
        ADD_FAILURE() << "malformed line accepted";
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find("pairs.jsonl:2:"), std::string::npos) << err.what();
    }
    PreferenceEncoding skip;
    skip.skip_invalid = true;
    PreferenceDataset s = load_preference_dataset(file, skip, *t.tokenizer, std::nullopt);
    EXPECT_EQ(s.examples.size(), 1u);
    EXPECT_EQ(s.skipped, 2u);
}

TEST(PreferenceData, SplitsOffAHeldOutShare) {
    TokenizerDir t;
    const fs::path file = t.dir / "pairs.jsonl";
    std::string text;
    for (int i = 0; i < 10; ++i) text += "{\"prompt\": \"p" + std::to_string(i) + "\", \"chosen\": \"a\", \"rejected\": \"b\"}\n";
    write_file_atomic(file, text);
    PreferenceSplits s = load_preference_splits(file, "", 0.2, 512, {}, *t.tokenizer, std::nullopt);
    EXPECT_EQ(s.train.examples.size(), 8u);
    EXPECT_EQ(s.held_out.examples.size(), 2u);
    EXPECT_EQ(load_preference_splits(file, file.string(), 0, 3, {}, *t.tokenizer, std::nullopt).held_out.examples.size(), 3u);
}

TEST(HhRlhf, TranscriptsBecomeConversationalPairs) {
    auto out = hh_rlhf_to_conversational(parse(
        R"({"chosen": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant: Why did the chicken cross the road?",
            "rejected": "\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: Tell me a joke.\n\nAssistant: No."})"));
    ASSERT_EQ(out["prompt"].size(), 3u);
    EXPECT_EQ(out["prompt"][0]["role"], "user");
    EXPECT_EQ(out["prompt"][0]["content"], "Hi there");
    EXPECT_EQ(out["prompt"][1]["role"], "assistant");
    EXPECT_EQ(out["chosen"][0]["content"], "Why did the chicken cross the road?");
    EXPECT_EQ(out["rejected"][0]["content"], "No.");
    // The converted record reads back as a pair with the three prompt turns.
    PreferencePair p = preference_pair_from_json(nlohmann::json::parse(out.dump()));
    EXPECT_EQ(p.prompt_messages.size(), 3u);
    EXPECT_EQ(p.rejected, "No.");
    EXPECT_THROW(hh_rlhf_to_conversational(parse(R"({"chosen": "Hi", "rejected": "\n\nHuman: a\n\nAssistant: b"})")), Error);
    EXPECT_THROW(hh_rlhf_to_conversational(parse(R"({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: b"})")),
                 Error);
    EXPECT_THROW(hh_rlhf_to_conversational(parse(R"({"chosen": "\n\nHuman: a\n\nAssistant:", "rejected": "\n\nHuman: a\n\nAssistant: b"})")),
                 Error);
}

TEST(HhRlhf, CommittedSampleIsTheConversionOfTheRawSample) {
    const fs::path data = fs::path(ANVIL_SOURCE_DIR) / "data/hh-rlhf";
    const fs::path out = fs::temp_directory_path() / ("anvil_hh_" + std::to_string(::getpid()) + ".jsonl");
    ConversionStats stats = convert_hh_rlhf(data / "helpful-base-test-600.jsonl.gz", out);
    EXPECT_EQ(stats.written + stats.skipped, 600u);
    EXPECT_GT(stats.written, 550u);
    EXPECT_EQ(read_file(out), read_file(data / "helpful-base-test-600-pairs.jsonl.gz"));
    EXPECT_EQ(convert_hh_rlhf(data / "helpful-base-test-600.jsonl.gz", out, 10).written, 10u);
    fs::remove(out);
}

TEST(PreferencePairs, ReplaceAnswerTouchesWholeNumbersOnly) {
    EXPECT_EQ(replace_answer("37 + 45 = 82. The answer is \\boxed{82}.", "82", "85"),
              "37 + 45 = 85. The answer is \\boxed{85}.");
    EXPECT_EQ(replace_answer("182 - 100 = 82. 8.2 and 820 stay. \\boxed{82}", "82", "80"),
              "182 - 100 = 80. 8.2 and 820 stay. \\boxed{80}");
    EXPECT_EQ(replace_answer("3 - 8 = -5. The answer is \\boxed{-5}.", "-5", "-2"), "3 - 8 = -2. The answer is \\boxed{-2}.");
    EXPECT_EQ(replace_answer("10 - 5 = 5. \\boxed{5} not -5", "5", "7"), "10 - 7 = 7. \\boxed{7} not -5");
    EXPECT_FALSE(replace_answer("no number here", "42", "41").has_value());
    EXPECT_FALSE(replace_answer("x", "", "1").has_value());
}

}  // namespace anvil
