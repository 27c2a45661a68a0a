// Implementation of algorithms/preference_data.h.
#include "algorithms/preference_data.h"

#include <algorithm>

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "core/text.h"
#include "models/tokenizer.h"

namespace anvil {

const config::Section<PreferenceDataOptions>& PreferenceDataOptions::section() {
    static const config::Section<PreferenceDataOptions> s = [] {
        using O = PreferenceDataOptions;
        config::Section<O> s("preference_data", "Preference pairs and their encoding.");
        s.field("data", &O::data, "Training preference pairs, JSONL (or an @artifact such as @train_pairs).");
        s.field("eval_data", &O::eval_data, "Held-out pairs; \"\" = split off eval_fraction.");
        s.field("eval_fraction", &O::eval_fraction, "Share of the training pairs held out when eval_data is \"\".").min(0).max(0.5);
        s.field("eval_max_examples", &O::eval_max_examples, "Held-out pairs used for evaluation.").min(1);
        s.field("prompt_template", &O::prompt_template, "How a plain-text prompt is shown; {prompt} is replaced.");
        s.field("chat_template", &O::chat_template,
                "\"\" = raw text, \"auto\" = the checkpoint's template, or chatml, qwen3, llama3, plain "
                "(conversational pairs need one).");
        s.field("max_length", &O::max_length, "Longest prompt + response in tokens.").min(8);
        s.field("max_prompt_length", &O::max_prompt_length, "Over-long pairs keep the last this many prompt tokens; 0 = max_length / 2.")
            .min(0);
        s.field("overlong", &O::overlong, "Over-long pairs: truncate (keep the prompt's end) or drop.").choices({"truncate", "drop"});
        s.field("skip_invalid", &O::skip_invalid, "Skip and count malformed records instead of failing.");
        s.check([](const O& o, const config::Reporter& report) {
            if (o.prompt_template.find("{prompt}") == std::string::npos) report("prompt_template", "must contain {prompt}");
            if (o.max_prompt_length >= o.max_length) report("max_prompt_length", "must be less than max_length");
        });
        return s;
    }();
    return s;
}

CompletionBatch pair_completion_batch(const std::vector<const PreferenceExample*>& pairs, int64_t pad, at::Device device) {
    std::vector<std::vector<int64_t>> prompts, completions;
    for (const PreferenceExample* e : pairs) {
        prompts.push_back(e->prompt);
        completions.push_back(e->chosen);
    }
    for (const PreferenceExample* e : pairs) {
        prompts.push_back(e->prompt);
        completions.push_back(e->rejected);
    }
    return make_completion_batch(prompts, completions, pad, device);
}

PreferenceEncoding PreferenceDataOptions::encoding() const {
    PreferenceEncoding e;
    e.prompt_template = prompt_template;
    e.max_length = max_length;
    e.max_prompt_length = max_prompt_length;
    e.overlong = overlong;
    e.skip_invalid = skip_invalid;
    return e;
}
namespace {

std::vector<ChatMessage> messages_from_json(const nlohmann::json& value, const char* field) {
    if (!value.is_array() || value.empty()) throw Error(str("'", field, "' must be a non-empty list of messages"));
    std::vector<ChatMessage> out;
    for (const auto& m : value) {
        auto role = m.find("role"), content = m.find("content");
        if (!m.is_object() || role == m.end() || !role->is_string() || content == m.end() || !content->is_string())
            throw Error(str("'", field, "': every message needs string 'role' and 'content'"));
        out.push_back({role->get<std::string>(), content->get<std::string>(), std::nullopt});
    }
    return out;
}

bool same_message(const ChatMessage& a, const ChatMessage& b) { return a.role == b.role && a.content == b.content; }

std::optional<double> optional_number(const nlohmann::json& record, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        auto it = record.find(name);
        if (it == record.end() || it->is_null()) continue;
        if (!it->is_number()) throw Error(str("'", name, "' must be a number"));
        return it->get<double>();
    }
    return std::nullopt;
}

// The one assistant message left of a conversation after its shared prefix.
std::string final_response(const std::vector<ChatMessage>& messages, size_t shared, const char* field) {
    if (messages.size() != shared + 1 || messages.back().role != "assistant")
        throw Error(str("'", field, "' must end with exactly one assistant message after the prompt turns it shares with the other"
                        " response"));
    return messages.back().content;
}

}  // namespace

