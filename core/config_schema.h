// Declarative config sections: a plain struct with defaults, plus a Section<T> that lists its fields with a
// one-line doc, a type, optional range or choices, and whether it is required. From that one declaration
// Anvil reads values (with errors naming file:line:col and the full key path, and "did you mean" for
// unknown keys), renders the resolved TOML, and writes the reference documentation.
//
// Values arrive as a parser-neutral tree (config::Value) so that this header stays free of the TOML
// library; trainer/config_toml.cpp turns TOML text into that tree. Nothing here knows which sections exist.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"

namespace anvil::config {

struct SourcePos {
    std::string file;
    int line = 0;    // 0 when unknown (e.g. a --set override)
    int column = 0;
    std::string describe() const;  // "file:line:col", "file" or "--set"
};

struct Value;
using Table = std::vector<std::pair<std::string, Value>>;  // keeps the file's order
using Array = std::vector<Value>;

struct Value {
    std::variant<bool, int64_t, double, std::string, Array, Table> data;
    SourcePos pos;

    const char* type_name() const;  // "boolean", "integer", "float", "string", "array", "table"
    const Table* table() const { return std::get_if<Table>(&data); }
    Table* table() { return std::get_if<Table>(&data); }
};

// Looks up `key` in a table; nullptr when absent.
const Value* find(const Table& table, std::string_view key);
Value* find(Table& table, std::string_view key);

// Collects every problem in a config so the user sees them all at once.
class Diagnostics {
public:
    void error(const SourcePos& pos, const std::string& message);
    bool empty() const { return messages_.empty(); }
    const std::vector<std::string>& messages() const { return messages_; }
    // Throws UsageError listing every problem, if there are any.
    void throw_if_any() const;

private:
    std::vector<std::string> messages_;
};

// Documentation of one field, for `anvil config check` and configs/REFERENCE.md.
struct FieldInfo {
    std::string key;
    std::string type;
    std::string default_toml;  // "" for required fields
    std::string doc;
    bool required = false;
};

// Renders a value as TOML source text.
std::string to_toml(bool v);
std::string to_toml(int64_t v);
std::string to_toml(int v);
std::string to_toml(double v);
std::string to_toml(const std::string& v);
// A bound for messages: "0", "0.5", "1e-08".
std::string number_text(double v);
template <class E>
std::string to_toml(const std::vector<E>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + to_toml(v[i]);
    return out + "]";
}

// Conversions from the value tree; each returns nullopt (and the caller reports) on a type mismatch.
std::optional<bool> as(const Value& v, bool*);
std::optional<int64_t> as(const Value& v, int64_t*);
std::optional<int> as(const Value& v, int*);
std::optional<double> as(const Value& v, double*);
std::optional<std::string> as(const Value& v, std::string*);
template <class E>
std::optional<std::vector<E>> as(const Value& v, std::vector<E>*) {
    const auto* array = std::get_if<Array>(&v.data);
    if (!array) return std::nullopt;
    std::vector<E> out;
    for (const auto& item : *array) {
        auto e = as(item, static_cast<E*>(nullptr));
        if (!e) return std::nullopt;
        out.push_back(std::move(*e));
    }
    return out;
}

template <class V> const char* type_label();
template <> inline const char* type_label<bool>() { return "boolean"; }
template <> inline const char* type_label<int64_t>() { return "integer"; }
template <> inline const char* type_label<int>() { return "integer"; }
template <> inline const char* type_label<double>() { return "float"; }
template <> inline const char* type_label<std::string>() { return "string"; }
template <> inline const char* type_label<std::vector<std::string>>() { return "array of strings"; }
template <> inline const char* type_label<std::vector<double>>() { return "array of floats"; }
template <> inline const char* type_label<std::vector<int64_t>>() { return "array of integers"; }

// One field of a Section<T>; built by Section::field and refined by the chained setters.
template <class T>
class Field {
public:
    Field& required() { required_ = true; return *this; }
    Field& min(double v) { min_ = v; return *this; }
    Field& max(double v) { max_ = v; return *this; }
    Field& choices(std::vector<std::string> c) { choices_ = std::move(c); return *this; }

private:
    template <class> friend class Section;
    std::string key_, doc_, type_;
    bool required_ = false;
    std::optional<double> min_, max_;
    std::vector<std::string> choices_;
    std::function<void(const Value&, T&, const std::string& path, const Field&, Diagnostics&)> assign_;
    std::function<std::string(const T&)> render_;
};

// Checks across fields after reading: report(key, message) attaches the message to that key's position.
using Reporter = std::function<void(const std::string& key, const std::string& message)>;

template <class T>
class Section {
public:
    Section(std::string name, std::string doc) : name_(std::move(name)), doc_(std::move(doc)) {}

