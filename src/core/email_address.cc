#include "core/email_address.h"

namespace jit {

bool IsMailAddress(std::string_view s) {
  std::size_t at = s.find('@');
  if (s.size() > 254 || at == 0 || at == std::string_view::npos || at + 1 >= s.size() ||
      s.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("<>()[],;:\\\"").find(ch) != std::string_view::npos) {
      return false;
    }
  }
  std::string_view domain = s.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

}  // namespace jit
