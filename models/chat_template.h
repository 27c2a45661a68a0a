// Chat templates: built-in renderers that reproduce, character for character, what HF `apply_chat_template`
// makes of the Jinja templates of the supported families (specs/conventions.md §2.5), for system / user /
// assistant conversations without tools:
//   - "chatml": <|im_start|>role\ncontent<|im_end|>\n per message, with an optional default system prompt
//     ("qwen2.5": Qwen2.5's "You are Qwen, created by Alibaba Cloud. ...", "qwen2": "You are a helpful assistant.");
//   - "qwen3": ChatML plus Qwen3's <think> handling (reasoning kept only after the last user turn; enable_thinking);
//   - "llama3": Meta-Llama-3-Instruct's header format (content trimmed, bos first);
//   - "plain": "Role: content" paragraphs for base models without a template (Anvil's own, no HF counterpart).
// A checkpoint's template text (chat_template.jinja, or tokenizer_config.json's chat_template) selects the family;
// a template outside these families is an error, never a silent guess. This is not a Jinja interpreter.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace anvil {

struct ChatMessage {
    std::string role;  // system | user | assistant
    std::string content;
    std::optional<std::string> reasoning_content;  // qwen3: the assistant's reasoning, if kept apart from content
};

struct ChatRenderOptions {
    bool add_generation_prompt = false;   // end with the header of an assistant turn
    std::optional<bool> enable_thinking;  // qwen3: false writes an empty <think></think> block after the prompt
};

class ChatTemplate {
public:
    enum class Family { chatml, qwen3, llama3, plain };

    // By name: chatml, qwen2, qwen2.5, qwen3, llama3, plain. Throws UsageError naming the choices otherwise.
    // `bos_token` is what llama3 writes first.
    static ChatTemplate by_name(std::string_view name, std::string bos_token = "<|begin_of_text|>");
    // Recognises the family of a Jinja template; `source` (file and key) names it in the error when it cannot.
    static ChatTemplate detect(std::string_view jinja, const std::string& source,
                               std::string bos_token = "<|begin_of_text|>");
    // The template of a checkpoint directory: chat_template.jinja, else tokenizer_config.json's chat_template
    // (a string, or the entry named "default" of a list); bos_token from tokenizer_config.json.
    static ChatTemplate from_checkpoint(const std::filesystem::path& dir);
    // What a config's `chat_template = "<name>"` means: "auto" (or "") reads the checkpoint's own template,
    // any other name picks a built-in one (with the checkpoint's bos_token).
    static ChatTemplate select(std::string_view name, const std::filesystem::path& dir);

    std::string render(std::span<const ChatMessage> messages, const ChatRenderOptions& options = {}) const;

    Family family() const { return family_; }
    const std::string& name() const { return name_; }
    const std::string& default_system() const { return default_system_; }

private:
    ChatTemplate(Family family, std::string name, std::string default_system, std::string bos_token)
        : family_(family),
          name_(std::move(name)),
          default_system_(std::move(default_system)),
          bos_token_(std::move(bos_token)) {}

    std::string render_chatml(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const;
    std::string render_qwen3(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const;
    std::string render_llama3(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const;
    std::string render_plain(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const;

    Family family_;
    std::string name_;
    std::string default_system_;  // chatml: written when the conversation does not start with a system message
    std::string bos_token_;
};

}  // namespace anvil