    const std::string& name() const { return name_; }
    const std::string& doc() const { return doc_; }

    template <class V>
    Field<T>& field(const char* key, V T::*member, const char* doc) {
        auto f = std::make_unique<Field<T>>();
        f->key_ = key;
        f->doc_ = doc;
        f->type_ = type_label<V>();
        f->assign_ = [member](const Value& v, T& out, const std::string& path, const Field<T>& self,
                              Diagnostics& diag) {
            auto parsed = as(v, static_cast<V*>(nullptr));
            if (!parsed) {
                diag.error(v.pos, str(path, ": expected ", type_label<V>(), ", got ", v.type_name()));
                return;
            }
            if constexpr (std::is_arithmetic_v<V> && !std::is_same_v<V, bool>) {
                double x = static_cast<double>(*parsed);
                if (self.min_ && x < *self.min_)
                    return diag.error(v.pos, str(path, ": must be >= ", number_text(*self.min_), ", got ", to_toml(*parsed)));
                if (self.max_ && x > *self.max_)
                    return diag.error(v.pos, str(path, ": must be <= ", number_text(*self.max_), ", got ", to_toml(*parsed)));
            }
            if constexpr (std::is_same_v<V, std::string>) {
                if (!self.choices_.empty() && !contains(self.choices_, *parsed))
                    return diag.error(v.pos, str(path, ": '", *parsed, "' is not one of ", to_toml(self.choices_)));
            }
            out.*member = std::move(*parsed);
        };
        f->render_ = [member](const T& t) { return to_toml(t.*member); };
        fields_.push_back(std::move(f));
        return *fields_.back();
    }

    // A field read and rendered by the caller's functions, e.g. a nested table ([stage.environment]) whose
    // schema lives in another room. `read` reports problems to the Diagnostics itself.
    template <class V>
    Field<T>& custom(const char* key, V T::*member, const char* doc, const char* type,
                     std::function<void(const Value&, V&, const std::string& path, Diagnostics&)> read,
                     std::function<std::string(const V&)> render) {
        auto f = std::make_unique<Field<T>>();
        f->key_ = key;
        f->doc_ = doc;
        f->type_ = type;
        f->assign_ = [member, read](const Value& v, T& out, const std::string& path, const Field<T>&, Diagnostics& diag) {
            read(v, out.*member, path, diag);
        };
        f->render_ = [member, render](const T& t) { return render(t.*member); };
        fields_.push_back(std::move(f));
        return *fields_.back();
    }

    // A nested table whose keys follow `sub` (rendered as an inline table).
    template <class V>
    Field<T>& table(const char* key, V T::*member, const char* doc, const Section<V>& sub) {
        return custom<V>(
            key, member, doc, "table",
            [&sub](const Value& v, V& out, const std::string& path, Diagnostics& diag) {
                if (!v.table()) return diag.error(v.pos, str(path, ": expected a table, got ", v.type_name()));
                sub.read(*v.table(), v.pos, path, out, diag);
            },
            [&sub](const V& value) { return sub.render_inline(value); });
    }

    // The values as one TOML inline table: { key = value, ... }.
    std::string render_inline(const T& value) const {
        std::string out = "{ ";
        for (size_t i = 0; i < fields_.size(); ++i)
            out += (i ? ", " : "") + fields_[i]->key_ + " = " + fields_[i]->render_(value);
        return out + " }";
    }

