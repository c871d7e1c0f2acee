#pragma once
// JSON Web Key Sets (RFC 7517): the public keys an OIDC identity provider signs tokens with.
// Each key pins the one JWS algorithm it may verify; a token never chooses it.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace jit::auth {

// The JWS algorithms jit verifies (RFC 7518). Nothing else (none, HS*, PS*, ES384, ...) is
// ever accepted.
enum class JwsAlgorithm {
  kRS256,  // RSASSA-PKCS1-v1_5 with SHA-256; RSA keys of 2048 to 8192 bits
  kES256,  // ECDSA on P-256 with SHA-256; signatures are raw r||s (64 bytes)
};

// "RS256" or "ES256".
std::string_view JwsAlgorithmName(JwsAlgorithm alg);

// A verified-usable public key (OpenSSL inside; defined in jwks.cc). Immutable once made, so
// it may be shared and used from several threads at once.
class PublicKey;

// One usable key of a set.
struct Jwk {
  std::string kid;                          // empty only when it is the set's one key
  JwsAlgorithm alg = JwsAlgorithm::kRS256;  // pinned by the key's type (RSA → RS256, P-256 → ES256)
  std::shared_ptr<const PublicKey> key;  // never null in a parsed set
};

// The usable keys of a JWKS document. Immutable after parsing; thread-safe to read.
struct Jwks {
  std::vector<Jwk> keys;
  // Why keys of the document were left out (unsupported type or curve, "use" other than
  // "sig", an "alg" that does not fit the key, malformed numbers), one line each, for logs.
  std::vector<std::string> skipped;

  // The key for a token's `kid` header: the key with that kid; or, when the set is a single
  // key, that key if it has no kid or the token names none. nullptr when none fits.
  const Jwk* Find(const std::optional<std::string>& kid) const;
};

// A JWKS document larger than this is refused (it is read from a file or the network).
inline constexpr std::size_t kMaxJwksBytes = 1024 * 1024;

// Parses a JWKS document ({"keys": [...]}). Keys jit cannot use are skipped and listed in
// `skipped`: kty other than RSA and EC, curves other than P-256, "use" other than "sig",
// "key_ops" without "verify", an "alg" other than the one the key type pins (RS256 for RSA,
// ES256 for P-256), RSA moduli outside 2048..8192 bits, points not on the curve, bad base64url.
// InvalidArgument when the document is not a JSON object with a "keys" array, is larger than
// kMaxJwksBytes, has duplicate object keys, two usable keys share a kid, a usable key without a
// kid is not the only one, or no key is usable. Never throws.
Result<Jwks> ParseJwks(std::string_view json);

// True when `signature` is a valid signature of `signing_input` by `key` under the key's
// pinned algorithm. Any malformed input is simply false.
bool VerifySignature(const Jwk& key, std::string_view signing_input, std::string_view signature);

}  // namespace jit::auth
