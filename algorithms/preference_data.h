// Preference pairs (specs/dpo.md §6): reading JSONL records into (prompt, chosen, rejected) and tokenizing
// them for DPO and reward models.
//
// Accepted record shapes (one JSON object per line):
//   - strings: {"prompt": str, "chosen": str, "rejected": str};
//   - conversational, UltraFeedback-binarized style: "chosen" and "rejected" are message lists ({role, content})
//     that share the prompt turns and end with one assistant message each; the longest shared message prefix
//     is the prompt (TRL's extract_prompt), else "prompt" gives it (a string = one user turn, or a message list);
// with optional "score_chosen"/"score_rejected", "margin" (Bradley–Terry margin) and "ref_chosen_logps"/
// "ref_rejected_logps" (a precomputed reference, dpo.md §5). Malformed records are errors naming file:line, or
// are skipped and counted with skip_invalid, as in SFT.
//
// Tokenization (dpo.md §6.2): a conversational prompt, or any prompt when a chat template is set, is rendered
// through the template with the generation prompt; a plain prompt otherwise goes through prompt_template and
// gets the tokenizer's special tokens. Completions are the response text plus EOS. Over-long pairs keep the
// end of the prompt (max_prompt_length, TRL's keep_end) and then truncate both responses to max_length, or are
// dropped.
//
// Also Anthropic HH-RLHF's transcript format ("\n\nHuman: ...\n\nAssistant: ..." dialogues that differ in the
// last assistant turn) to the conversational shape, used by `anvil data convert-hh`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "models/batching.h"
#include "models/chat_template.h"

namespace anvil {

class Tokenizer;

struct PreferencePair {
    std::vector<ChatMessage> prompt_messages;  // a conversational prompt (then `prompt` is empty)
    std::string prompt;                        // a plain-text prompt
    std::string chosen, rejected;              // the two responses
    std::optional<double> score_chosen, score_rejected, margin;
    std::optional<double> ref_chosen_logps, ref_rejected_logps;
};

// One record to a pair; throws anvil::Error naming the problem (the caller adds file:line).
PreferencePair preference_pair_from_json(const nlohmann::json& record);

struct PreferenceEncoding {
    std::string prompt_template = "{prompt}";
    int64_t max_length = 512;
    int64_t max_prompt_length = 0;   // 0 = max_length / 2
    std::string overlong = "truncate";  // truncate | drop
    bool skip_invalid = false;
};

// The preference-data keys the dpo and reward_model stages share, included flat in their sections
// (config::Section::include): where the pairs are, the held-out split, and how they are encoded.
struct PreferenceDataOptions {
    std::string data = "@train_pairs";
    std::string eval_data = "";
    double eval_fraction = 0.0;
    int64_t eval_max_examples = 512;
    std::string prompt_template = "{prompt}";
    std::string chat_template = "";
    int64_t max_length = 512;
    int64_t max_prompt_length = 0;
    std::string overlong = "truncate";
    bool skip_invalid = false;

    PreferenceEncoding encoding() const;
    static const config::Section<PreferenceDataOptions>& section();
};

struct PreferenceExample {
    std::vector<int64_t> prompt, chosen, rejected;  // token ids; completions end with EOS
    double margin = 0;
    std::optional<double> ref_chosen_logps, ref_rejected_logps;
};

struct PreferenceDataset {
    std::vector<PreferenceExample> examples;
    size_t truncated = 0, dropped = 0, skipped = 0;
    // Whether every example carries ref_chosen_logps and ref_rejected_logps.
    bool has_reference_logps() const;
};

// Reads and tokenizes a JSONL (or .jsonl.gz) file of pairs. `chat` is the chat template, if any.
PreferenceDataset load_preference_dataset(const std::filesystem::path& path, const PreferenceEncoding& options,
                                          const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat);

struct PreferenceSplits {
    PreferenceDataset train, held_out;
};

// The training pairs of `train_path` and the held-out ones of `eval_path`, or, when that is "", the last
// eval_fraction of the training pairs; at most eval_max held-out pairs.
PreferenceSplits load_preference_splits(const std::filesystem::path& train_path, const std::string& eval_path,
                                        double eval_fraction, int64_t eval_max, const PreferenceEncoding& options,
                                        const Tokenizer& tokenizer, const std::optional<ChatTemplate>& chat);

// Chosen rows, then rejected rows, of `pairs` as one right-padded completion batch (models/batching.h): what
// DPO and the reward model score in one forward pass.
CompletionBatch pair_completion_batch(const std::vector<const PreferenceExample*>& pairs, int64_t pad, at::Device device);

// The same for a stage's PreferenceDataOptions, with its data and eval_data already resolved ("" = none).
PreferenceSplits load_preference_splits(const PreferenceDataOptions& options, const std::filesystem::path& train_path,
                                        const std::string& eval_path, const Tokenizer& tokenizer,
                                        const std::optional<ChatTemplate>& chat);

// One HH-RLHF record {"chosen": transcript, "rejected": transcript} to {"prompt": [messages], "chosen":
// [assistant message], "rejected": [assistant message]}; throws anvil::Error when the transcripts do not parse
// or do not differ in exactly their last assistant turn.
nlohmann::ordered_json hh_rlhf_to_conversational(const nlohmann::json& record);

struct ConversionStats {
    size_t written = 0, skipped = 0;
};

// Converts an HH-RLHF JSONL file (plain or .gz) into conversational pairs written to `out` (atomically),
// skipping and counting records that do not convert; `limit` > 0 stops after that many written pairs.
ConversionStats convert_hh_rlhf(const std::filesystem::path& in, const std::filesystem::path& out, int64_t limit = 0);

}  // namespace anvil
