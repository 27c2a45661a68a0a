// Hugging Face `config.json` (Llama / Qwen2 / Qwen3 / Mistral) and `generation_config.json`, read and written
// (specs/conventions.md §2.2, §2.4). Both RoPE spellings are read: transformers v4 `rope_theta` +
// `rope_scaling`, and v5 `rope_parameters`; both dtype spellings: `torch_dtype` and `dtype`. Writing starts
// from the JSON that was read, so fields Anvil does not model survive a load/save round trip, and keeps the
// spellings of the source file. Errors are anvil::Error naming the file and the key. No tensors here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace anvil {

// RoPE frequency scaling. `none` is plain RoPE ("default"); `llama3` is Llama-3.1's banded scaling.
struct RopeScaling {
    enum class Type { none, llama3, linear };
    Type type = Type::none;
    double factor = 1.0;
    double low_freq_factor = 1.0;
    double high_freq_factor = 4.0;
    int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
    std::string model_type = "llama";  // llama | qwen2 | qwen3 | mistral
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t intermediate_size = 0;
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;  // null/absent in the file => num_attention_heads (MHA)
    int64_t head_dim = 0;             // explicit in the file, else hidden_size / num_attention_heads
    int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool attention_bias = false;  // q/k/v/o biases (Llama, Qwen3 field)
    bool qkv_bias = false;        // q/k/v biases without o bias: hard-wired for qwen2
    bool mlp_bias = false;
    bool qk_norm = false;                   // per-head RMSNorm of q and k before RoPE: hard-wired for qwen3
    std::optional<int64_t> sliding_window;  // only when enabled; the transformer refuses longer sequences
    double initializer_range = 0.02;
    std::optional<int64_t> bos_token_id;
    std::optional<int64_t> pad_token_id;
    std::vector<int64_t> eos_token_ids;  // `eos_token_id` int or list
    std::string dtype = "float32";       // torch_dtype / dtype: "float32" | "bfloat16" | "float16"

    // The JSON as read (empty for a config built in code); written back with Anvil's fields overlaid.
    nlohmann::json source;

    // Checks the invariants (positive sizes, heads divide, GQA groups); throws naming `where`.
    void validate(const std::string& where) const;
};

// Parses a config.json object; `where` names the file in errors.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& where);
ModelConfig load_model_config(const std::filesystem::path& path);
// The HF JSON for `config` (model_type, architectures, every field above, in the source's spellings).
nlohmann::json model_config_to_json(const ModelConfig& config);
void save_model_config(const ModelConfig& config, const std::filesystem::path& path);

struct GenerationConfig {
    std::optional<int64_t> bos_token_id;
    std::vector<int64_t> eos_token_ids;
    std::optional<int64_t> pad_token_id;
    bool do_sample = false;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int64_t> top_k;
    std::optional<double> min_p;
    std::optional<double> repetition_penalty;
    std::optional<int64_t> max_new_tokens;
    nlohmann::json source;
};

GenerationConfig parse_generation_config(const nlohmann::json& json, const std::string& where);
GenerationConfig load_generation_config(const std::filesystem::path& path);
nlohmann::json generation_config_to_json(const GenerationConfig& config);
void save_generation_config(const GenerationConfig& config, const std::filesystem::path& path);
// The generation config HF derives from a model config when a checkpoint has none (bos/eos/pad only).
GenerationConfig generation_config_from_model(const ModelConfig& config);

}  // namespace anvil