PreferencePair preference_pair_from_json(const nlohmann::json& r) {
    if (!r.is_object()) throw Error("a record must be a JSON object");
    auto chosen = r.find("chosen"), rejected = r.find("rejected"), prompt = r.find("prompt");
    if (chosen == r.end() || rejected == r.end()) throw Error("missing field 'chosen' or 'rejected'");
    PreferencePair p;
    auto set_prompt = [&](bool conversational) {
        if (prompt == r.end()) throw Error("missing field 'prompt' (and no prompt turns shared by chosen and rejected)");
        if (prompt->is_string() && !conversational)
            p.prompt = prompt->get<std::string>();
        else if (prompt->is_string())
            p.prompt_messages = {{"user", prompt->get<std::string>(), std::nullopt}};
        else
            p.prompt_messages = messages_from_json(*prompt, "prompt");
    };
    if (chosen->is_string() && rejected->is_string()) {
        set_prompt(false);
        p.chosen = chosen->get<std::string>();
        p.rejected = rejected->get<std::string>();
    } else if (chosen->is_array() && rejected->is_array()) {
        std::vector<ChatMessage> c = messages_from_json(*chosen, "chosen"), j = messages_from_json(*rejected, "rejected");
        size_t shared = 0;
        while (shared < c.size() && shared < j.size() && same_message(c[shared], j[shared])) ++shared;
        if (shared == c.size() && shared == j.size()) throw Error("'chosen' and 'rejected' are the same conversation");
        p.chosen = final_response(c, shared, "chosen");
        p.rejected = final_response(j, shared, "rejected");
        if (shared > 0)
            p.prompt_messages.assign(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(shared));
        else
            set_prompt(true);
    } else {
        throw Error("'chosen' and 'rejected' must both be strings or both be message lists");
    }
    p.score_chosen = optional_number(r, {"score_chosen", "chosen_score"});
    p.score_rejected = optional_number(r, {"score_rejected", "rejected_score"});
    p.margin = optional_number(r, {"margin"});
    p.ref_chosen_logps = optional_number(r, {"ref_chosen_logps"});
    p.ref_rejected_logps = optional_number(r, {"ref_rejected_logps"});
    return p;
}

bool PreferenceDataset::has_reference_logps() const {
    return !examples.empty() && std::all_of(examples.begin(), examples.end(), [](const PreferenceExample& e) {
        return e.ref_chosen_logps.has_value() && e.ref_rejected_logps.has_value();
    });
}

PreferenceDataset load_preference_dataset(const std::filesystem::path& path, const PreferenceEncoding& o,
                                          const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat) {
    PreferenceDataset d;
    const auto& eos = tokenizer.special_ids().eos;
    const size_t max_length = static_cast<size_t>(o.max_length);
    const size_t max_prompt = static_cast<size_t>(o.max_prompt_length > 0 ? o.max_prompt_length : o.max_length / 2);
    auto completion = [&](const std::string& text) {
        std::vector<int64_t> ids;
        for (TokenId id : tokenizer.encode(text, false)) ids.push_back(id);
        if (!eos.empty()) ids.push_back(eos.front());
        return ids;
    };
    JsonlStats stats = for_each_jsonl(path, o.skip_invalid, [&](const nlohmann::json& record, size_t) {
        PreferencePair pair = preference_pair_from_json(record);
        PreferenceExample e;
        std::vector<TokenId> prompt;
        if (chat) {
            std::vector<ChatMessage> messages = pair.prompt_messages;
            if (messages.empty()) messages.push_back({"user", pair.prompt, std::nullopt});
            ChatRenderOptions ro;
            ro.add_generation_prompt = true;
            prompt = tokenizer.encode(chat->render(messages, ro), false);
        } else {
            if (!pair.prompt_messages.empty())
                throw UsageError(str(path.string(), ": conversational prompts need chat_template (\"auto\" or a name)"));
            std::string text = o.prompt_template;
            text.replace(text.find("{prompt}"), 8, pair.prompt);
            prompt = tokenizer.encode(text, true);
        }
        if (prompt.empty()) throw Error("the prompt encodes to no tokens");
        e.prompt.assign(prompt.begin(), prompt.end());
        e.chosen = completion(pair.chosen);
        e.rejected = completion(pair.rejected);
        e.margin = pair.margin.value_or(0.0);
        e.ref_chosen_logps = pair.ref_chosen_logps;
        e.ref_rejected_logps = pair.ref_rejected_logps;
        if (e.prompt.size() + std::max(e.chosen.size(), e.rejected.size()) > max_length) {
            if (o.overlong == "drop") {
                ++d.dropped;
                return;
            }
            if (e.prompt.size() > max_prompt) e.prompt.erase(e.prompt.begin(), e.prompt.end() - static_cast<std::ptrdiff_t>(max_prompt));
            const size_t budget = max_length - e.prompt.size();
            if (e.chosen.size() > budget) e.chosen.resize(budget);
            if (e.rejected.size() > budget) e.rejected.resize(budget);
            // A truncated response no longer matches its precomputed reference log-prob.
            e.ref_chosen_logps.reset();
            e.ref_rejected_logps.reset();
            ++d.truncated;
        }
        d.examples.push_back(std::move(e));
    });
    d.skipped = stats.skipped;
    return d;
}

