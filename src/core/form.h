#pragma once
// application/x-www-form-urlencoded text, as forms post it and query strings carry it.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace jit {

// Decodes one key or value: '+' is a space, %XX a byte (either case of hex digit). Nullopt for
// a broken escape ("%", "%4", "%zz").
std::optional<std::string> FormDecode(std::string_view in);

// "a=1&b=x+y" -> {a: "1", b: "x y"}. Empty parts are skipped, a part without '=' has an empty
// value, a later duplicate wins. Nullopt when any key or value has a broken escape.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view text);

}  // namespace jit
