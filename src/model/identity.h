#pragma once
// Who is calling. Made by auth/ from a token or a session; policy/ decides what it may do.

#include <string>
#include <vector>

namespace jit::model {

struct Identity {
  std::string username;
  std::vector<std::string> groups;
  std::string principal_id;  // the Identity Center user id (empty when not known)
  // A token of the config's auth.automation (docs/FINDINGS.md): a machine that may only post
  // threat findings (POST /v1/findings); the API refuses it every other route, the workflow
  // every other action. Never set for people.
  bool automation = false;
};

}  // namespace jit::model
