#include "auth/auth.h"

#include <cstdint>
#include <optional>
#include <utility>

#include "core/crypto.h"
#include "core/encoding.h"
#include "core/secret_file.h"
#include "model/identity.h"

namespace jit::auth {
namespace {

// Nullopt unless `hex` is exactly 64 hex digits (either case): the raw SHA-256 digest.
std::optional<std::string> ParseHexDigest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  return DecodeHex(hex);
}

struct Entry {
  std::string digest;  // raw SHA-256 of the token
  model::Identity identity;
};

class StaticAuthenticator final : public Authenticator {
 public:
  explicit StaticAuthenticator(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  Result<model::Identity> Authenticate(std::string_view bearer_token) override {
    if (bearer_token.empty()) return UnauthenticatedError("missing or unknown bearer token");
    const std::string presented = Sha256(bearer_token);
    // Compare against every entry, so that the time taken does not say which one matched.
    const Entry* found = nullptr;
    for (const Entry& e : entries_) {
      if (ConstantTimeEquals(presented, e.digest) && found == nullptr) {
        found = &e;
      }
    }
    if (found == nullptr) return UnauthenticatedError("missing or unknown bearer token");
    return found->identity;
  }

 private:
  const std::vector<Entry> entries_;  // immutable after construction: no lock needed
};

class SharedAuthenticator final : public Authenticator {
 public:
  explicit SharedAuthenticator(std::shared_ptr<Authenticator> target)
      : target_(std::move(target)) {}
  Result<model::Identity> Authenticate(std::string_view bearer_token) override {
    return target_->Authenticate(bearer_token);
  }

 private:
  const std::shared_ptr<Authenticator> target_;
};

}  // namespace

std::unique_ptr<Authenticator> NewSharedAuthenticator(std::shared_ptr<Authenticator> target) {
  return std::make_unique<SharedAuthenticator>(std::move(target));
}

std::vector<DevUser> DevUsers() {
  return {
      {"alice", {"engineers"}, "dev-alice", "a11ce000-0000-4000-8000-000000000001"},
      {"bob", {"approvers"}, "dev-bob", "b0b00000-0000-4000-8000-000000000002"},
      {"carol",
       {"approvers", "sre", "admins"},
       "dev-carol",
       "ca401000-0000-4000-8000-000000000003"},
  };
}

Result<std::vector<AutomationKey>> ReadAutomationKeys(const std::vector<AutomationToken>& tokens) {
  std::vector<AutomationKey> out;
  for (const AutomationToken& t : tokens) {
    const std::string what = "automation token '" + t.name + "'";
    JIT_ASSIGN_OR_RETURN(std::string token, ReadSecretFile(t.token_file, what));
    if (token.size() < kMinAutomationTokenLength) {
      return InvalidArgumentError(what + ": " + t.token_file + " holds fewer than " +
                                  std::to_string(kMinAutomationTokenLength) +
                                  " characters; use a long random token");
    }
    out.push_back(AutomationKey{t.name, Sha256(token)});
  }
  return out;
}

std::unique_ptr<Authenticator> NewStaticAuthenticator(std::vector<DevUser> dev_users,
                                                      std::vector<StaticToken> tokens,
                                                      std::vector<AutomationKey> automation) {
  std::vector<Entry> entries;
  entries.reserve(dev_users.size() + tokens.size() + automation.size());
  for (DevUser& u : dev_users) {
    // An empty token would never be presented (Authenticate refuses it first); skip it anyway.
    if (u.token.empty()) continue;
    entries.push_back(Entry{
        Sha256(u.token),
        model::Identity{std::move(u.username), std::move(u.groups), std::move(u.principal_id)}});
  }
  for (StaticToken& t : tokens) {
    // A malformed hash cannot match any token; the config check reports it, here it is dropped.
    std::optional<std::string> d = ParseHexDigest(t.sha256_hex);
    if (!d) continue;
    entries.push_back(Entry{*d, model::Identity{std::move(t.name), std::move(t.groups), ""}});
  }
  for (AutomationKey& k : automation) {
    if (k.digest.size() != 32) continue;  // not a SHA-256: cannot match a token
    model::Identity machine{"automation:" + k.name, {}, ""};
    machine.automation = true;
    entries.push_back(Entry{std::move(k.digest), std::move(machine)});
  }
  return std::make_unique<StaticAuthenticator>(std::move(entries));
}

}  // namespace jit::auth
