// HF config.json / generation_config.json parsing and writing; see model_config.h and specs/conventions.md §2.
#include "models/model_config.h"

#include "core/error.h"
#include "core/files.h"

namespace anvil {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed field access with errors naming the file and key. A JSON null counts as absent.
struct Fields {
    const json& j;
    const std::string& where;

    bool has(const std::string& key) const { return j.contains(key) && !j[key].is_null(); }
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw Error(str(where, ": key '", key, "': ", what, ", got ", j[key].dump()));
    }
    int64_t integer(const std::string& key) const {
        ANVIL_CHECK(has(key), where, ": missing required key '", key, "'");
        if (!j[key].is_number_integer()) fail(key, "expected an integer");
        return j[key].get<int64_t>();
    }
    int64_t integer(const std::string& key, int64_t fallback) const { return has(key) ? integer(key) : fallback; }
    std::optional<int64_t> opt_integer(const std::string& key) const {
        return has(key) ? std::optional<int64_t>(integer(key)) : std::nullopt;
    }
    double number(const std::string& key, double fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_number()) fail(key, "expected a number");
        return j[key].get<double>();
    }
    std::optional<double> opt_number(const std::string& key) const {
        return has(key) ? std::optional<double>(number(key, 0.0)) : std::nullopt;
    }
    bool boolean(const std::string& key, bool fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_boolean()) fail(key, "expected true or false");
        return j[key].get<bool>();
    }
    std::string string(const std::string& key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_string()) fail(key, "expected a string");
        return j[key].get<std::string>();
    }
    // An id that may be an int or a list of ints (eos_token_id).
    std::vector<int64_t> id_list(const std::string& key) const {
        if (!has(key)) return {};
        if (j[key].is_number_integer()) return {j[key].get<int64_t>()};
        if (!j[key].is_array()) fail(key, "expected an integer or a list of integers");
        std::vector<int64_t> out;
        for (const auto& v : j[key]) {
            if (!v.is_number_integer()) fail(key, "expected an integer or a list of integers");
            out.push_back(v.get<int64_t>());
        }
        return out;
    }
};

json id_list_json(const std::vector<int64_t>& ids) {
    if (ids.empty()) return nullptr;
    if (ids.size() == 1) return ids[0];
    return ids;
}