    // Adds every field (and check) of `sub` as this section's own keys, reading into `member`: options
    // shared by several stages (e.g. the optimizer's) stay one declaration but flat in the TOML.
    template <class V>
    void include(V T::*member, const Section<V>& sub) {
        for (const auto& sf : sub.fields_) {
            auto f = std::make_unique<Field<T>>();
            f->key_ = sf->key_;
            f->doc_ = sf->doc_;
            f->type_ = sf->type_;
            f->required_ = sf->required_;
            f->min_ = sf->min_;
            f->max_ = sf->max_;
            f->choices_ = sf->choices_;
            const Field<V>* inner = sf.get();
            f->assign_ = [member, inner](const Value& v, T& out, const std::string& path, const Field<T>&, Diagnostics& d) {
                inner->assign_(v, out.*member, path, *inner, d);
            };
            f->render_ = [member, inner](const T& t) { return inner->render_(t.*member); };
            fields_.push_back(std::move(f));
        }
        for (const auto& c : sub.checks_)
            checks_.push_back([member, c](const T& t, const Reporter& report) { c(t.*member, report); });
    }

    // Registers a check across fields, run after all fields were read without type errors.
    void check(std::function<void(const T&, const Reporter&)> fn) { checks_.push_back(std::move(fn)); }

    // Reads `table` into `out` (which holds the defaults). `prefix` is the key path of the table
    // ("run", "stage[1]"); `ignored` lists keys handled by the caller (e.g. a stage's "kind").
    void read(const Table& table, const SourcePos& table_pos, const std::string& prefix, T& out, Diagnostics& diag,
              const std::vector<std::string>& ignored = {}) const {
        size_t errors_before = diag.messages().size();
        for (const auto& [key, value] : table) {
            if (contains(ignored, key)) continue;
            const Field<T>* f = find_field(key);
            if (!f) {
                std::string hint = closest_key(key);
                diag.error(value.pos, str("unknown key '", prefix, ".", key, "'",
                                          hint.empty() ? "" : str(" (did you mean '", prefix, ".", hint, "'?)")));
                continue;
            }
            f->assign_(value, out, prefix + "." + key, *f, diag);
        }
        for (const auto& f : fields_)
            if (f->required_ && !find(table, f->key_))
                diag.error(table_pos, str("missing required key '", prefix, ".", f->key_, "' (", f->doc_, ")"));
        if (diag.messages().size() != errors_before) return;
        Reporter report = [&](const std::string& key, const std::string& message) {
            const Value* v = find(table, key);
            diag.error(v ? v->pos : table_pos, str(prefix, ".", key, ": ", message));
        };
        for (const auto& c : checks_) c(out, report);
    }

    // The resolved values as TOML "key = value" lines, each preceded by its doc as a comment.
    std::string render(const T& value) const {
        std::string out;
        for (const auto& f : fields_) out += "# " + f->doc_ + "\n" + f->key_ + " = " + f->render_(value) + "\n";
        return out;
    }

    std::vector<FieldInfo> describe() const {
        T defaults{};
        std::vector<FieldInfo> info;
        for (const auto& f : fields_) {
            std::string doc = f->doc_;
            if (!f->choices_.empty()) doc += " One of " + to_toml(f->choices_) + ".";
            if (f->min_ && f->max_) doc += str(" Range [", number_text(*f->min_), ", ", number_text(*f->max_), "].");
            else if (f->min_) doc += str(" At least ", number_text(*f->min_), ".");
            else if (f->max_) doc += str(" At most ", number_text(*f->max_), ".");
            info.push_back({f->key_, f->type_, f->required_ ? "" : f->render_(defaults), doc, f->required_});
        }
        return info;
    }

private:
    template <class> friend class Section;
    static bool contains(const std::vector<std::string>& v, const std::string& s) {
        for (const auto& x : v)
            if (x == s) return true;
        return false;
    }
    const Field<T>* find_field(const std::string& key) const {
        for (const auto& f : fields_)
            if (f->key_ == key) return f.get();
        return nullptr;
    }
    std::string closest_key(const std::string& key) const;

    std::string name_, doc_;
    std::vector<std::unique_ptr<Field<T>>> fields_;
    std::vector<std::function<void(const T&, const Reporter&)>> checks_;
};

// "Did you mean" over a list of keys (defined in config_schema.cpp to keep this header light).
std::string suggest_key(const std::string& key, const std::vector<std::string>& keys);

template <class T>
std::string Section<T>::closest_key(const std::string& key) const {
    std::vector<std::string> keys;
    for (const auto& f : fields_) keys.push_back(f->key_);
    return suggest_key(key, keys);
}

// Renders any value tree as TOML source text (tables inline).
std::string to_toml(const Value& value);

// Renders field documentation as a Markdown table.
std::string markdown_table(const std::vector<FieldInfo>& fields);

}  // namespace anvil::config
