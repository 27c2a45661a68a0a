// Implementation of models/tokenizer_unicode.h.
#include "models/tokenizer_unicode.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "core/error.h"

namespace anvil::unicode {

char32_t next_code_point(std::string_view s, size_t& i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        ++i;
        return b;
    }
    int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    char32_t cp = b & (0x7F >> len);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += static_cast<size_t>(len);
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when it is invalid; `valid_prefix` receives how many
// bytes form a valid prefix of some sequence (the "maximal subpart" that one U+FFFD replaces).
size_t sequence_length(std::string_view s, size_t i, size_t& valid_prefix) {
    auto b = static_cast<unsigned char>(s[i]);
    valid_prefix = 1;
    if (b < 0x80) return 1;
    size_t width;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        width = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        width = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        width = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    for (size_t k = 1; k < width; ++k) {
        if (i + k >= s.size()) return 0;
        auto c = static_cast<unsigned char>(s[i + k]);
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (c < l || c > h) return 0;
        valid_prefix = k + 1;
    }
    return width;
}

}  // namespace

size_t first_invalid_utf8(std::string_view s) {
    size_t i = 0, prefix = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t n = sequence_length(s, i, prefix);
        if (n == 0) return i;
        i += n;
    }
    return s.size();
}

std::string utf8_lossy(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    size_t i = 0, prefix = 0;
    while (i < bytes.size()) {
        size_t n = sequence_length(bytes, i, prefix);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            i += prefix;
        } else {
            out.append(bytes.substr(i, n));
            i += n;
        }
    }
    return out;
}

bool is_whitespace(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

bool is_alphanumeric(char32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    auto c = static_cast<UChar32>(cp);
    int8_t type = u_charType(c);
    return u_hasBinaryProperty(c, UCHAR_ALPHABETIC) || type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER ||
           type == U_OTHER_NUMBER;
}

const std::array<char32_t, 256>& byte_to_code_point() {
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        std::array<bool, 256> printable{};
        for (int b = '!'; b <= '~'; ++b) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) t[b] = printable[b] ? static_cast<char32_t>(b) : next++;
        return t;
    }();
    return table;
}

const std::array<std::string, 256>& byte_to_utf8() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        for (int b = 0; b < 256; ++b) append_utf8(t[b], byte_to_code_point()[b]);
        return t;
    }();
    return table;
}

int code_point_to_byte(char32_t cp) {
    static const std::vector<int> inverse = [] {
        std::vector<int> inv(324, -1);
        for (int b = 0; b < 256; ++b) inv[byte_to_code_point()[b]] = b;
        return inv;
    }();
    return cp < inverse.size() ? inverse[cp] : -1;
}

std::string normalize(std::string_view text, NormalForm form) {
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) return std::string(text);
    UErrorCode err = U_ZERO_ERROR;
    const UNormalizer2* norm = form == NormalForm::nfc    ? unorm2_getNFCInstance(&err)
                               : form == NormalForm::nfd  ? unorm2_getNFDInstance(&err)
                               : form == NormalForm::nfkc ? unorm2_getNFKCInstance(&err)
                                                          : unorm2_getNFKDInstance(&err);
    ANVIL_CHECK(U_SUCCESS(err), "ICU: cannot load the normalizer: ", u_errorName(err));
    int32_t len16 = 0;
    u_strFromUTF8(nullptr, 0, &len16, text.data(), static_cast<int32_t>(text.size()), &err);
    err = U_ZERO_ERROR;
    std::vector<UChar> src(static_cast<size_t>(len16) + 1);
    u_strFromUTF8(src.data(), len16 + 1, nullptr, text.data(), static_cast<int32_t>(text.size()), &err);
    ANVIL_CHECK(U_SUCCESS(err), "ICU: invalid UTF-8 text to normalize: ", u_errorName(err));
    std::vector<UChar> dst(static_cast<size_t>(len16) * 4 + 16);
    int32_t n = unorm2_normalize(norm, src.data(), len16, dst.data(), static_cast<int32_t>(dst.size()), &err);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
        err = U_ZERO_ERROR;
        dst.resize(static_cast<size_t>(n));
        n = unorm2_normalize(norm, src.data(), len16, dst.data(), n, &err);
    }
    ANVIL_CHECK(U_SUCCESS(err), "ICU: normalization failed: ", u_errorName(err));
    int32_t len8 = 0;
    err = U_ZERO_ERROR;
    u_strToUTF8(nullptr, 0, &len8, dst.data(), n, &err);
    err = U_ZERO_ERROR;
    std::string out(static_cast<size_t>(len8), '\0');
    u_strToUTF8(out.data(), len8, nullptr, dst.data(), n, &err);
    ANVIL_CHECK(U_SUCCESS(err) || err == U_STRING_NOT_TERMINATED_WARNING,
                "ICU: UTF-8 conversion failed: ", u_errorName(err));
    return out;
}

}  // namespace anvil::unicode
