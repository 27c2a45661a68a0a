// Implementation of models/tokenizer_regex.h over PCRE2 (8-bit code units).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "models/tokenizer_regex.h"

#include <pcre2.h>

#include "core/error.h"

namespace anvil {

struct TokenizerRegex::Impl {
    pcre2_code* code = nullptr;
};

namespace {

// One match-data block per thread, grown on demand: encode() is const and may run on several threads.
pcre2_match_data* thread_match_data() {
    struct Holder {
        pcre2_match_data* data = pcre2_match_data_create(4, nullptr);
        ~Holder() { pcre2_match_data_free(data); }
    };
    thread_local Holder holder;
    return holder.data;
}

}  // namespace

TokenizerRegex::TokenizerRegex(const std::string& pattern, bool literal, const std::string& where)
    : impl_(std::make_unique<Impl>()) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    uint32_t options = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    impl_->code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &err, &offset, nullptr);
    if (!impl_->code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(err, message, sizeof message);
        throw Error(str(where, ": invalid regex at offset ", offset, ": ", reinterpret_cast<char*>(message),
                        " (pattern ", pattern, ")"));
    }
    pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
}

TokenizerRegex::~TokenizerRegex() {
    pcre2_code_free(impl_->code);
}

void TokenizerRegex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
    pcre2_match_data* md = thread_match_data();
    auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t start = 0;
    while (start <= text.size()) {
        int rc = pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) return;
        if (rc < 0) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(rc, message, sizeof message);
            throw Error(str("tokenizer regex: match failed: ", reinterpret_cast<char*>(message)));
        }
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        size_t b = ov[0], e = ov[1];
        if (e == b) {
            if (b >= text.size()) return;
            size_t next = b + 1;
            while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
            start = next;
            continue;
        }
        out.emplace_back(b, e);
        start = e;
    }
}

}  // namespace anvil
