// Implementation of models/chat_template.h. Each renderer follows one HF template line by line (the templates
// are tests/fixtures/tokenizers/{qwen2_5_chat_template.jinja, llama3_chat_template.jinja} and Qwen3's
// tokenizer_config.json); tests/models/chat_template_test.cpp compares against transformers' output.
#include "models/chat_template.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "models/tokenizer_unicode.h"

namespace anvil {

namespace fs = std::filesystem;

namespace {

const char* const kQwen25System = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
const char* const kQwen2System = "You are a helpful assistant.";
const char* const kNames = "chatml, qwen2, qwen2.5, qwen3, llama3, plain";

std::string lstrip_newlines(std::string_view s) {
    size_t b = s.find_first_not_of('\n');
    return b == std::string_view::npos ? "" : std::string(s.substr(b));
}

std::string rstrip_newlines(std::string_view s) {
    size_t e = s.find_last_not_of('\n');
    return e == std::string_view::npos ? "" : std::string(s.substr(0, e + 1));
}

std::string strip_newlines(std::string_view s) {
    return lstrip_newlines(rstrip_newlines(s));
}

// Python's str.isspace(), which Jinja's `trim` filter (str.strip()) uses.
bool python_space(char32_t cp) {
    return unicode::is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F);
}

std::string jinja_trim(std::string_view s) {
    size_t begin = s.size();
    for (size_t i = 0; i < s.size();) {
        size_t at = i;
        if (!python_space(unicode::next_code_point(s, i))) {
            begin = at;
            break;
        }
    }
    size_t end = begin;
    for (size_t i = begin; i < s.size();)
        if (!python_space(unicode::next_code_point(s, i))) end = i;
    return std::string(s.substr(begin, end - begin));
}

bool contains(std::string_view s, std::string_view what) {
    return s.find(what) != std::string_view::npos;
}

void check_roles(std::span<const ChatMessage> messages, const std::string& name) {
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string& role = messages[i].role;
        if (role != "system" && role != "user" && role != "assistant")
            throw UsageError(str("chat template ", name, ": message ", i, " has role '", role,
                                 "'; the built-in renderers take system, user and assistant"));
    }
}

// The default system prompt written in a ChatML template's else-branch ('<|im_start|>system\nTEXT<|im_end|>'),
// or "" when the template has none. Jinja string escapes in TEXT are undone.
std::string chatml_default_system(std::string_view jinja) {
    const std::string_view marker = "<|im_start|>system";
    for (size_t at = jinja.find(marker); at != std::string_view::npos; at = jinja.find(marker, at + 1)) {
        size_t p = at + marker.size();
        if (jinja.compare(p, 2, "\\n") == 0)
            p += 2;
        else if (p < jinja.size() && jinja[p] == '\n')
            p += 1;
        else
            continue;
        size_t end = jinja.find("<|im_end|>", p);
        if (end == std::string_view::npos) continue;
        std::string_view text = jinja.substr(p, end - p);
        if (text.empty() || contains(text, "'") || contains(text, "+") || contains(text, "{")) continue;
        std::string out;
        for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\\' && i + 1 < text.size()) {
                char c = text[++i];
                out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
            } else {
                out += text[i];
            }
        }
        return out;
    }
    return "";
}

}  // namespace

ChatTemplate ChatTemplate::by_name(std::string_view name, std::string bos_token) {
    if (name == "chatml") return ChatTemplate(Family::chatml, "chatml", "", bos_token);
    if (name == "qwen2.5") return ChatTemplate(Family::chatml, "qwen2.5", kQwen25System, bos_token);
    if (name == "qwen2") return ChatTemplate(Family::chatml, "qwen2", kQwen2System, bos_token);
    if (name == "qwen3") return ChatTemplate(Family::qwen3, "qwen3", "", bos_token);
    if (name == "llama3") return ChatTemplate(Family::llama3, "llama3", "", bos_token);
    if (name == "plain") return ChatTemplate(Family::plain, "plain", "", bos_token);
    throw UsageError(str("unknown chat template '", name, "' (built-in: ", kNames, ")"));
}

ChatTemplate ChatTemplate::detect(std::string_view jinja, const std::string& source, std::string bos_token) {
    if (contains(jinja, "<|im_start|>")) {
        if (contains(jinja, "<think>") || contains(jinja, "enable_thinking") || contains(jinja, "reasoning_content"))
            return ChatTemplate(Family::qwen3, "qwen3", "", bos_token);
        std::string system = chatml_default_system(jinja);
        std::string name = system == kQwen25System ? "qwen2.5" : system == kQwen2System ? "qwen2" : "chatml";
        return ChatTemplate(Family::chatml, name, system, bos_token);
    }
    if (contains(jinja, "<|start_header_id|>")) {
        ANVIL_CHECK(!contains(jinja, "Cutting Knowledge") && !contains(jinja, "tools"), source,
                    ": a Llama-3.1+ chat template (dates, tools) is not one of the built-in renderers; choose one by "
                    "name (",
                    kNames, ") or pre-render the prompts");
        return ChatTemplate(Family::llama3, "llama3", "", bos_token);
    }
    throw Error(str(source, ": chat template not recognised as one of the built-in families; choose one by name (",
                    kNames, ") or pre-render the prompts"));
}

