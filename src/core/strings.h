#pragma once
// Small ASCII string helpers (locale-independent).

#include <cstddef>
#include <string>
#include <string_view>

namespace jit {

// The white space of the "C" locale: space, \t, \n, \v, \f, \r.
inline constexpr std::string_view kAsciiWhiteSpace = " \t\n\v\f\r";

// `s` with A-Z turned into a-z; other bytes as they are.
std::string ToLower(std::string_view s);
// True when `a` and `b` are equal but for the case of A-Z/a-z.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// `s` without the characters of `blanks` at either end (a view into `s`).
std::string_view Trim(std::string_view s, std::string_view blanks = kAsciiWhiteSpace);

// Whether s is exactly n ASCII digits (an AWS account id is 12).
bool IsDigits(std::string_view s, std::size_t n);

// True when every byte sequence of `s` is well-formed UTF-8 (no overlongs, no surrogates, no
// code point above U+10FFFF). NUL is UTF-8: callers that cannot keep it check for it apart.
bool IsUtf8(std::string_view s);

// s made safe to print on a terminal, on one line: newline, carriage return and tab as \n, \r
// and \t; other C0 controls, DEL and bytes that are not UTF-8 as \xNN; C1 controls, line and
// paragraph separators and the bidirectional formatting characters (which can reorder what is
// shown: "Trojan Source") as \uNNNN. Everything else, accents and other scripts included, is
// kept. For user-supplied text in CLI tables and lines.
std::string EscapeForTerminal(std::string_view s);

// The first max_bytes bytes of s with every byte outside printable ASCII (0x20..0x7e) replaced
// by '?': a safe excerpt of text from a file or the network for an error message.
std::string PrintableExcerpt(std::string_view s, std::size_t max_bytes);

}  // namespace jit
