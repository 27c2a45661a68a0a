// Implementation of models/bpe_tokenizer.h. The reference is huggingface/tokenizers (tokenizers/src/:
// tokenizer/added_vocabulary.rs, normalizers/, pre_tokenizers/{split,byte_level}.rs, models/bpe/word.rs,
// processors/template.rs, decoders/byte_level.rs); each step below names the behaviour it reproduces.
#include "models/bpe_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <queue>

#include "core/error.h"
#include "core/files.h"

namespace anvil {

using nlohmann::json;

namespace {

// GPT-2's pre-tokenizer regex, used by ByteLevel when `use_regex` is true (pre_tokenizers/byte_level.rs).
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

constexpr size_t kCacheCapacity = 1 << 16;  // words
constexpr size_t kMaxCachedWord = 256;      // bytes

const json& need(const json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) throw Error(str(where, ": missing key '", key, "'"));
    return *it;
}

bool flag(const json& obj, const char* key, bool fallback) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? fallback : it->get<bool>();
}

uint64_t pair_key(TokenId a, TokenId b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

bool at_word_char_before(std::string_view text, size_t pos) {
    if (pos == 0) return false;
    size_t i = pos - 1;
    while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
    char32_t cp = unicode::next_code_point(text, i);
    return unicode::is_alphanumeric(cp) || cp == '_';
}

bool at_word_char_after(std::string_view text, size_t pos) {
    if (pos >= text.size()) return false;
    char32_t cp = unicode::next_code_point(text, pos);
    return unicode::is_alphanumeric(cp) || cp == '_';
}

}  // namespace

std::unique_ptr<BpeTokenizer> BpeTokenizer::load(const std::filesystem::path& tokenizer_json) {
    return std::make_unique<BpeTokenizer>(read_file(tokenizer_json), tokenizer_json.string());
}

BpeTokenizer::~BpeTokenizer() = default;

BpeTokenizer::BpeTokenizer(std::string_view json_text, const std::string& source) : source_(source) {
    json root;
    try {
        root = json::parse(json_text);
    } catch (const json::parse_error& e) {
        throw Error(str(source_, ": not valid JSON: ", e.what()));
    }
    try {
        parse_model(need(root, "model", source_));
        parse_normalizer(root.value("normalizer", json()), "normalizer");
        parse_added_tokens(root.value("added_tokens", json::array()));
        parse_pre_tokenizer(root.value("pre_tokenizer", json()), "pre_tokenizer");
        parse_post_processor(root.value("post_processor", json()), "post_processor");
        parse_decoder(root.value("decoder", json()), "decoder");
    } catch (const json::exception& e) {
        throw Error(str(source_, ": unexpected JSON value: ", e.what()));
    }
    ANVIL_CHECK(byte_level_, source_,
                ": pre_tokenizer: a ByteLevel pre-tokenizer is required (only byte-level BPE is supported)");
}

