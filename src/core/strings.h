#pragma once
// Small ASCII string helpers (locale-independent).

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

}  // namespace jit
