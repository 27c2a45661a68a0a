// Implementation of trainer/config_toml.h on toml++ (the only file that includes it).
#include "trainer/config_toml.h"

#include <toml++/toml.h>

#include <charconv>

#include "core/error.h"
#include "core/files.h"
#include "core/text.h"

namespace anvil::config {
namespace {

SourcePos position(const toml::node& node, const std::string& file) {
    const auto& src = node.source();
    return SourcePos{file, static_cast<int>(src.begin.line), static_cast<int>(src.begin.column)};
}

Value convert(const toml::node& node, const std::string& file) {
    SourcePos pos = position(node, file);
    if (auto* t = node.as_table()) {
        Table table;
        for (const auto& [key, child] : *t) {
            table.emplace_back(std::string(key.str()), convert(child, file));
        }
        return Value{std::move(table), pos};
    }
    if (auto* a = node.as_array()) {
        Array array;
        for (const auto& child : *a) array.push_back(convert(child, file));
        return Value{std::move(array), pos};
    }
    if (auto* s = node.as_string()) return Value{s->get(), pos};
    if (auto* i = node.as_integer()) return Value{i->get(), pos};
    if (auto* d = node.as_floating_point()) return Value{d->get(), pos};
    if (auto* b = node.as_boolean()) return Value{b->get(), pos};
    throw UsageError(str(pos.describe(), ": dates and times are not supported in Anvil configs"));
}

Value parse(std::string_view text, const std::string& source_name) {
    try {
        toml::table table = toml::parse(text, source_name);
        Value root = convert(table, source_name);
        root.pos = SourcePos{source_name, 0, 0};
        return root;
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw UsageError(str(source_name, ":", where.line, ":", where.column, ": TOML syntax error: ", e.description()));
    }
}

// Parses the right-hand side of an override as a TOML value, or keeps it as a string.
Value override_value(const std::string& text) {
    SourcePos pos{"", 0, 0};
    try {
        const std::string doc = "v = " + text;
        toml::table t = toml::parse(std::string_view(doc), std::string_view("--set"));
        Value v = convert(*t.get("v"), "");
        v.pos = pos;
        return v;
    } catch (const toml::parse_error&) {
        return Value{text, pos};
    }
}

bool is_index(const std::string& s, size_t& index) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
    return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Value parse_toml_file(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) throw UsageError(str(path.string(), ": no such config file"));
    return parse(read_file(path), path.string());
}

Value parse_toml_text(std::string_view text, const std::string& source_name) { return parse(text, source_name); }

void apply_override(Value& root, const std::string& assignment) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw UsageError(str("--set ", assignment, ": expected section.key=value"));
    std::string path = trim(assignment.substr(0, eq));
    std::vector<std::string> parts = split(path, '.');
    if (parts.size() < 2) throw UsageError(str("--set ", assignment, ": the key needs a section, as in run.seed=7"));
    Value* node = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        Table* table = node->table();
        if (!table) throw UsageError(str("--set ", path, ": '", join({parts.begin(), parts.begin() + i}, "."), "' is not a table"));
        Value* child = find(*table, parts[i]);
        if (parts[i] == "stage") {
            auto* stages = child ? std::get_if<Array>(&child->data) : nullptr;
            if (!stages || i + 2 >= parts.size())
                throw UsageError(str("--set ", path, ": address a stage as stage.<index or name>.<key>"));
            const std::string& which = parts[++i];
            Value* found = nullptr;
            size_t index = 0;
            if (is_index(which, index)) {
                if (index < stages->size()) found = &(*stages)[index];
            } else {
                for (auto& s : *stages) {
                    const Value* name = s.table() ? find(*s.table(), "name") : nullptr;
                    const Value* kind = s.table() ? find(*s.table(), "kind") : nullptr;
                    const Value* label = name ? name : kind;
                    if (label && std::get_if<std::string>(&label->data) && std::get<std::string>(label->data) == which) {
                        found = &s;
                        break;
                    }
                }
            }
            if (!found) throw UsageError(str("--set ", path, ": no stage '", which, "' in the config"));
            node = found;
            continue;
        }
        if (!child) {
            table->emplace_back(parts[i], Value{Table{}, SourcePos{}});
            child = &table->back().second;
        }
        node = child;
    }
    Table* table = node->table();
    if (!table) throw UsageError(str("--set ", path, ": the parent is not a table"));
    Value value = override_value(assignment.substr(eq + 1));
    if (Value* existing = find(*table, parts.back()))
        *existing = std::move(value);
    else
        table->emplace_back(parts.back(), std::move(value));
}

}  // namespace anvil::config
