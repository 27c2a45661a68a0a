// Text in, text out: a loaded checkpoint (model, tokenizer, chat template, generation config) that turns
// prompts into completions with the rollout engine. Prompts are rendered through the chat template (as one
// user turn with the generation prompt) when chat is on, else tokenized as they are. Decoding skips special
// tokens. EOS ids come from the tokenizer and generation_config.json (every one stops generation); sampling
// defaults come from generation_config.json and can be overridden. Used by `anvil generate`, evaluation and
// the RL stages; it knows nothing of rewards.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/chat_template.h"
#include "models/checkpoint.h"
#include "models/rollout.h"
#include "models/tokenizer.h"

namespace anvil {

struct TextCompletion {
    std::string text;
    Completion completion;  // ids, log-probs, finish reason
};

class TextGenerator {
public:
    // Loads checkpoint directory `dir` (weights as `dtype`). `chat_template`: "" = no template (raw prompts),
    // "auto" = the checkpoint's own, or a name accepted by ChatTemplate::by_name.
    static TextGenerator load(const std::filesystem::path& dir, at::ScalarType dtype, const std::string& chat_template);

    // Token ids of each prompt after the chat template (if any) and the tokenizer's own special tokens.
    std::vector<std::vector<int64_t>> encode_prompts(const std::vector<std::string>& prompts) const;
    // Token ids of a whole conversation rendered through the chat template with the generation prompt (the
    // prompt of a chat record's last assistant turn). Needs a chat template.
    std::vector<int64_t> encode_conversation(const std::vector<ChatMessage>& messages) const;
    // Rollout options from generation_config.json with the tokenizer's EOS ids and a pad id filled in.
    RolloutOptions default_options() const;
    // Generates with `options` (EOS/pad ids and the detokenizer for stop strings are filled in when unset).
    std::vector<TextCompletion> generate(const std::vector<std::string>& prompts, RolloutOptions options) const;

    TransformerImpl& model() const { return *checkpoint_.model.ptr(); }
    const Tokenizer& tokenizer() const { return *tokenizer_; }
    const Checkpoint& checkpoint() const { return checkpoint_; }
    const std::optional<ChatTemplate>& chat_template() const { return chat_template_; }

private:
    Checkpoint checkpoint_;
    std::shared_ptr<Tokenizer> tokenizer_;
    std::optional<ChatTemplate> chat_template_;
};

}  // namespace anvil