template <class T>
json optional_json(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

void parse_rope(const json& j, const std::string& where, const std::string& key, ModelConfig& c) {
    Fields f{j, where};
    c.rope_theta = f.number("rope_theta", c.rope_theta);
    std::string type = f.has("rope_type") ? f.string("rope_type", "default") : f.string("type", "default");
    const std::string ctx = str(where, ": ", key);
    if (type == "default") {
        c.rope_scaling.type = RopeScaling::Type::none;
    } else if (type == "llama3") {
        Fields s{j, ctx};
        c.rope_scaling.type = RopeScaling::Type::llama3;
        c.rope_scaling.factor = s.number("factor", 8.0);
        c.rope_scaling.low_freq_factor = s.number("low_freq_factor", 1.0);
        c.rope_scaling.high_freq_factor = s.number("high_freq_factor", 4.0);
        c.rope_scaling.original_max_position_embeddings = s.integer("original_max_position_embeddings");
    } else if (type == "linear") {
        c.rope_scaling.type = RopeScaling::Type::linear;
        c.rope_scaling.factor = Fields{j, ctx}.number("factor", 1.0);
    } else {
        throw Error(
            str(ctx, ": key 'rope_type': unsupported RoPE type '", type, "' (supported: default, linear, llama3)"));
    }
}

json rope_json(const ModelConfig& c, bool with_theta) {
    json r = json::object();
    if (with_theta) r["rope_theta"] = c.rope_theta;
    switch (c.rope_scaling.type) {
        case RopeScaling::Type::none:
            r["rope_type"] = "default";
            break;
        case RopeScaling::Type::linear:
            r["rope_type"] = "linear";
            r["factor"] = c.rope_scaling.factor;
            break;
        case RopeScaling::Type::llama3:
            r["rope_type"] = "llama3";
            r["factor"] = c.rope_scaling.factor;
            r["low_freq_factor"] = c.rope_scaling.low_freq_factor;
            r["high_freq_factor"] = c.rope_scaling.high_freq_factor;
            r["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
            break;
    }
    return r;
}

json read_json_file(const fs::path& path) {
    std::string text = read_file(path);
    try {
        json j = json::parse(text);
        ANVIL_CHECK(j.is_object(), path.string(), ": expected a JSON object");
        return j;
    } catch (const json::exception& e) {
        throw Error(str(path.string(), ": invalid JSON: ", e.what()));
    }
}

}  // namespace

void ModelConfig::validate(const std::string& where) const {
    auto positive = [&](int64_t v, const char* key) {
        ANVIL_CHECK(v > 0, where, ": key '", key, "': must be positive, got ", v);
    };
    positive(vocab_size, "vocab_size");
    positive(hidden_size, "hidden_size");
    positive(intermediate_size, "intermediate_size");
    positive(num_hidden_layers, "num_hidden_layers");
    positive(num_attention_heads, "num_attention_heads");
    positive(num_key_value_heads, "num_key_value_heads");
    positive(head_dim, "head_dim");
    positive(max_position_embeddings, "max_position_embeddings");
    ANVIL_CHECK(num_attention_heads % num_key_value_heads == 0, where,
                ": key 'num_key_value_heads': ", num_key_value_heads, " does not divide num_attention_heads ",
                num_attention_heads);
    ANVIL_CHECK(head_dim % 2 == 0, where, ": key 'head_dim': RoPE needs an even head_dim, got ", head_dim);
    ANVIL_CHECK(rms_norm_eps > 0, where, ": key 'rms_norm_eps': must be positive");
    ANVIL_CHECK(rope_theta > 0, where, ": key 'rope_theta': must be positive");
    ANVIL_CHECK(dtype == "float32" || dtype == "bfloat16" || dtype == "float16", where,
                ": key 'torch_dtype': unsupported dtype '", dtype, "'");
}

ModelConfig parse_model_config(const json& j, const std::string& where) {
    ANVIL_CHECK(j.is_object(), where, ": expected a JSON object");
    Fields f{j, where};
    ModelConfig c;
    c.source = j;
    c.model_type = f.string("model_type", "");
    ANVIL_CHECK(
        c.model_type == "llama" || c.model_type == "qwen2" || c.model_type == "qwen3" || c.model_type == "mistral",
        where, ": key 'model_type': unsupported model type '", c.model_type,
        "' (supported: llama, qwen2, qwen3, mistral)");
    c.vocab_size = f.integer("vocab_size");
    c.hidden_size = f.integer("hidden_size");
    c.intermediate_size = f.integer("intermediate_size");
    c.num_hidden_layers = f.integer("num_hidden_layers");
    c.num_attention_heads = f.integer("num_attention_heads");
    c.num_key_value_heads = f.integer("num_key_value_heads", c.num_attention_heads);
    ANVIL_CHECK(c.num_attention_heads > 0, where, ": key 'num_attention_heads': must be positive");
    c.head_dim = f.integer("head_dim", c.hidden_size / c.num_attention_heads);
    c.max_position_embeddings = f.integer("max_position_embeddings", c.max_position_embeddings);
    c.rms_norm_eps = f.number("rms_norm_eps", c.rms_norm_eps);
    std::string act = f.string("hidden_act", "silu");
    ANVIL_CHECK(act == "silu", where, ": key 'hidden_act': only silu is supported, got '", act, "'");
    c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
    c.attention_bias = f.boolean("attention_bias", false);
    c.mlp_bias = f.boolean("mlp_bias", false);
    c.qkv_bias = c.model_type == "qwen2";
    c.qk_norm = c.model_type == "qwen3";
    c.initializer_range = f.number("initializer_range", c.initializer_range);
    c.bos_token_id = f.opt_integer("bos_token_id");
    c.pad_token_id = f.opt_integer("pad_token_id");
    c.eos_token_ids = f.id_list("eos_token_id");
    c.dtype = f.has("dtype") ? f.string("dtype", "float32") : f.string("torch_dtype", "float32");

    if (f.has("rope_parameters")) {
        ANVIL_CHECK(j["rope_parameters"].is_object(), where, ": key 'rope_parameters': expected an object");
        parse_rope(j["rope_parameters"], where, "rope_parameters", c);
    } else {
        c.rope_theta = f.number("rope_theta", c.rope_theta);
        if (f.has("rope_scaling")) {
            ANVIL_CHECK(j["rope_scaling"].is_object(), where, ": key 'rope_scaling': expected an object or null");
            parse_rope(j["rope_scaling"], where, "rope_scaling", c);
            c.rope_theta = f.number("rope_theta", c.rope_theta);
        }
    }

    // Sliding-window attention: Mistral applies `sliding_window` when set; Qwen only with use_sliding_window.
    bool sliding = c.model_type == "mistral" ? f.has("sliding_window") : f.boolean("use_sliding_window", false);
    if (sliding) c.sliding_window = f.integer("sliding_window");
    if (f.has("layer_types")) {
        ANVIL_CHECK(j["layer_types"].is_array(), where, ": key 'layer_types': expected a list");
        for (const auto& t : j["layer_types"])
            ANVIL_CHECK(t == "full_attention" || (t == "sliding_attention" && c.sliding_window), where,
                        ": key 'layer_types': unsupported layer type ", t.dump());
    }
    c.validate(where);
    return c;
}

ModelConfig load_model_config(const fs::path& path) {
    return parse_model_config(read_json_file(path), path.string());
}

json model_config_to_json(const ModelConfig& c) {
    json j = c.source.is_object() ? c.source : json::object();
    static const std::map<std::string, std::string> architectures = {{"llama", "LlamaForCausalLM"},
                                                                     {"qwen2", "Qwen2ForCausalLM"},
                                                                     {"qwen3", "Qwen3ForCausalLM"},
                                                                     {"mistral", "MistralForCausalLM"}};
    j["model_type"] = c.model_type;
    j["architectures"] = {architectures.at(c.model_type)};
    j["vocab_size"] = c.vocab_size;
    j["hidden_size"] = c.hidden_size;
    j["intermediate_size"] = c.intermediate_size;
    j["num_hidden_layers"] = c.num_hidden_layers;
    j["num_attention_heads"] = c.num_attention_heads;
    j["num_key_value_heads"] = c.num_key_value_heads;
    j["head_dim"] = c.head_dim;
    j["max_position_embeddings"] = c.max_position_embeddings;
    j["rms_norm_eps"] = c.rms_norm_eps;
    j["hidden_act"] = "silu";
    j["tie_word_embeddings"] = c.tie_word_embeddings;
    if (c.model_type != "qwen2") j["attention_bias"] = c.attention_bias;
    if (c.model_type == "llama") j["mlp_bias"] = c.mlp_bias;
    j["initializer_range"] = c.initializer_range;
    j["bos_token_id"] = optional_json(c.bos_token_id);
    j["pad_token_id"] = optional_json(c.pad_token_id);
    j["eos_token_id"] = id_list_json(c.eos_token_ids);
    j[j.contains("dtype") || !j.contains("torch_dtype") ? "dtype" : "torch_dtype"] = c.dtype;
    if (j.contains("rope_parameters")) {
        j["rope_parameters"] = rope_json(c, true);
    } else {
        j["rope_theta"] = c.rope_theta;
        j["rope_scaling"] = c.rope_scaling.type == RopeScaling::Type::none ? json(nullptr) : rope_json(c, false);
    }
    if (c.model_type != "llama") {
        j["sliding_window"] = optional_json(c.sliding_window);
        if (c.model_type != "mistral") j["use_sliding_window"] = c.sliding_window.has_value();
    }
    return j;
}

void save_model_config(const ModelConfig& config, const fs::path& path) {
    write_file_atomic(path, model_config_to_json(config).dump(2) + "\n");
}

GenerationConfig parse_generation_config(const json& j, const std::string& where) {
    ANVIL_CHECK(j.is_object(), where, ": expected a JSON object");
    Fields f{j, where};
    GenerationConfig g;
    g.source = j;
    g.bos_token_id = f.opt_integer("bos_token_id");
    g.eos_token_ids = f.id_list("eos_token_id");
    g.pad_token_id = f.opt_integer("pad_token_id");
    g.do_sample = f.boolean("do_sample", false);
    g.temperature = f.opt_number("temperature");
    g.top_p = f.opt_number("top_p");
    g.top_k = f.opt_integer("top_k");
    g.min_p = f.opt_number("min_p");
    g.repetition_penalty = f.opt_number("repetition_penalty");
    g.max_new_tokens = f.opt_integer("max_new_tokens");
    return g;
}

GenerationConfig load_generation_config(const fs::path& path) {
    return parse_generation_config(read_json_file(path), path.string());
}

json generation_config_to_json(const GenerationConfig& g) {
    json j = g.source.is_object() ? g.source : json::object();
    auto set = [&](const char* key, const json& v) {
        if (v.is_null())
            j.erase(key);
        else
            j[key] = v;
    };
    set("bos_token_id", optional_json(g.bos_token_id));
    set("eos_token_id", id_list_json(g.eos_token_ids));
    set("pad_token_id", optional_json(g.pad_token_id));
    j["do_sample"] = g.do_sample;
    set("temperature", optional_json(g.temperature));
    set("top_p", optional_json(g.top_p));
    set("top_k", optional_json(g.top_k));
    set("min_p", optional_json(g.min_p));
    set("repetition_penalty", optional_json(g.repetition_penalty));
    set("max_new_tokens", optional_json(g.max_new_tokens));
    return j;
}

void save_generation_config(const GenerationConfig& config, const fs::path& path) {
    write_file_atomic(path, generation_config_to_json(config).dump(2) + "\n");
}

GenerationConfig generation_config_from_model(const ModelConfig& config) {
    GenerationConfig g;
    g.bos_token_id = config.bos_token_id;
    g.eos_token_ids = config.eos_token_ids;
    g.pad_token_id = config.pad_token_id;
    return g;
}

}  // namespace anvil
