// Unit tests for models/model_config.h: both RoPE and dtype spellings, Qwen2/Qwen3 specifics, eos as int or
// list, round trips that keep unknown fields, and errors that name the file and key.
#include "models/model_config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/files.h"
#include "tests/models/test_dir.h"

namespace anvil {
using nlohmann::json;

namespace {

json llama31() {
    return json::parse(R"({
      "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
      "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
      "num_key_value_heads": 8, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
      "hidden_act": "silu", "tie_word_embeddings": true, "bos_token_id": 128000,
      "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16", "rope_theta": 500000.0,
      "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                       "original_max_position_embeddings": 8192, "rope_type": "llama3"},
      "pretraining_tp": 1})");
}

json qwen3() {
    return json::parse(R"({
      "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936,
      "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
      "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 40960, "rms_norm_eps": 1e-06,
      "tie_word_embeddings": true, "eos_token_id": 151645, "bos_token_id": 151643, "dtype": "bfloat16",
      "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"},
      "use_sliding_window": false, "sliding_window": null, "attention_bias": false})");
}

void expect_error(const json& j, std::initializer_list<std::string> fragments) {
    try {
        parse_model_config(j, "cfg/config.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string msg = e.what();
        for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << f << " not in: " << msg;
    }
}

}  // namespace

TEST(ModelConfig, ParsesLlama31WithLlama3RopeScaling) {
    ModelConfig c = parse_model_config(llama31(), "config.json");
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.num_key_value_heads, 8);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::llama3);
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.dtype, "bfloat16");
    EXPECT_FALSE(c.qkv_bias);
    EXPECT_FALSE(c.qk_norm);
}

TEST(ModelConfig, ParsesQwen3RopeParametersAndExplicitHeadDim) {
    ModelConfig c = parse_model_config(qwen3(), "config.json");
    EXPECT_EQ(c.head_dim, 128);  // != hidden / heads = 64
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_EQ(c.rope_scaling.type, RopeScaling::Type::none);
    EXPECT_TRUE(c.qk_norm);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151645}));
    EXPECT_FALSE(c.sliding_window.has_value());
}

TEST(ModelConfig, Qwen2HasQkvBiasAndMistralSlidingWindow) {
    json q = qwen3();
    q["model_type"] = "qwen2";
    q.erase("head_dim");
    EXPECT_TRUE(parse_model_config(q, "c").qkv_bias);
    EXPECT_EQ(parse_model_config(q, "c").head_dim, 64);
    json m = llama31();
    m["model_type"] = "mistral";
    m["sliding_window"] = 4096;
    m.erase("num_key_value_heads");
    ModelConfig c = parse_model_config(m, "c");
    EXPECT_EQ(c.sliding_window.value(), 4096);
    EXPECT_EQ(c.num_key_value_heads, 32);
}

TEST(ModelConfig, RoundTripKeepsSpellingsAndUnknownFields) {
    for (const json& j : {llama31(), qwen3()}) {
        ModelConfig c = parse_model_config(j, "config.json");
        json out = model_config_to_json(c);
        EXPECT_EQ(out.contains("rope_parameters"), j.contains("rope_parameters"));
        EXPECT_EQ(out.contains("torch_dtype"), j.contains("torch_dtype"));
        ModelConfig again = parse_model_config(out, "again");
        EXPECT_EQ(again.head_dim, c.head_dim);
        EXPECT_EQ(again.rope_scaling.type, c.rope_scaling.type);
        EXPECT_DOUBLE_EQ(again.rope_theta, c.rope_theta);
        EXPECT_EQ(again.eos_token_ids, c.eos_token_ids);
        EXPECT_EQ(again.dtype, c.dtype);
    }
    EXPECT_EQ(model_config_to_json(parse_model_config(llama31(), "c"))["pretraining_tp"], 1);
}

TEST(ModelConfig, ErrorsNameFileAndKey) {
    json j = llama31();
    j["hidden_size"] = "big";
    expect_error(j, {"cfg/config.json", "'hidden_size'", "integer"});
    j = llama31();
    j.erase("vocab_size");
    expect_error(j, {"cfg/config.json", "'vocab_size'", "missing"});
    j = llama31();
    j["model_type"] = "gpt2";
    expect_error(j, {"'model_type'", "gpt2"});
    j = llama31();
    j["num_key_value_heads"] = 5;
    expect_error(j, {"'num_key_value_heads'"});
    j = llama31();
    j["rope_scaling"]["rope_type"] = "yarn";
    expect_error(j, {"rope_scaling", "yarn"});
    j = llama31();
    j["eos_token_id"] = "x";
    expect_error(j, {"'eos_token_id'"});
    j = qwen3();
    j["layer_types"] = {"sliding_attention"};
    expect_error(j, {"'layer_types'"});
}

TEST(ModelConfig, FilesRoundTripAndBadJsonNamesTheFile) {
    testing_util::TempDir dir("model_config");
    ModelConfig c = parse_model_config(qwen3(), "c");
    save_model_config(c, dir.path / "config.json");
    EXPECT_EQ(load_model_config(dir.path / "config.json").head_dim, 128);
    write_file_atomic(dir.path / "bad.json", "{");
    EXPECT_THROW(
        {
            try {
                load_model_config(dir.path / "bad.json");
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
                throw;
            }
        },
        Error);
}

TEST(GenerationConfig, ReadsWritesAndKeepsEveryEos) {
    testing_util::TempDir dir("gen_config");
    json j = json::parse(R"({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643,
                             "do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20,
                             "repetition_penalty": 1.05, "transformers_version": "4.51.0"})");
    GenerationConfig g = parse_generation_config(j, "generation_config.json");
    EXPECT_EQ(g.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
    EXPECT_TRUE(g.do_sample);
    EXPECT_EQ(g.top_k.value(), 20);
    EXPECT_FALSE(g.max_new_tokens.has_value());
    save_generation_config(g, dir.path / "generation_config.json");
    GenerationConfig back = load_generation_config(dir.path / "generation_config.json");
    EXPECT_EQ(back.eos_token_ids, g.eos_token_ids);
    EXPECT_DOUBLE_EQ(back.temperature.value(), 0.7);
    EXPECT_EQ(back.source["transformers_version"], "4.51.0");
    j["top_k"] = 2.5;
    EXPECT_THROW(parse_generation_config(j, "g"), Error);
}

}  // namespace anvil
