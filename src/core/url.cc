#include "core/url.h"

#include <regex>
#include <string>

namespace jit {

bool IsHttpsOrLoopbackHttpUrl(std::string_view url) {
  std::string_view rest;
  bool https = false;
  if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
    https = true;
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // User info would let "http://127.0.0.1@evil.example" pass for loopback.
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (https) return true;
  std::string_view host = authority;
  if (host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host == "localhost" || host == "[::1]") return true;
  static const std::regex kLoopbackV4("127\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(host.begin(), host.end(), m, kLoopbackV4)) return false;
  for (std::size_t i = 1; i < m.size(); ++i) {
    if (std::stoi(m[i].str()) > 255) return false;
  }
  return true;
}

}  // namespace jit
