#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/settings.h"
#include "core/mutex.h"
#include "core/result.h"
#include "model/identity.h"

namespace jit::auth {

// Maps a bearer token to who is calling. Thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Unauthenticated (with a message safe to show) for a missing, unknown or bad token.
  virtual Result<model::Identity> Authenticate(std::string_view bearer_token) = 0;
};

struct DevUser {
  std::string username;
  std::vector<std::string> groups;
  std::string token;
  std::string principal_id;
};

// alice, bob and carol of docs/ARCHITECTURE.md "Dev mode", with their tokens and placeholder
// principal ids.
std::vector<DevUser> DevUsers();

// An automation token (auth.automation) as read from its file: its name and the raw SHA-256 of
// the token. The token itself is not kept.
struct AutomationKey {
  std::string name;
  std::string digest;
};

// The shortest automation token accepted, in characters.
inline constexpr std::size_t kMinAutomationTokenLength = 32;

// Reads the token file of each entry (core/secret_file.h: surrounding white space dropped).
// InvalidArgument "automation token 'NAME': ..." for a file that cannot be read, is empty or
// holds fewer than kMinAutomationTokenLength characters.
Result<std::vector<AutomationKey>> ReadAutomationKeys(const std::vector<AutomationToken>& tokens);

// Accepts the dev users' tokens (dev mode only), the config's static tokens and the automation
// tokens, all stored as SHA-256 hashes and compared in constant time (every entry, whichever
// matches). An automation token authenticates as Identity{"automation:NAME", no groups, no
// principal id, automation = true}.
std::unique_ptr<Authenticator> NewStaticAuthenticator(std::vector<DevUser> dev_users,
                                                      std::vector<StaticToken> tokens,
                                                      std::vector<AutomationKey> automation = {});

// An Authenticator that forwards to a shared one, so that one instance (an OIDC authenticator
// with its cached keys) can stand in several chains, the old and the reloaded.
std::unique_ptr<Authenticator> NewSharedAuthenticator(std::shared_ptr<Authenticator> target);

// Forwards to the authenticator in force, which Set replaces while calls are in flight (the
// config is reloaded on SIGHUP). A call in progress finishes with the one it started with.
// Thread-safe.
class SwappableAuthenticator final : public Authenticator {
 public:
  explicit SwappableAuthenticator(std::shared_ptr<Authenticator> initial)
      : current_(std::move(initial)) {}

  Result<model::Identity> Authenticate(std::string_view bearer_token) override {
    return Get()->Authenticate(bearer_token);
  }
  // REQUIRES: `next` is not null.
  void Set(std::shared_ptr<Authenticator> next) {
    MutexLock lock(&mu_);
    current_ = std::move(next);
  }
  std::shared_ptr<Authenticator> Get() const {
    MutexLock lock(&mu_);
    return current_;
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<Authenticator> current_ GUARDED_BY(mu_);  // never null
};

}  // namespace jit::auth
