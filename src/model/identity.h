#pragma once
// Who is calling. Made by auth/ from a token or a session; policy/ decides what it may do.

#include <string>
#include <vector>

namespace jit::model {

struct Identity {
  std::string username;
  std::vector<std::string> groups;
  std::string principal_id;  // the Identity Center user id (empty when not known)
};

}  // namespace jit::model
