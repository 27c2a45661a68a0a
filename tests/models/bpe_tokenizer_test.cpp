// Parity of models/bpe_tokenizer.h with HF `tokenizers` on a real published Qwen3 tokenizer.json and on two
// small trained tokenizers (Llama-3-style and GPT-2-style), over the multilingual / code / whitespace / emoji /
// special-token corpus of tests/fixtures/make_tokenizer_fixtures.py: ids with and without special tokens, and
// decoding, must be identical for every case.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "models/bpe_tokenizer.h"
#include "models/tokenizer_unicode.h"
#include "tests/models/tokenizer_fixtures.h"

namespace anvil {
namespace {

const std::string& kFixtures = test::kTokenizerFixtures;

const nlohmann::json& cases() {
    static const nlohmann::json all = nlohmann::json::parse(read_file(kFixtures + "bpe_cases.json.gz"));
    return all;
}

std::string show(const std::vector<TokenId>& ids) {
    std::string out;
    for (TokenId id : ids) out += std::to_string(id) + " ";
    return out;
}

class BpeParity : public ::testing::TestWithParam<std::string> {};

TEST_P(BpeParity, IdsAndDecodingMatchHuggingFace) {
    const std::string name = GetParam();
    std::unique_ptr<BpeTokenizer> tiny;
    if (name != "qwen3") tiny = BpeTokenizer::load(kFixtures + name + "/tokenizer.json");
    const BpeTokenizer* tok = tiny ? tiny.get() : &test::qwen3_tokenizer();
    const auto& list = cases().at(name);
    ASSERT_GT(list.size(), 300u);
    size_t mismatches = 0;
    for (const auto& c : list) {
        std::string text = c["text"].get<std::string>();
        auto ids = tok->encode(text, false);
        auto expected = c["ids"].get<std::vector<TokenId>>();
        if (ids != expected && ++mismatches <= 5)
            ADD_FAILURE() << name << ": text " << nlohmann::json(text).dump() << "\n  got      " << show(ids)
                          << "\n  expected " << show(expected);
        EXPECT_EQ(tok->encode(text, true), c["ids_special"].get<std::vector<TokenId>>()) << nlohmann::json(text).dump();
        EXPECT_EQ(tok->decode(expected, false), c["decoded"].get<std::string>()) << nlohmann::json(text).dump();
        EXPECT_EQ(tok->decode(expected, true), c["decoded_skip"].get<std::string>()) << nlohmann::json(text).dump();
    }
    EXPECT_EQ(mismatches, 0u) << "of " << list.size() << " cases";
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, BpeParity, ::testing::Values("qwen3", "tiny_llama3_style", "tiny_gpt2_style"));

TEST(BpeTokenizer, EverySplitBehaviourMatchesHuggingFace) {
    auto base = nlohmann::json::parse(read_file(kFixtures + "tiny_llama3_style/tokenizer.json"));
    auto variants = nlohmann::json::parse(read_file(kFixtures + "split_cases.json"));
    ASSERT_EQ(variants.size(), 10u);
    for (const auto& v : variants) {
        base["pre_tokenizer"] = v["pre_tokenizer"];
        BpeTokenizer tok(base.dump(), "tiny_llama3_style with " + v["pre_tokenizer"].dump());
        for (const auto& c : v["cases"])
            EXPECT_EQ(tok.encode(c["text"].get<std::string>()), c["ids"].get<std::vector<TokenId>>())
                << v["pre_tokenizer"]["pretokenizers"][0].dump() << " on " << c["text"].dump();
    }
}

TEST(BpeTokenizer, ConcurrentEncodingGivesTheSameIds) {
    const BpeTokenizer& tok = test::qwen3_tokenizer();
    const auto& list = cases().at("qwen3");
    std::vector<std::vector<std::vector<TokenId>>> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep)
                for (const auto& c : list) results[t].push_back(tok.encode(c["text"].get<std::string>()));
        });
    for (auto& th : threads) th.join();
    for (const auto& r : results) {
        ASSERT_EQ(r.size(), 3 * list.size());
        for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], list[i % list.size()]["ids"].get<std::vector<TokenId>>());
    }
}

TEST(BpeTokenizer, QwenRoundTripsTextUpToNfc) {
    const BpeTokenizer* tok = &test::qwen3_tokenizer();
    for (const auto& c : cases().at("qwen3")) {
        std::string text = c["text"].get<std::string>();
        EXPECT_EQ(tok->decode(tok->encode(text)), unicode::normalize(text, unicode::NormalForm::nfc));
    }
}

}  // namespace
}  // namespace anvil
