// HF checkpoint directories: load, save (sharded when large), random init; see checkpoint.h.
#include "models/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "models/safetensors.h"

namespace anvil {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* single_file = "model.safetensors";
constexpr const char* index_file = "model.safetensors.index.json";

// tensor name -> shard file name, from the index or the single file.
std::map<std::string, std::string> weight_map(const fs::path& dir) {
    std::map<std::string, std::string> out;
    if (fs::exists(dir / index_file)) {
        const fs::path path = dir / index_file;
        json j;
        try {
            j = json::parse(read_file(path));
        } catch (const json::exception& e) {
            throw Error(str(path.string(), ": invalid JSON: ", e.what()));
        }
        ANVIL_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(), path.string(),
                    ": key 'weight_map': missing or not an object");
        for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
            ANVIL_CHECK(it.value().is_string(), path.string(), ": key 'weight_map.", it.key(), "': not a string");
            std::string file = it.value().get<std::string>();
            ANVIL_CHECK(file.find('/') == std::string::npos, path.string(), ": key 'weight_map.", it.key(),
                        "': shard name '", file, "' must be a plain file name");
            out[it.key()] = file;
        }
        return out;
    }
    ANVIL_CHECK(fs::exists(dir / single_file), dir.string(), ": no ", single_file, " and no ", index_file);
    safetensors::Reader reader(dir / single_file);
    for (const auto& t : reader.tensors()) out[t.name] = single_file;
    return out;
}

std::string shard_name(size_t k, size_t n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", k, n);
    return buf;
}

std::string dtype_config_name(at::ScalarType t) {
    switch (t) {
        case at::kFloat:
            return "float32";
        case at::kBFloat16:
            return "bfloat16";
        case at::kHalf:
            return "float16";
        default:
            throw Error(str("save_checkpoint: unsupported model dtype ", c10::toString(t)));
    }
}

}  // namespace

const std::vector<std::string>& tokenizer_file_names() {
    static const std::vector<std::string> names = {
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "vocab.json",
        "merges.txt",     "tokenizer.model",       "added_tokens.json"};
    return names;
}

void load_weights(TransformerImpl& model, const fs::path& dir) {
    std::map<std::string, std::string> where = weight_map(dir);
    std::map<std::string, safetensors::Reader> readers;
    auto reader_for = [&](const std::string& file) -> safetensors::Reader& {
        auto it = readers.find(file);
        if (it == readers.end()) it = readers.emplace(file, safetensors::Reader(dir / file)).first;
        return it->second;
    };
    torch::NoGradGuard no_grad;
    std::set<std::string> used;
    for (auto& [name, param] : model.hf_parameters()) {
        auto it = where.find(name);
        ANVIL_CHECK(it != where.end(), dir.string(), ": tensor '", name, "' is missing from the checkpoint");
        safetensors::Reader& reader = reader_for(it->second);
        ANVIL_CHECK(reader.contains(name), reader.path().string(), ": tensor '", name,
                    "' is listed in the index but missing from the shard");
        const safetensors::TensorInfo& info = reader.info(name);
        ANVIL_CHECK(at::IntArrayRef(info.shape) == param.sizes(), reader.path().string(), ": tensor '", name,
                    "' has shape ", at::IntArrayRef(info.shape), " but the model expects ", param.sizes());
        param.copy_(reader.view(name));
        used.insert(name);
    }
    std::vector<std::string> unused;
    for (const auto& [name, file] : where)
        if (!used.count(name) && !(name == "lm_head.weight" && model.config().tie_word_embeddings) &&
            name.find("rotary_emb.inv_freq") == std::string::npos)
            unused.push_back(name);
    if (!unused.empty())
        log::warn(dir.string(), ": ", unused.size(), " checkpoint tensor(s) not used by the model, first: '",
                  unused.front(), "'");
}

Checkpoint load_checkpoint(const fs::path& dir, at::TensorOptions options) {
    Checkpoint c;
    c.config = load_model_config(dir / "config.json");
    c.generation = fs::exists(dir / "generation_config.json") ? load_generation_config(dir / "generation_config.json")
                                                              : generation_config_from_model(c.config);
    c.model = Transformer(c.config, options);
    load_weights(*c.model, dir);
    return c;
}

void save_checkpoint(TransformerImpl& model, const fs::path& dir, const SaveOptions& options) {
    ANVIL_CHECK(options.max_shard_bytes > 0, "save_checkpoint: max_shard_bytes must be positive");
    fs::create_directories(dir);
    auto params = model.hf_parameters();
    std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
    int64_t shard_bytes = 0, total = 0;
    for (auto& [name, t] : params) {
        int64_t n = static_cast<int64_t>(t.nbytes());
        if (!shards.back().empty() && shard_bytes + n > options.max_shard_bytes) {
            shards.emplace_back();
            shard_bytes = 0;
        }
        shards.back().emplace_back(name, t);
        shard_bytes += n;
        total += n;
    }
    // Remove weights of an earlier save with another layout, so the directory has exactly one.
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string f = entry.path().filename().string();
        if (f == single_file || f == index_file || (f.rfind("model-", 0) == 0 && f.ends_with(".safetensors")))
            fs::remove(entry.path());
    }
    if (shards.size() == 1) {
        safetensors::write(dir / single_file, shards[0]);
    } else {
        json map = json::object();
        for (size_t k = 0; k < shards.size(); ++k) {
            std::string file = shard_name(k + 1, shards.size());
            safetensors::write(dir / file, shards[k]);
            for (const auto& [name, t] : shards[k]) map[name] = file;
        }
        json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
        write_file_atomic(dir / index_file, index.dump(2) + "\n");
    }
    ModelConfig config = model.config();
    config.dtype = dtype_config_name(model.dtype());
    save_model_config(config, dir / "config.json");
    save_generation_config(options.generation ? *options.generation : generation_config_from_model(config),
                           dir / "generation_config.json");
    if (options.tokenizer_source) {
        for (const auto& name : tokenizer_file_names()) {
            fs::path src = *options.tokenizer_source / name;
            if (fs::exists(src) && fs::absolute(src) != fs::absolute(dir / name))
                write_file_atomic(dir / name, read_file(src));
        }
    }
}

Transformer init_random_model(const ModelConfig& config, uint64_t seed, at::TensorOptions options) {
    Transformer model(config, options);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    torch::NoGradGuard no_grad;
    for (auto& [name, param] : model->hf_parameters()) {
        at::Tensor value;
        if (name.ends_with("norm.weight")) {
            value = at::ones(param.sizes(), at::kFloat);
        } else if (name.ends_with(".bias")) {
            value = at::zeros(param.sizes(), at::kFloat);
        } else {
            value = at::empty(param.sizes(), at::kFloat).normal_(0.0, config.initializer_range, gen);
            if (name == "model.embed_tokens.weight" && config.pad_token_id && *config.pad_token_id >= 0 &&
                *config.pad_token_id < config.vocab_size)
                value[*config.pad_token_id].zero_();
        }
        param.copy_(value);
    }
    return model;
}

}  // namespace anvil
