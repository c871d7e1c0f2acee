#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

namespace jit::auth {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest Sha256(std::string_view data) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return d;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Nullopt unless `hex` is exactly 64 hex digits.
std::optional<Digest> ParseHexDigest(std::string_view hex) {
  if (hex.size() != 2 * SHA256_DIGEST_LENGTH) return std::nullopt;
  Digest d{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return d;
}

struct Entry {
  Digest digest;
  policy::Identity identity;
};

class StaticAuthenticator final : public Authenticator {
 public:
  explicit StaticAuthenticator(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  Result<policy::Identity> Authenticate(std::string_view bearer_token) override {
    if (bearer_token.empty()) return UnauthenticatedError("missing or unknown bearer token");
    const Digest presented = Sha256(bearer_token);
    // Compare against every entry, so that the time taken does not say which one matched.
    const Entry* found = nullptr;
    for (const Entry& e : entries_) {
      if (CRYPTO_memcmp(presented.data(), e.digest.data(), presented.size()) == 0 &&
          found == nullptr) {
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
  Result<policy::Identity> Authenticate(std::string_view bearer_token) override {
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

std::unique_ptr<Authenticator> NewStaticAuthenticator(std::vector<DevUser> dev_users,
                                                      std::vector<StaticToken> tokens) {
  std::vector<Entry> entries;
  entries.reserve(dev_users.size() + tokens.size());
  for (DevUser& u : dev_users) {
    // An empty token would never be presented (Authenticate refuses it first); skip it anyway.
    if (u.token.empty()) continue;
    entries.push_back(Entry{
        Sha256(u.token),
        policy::Identity{std::move(u.username), std::move(u.groups), std::move(u.principal_id)}});
  }
  for (StaticToken& t : tokens) {
    // A malformed hash cannot match any token; the config check reports it, here it is dropped.
    std::optional<Digest> d = ParseHexDigest(t.sha256_hex);
    if (!d) continue;
    entries.push_back(Entry{*d, policy::Identity{std::move(t.name), std::move(t.groups), ""}});
  }
  return std::make_unique<StaticAuthenticator>(std::move(entries));
}

}  // namespace jit::auth
