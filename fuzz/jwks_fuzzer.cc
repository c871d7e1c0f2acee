// Fuzzes the JWKS document parser, auth::ParseJwks, on its own (jwt_fuzzer reaches it only as
// one mode of three, behind token handling). The first byte picks what the rest is:
//   0: a JWKS document as an identity provider serves it: ParseJwks;
//   1: the numbers of one key, which the harness wraps into a well-formed document so that the
//      bytes reach OpenSSL's key import instead of the JSON checks: two bytes give the length
//      (big-endian) of a first byte string, the remainder is the second; they become an RSA
//      key's n and e and a P-256 key's x and y (base64url-encoded by the harness), each tried
//      alone and both in one set;
//   2: a base64url text: DecodeBase64Url, and the same bytes as raw data to EncodeBase64Url.
// What must hold (a violation aborts): a refused document is InvalidArgument; a parsed set has
// at least one key, every key has a public key, kids are unique, a key without a kid is the
// only key, Jwks::Find finds each key by its kid and the single key without one, skipped
// reasons are one printable line each; a key never verifies a signature the harness made up;
// base64url is strict (one text per value: Decode(Encode(b)) == b and Encode(Decode(t)) == t).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "auth/jwks.h"
#include "core/encoding.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "jwks_fuzzer: %s\n", why.c_str());
  std::abort();
}

void CheckSet(std::string_view document) {
  auto set = jit::auth::ParseJwks(document);
  if (!set.has_value()) {
    if (set.error().code() != jit::StatusCode::kInvalidArgument) {
      Fail("ParseJwks error is not InvalidArgument: " + set.error().ToString());
    }
    if (set.error().message().empty()) Fail("ParseJwks error has no message");
    return;
  }
  if (set->keys.empty()) Fail("a parsed set has no key");
  std::set<std::string> kids;
  for (const auto& key : set->keys) {
    if (key.key == nullptr) Fail("a parsed key has no public key");
    if (key.kid.empty()) {
      if (set->keys.size() != 1) Fail("a key without a kid is not the set's only key");
    } else if (!kids.insert(key.kid).second) {
      Fail("two keys share the kid " + key.kid);
    }
    const jit::auth::Jwk* found =
        set->Find(key.kid.empty() ? std::nullopt : std::optional<std::string>(key.kid));
    if (found != &key) Fail("Find does not find the key by its kid");
    // Made-up signatures of the right sizes for both algorithms: never valid.
    if (jit::auth::VerifySignature(key, "e30.e30", std::string(64, '\x01')) ||
        jit::auth::VerifySignature(key, "e30.e30", std::string(256, '\x01')) ||
        jit::auth::VerifySignature(key, "e30.e30", "")) {
      Fail("a made-up signature verified");
    }
  }
  if (set->keys.size() == 1 && set->Find(std::nullopt) != &set->keys[0]) {
    Fail("Find(no kid) does not give the single key");
  }
  if (set->keys.size() > 1 && set->Find(std::nullopt) != nullptr) {
    Fail("Find(no kid) picked one of several keys");
  }
  for (const std::string& why : set->skipped) {
    for (char c : why) {
      if (c == '\n' || c == '\r') Fail("a skipped reason spans lines: " + why);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    CheckSet(rest);
    return 0;
  }
  if (mode == 1) {
    if (rest.size() < 2) return 0;
    std::size_t len = (static_cast<std::size_t>(static_cast<std::uint8_t>(rest[0])) << 8) |
                      static_cast<std::uint8_t>(rest[1]);
    rest.remove_prefix(2);
    std::string a(rest.substr(0, len));
    std::string b(rest.substr(std::min(len, rest.size())));
    using jit::EncodeBase64Url;
    json rsa = {{"kty", "RSA"}, {"kid", "r"}, {"n", EncodeBase64Url(a)}, {"e", EncodeBase64Url(b)}};
    json ec = {{"kty", "EC"},
               {"crv", "P-256"},
               {"kid", "e"},
               {"x", EncodeBase64Url(a)},
               {"y", EncodeBase64Url(b)}};
    CheckSet(json{{"keys", json::array({rsa})}}.dump());
    CheckSet(json{{"keys", json::array({ec})}}.dump());
    CheckSet(json{{"keys", json::array({rsa, ec})}}.dump());
    return 0;
  }
  // mode 2: base64url is one-to-one.
  std::optional<std::string> decoded = jit::DecodeBase64Url(rest);
  if (decoded && jit::EncodeBase64Url(*decoded) != rest) {
    Fail("a base64url text that decodes is not how its bytes encode");
  }
  std::string encoded = jit::EncodeBase64Url(rest);
  std::optional<std::string> back = jit::DecodeBase64Url(encoded);
  if (!back || *back != rest) Fail("Decode(Encode(bytes)) is not the bytes");
  return 0;
}