void BpeTokenizer::parse_model(const json& model) {
    std::string where = source_ + ": model";
    std::string type = model.value("type", "BPE");
    ANVIL_CHECK(type == "BPE", where, ".type: '", type, "' is not supported (only BPE)");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        auto it = model.find(key);
        ANVIL_CHECK(it == model.end() || it->is_null() || it->get<std::string>().empty(), where, ".", key,
                    ": not supported by byte-level BPE");
    }
    ANVIL_CHECK(!flag(model, "byte_fallback", false), where, ".byte_fallback: not supported by byte-level BPE");
    ANVIL_CHECK(model.value("dropout", json()).is_null(), where, ".dropout: BPE dropout is not supported");
    ignore_merges_ = flag(model, "ignore_merges", false);

    const json& vocab = need(model, "vocab", where);
    ANVIL_CHECK(vocab.is_object(), where, ".vocab: expected an object");
    vocab_.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        auto id = it.value().get<TokenId>();
        ANVIL_CHECK(id >= 0, where, ".vocab['", it.key(), "']: negative id ", id);
        vocab_.emplace(it.key(), id);
        if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(id) + 1);
        id_to_token_[static_cast<size_t>(id)] = it.key();
    }

    const json& merges = need(model, "merges", where);
    merges_.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const json& m = merges[rank];
        std::string left, right;
        if (m.is_string()) {
            auto s = m.get<std::string>();
            size_t space = s.find(' ');
            ANVIL_CHECK(space != std::string::npos, where, ".merges[", rank, "]: expected 'left right', got '", s, "'");
            left = s.substr(0, space);
            right = s.substr(space + 1);
        } else {
            ANVIL_CHECK(m.is_array() && m.size() == 2, where, ".merges[", rank, "]: expected a pair");
            left = m[0].get<std::string>();
            right = m[1].get<std::string>();
        }
        auto l = vocab_.find(left), r = vocab_.find(right), merged = vocab_.find(left + right);
        ANVIL_CHECK(l != vocab_.end() && r != vocab_.end() && merged != vocab_.end(), where, ".merges[", rank, "]: '",
                    left, "' + '", right, "' is not in the vocabulary");
        merges_.emplace(pair_key(l->second, r->second), std::make_pair(static_cast<int32_t>(rank), merged->second));
    }

    auto unk = model.find("unk_token");
    if (unk != model.end() && !unk->is_null()) {
        auto found = vocab_.find(unk->get<std::string>());
        ANVIL_CHECK(found != vocab_.end(), where, ".unk_token: '", unk->get<std::string>(),
                    "' is not in the vocabulary");
        unk_id_ = found->second;
    }
    for (int b = 0; b < 256; ++b) {
        auto it = vocab_.find(unicode::byte_to_utf8()[b]);
        byte_ids_[b] = it != vocab_.end() ? it->second : -1;
    }
}

void BpeTokenizer::parse_added_tokens(const json& list) {
    ANVIL_CHECK(list.is_array(), source_, ": added_tokens: expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
        const json& t = list[i];
        std::string where = str(source_, ": added_tokens[", i, "]");
        AddedToken a;
        a.id = need(t, "id", where).get<TokenId>();
        a.content = need(t, "content", where).get<std::string>();
        ANVIL_CHECK(a.id >= 0 && !a.content.empty(), where, ": needs a non-negative id and non-empty content");
        a.special = flag(t, "special", false);
        a.lstrip = flag(t, "lstrip", false);
        a.rstrip = flag(t, "rstrip", false);
        a.normalized = flag(t, "normalized", !a.special);
        a.single_word = flag(t, "single_word", false);
        // added_vocabulary.rs: a normalized token is matched, and known, by its normalized content.
        if (a.normalized)
            for (auto form : normalizers_) a.content = unicode::normalize(a.content, form);
        added_.push_back(a);
    }
    for (const AddedToken& a : added_) {
        if (static_cast<size_t>(a.id) >= id_to_token_.size()) id_to_token_.resize(static_cast<size_t>(a.id) + 1);
        id_to_token_[static_cast<size_t>(a.id)] = a.content;
    }
    special_.assign(id_to_token_.size(), false);
    for (const AddedToken& a : added_) {
        special_[static_cast<size_t>(a.id)] = a.special;
        auto& list_for = a.normalized ? normalized_added_ : raw_added_;
        list_for.push_back(&a);
        (a.normalized ? normalized_first_byte_ : raw_first_byte_)[static_cast<unsigned char>(a.content[0])] = true;
    }
    auto longest_first = [](const AddedToken* x, const AddedToken* y) { return x->content.size() > y->content.size(); };
    std::stable_sort(raw_added_.begin(), raw_added_.end(), longest_first);
    std::stable_sort(normalized_added_.begin(), normalized_added_.end(), longest_first);
}

