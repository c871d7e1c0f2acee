#pragma once
// JSON parsing for untrusted token parts and key sets (internal to jit_auth).

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace jit::auth {

// Parses `text` as one JSON value. nullopt when it is not valid JSON (trailing bytes included)
// or when any object in it repeats a key: parsers disagree on which duplicate wins, and a
// token's meaning must not depend on that. Never throws.
std::optional<nlohmann::json> ParseStrictJson(std::string_view text);

}  // namespace jit::auth