PreferenceSplits load_preference_splits(const std::filesystem::path& train_path, const std::string& eval_path,
                                        double eval_fraction, int64_t eval_max, const PreferenceEncoding& options,
                                        const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat) {
    PreferenceSplits s;
    s.train = load_preference_dataset(train_path, options, tokenizer, chat);
    auto& train = s.train.examples;
    auto& held_out = s.held_out.examples;
    if (!eval_path.empty()) {
        s.held_out = load_preference_dataset(eval_path, options, tokenizer, chat);
    } else if (eval_fraction > 0) {
        const size_t n = static_cast<size_t>(static_cast<double>(train.size()) * eval_fraction);
        held_out.assign(train.end() - static_cast<std::ptrdiff_t>(n), train.end());
        train.resize(train.size() - n);
    }
    if (held_out.size() > static_cast<size_t>(eval_max)) held_out.resize(static_cast<size_t>(eval_max));
    return s;
}

PreferenceSplits load_preference_splits(const PreferenceDataOptions& options, const std::filesystem::path& train_path,
                                        const std::string& eval_path, const Tokenizer& tokenizer,
                                        const std::optional<ChatTemplate>& chat) {
    return load_preference_splits(train_path, eval_path, options.eval_fraction, options.eval_max_examples, options.encoding(),
                                  tokenizer, chat);
}

namespace {

// "\n\nHuman: ...\n\nAssistant: ..." -> messages (content trimmed).
std::vector<ChatMessage> parse_hh_transcript(const std::string& text, const char* field) {
    static const std::vector<std::pair<std::string, std::string>> markers = {{"\n\nHuman:", "user"},
                                                                             {"\n\nAssistant:", "assistant"}};
    std::vector<ChatMessage> out;
    size_t at = 0;
    auto next_marker = [&](size_t from) {
        size_t best = std::string::npos, which = 0;
        for (size_t m = 0; m < markers.size(); ++m) {
            size_t pos = text.find(markers[m].first, from);
            if (pos < best) best = pos, which = m;
        }
        return std::make_pair(best, which);
    };
    auto [pos, which] = next_marker(0);
    if (pos == std::string::npos || !trim(text.substr(0, pos)).empty())
        throw Error(str("'", field, "' does not start with \"\\n\\nHuman:\""));
    while (pos != std::string::npos) {
        at = pos + markers[which].first.size();
        auto [next, next_which] = next_marker(at);
        out.push_back({markers[which].second, trim(text.substr(at, next == std::string::npos ? std::string::npos : next - at)),
                       std::nullopt});
        pos = next;
        which = next_which;
    }
    return out;
}

}  // namespace

nlohmann::ordered_json hh_rlhf_to_conversational(const nlohmann::json& record) {
    auto chosen = record.find("chosen"), rejected = record.find("rejected");
    if (chosen == record.end() || !chosen->is_string() || rejected == record.end() || !rejected->is_string())
        throw Error("an HH-RLHF record needs string 'chosen' and 'rejected' transcripts");
    std::vector<ChatMessage> c = parse_hh_transcript(chosen->get<std::string>(), "chosen");
    std::vector<ChatMessage> r = parse_hh_transcript(rejected->get<std::string>(), "rejected");
    size_t shared = 0;
    while (shared < c.size() && shared < r.size() && same_message(c[shared], r[shared])) ++shared;
    if (shared == c.size() && shared == r.size()) throw Error("'chosen' and 'rejected' are the same transcript");
    const std::string chosen_text = final_response(c, shared, "chosen");
    const std::string rejected_text = final_response(r, shared, "rejected");
    if (shared == 0) throw Error("the transcripts share no prompt turns");
    if (chosen_text.empty() || rejected_text.empty()) throw Error("an empty final assistant turn");
    auto message = [](const ChatMessage& m) { return nlohmann::ordered_json{{"role", m.role}, {"content", m.content}}; };
    nlohmann::ordered_json prompt = nlohmann::ordered_json::array();
    for (size_t i = 0; i < shared; ++i) prompt.push_back(message(c[i]));
    return {{"prompt", prompt},
            {"chosen", nlohmann::ordered_json::array({message(c.back())})},
            {"rejected", nlohmann::ordered_json::array({message(r.back())})}};
}

ConversionStats convert_hh_rlhf(const std::filesystem::path& in, const std::filesystem::path& out, int64_t limit) {
    ConversionStats stats;
    std::string text;
    JsonlStats read = for_each_jsonl(in, true, [&](const nlohmann::json& record, size_t) {
        if (limit > 0 && static_cast<int64_t>(stats.written) >= limit) return;
        text += hh_rlhf_to_conversational(record).dump() + "\n";
        ++stats.written;
    });
    stats.skipped = read.skipped;
    write_file_atomic(out, text);
    return stats;
}

}  // namespace anvil