void BpeTokenizer::parse_normalizer(const json& n, const std::string& key) {
    if (n.is_null()) return;
    std::string type = need(n, "type", source_ + ": " + key).get<std::string>();
    if (type == "Sequence") {
        const json& list = need(n, "normalizers", source_ + ": " + key);
        for (size_t i = 0; i < list.size(); ++i) parse_normalizer(list[i], str(key, ".normalizers[", i, "]"));
    } else if (type == "NFC") {
        normalizers_.push_back(unicode::NormalForm::nfc);
    } else if (type == "NFD") {
        normalizers_.push_back(unicode::NormalForm::nfd);
    } else if (type == "NFKC") {
        normalizers_.push_back(unicode::NormalForm::nfkc);
    } else if (type == "NFKD") {
        normalizers_.push_back(unicode::NormalForm::nfkd);
    } else {
        throw Error(str(source_, ": ", key, ".type: normalizer '", type, "' is not supported (NFC, NFD, NFKC, NFKD)"));
    }
}

void BpeTokenizer::parse_pre_tokenizer(const json& p, const std::string& key) {
    std::string where = source_ + ": " + key;
    ANVIL_CHECK(!p.is_null(), where, ": missing; byte-level BPE needs a ByteLevel pre-tokenizer");
    std::string type = need(p, "type", where).get<std::string>();
    ANVIL_CHECK(!byte_level_ || type == "Sequence", where, ": nothing may follow the ByteLevel pre-tokenizer");
    if (type == "Sequence") {
        const json& list = need(p, "pretokenizers", where);
        for (size_t i = 0; i < list.size(); ++i) parse_pre_tokenizer(list[i], str(key, ".pretokenizers[", i, "]"));
    } else if (type == "Split") {
        const json& pattern = need(p, "pattern", where);
        SplitStep step;
        if (pattern.contains("Regex")) {
            step.regex =
                std::make_unique<TokenizerRegex>(pattern["Regex"].get<std::string>(), false, where + ".pattern.Regex");
        } else {
            step.regex = std::make_unique<TokenizerRegex>(
                need(pattern, "String", where + ".pattern").get<std::string>(), true, where + ".pattern.String");
        }
        std::string behavior = need(p, "behavior", where).get<std::string>();
        using B = SplitStep::Behavior;
        if (behavior == "Removed")
            step.behavior = B::removed;
        else if (behavior == "Isolated")
            step.behavior = B::isolated;
        else if (behavior == "MergedWithPrevious")
            step.behavior = B::merged_with_previous;
        else if (behavior == "MergedWithNext")
            step.behavior = B::merged_with_next;
        else if (behavior == "Contiguous")
            step.behavior = B::contiguous;
        else
            throw Error(str(where, ".behavior: unknown value '", behavior, "'"));
        step.invert = flag(p, "invert", false);
        pre_steps_.push_back(std::move(step));
    } else if (type == "ByteLevel") {
        if (flag(p, "add_prefix_space", true)) pre_steps_.push_back(SplitStep{});
        if (flag(p, "use_regex", true)) {
            SplitStep step;
            step.regex = std::make_unique<TokenizerRegex>(kGpt2Pattern, false, where + " (GPT-2 regex)");
            pre_steps_.push_back(std::move(step));
        }
        // The byte mapping itself happens in bpe_word(), straight from the bytes to the byte tokens' ids.
        byte_level_ = true;
    } else {
        throw Error(str(where, ".type: pre-tokenizer '", type, "' is not supported (Sequence, Split, ByteLevel)"));
    }
}

