// Implementation of models/tokenizer.h: picking the tokenizer file of a checkpoint directory and resolving its
// special tokens from the JSON files beside it (specs/conventions.md §2.1, §2.4).
#include "models/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "models/bpe_tokenizer.h"
#include "models/sentencepiece_tokenizer.h"

namespace anvil {

namespace fs = std::filesystem;
using nlohmann::json;

bool Tokenizer::is_eos(TokenId id) const {
    return std::find(special_.eos.begin(), special_.eos.end(), id) != special_.eos.end();
}

namespace {

// The parsed JSON object in `path`, or null when the file does not exist.
json read_json_if_present(const fs::path& path) {
    if (!fs::exists(path)) return json();
    try {
        json j = json::parse(read_file(path));
        ANVIL_CHECK(j.is_object(), path.string(), ": expected a JSON object");
        return j;
    } catch (const json::parse_error& e) {
        throw Error(str(path.string(), ": not valid JSON: ", e.what()));
    }
}

// A token given as "text" or {"content": "text", ...} (transformers' AddedToken serialisation); "" when null.
std::string token_text(const json& value, const fs::path& file, const std::string& key) {
    if (value.is_null()) return "";
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    throw Error(str(file.string(), ": key '", key, "': expected a string or {\"content\": ...}"));
}

TokenId lookup(const Tokenizer& tok, const std::string& text, const fs::path& file, const std::string& key) {
    auto id = tok.token_to_id(text);
    ANVIL_CHECK(id.has_value(), file.string(), ": key '", key, "': token '", text, "' is not in the vocabulary");
    return *id;
}

TokenId checked_id(const Tokenizer& tok, const json& value, const fs::path& file, const std::string& key) {
    ANVIL_CHECK(value.is_number_integer(), file.string(), ": key '", key, "': expected an integer token id");
    auto id = value.get<int64_t>();
    ANVIL_CHECK(id >= 0 && static_cast<size_t>(id) < tok.vocab_size(), file.string(), ": key '", key, "': token id ",
                id, " is outside the vocabulary (size ", tok.vocab_size(), ")");
    return static_cast<TokenId>(id);
}

bool config_flag(const json& config, const char* key, bool fallback, const fs::path& file) {
    if (config.is_null() || !config.contains(key) || config[key].is_null()) return fallback;
    ANVIL_CHECK(config[key].is_boolean(), file.string(), ": key '", key, "': expected true or false");
    return config[key].get<bool>();
}

}  // namespace

SpecialTokenIds resolve_special_ids(const Tokenizer& tok, const fs::path& dir) {
    SpecialTokenIds ids = tok.special_ids();
    const fs::path config_file = dir / "tokenizer_config.json", map_file = dir / "special_tokens_map.json",
                   generation_file = dir / "generation_config.json";
    const json config = read_json_if_present(config_file), map = read_json_if_present(map_file),
               generation = read_json_if_present(generation_file);

    // tokenizer_config.json wins over special_tokens_map.json. The token's text if either file names the key
    // ("" for an explicit null, which clears the tokenizer's default), else nothing.
    auto named = [&](const char* key, fs::path& file) -> std::optional<std::string> {
        for (const auto* source : {&config, &map}) {
            if (source->is_null() || !source->contains(key)) continue;
            file = source == &config ? config_file : map_file;
            return token_text((*source)[key], file, key);
        }
        return std::nullopt;
    };
    fs::path file;
    if (auto text = named("bos_token", file))
        ids.bos = text->empty() ? std::nullopt : std::optional(lookup(tok, *text, file, "bos_token"));
    if (auto text = named("pad_token", file))
        ids.pad = text->empty() ? std::nullopt : std::optional(lookup(tok, *text, file, "pad_token"));
    if (auto text = named("eos_token", file)) {
        ids.eos.clear();
        if (!text->empty()) ids.eos.push_back(lookup(tok, *text, file, "eos_token"));
    }

    // generation_config.json: every eos id stops generation (§2.4); bos / pad fill what the tokenizer files left open.
    if (!generation.is_null()) {
        if (generation.contains("eos_token_id") && !generation["eos_token_id"].is_null()) {
            const json& eos = generation["eos_token_id"];
            std::vector<json> list = eos.is_array() ? eos.get<std::vector<json>>() : std::vector<json>{eos};
            for (size_t i = 0; i < list.size(); ++i) {
                TokenId id = checked_id(tok, list[i], generation_file,
                                        eos.is_array() ? str("eos_token_id[", i, "]") : "eos_token_id");
                if (std::find(ids.eos.begin(), ids.eos.end(), id) == ids.eos.end()) ids.eos.push_back(id);
            }
        }
        if (!ids.bos && generation.contains("bos_token_id") && !generation["bos_token_id"].is_null())
            ids.bos = checked_id(tok, generation["bos_token_id"], generation_file, "bos_token_id");
        if (!ids.pad && generation.contains("pad_token_id") && !generation["pad_token_id"].is_null())
            ids.pad = checked_id(tok, generation["pad_token_id"], generation_file, "pad_token_id");
    }
    return ids;
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
    ANVIL_CHECK(fs::is_directory(dir), dir.string(),
                ": not a directory (expected a checkpoint or tokenizer directory)");
    const fs::path sp_model = dir / "tokenizer.model";
    auto load_sentencepiece = [&] {
        const fs::path config_file = dir / "tokenizer_config.json";
        const json config = read_json_if_present(config_file);
        // LlamaTokenizer's defaults: bos is added, eos is not.
        return SentencePieceTokenizer::load(sp_model, config_flag(config, "add_bos_token", true, config_file),
                                            config_flag(config, "add_eos_token", false, config_file));
    };
    std::unique_ptr<Tokenizer> tok;
    fs::path json_file = fs::exists(dir / "tokenizer.json") ? dir / "tokenizer.json" : dir / "tokenizer.json.gz";
    if (fs::exists(json_file)) {
        try {
            tok = BpeTokenizer::load(json_file);
        } catch (const Error& e) {
            // Llama-2 / Mistral checkpoints ship a SentencePiece-style tokenizer.json (Metaspace, byte fallback)
            // beside tokenizer.model: the SentencePiece model is the same tokenizer.
            if (!fs::exists(sp_model)) throw;
            log::info("tokenizer: using ", sp_model.string(), " (", e.what(), ")");
            tok = load_sentencepiece();
        }
    } else if (fs::exists(sp_model)) {
        tok = load_sentencepiece();
    } else {
        throw Error(
            str(dir.string(), ": no tokenizer found (looked for tokenizer.json, tokenizer.json.gz, tokenizer.model)"));
    }
    tok->set_special_ids(resolve_special_ids(*tok, dir));
    return tok;
}

}  // namespace anvil
