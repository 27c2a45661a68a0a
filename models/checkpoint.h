// Hugging Face checkpoint directories (specs/conventions.md §2.1): config.json, generation_config.json,
// model.safetensors or model-0000K-of-0000N.safetensors + model.safetensors.index.json, and tokenizer files.
// Loads them into a Transformer (any dtype / device; weights are converted while copying) and saves a model
// in the same layout, so a directory Anvil writes opens in transformers unchanged. Also builds small random
// models for demos and tests. Atomic directory commits (tmp dir + rename, `latest`) belong to trainer/.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "models/model_config.h"
#include "models/transformer.h"

namespace anvil {

struct Checkpoint {
    ModelConfig config;
    GenerationConfig generation;  // generation_config.json, or derived from config.json when absent
    Transformer model{nullptr};
};

// Loads a checkpoint directory with parameters created as `options` (dtype, device). Every model tensor
// must be present with its exact shape (an anvil::Error names the tensor and file otherwise); tensors the
// model does not use are ignored with a warning (lm_head.weight of a tied model silently).
Checkpoint load_checkpoint(const std::filesystem::path& dir, at::TensorOptions options = at::kFloat);

// Copies the weights of checkpoint directory `dir` into an existing model (same validation as above).
void load_weights(TransformerImpl& model, const std::filesystem::path& dir);

struct SaveOptions {
    // Shards are cut before a tensor that would take a shard past this many bytes (HF's max_shard_size);
    // a single shard is written as model.safetensors without an index.
    int64_t max_shard_bytes = int64_t{5} << 30;
    // generation_config.json to write; default: derived from the model config (bos/eos/pad).
    std::optional<GenerationConfig> generation;
    // Tokenizer files (tokenizer.json, tokenizer_config.json, ...) found here are copied.
    std::optional<std::filesystem::path> tokenizer_source;
};

// Writes `model` into `dir` (created if needed; existing files of the same names are replaced) with
// config.json's dtype set to the model's dtype. Files are written atomically one by one.
void save_checkpoint(TransformerImpl& model, const std::filesystem::path& dir, const SaveOptions& options = {});

// A model with HF-style random init from `seed`: linear and embedding weights ~ N(0, initializer_range),
// biases 0, norm weights 1, the padding token's embedding row 0. Independent of dtype and device (drawn
// on the CPU in fp32, then converted).
Transformer init_random_model(const ModelConfig& config, uint64_t seed, at::TensorOptions options = at::kFloat);

// The tokenizer file names save_checkpoint copies.
const std::vector<std::string>& tokenizer_file_names();

}  // namespace anvil
