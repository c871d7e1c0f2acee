#pragma once
// The one check of e-mail address syntax, used by the configuration parser and the e-mail
// channel alike, so that an address the config accepts is one the channel can send to.

#include <string_view>

namespace jit {

// A bare address "local@domain", checked conservatively (no display names, comments, quoting
// or address literals): at most 254 characters; exactly one '@' with text on both sides; only
// printable ASCII other than the specials < > ( ) [ ] , ; : \ "; the domain neither starts nor
// ends with '.' nor holds "..". What passes is safe to put in an SMTP envelope and a header.
bool IsMailAddress(std::string_view s);

}  // namespace jit
