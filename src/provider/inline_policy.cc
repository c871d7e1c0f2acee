// ValidateInlinePolicy (provider.h): the checks AWS applies to a permission set's inline
// policy, made before any call so that a bad document never reaches the wire.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "provider/provider.h"

namespace jit::provider {

std::size_t ProvisionedPolicySize(std::string_view policy_json) {
  return static_cast<std::size_t>(std::count_if(policy_json.begin(), policy_json.end(), [](char c) {
    return c != ' ' && c != '\t' && c != '\n' && c != '\r';
  }));
}

Status ValidateInlinePolicy(std::string_view policy_json) {
  // Count characters (code points), as AWS does, and check each against its pattern (tab, LF,
  // CR, U+0020..U+00FF): in UTF-8 that is one of those ASCII bytes, or a two-byte sequence
  // C2/C3 + continuation (U+0080..U+00FF).
  std::size_t chars = 0;
  for (std::size_t i = 0; i < policy_json.size(); ++i) {
    auto c = static_cast<unsigned char>(policy_json[i]);
    ++chars;
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f)) continue;
    if ((c == 0xc2 || c == 0xc3) && i + 1 < policy_json.size() &&
        (static_cast<unsigned char>(policy_json[i + 1]) & 0xc0) == 0x80) {
      ++i;
      continue;
    }
    if (c == 0x7f) continue;  // DEL is within U+0020..U+00FF
    return InvalidArgumentError("the inline policy has a character AWS does not allow (byte " +
                                std::to_string(i + 1) +
                                "): only tab, line feed, carriage return and U+0020..U+00FF");
  }
  if (chars == 0) return InvalidArgumentError("the inline policy is empty");
  if (chars > kMaxInlinePolicyLength) {
    return InvalidArgumentError("the inline policy has " + std::to_string(chars) +
                                " characters; AWS allows at most " +
                                std::to_string(kMaxInlinePolicyLength));
  }
  nlohmann::json doc = nlohmann::json::parse(policy_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("the inline policy is not valid JSON");
  if (!doc.is_object()) return InvalidArgumentError("the inline policy is not a JSON object");
  return OkStatus();
}

}  // namespace jit::provider