void BpeTokenizer::parse_post_processor(const json& p, const std::string& key) {
    if (p.is_null()) return;
    std::string where = source_ + ": " + key;
    std::string type = need(p, "type", where).get<std::string>();
    if (type == "ByteLevel") return;  // offsets only; ids are unchanged
    if (type == "Sequence") {
        const json& list = need(p, "processors", where);
        for (size_t i = 0; i < list.size(); ++i) parse_post_processor(list[i], str(key, ".processors[", i, "]"));
        return;
    }
    ANVIL_CHECK(type == "TemplateProcessing", where, ".type: post-processor '", type,
                "' is not supported (ByteLevel, TemplateProcessing, Sequence)");
    const json& specials = need(p, "special_tokens", where);
    bool seen_sequence = false;
    const json& single = need(p, "single", where);
    for (size_t i = 0; i < single.size(); ++i) {
        const json& piece = single[i];
        if (piece.contains("Sequence")) {
            seen_sequence = true;
            continue;
        }
        std::string name =
            need(need(piece, "SpecialToken", str(where, ".single[", i, "]")), "id", where).get<std::string>();
        const json& entry = need(specials, name.c_str(), where + ".special_tokens");
        for (const json& id : need(entry, "ids", str(where, ".special_tokens.", name)))
            (seen_sequence ? post_suffix_ : post_prefix_).push_back(id.get<TokenId>());
    }
}

void BpeTokenizer::parse_decoder(const json& d, const std::string& key) {
    std::string where = source_ + ": " + key;
    ANVIL_CHECK(!d.is_null(), where, ": missing; byte-level BPE needs the ByteLevel decoder");
    std::string type = need(d, "type", where).get<std::string>();
    ANVIL_CHECK(type == "ByteLevel", where, ".type: decoder '", type, "' is not supported (ByteLevel)");
    // decoders/byte_level.rs: each token's characters map back to bytes; a token with a character outside
    // the table contributes its own UTF-8 bytes instead.
    decoded_bytes_.resize(id_to_token_.size());
    for (size_t id = 0; id < id_to_token_.size(); ++id) {
        const std::string& tok = id_to_token_[id];
        std::string bytes;
        size_t i = 0;
        bool mapped = true;
        while (i < tok.size() && mapped) {
            int b = unicode::code_point_to_byte(unicode::next_code_point(tok, i));
            mapped = b >= 0;
            bytes += static_cast<char>(b);
        }
        decoded_bytes_[id] = mapped ? bytes : tok;
    }
}

