// Implementation of the non-template parts of core/config_schema.h.
#include "core/config_schema.h"

#include <charconv>
#include <cmath>

#include "core/text.h"

namespace anvil::config {

std::string SourcePos::describe() const {
    if (file.empty()) return "--set";
    if (line == 0) return file;
    return str(file, ":", line, ":", column);
}

const char* Value::type_name() const {
    switch (data.index()) {
        case 0: return "boolean";
        case 1: return "integer";
        case 2: return "float";
        case 3: return "string";
        case 4: return "array";
        default: return "table";
    }
}

const Value* find(const Table& table, std::string_view key) {
    for (const auto& [k, v] : table)
        if (k == key) return &v;
    return nullptr;
}

Value* find(Table& table, std::string_view key) {
    for (auto& [k, v] : table)
        if (k == key) return &v;
    return nullptr;
}

void Diagnostics::error(const SourcePos& pos, const std::string& message) {
    messages_.push_back(pos.describe() + ": " + message);
}

void Diagnostics::throw_if_any() const {
    if (messages_.empty()) return;
    std::string text = messages_.size() == 1 ? messages_[0]
                                             : str(messages_.size(), " problems in the configuration:\n  ",
                                                   join(messages_, "\n  "));
    throw UsageError(text);
}

std::string to_toml(bool v) { return v ? "true" : "false"; }
std::string to_toml(int64_t v) { return std::to_string(v); }
std::string to_toml(int v) { return std::to_string(v); }

std::string to_toml(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
    std::string s(buf, end);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";  // keep TOML's float type
    return s;
}

std::string number_text(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
}

std::string to_toml(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::optional<bool> as(const Value& v, bool*) {
    if (auto* b = std::get_if<bool>(&v.data)) return *b;
    return std::nullopt;
}

std::optional<int64_t> as(const Value& v, int64_t*) {
    if (auto* i = std::get_if<int64_t>(&v.data)) return *i;
    return std::nullopt;
}

std::optional<int> as(const Value& v, int*) {
    auto i = as(v, static_cast<int64_t*>(nullptr));
    if (!i || *i < INT32_MIN || *i > INT32_MAX) return std::nullopt;
    return static_cast<int>(*i);
}

std::optional<double> as(const Value& v, double*) {
    if (auto* d = std::get_if<double>(&v.data)) return *d;
    if (auto* i = std::get_if<int64_t>(&v.data)) return static_cast<double>(*i);  // 1 is a fine float
    return std::nullopt;
}

std::optional<std::string> as(const Value& v, std::string*) {
    if (auto* s = std::get_if<std::string>(&v.data)) return *s;
    return std::nullopt;
}

std::string to_toml(const Value& value) {
    return std::visit(
        [](const auto& v) -> std::string {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, Array>) {
                std::string out = "[";
                for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + to_toml(v[i]);
                return out + "]";
            } else if constexpr (std::is_same_v<V, Table>) {
                std::string out = "{ ";
                for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i].first + " = " + to_toml(v[i].second);
                return out + " }";
            } else {
                return to_toml(v);
            }
        },
        value.data);
}

std::string suggest_key(const std::string& key, const std::vector<std::string>& keys) {
    return closest_match(key, keys);
}

std::string markdown_table(const std::vector<FieldInfo>& fields) {
    std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
    for (const auto& f : fields) {
        std::string def = f.required ? "*required*" : "`" + f.default_toml + "`";
        std::string doc = f.doc;
        for (size_t p = 0; (p = doc.find('|', p)) != std::string::npos; p += 2) doc.replace(p, 1, "\\|");
        out += str("| `", f.key, "` | ", f.type, " | ", def, " | ", doc, " |\n");
    }
    return out;
}

}  // namespace anvil::config
