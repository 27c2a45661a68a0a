// Implementation of models/text_generation.h.
#include "models/text_generation.h"

#include <algorithm>

#include "core/error.h"

namespace anvil {

TextGenerator TextGenerator::load(const std::filesystem::path& dir, at::ScalarType dtype, const std::string& chat_template) {
    TextGenerator g;
    g.checkpoint_ = load_checkpoint(dir, at::TensorOptions().dtype(dtype));
    g.checkpoint_.model->eval();
    g.tokenizer_ = load_tokenizer(dir);
    if (chat_template == "auto")
        g.chat_template_ = ChatTemplate::from_checkpoint(dir);
    else if (!chat_template.empty())
        g.chat_template_ = ChatTemplate::by_name(chat_template);
    return g;
}

std::vector<int64_t> TextGenerator::encode_conversation(const std::vector<ChatMessage>& messages) const {
    ANVIL_CHECK(chat_template_, "encode_conversation needs a chat template (chat_template = \"auto\" or a name)");
    ChatRenderOptions options;
    options.add_generation_prompt = true;
    // The rendered text carries the template's own special tokens; the tokenizer adds none.
    std::vector<int32_t> tokens = tokenizer_->encode(chat_template_->render(messages, options), false);
    ANVIL_CHECK(!tokens.empty(), "a conversation of ", messages.size(), " message(s) encodes to no tokens");
    return {tokens.begin(), tokens.end()};
}

std::vector<std::vector<int64_t>> TextGenerator::encode_prompts(const std::vector<std::string>& prompts) const {
    std::vector<std::vector<int64_t>> ids;
    for (const auto& prompt : prompts) {
        std::vector<int32_t> tokens;
        if (chat_template_) {
            ids.push_back(encode_conversation({{"user", prompt, std::nullopt}}));
            continue;
        } else {
            tokens = tokenizer_->encode(prompt, true);
        }
        ANVIL_CHECK(!tokens.empty(), "prompt '", prompt, "' encodes to no tokens");
        ids.emplace_back(tokens.begin(), tokens.end());
    }
    return ids;
}

RolloutOptions TextGenerator::default_options() const {
    RolloutOptions o;
    const GenerationConfig& gen = checkpoint_.generation;
    if (gen.max_new_tokens) o.max_new_tokens = *gen.max_new_tokens;
    o.sampling.temperature = gen.do_sample ? gen.temperature.value_or(1.0) : 0.0;
    if (gen.do_sample) {
        o.sampling.top_k = gen.top_k.value_or(0);
        o.sampling.top_p = gen.top_p.value_or(1.0);
        o.sampling.min_p = gen.min_p.value_or(0.0);
    }
    return o;
}

std::vector<TextCompletion> TextGenerator::generate(const std::vector<std::string>& prompts, RolloutOptions options) const {
    if (options.eos_token_ids.empty()) {
        for (int32_t id : tokenizer_->special_ids().eos) options.eos_token_ids.push_back(id);
        for (int64_t id : checkpoint_.generation.eos_token_ids)
            if (std::find(options.eos_token_ids.begin(), options.eos_token_ids.end(), id) == options.eos_token_ids.end())
                options.eos_token_ids.push_back(id);
    }
    const auto& special = tokenizer_->special_ids();
    if (special.pad)
        options.pad_token_id = *special.pad;
    else if (!options.eos_token_ids.empty())
        options.pad_token_id = options.eos_token_ids.front();
    auto decode = [this](const std::vector<int64_t>& ids) {
        std::vector<int32_t> narrow(ids.begin(), ids.end());
        return tokenizer_->decode(narrow, true);
    };
    if (!options.stop_strings.empty() && !options.detokenize) options.detokenize = decode;
    std::vector<Completion> completions = anvil::generate(model(), encode_prompts(prompts), options);
    std::vector<TextCompletion> out;
    for (auto& c : completions) out.push_back({decode(c.tokens), std::move(c)});
    return out;
}

}  // namespace anvil
