// Implementation of math_answer.h.
#include "environments/math_answer.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/text.h"

namespace anvil::env {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
}

// Replaces every \cmd{x} by x (brace-aware); with `drop`, removes the whole \cmd{x}.
void unwrap_command(std::string& s, std::string_view cmd, bool drop = false) {
    size_t pos = 0;
    while ((pos = s.find(cmd, pos)) != std::string::npos) {
        size_t open = pos + cmd.size();
        while (open < s.size() && s[open] == ' ') ++open;
        size_t end = 0;
        auto inner = open < s.size() && s[open] == '{' ? brace_group(s, open, &end) : std::nullopt;
        if (!inner) {
            pos += cmd.size();
            continue;
        }
        s.replace(pos, end - pos, drop ? std::string() : *inner);
    }
}

// The last number in `text` ("-1,234.5", "3/4"), with thousands separators kept for normalisation.
std::optional<std::string> last_number(std::string_view text) {
    size_t i = text.size();
    while (i > 0) {
        --i;
        if (!is_digit(text[i])) continue;
        size_t end = i + 1, start = i;
        while (start > 0 && (is_digit(text[start - 1]) || text[start - 1] == '.' ||
                             (text[start - 1] == ',' && start >= 2 && is_digit(text[start - 2])) ||
                             (text[start - 1] == '/' && start >= 2 && is_digit(text[start - 2]))))
            --start;
        if (start > 0 && text[start - 1] == '-') --start;
        std::string n(text.substr(start, end - start));
        while (!n.empty() && (n.front() == '.' || n.front() == ',')) n.erase(n.begin());
        return n;
    }
    return std::nullopt;
}

}  // namespace

AnswerSource parse_answer_source(const std::string& name) {
    if (name == "boxed") return AnswerSource::boxed;
    if (name == "hashes") return AnswerSource::hashes;
    if (name == "answer_is") return AnswerSource::answer_is;
    if (name == "last_number") return AnswerSource::last_number;
    throw UsageError(str("unknown answer source '", name, "' (expected boxed, hashes, answer_is or last_number)"));
}

const char* answer_source_name(AnswerSource source) {
    switch (source) {
        case AnswerSource::boxed: return "boxed";
        case AnswerSource::hashes: return "hashes";
        case AnswerSource::answer_is: return "answer_is";
        case AnswerSource::last_number: return "last_number";
    }
    return "?";
}

std::optional<std::string> brace_group(std::string_view text, size_t open, size_t* end) {
    if (open >= text.size() || text[open] != '{') return std::nullopt;
    int depth = 0;
    for (size_t i = open; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}')) {
            ++i;  // an escaped brace \{ \} does not nest
            continue;
        }
        if (text[i] == '{') ++depth;
        else if (text[i] == '}' && --depth == 0) {
            if (end) *end = i + 1;
            return std::string(text.substr(open + 1, i - open - 1));
        }
    }
    return std::nullopt;
}

