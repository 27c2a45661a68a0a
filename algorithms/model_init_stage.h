// Stage kind "model_init": a randomly initialised decoder (HF-style init) of a chosen architecture and size,
// with the vocabulary of a tokenizer directory, saved as an HF checkpoint directory (tokenizer files included)
// and published as @model. For demos, tests and from-scratch experiments.
#pragma once

#include <string>

#include "core/config_schema.h"

namespace anvil {

class RunContext;

struct ModelInitOptions {
    std::string tokenizer = "@tokenizer";
    std::string model_type = "qwen3";
    int64_t hidden_size = 128;
    int64_t intermediate_size = 384;
    int64_t num_hidden_layers = 4;
    int64_t num_attention_heads = 4;
    int64_t num_key_value_heads = 2;
    int64_t head_dim = 0;
    int64_t max_position_embeddings = 512;
    double rope_theta = 10000.0;
    bool tie_word_embeddings = true;
    double initializer_range = 0.02;
    int64_t seed = 0;

    static const config::Section<ModelInitOptions>& section();
};

void run_model_init_stage(const ModelInitOptions& options, RunContext& ctx);

}  // namespace anvil
