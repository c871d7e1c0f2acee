#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "policy/config.h"

namespace jit::auth {

// Maps a bearer token to who is calling. Thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Unauthenticated (with a message safe to show) for a missing, unknown or bad token.
  virtual Result<policy::Identity> Authenticate(std::string_view bearer_token) = 0;
};

struct DevUser {
  std::string username;
  std::vector<std::string> groups;
  std::string token;
  std::string principal_id;
};

// alice, bob and carol of DESIGN.md "Dev mode", with their tokens and placeholder principal ids.
std::vector<DevUser> DevUsers();

// Accepts the dev users' tokens (dev mode only) and the config's static tokens, which are
// stored as SHA-256 hashes and compared in constant time.
std::unique_ptr<Authenticator> NewStaticAuthenticator(std::vector<DevUser> dev_users,
                                                      std::vector<policy::StaticToken> tokens);

}  // namespace jit::auth