std::optional<std::string> last_boxed(std::string_view text) {
    size_t best = std::string_view::npos;
    size_t best_len = 0;
    for (std::string_view cmd : {"\\boxed", "\\fbox"}) {
        size_t p = text.rfind(cmd);
        if (p != std::string_view::npos && (best == std::string_view::npos || p > best)) best = p, best_len = cmd.size();
    }
    while (best != std::string_view::npos) {
        size_t open = best + best_len;
        while (open < text.size() && text[open] == ' ') ++open;
        if (open < text.size() && text[open] == '{') {
            if (auto inner = brace_group(text, open, nullptr)) return inner;
        } else if (open < text.size() && open > best + best_len) {  // "\boxed 5": up to the next space or '$'
            size_t end = open;
            while (end < text.size() && text[end] != '$' && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
            if (end > open) return std::string(text.substr(open, end - open));
        }
        if (best == 0) break;
        size_t prev_boxed = text.rfind("\\boxed", best - 1), prev_fbox = text.rfind("\\fbox", best - 1);
        if (prev_boxed == std::string_view::npos && prev_fbox == std::string_view::npos) break;
        if (prev_fbox == std::string_view::npos || (prev_boxed != std::string_view::npos && prev_boxed > prev_fbox))
            best = prev_boxed, best_len = 6;
        else
            best = prev_fbox, best_len = 5;
    }
    return std::nullopt;
}

std::optional<ExtractedAnswer> extract_answer(std::string_view completion, const std::vector<AnswerSource>& order) {
    for (AnswerSource source : order) {
        std::optional<std::string> found;
        switch (source) {
            case AnswerSource::boxed: found = last_boxed(completion); break;
            case AnswerSource::hashes: {
                size_t p = completion.rfind("####");
                if (p != std::string_view::npos) {
                    std::string_view rest = completion.substr(p + 4);
                    size_t nl = rest.find('\n');
                    found = trim(rest.substr(0, nl));
                }
                break;
            }
            case AnswerSource::answer_is: {
                std::string low = lower(completion);
                size_t p = low.rfind("answer is"), skip = 9;
                if (p == std::string::npos) p = low.rfind("answer:"), skip = 7;
                if (p != std::string::npos) {
                    std::string_view rest = completion.substr(p + skip);
                    if (auto boxed = last_boxed(rest)) {
                        found = boxed;
                        break;
                    }
                    // Up to the end of the line, or a sentence-ending period (not a decimal point).
                    size_t end = 0;
                    while (end < rest.size() && rest[end] != '\n') {
                        if (rest[end] == '.' && (end + 1 == rest.size() || !is_digit(rest[end + 1]))) break;
                        ++end;
                    }
                    std::string t = trim(rest.substr(0, end));
                    if (t.starts_with(":")) t = trim(t.substr(1));
                    found = t;
                }
                break;
            }
            case AnswerSource::last_number: found = last_number(completion); break;
        }
        if (found && !trim(*found).empty()) return ExtractedAnswer{trim(*found), source};
    }
    return std::nullopt;
}

std::string normalize_answer(std::string_view answer) {
    std::string s(answer);
    replace_all(s, "\n", " ");
    replace_all(s, "\\\\", "\x01");  // keep matrix row breaks apart from "\ " spacing
    replace_all(s, "\\$", "");
    replace_all(s, "$", "");
    for (std::string_view cmd : {"\\displaystyle", "\\left", "\\right", "\\!", "\\limits"}) replace_all(s, cmd, "");
    replace_all(s, "{,}", ",");
    // Thin spaces between digits are thousands separators: "1\,000".
    for (size_t p = 0; (p = s.find("\\,", p)) != std::string::npos;) {
        if (p > 0 && is_digit(s[p - 1]) && p + 2 < s.size() && is_digit(s[p + 2])) s.erase(p, 2);
        else s.replace(p, 2, 1, ' '), ++p;
    }
    for (std::string_view cmd : {"\\;", "\\:", "\\quad", "\\qquad", "~", "\\ "}) replace_all(s, cmd, " ");
    replace_all(s, "\\dfrac", "\\frac");
    replace_all(s, "\\tfrac", "\\frac");
    replace_all(s, "\\dots", "\\ldots");
    replace_all(s, "^{\\circ}", "");
    replace_all(s, "^\\circ", "");
    replace_all(s, "\\circ", "");
    replace_all(s, "\xc2\xb0", "");  // the degree sign
    replace_all(s, "\\%", "%");
    replace_all(s, "\\{", "\\lbrace ");
    replace_all(s, "\\}", " \\rbrace");
    for (std::string_view cmd : {"\\text", "\\textbf", "\\mathrm", "\\mathbf", "\\mbox", "\\textrm", "\\operatorname"})
        unwrap_command(s, cmd);
    unwrap_command(s, "\\boxed");
    replace_all(s, "\\lbrace", "\\{");
    replace_all(s, "\\rbrace", "\\}");
    // Remove whitespace.
    s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }),
            s.end());
    // Thousands separators: a run \d{1,3}(,\d{3})+ not inside a longer number ("12,345", not the pair "1,2345").
    std::string out;
    for (size_t i = 0; i < s.size();) {
        bool starts = is_digit(s[i]) && (i == 0 || (!is_digit(s[i - 1]) && s[i - 1] != '.' && s[i - 1] != ','));
        if (starts) {
            size_t j = i;
            while (j < s.size() && is_digit(s[j]) && j - i < 4) ++j;
            size_t lead = j - i, end = j, groups = 0;
            while (lead <= 3 && end + 3 < s.size() && s[end] == ',' && is_digit(s[end + 1]) && is_digit(s[end + 2]) &&
                   is_digit(s[end + 3]) && (end + 4 >= s.size() || !is_digit(s[end + 4]))) {
                end += 4;
                ++groups;
            }
            if (groups > 0 && lead <= 3) {
                for (size_t k = i; k < end; ++k)
                    if (s[k] != ',') out += s[k];
                i = end;
                continue;
            }
        }
        out += s[i++];
    }
    s = std::move(out);
    replace_all(s, "\x01", "\\\\");
    while (!s.empty() && (s.back() == '.' || s.back() == ',')) s.pop_back();
    return s;
}

}  // namespace anvil::env