namespace {

// tokenizer_config.json of `dir` (null when absent) and the bos token it names (Llama-3's by default).
std::pair<nlohmann::json, std::string> read_tokenizer_config(const fs::path& dir) {
    const fs::path config_file = dir / "tokenizer_config.json";
    nlohmann::json config;
    if (fs::exists(config_file)) {
        try {
            config = nlohmann::json::parse(read_file(config_file));
        } catch (const nlohmann::json::parse_error& e) {
            throw Error(str(config_file.string(), ": not valid JSON: ", e.what()));
        }
    }
    std::string bos = "<|begin_of_text|>";
    if (config.is_object() && config.contains("bos_token")) {
        const auto& b = config["bos_token"];
        if (b.is_string())
            bos = b.get<std::string>();
        else if (b.is_object() && b.contains("content") && b["content"].is_string())
            bos = b["content"].get<std::string>();
    }
    return {config, bos};
}

}  // namespace

ChatTemplate ChatTemplate::from_checkpoint(const fs::path& dir) {
    const fs::path config_file = dir / "tokenizer_config.json", jinja_file = dir / "chat_template.jinja";
    auto [config, bos] = read_tokenizer_config(dir);
    if (fs::exists(jinja_file)) return detect(read_file(jinja_file), jinja_file.string(), bos);
    ANVIL_CHECK(config.is_object() && config.contains("chat_template"), dir.string(),
                ": no chat template (neither chat_template.jinja nor tokenizer_config.json key 'chat_template')");
    const auto& t = config["chat_template"];
    if (t.is_string()) return detect(t.get<std::string>(), config_file.string() + ": key 'chat_template'", bos);
    ANVIL_CHECK(t.is_array(), config_file.string(),
                ": key 'chat_template': expected a string or a list of {name, template}");
    for (const auto& entry : t)
        if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template"))
            return detect(entry["template"].get<std::string>(),
                          config_file.string() + ": key 'chat_template' (default)", bos);
    throw Error(str(config_file.string(), ": key 'chat_template': no entry named 'default'"));
}

ChatTemplate ChatTemplate::select(std::string_view name, const fs::path& dir) {
    if (name.empty() || name == "auto") return from_checkpoint(dir);
    return by_name(name, read_tokenizer_config(dir).second);
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const {
    check_roles(messages, name_);
    switch (family_) {
        case Family::chatml:
            return render_chatml(messages, options);
        case Family::qwen3:
            return render_qwen3(messages, options);
        case Family::llama3:
            return render_llama3(messages, options);
        case Family::plain:
            return render_plain(messages, options);
    }
    return "";
}

// Qwen2.5's template without tools (qwen2_5_chat_template.jinja): the first system message, or the default one.
std::string ChatTemplate::render_chatml(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const {
    std::string out;
    bool leading_system = !messages.empty() && messages[0].role == "system";
    if (!leading_system && !default_system_.empty()) out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
    for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    if (options.add_generation_prompt) out += "<|im_start|>assistant\n";
    return out;
}

// Qwen3's template without tools (qwen3/tokenizer_config.json): an assistant turn after the last user query keeps
// its reasoning in a <think> block (the final turn always gets one); earlier turns lose theirs.
std::string ChatTemplate::render_qwen3(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const {
    std::string out;
    const size_t n = messages.size();
    if (n > 0 && messages[0].role == "system") out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
    size_t last_query = n == 0 ? 0 : n - 1;
    for (size_t i = n; i-- > 0;) {
        const std::string& c = messages[i].content;
        bool tool_response = c.starts_with("<tool_response>") && c.ends_with("</tool_response>");
        if (messages[i].role == "user" && !tool_response) {
            last_query = i;
            break;
        }
    }
    for (size_t i = 0; i < n; ++i) {
        const ChatMessage& m = messages[i];
        if (m.role == "user" || (m.role == "system" && i > 0)) {
            out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
        } else if (m.role == "assistant") {
            std::string content = m.content, reasoning;
            if (m.reasoning_content) {
                reasoning = *m.reasoning_content;
            } else if (size_t close = m.content.find("</think>"); close != std::string::npos) {
                content = lstrip_newlines(std::string_view(m.content).substr(m.content.rfind("</think>") + 8));
                std::string before = rstrip_newlines(std::string_view(m.content).substr(0, close));
                size_t open = before.rfind("<think>");
                reasoning = lstrip_newlines(open == std::string::npos ? before : before.substr(open + 7));
            }
            if (n > 0 && i > last_query && (i == n - 1 || !reasoning.empty()))
                out += "<|im_start|>assistant\n<think>\n" + strip_newlines(reasoning) + "\n</think>\n\n" +
                       lstrip_newlines(content);
            else
                out += "<|im_start|>assistant\n" + content;
            out += "<|im_end|>\n";
        }
    }
    if (options.add_generation_prompt) {
        out += "<|im_start|>assistant\n";
        if (options.enable_thinking == false) out += "<think>\n\n</think>\n\n";
    }
    return out;
}

// Meta-Llama-3-Instruct's template (llama3_chat_template.jinja): bos, then a header per message, content trimmed.
std::string ChatTemplate::render_llama3(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) out += bos_token_;
        out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" + jinja_trim(messages[i].content) +
               "<|eot_id|>";
    }
    if (options.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
}

// "System: ...", "User: ...", "Assistant: ..." paragraphs; the generation prompt is "Assistant:" (the model's
// first token carries its own leading space, as BPE vocabularies expect).
std::string ChatTemplate::render_plain(std::span<const ChatMessage> messages, const ChatRenderOptions& options) const {
    std::string out;
    for (const ChatMessage& m : messages) {
        std::string role = m.role;
        role[0] = static_cast<char>(role[0] - 'a' + 'A');
        out += role + ": " + m.content + "\n\n";
    }
    if (options.add_generation_prompt) out += "Assistant:";
    return out;
}

}  // namespace anvil