std::optional<TokenId> BpeTokenizer::token_to_id(std::string_view token) const {
    for (const AddedToken& a : added_)
        if (a.content == token) return a.id;
    auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

std::string BpeTokenizer::id_to_token(TokenId id) const {
    ANVIL_CHECK(
        id >= 0 && static_cast<size_t>(id) < id_to_token_.size() && !id_to_token_[static_cast<size_t>(id)].empty(),
        source_, ": token id ", id, " is not in the vocabulary (size ", id_to_token_.size(), ")");
    return id_to_token_[static_cast<size_t>(id)];
}

bool BpeTokenizer::is_special(TokenId id) const {
    return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[static_cast<size_t>(id)];
}

// added_vocabulary.rs find_matches: leftmost-longest matches of the added tokens; single_word tokens only
// between non-word characters; lstrip / rstrip widen a match over neighbouring whitespace.
void BpeTokenizer::split_added(std::string_view text, bool normalized, std::vector<Segment>& out) const {
    const auto& tokens = normalized ? normalized_added_ : raw_added_;
    const bool* first = normalized ? normalized_first_byte_ : raw_first_byte_;
    size_t seg_start = 0, i = 0;
    while (i < text.size()) {
        if (!first[static_cast<unsigned char>(text[i])]) {
            ++i;
            continue;
        }
        const AddedToken* match = nullptr;
        for (const AddedToken* a : tokens) {
            if (text.compare(i, a->content.size(), a->content) != 0) continue;
            if (a->single_word && (at_word_char_before(text, i) || at_word_char_after(text, i + a->content.size())))
                continue;
            match = a;
            break;
        }
        if (!match) {
            ++i;
            continue;
        }
        size_t s = i, e = i + match->content.size();
        if (match->lstrip) {
            while (s > seg_start) {
                size_t p = s - 1;
                while (p > seg_start && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) --p;
                size_t q = p;
                if (!unicode::is_whitespace(unicode::next_code_point(text, q))) break;
                s = p;
            }
        }
        if (match->rstrip) {
            while (e < text.size()) {
                size_t q = e;
                if (!unicode::is_whitespace(unicode::next_code_point(text, q))) break;
                e = q;
            }
        }
        if (s > seg_start) out.push_back({text.substr(seg_start, s - seg_start), -1});
        out.push_back({{}, match->id});
        seg_start = i = e;
    }
    if (seg_start < text.size()) out.push_back({text.substr(seg_start), -1});
}

// pre_tokenizers/split.rs (with normalizer.rs split behaviours) and byte_level.rs (prefix space).
void BpeTokenizer::pre_tokenize(std::string_view text, std::vector<std::string_view>& pieces,
                                std::vector<std::unique_ptr<std::string>>& storage) const {
    pieces.assign(1, text);
    std::vector<std::string_view> next;
    std::vector<std::pair<size_t, size_t>> matches;
    for (const SplitStep& step : pre_steps_) {
        if (!step.regex) {
            for (auto& piece : pieces) {
                if (!piece.empty() && piece[0] != ' ') {
                    auto spaced = std::make_unique<std::string>(1, ' ');
                    spaced->append(piece);
                    storage.push_back(std::move(spaced));
                    piece = *storage.back();
                }
            }
            continue;
        }
        next.clear();
        for (std::string_view piece : pieces) {
            matches.clear();
            step.regex->find_all(piece, matches);
            // Alternating (range, is_match) parts covering the piece.
            struct Part {
                size_t b, e;
                bool delim;
            };
            std::vector<Part> parts;
            size_t pos = 0;
            for (auto [b, e] : matches) {
                if (b > pos) parts.push_back({pos, b, step.invert});
                parts.push_back({b, e, !step.invert});
                pos = e;
            }
            if (pos < piece.size()) parts.push_back({pos, piece.size(), step.invert});
            using B = SplitStep::Behavior;
            bool carry = false;  // merged_with_next: a delimiter waits for the part after it
            size_t carry_begin = 0;
            for (size_t k = 0; k < parts.size(); ++k) {
                const Part& p = parts[k];
                switch (step.behavior) {
                    case B::removed:
                        if (!p.delim) next.push_back(piece.substr(p.b, p.e - p.b));
                        break;
                    case B::isolated:
                        next.push_back(piece.substr(p.b, p.e - p.b));
                        break;
                    case B::contiguous:  // runs of delimiters (or, inverted, of kept parts) become one part
                        if (k > 0 && p.delim == parts[k - 1].delim) {
                            std::string_view& last = next.back();
                            last = std::string_view(last.data(), last.size() + (p.e - p.b));
                        } else {
                            next.push_back(piece.substr(p.b, p.e - p.b));
                        }
                        break;
                    case B::merged_with_previous:  // a delimiter joins the part before it unless that is one too
                        if (p.delim && k > 0 && !parts[k - 1].delim) {
                            std::string_view& last = next.back();
                            last = std::string_view(last.data(), last.size() + (p.e - p.b));
                        } else {
                            next.push_back(piece.substr(p.b, p.e - p.b));
                        }
                        break;
                    case B::merged_with_next:  // a delimiter joins the part after it unless that is one too
                        if (p.delim && k + 1 < parts.size() && !parts[k + 1].delim) {
                            carry = true;
                            carry_begin = p.b;
                        } else {
                            size_t b = carry && !p.delim ? carry_begin : p.b;
                            next.push_back(piece.substr(b, p.e - b));
                            carry = false;
                        }
                        break;
                }
            }
        }
        pieces.swap(next);
    }
}

// models/bpe/word.rs merge_all: repeatedly apply the lowest-rank merge, leftmost first, with a priority queue.
void BpeTokenizer::bpe_merge(std::string_view bytes, std::vector<TokenId>& out) const {
    struct Symbol {
        TokenId id;
        int prev, next;
        bool alive;
    };
    std::vector<Symbol> syms(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
        TokenId id = byte_ids_[static_cast<unsigned char>(bytes[i])];
        if (id < 0) {
            ANVIL_CHECK(unk_id_.has_value(), source_, ": byte 0x", std::hex,
                        static_cast<int>(static_cast<unsigned char>(bytes[i])),
                        " has no token and model.unk_token is not set");
            id = *unk_id_;
        }
        syms[i] = {id, static_cast<int>(i) - 1, i + 1 < bytes.size() ? static_cast<int>(i) + 1 : -1, true};
    }
    struct Candidate {
        int32_t rank;
        int pos;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto consider = [&](int left) {
        if (left < 0 || syms[left].next < 0) return;
        auto it = merges_.find(pair_key(syms[left].id, syms[syms[left].next].id));
        if (it != merges_.end()) queue.push({it->second.first, left});
    };
    for (int i = 0; i + 1 < static_cast<int>(syms.size()); ++i) consider(i);
    while (!queue.empty()) {
        Candidate c = queue.top();
        queue.pop();
        Symbol& left = syms[c.pos];
        if (!left.alive || left.next < 0) continue;
        Symbol& right = syms[left.next];
        auto it = merges_.find(pair_key(left.id, right.id));
        if (it == merges_.end() || it->second.first != c.rank) continue;
        left.id = it->second.second;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) syms[right.next].prev = c.pos;
        consider(left.prev);
        consider(c.pos);
    }
    for (int i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

void BpeTokenizer::bpe_word(std::string_view bytes, std::vector<TokenId>& out) const {
    bool cacheable = bytes.size() <= kMaxCachedWord;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        auto it = cache_.find(bytes);
        if (it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<TokenId> ids;
    if (ignore_merges_) {
        std::string mapped;
        for (char b : bytes) mapped += unicode::byte_to_utf8()[static_cast<unsigned char>(b)];
        auto it = vocab_.find(mapped);
        if (it != vocab_.end()) ids.push_back(it->second);
    }
    if (ids.empty()) bpe_merge(bytes, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (cache_.size() >= kCacheCapacity) cache_.clear();
        cache_.emplace(std::string(bytes), std::move(ids));
    }
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool add_special) const {
    size_t bad = unicode::first_invalid_utf8(text);
    ANVIL_CHECK(bad == text.size(), source_, ": cannot encode text with invalid UTF-8 at byte ", bad);
    std::vector<TokenId> ids(post_prefix_.begin(), add_special ? post_prefix_.end() : post_prefix_.begin());
    std::vector<Segment> raw, normalized_segments;
    split_added(text, false, raw);
    std::vector<std::string_view> pieces;
    std::vector<std::unique_ptr<std::string>> storage;
    for (const Segment& seg : raw) {
        if (seg.id >= 0) {
            ids.push_back(seg.id);
            continue;
        }
        std::string_view normalized = seg.text;
        if (!normalizers_.empty()) {
            std::string current(seg.text);
            for (auto form : normalizers_) current = unicode::normalize(current, form);
            storage.push_back(std::make_unique<std::string>(std::move(current)));
            normalized = *storage.back();
        }
        normalized_segments.clear();
        split_added(normalized, true, normalized_segments);
        for (const Segment& part : normalized_segments) {
            if (part.id >= 0) {
                ids.push_back(part.id);
                continue;
            }
            pre_tokenize(part.text, pieces, storage);
            for (std::string_view piece : pieces)
                if (!piece.empty()) bpe_word(piece, ids);
        }
    }
    if (add_special) ids.insert(ids.end(), post_suffix_.begin(), post_suffix_.end());
    return ids;
}

std::string BpeTokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
    std::string bytes;
    for (TokenId id : ids) {
        ANVIL_CHECK(id >= 0 && static_cast<size_t>(id) < decoded_bytes_.size(), source_, ": cannot decode token id ",
                    id, " (vocabulary size ", decoded_bytes_.size(), ")");
        if (skip_special && is_special(id)) continue;
        bytes += decoded_bytes_[static_cast<size_t>(id)];
    }
    return unicode::utf8_lossy(bytes);
}

}  // namespace anvil
