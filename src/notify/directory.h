#pragma once
// What notify needs to know of people: the e-mail addresses of a requester, for e-mail channels
// that also mail the requester (`to_requester`). The broker adapts Identity Center's identity
// store to it where it wires the notifier; notify itself knows no provider.

#include <string>
#include <vector>

#include "core/result.h"

namespace jit::notify {

// Thread-safe.
class Directory {
 public:
  virtual ~Directory() = default;
  // The e-mail addresses of the user with this Identity Center user id, the primary one first
  // (empty when the user has none). NotFound: no such user; Unavailable: ask again later.
  virtual Result<std::vector<std::string>> Emails(const std::string& user_id) = 0;
};

}  // namespace jit::notify
