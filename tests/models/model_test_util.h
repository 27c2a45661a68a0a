// Helpers shared by the models tests: a tiny in-code config and the fixture directory. Test helper only.
#pragma once

#include <filesystem>
#include <string>

#include "models/model_config.h"

namespace anvil::testing_util {

// A tiny Qwen3-style config (GQA 4/2, head_dim 24 != hidden/heads, q/k norms), or Qwen2 / Llama variants.
inline ModelConfig tiny_config(const std::string& model_type = "qwen3") {
    ModelConfig c;
    c.model_type = model_type;
    c.vocab_size = 97;
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = model_type == "qwen3" ? 24 : 8;
    c.qk_norm = model_type == "qwen3";
    c.qkv_bias = model_type == "qwen2";
    c.tie_word_embeddings = model_type == "qwen2";
    c.rope_theta = 10000.0;
    c.eos_token_ids = {2};
    c.pad_token_id = 0;
    return c;
}

inline std::filesystem::path fixture_dir(const std::string& name) {
    return std::filesystem::path(ANVIL_SOURCE_DIR) / "tests" / "fixtures" / "models" / name;
}

}  // namespace anvil::testing_util
