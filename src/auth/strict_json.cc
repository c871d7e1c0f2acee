#include "auth/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace jit::auth {

std::optional<nlohmann::json> ParseStrictJson(std::string_view text) {
  // One set of seen keys per open object; the callback sees keys in document order.
  std::vector<std::set<std::string>> open;
  bool duplicate = false;
  auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        open.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!open.empty() && parsed.is_string() &&
            !open.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), callback,
                                                 /*allow_exceptions=*/true,
                                                 /*ignore_comments=*/false);
    if (duplicate || value.is_discarded()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace jit::auth
