// Unicode helpers the tokenizers share: UTF-8 walking and validation, the GPT-2 byte <-> unicode table of
// byte-level BPE (openai/gpt-2 encoder.py bytes_to_unicode), Unicode normalization forms (through ICU), and
// lossy UTF-8 decoding that matches Rust's String::from_utf8_lossy (what HF tokenizers' decoders use).
// Nothing here knows about vocabularies or models.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace anvil::unicode {

// Decodes the code point starting at s[i] and advances i; the input must be valid UTF-8.
char32_t next_code_point(std::string_view s, size_t& i);
void append_utf8(std::string& out, char32_t cp);

// The byte offset of the first invalid UTF-8 sequence in `s`, or s.size() when it is all valid.
size_t first_invalid_utf8(std::string_view s);

// Replaces every maximal invalid subsequence with U+FFFD, as Rust's String::from_utf8_lossy does.
std::string utf8_lossy(std::string_view bytes);

// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_whitespace(char32_t cp);
// Rust's char::is_alphanumeric (Unicode Alphabetic or Numeric).
bool is_alphanumeric(char32_t cp);

// GPT-2's reversible byte -> printable code point mapping used by byte-level BPE.
const std::array<char32_t, 256>& byte_to_code_point();
// The UTF-8 text of each byte's code point.
const std::array<std::string, 256>& byte_to_utf8();
// The byte a code point stands for, or -1 when it is not one of the 256 code points of the table.
int code_point_to_byte(char32_t cp);

enum class NormalForm { nfc, nfd, nfkc, nfkd };
// Normalizes valid UTF-8 text (ICU); ASCII text is returned unchanged without a copy through ICU.
std::string normalize(std::string_view text, NormalForm form);

}  // namespace anvil::unicode
