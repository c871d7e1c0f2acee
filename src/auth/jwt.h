#pragma once
// OIDC bearer tokens: compact JWS (RFC 7515) JWTs (RFC 7519) signed RS256 or ES256 by a key
// of the identity provider's JWKS. The algorithm is pinned by the key, never taken from the
// token: "none", HMAC (HS256/384/512) and everything else are refused.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.h"
#include "auth/jwks.h"
#include "auth/settings.h"
#include "aws/http.h"
#include "core/clock.h"
#include "core/result.h"
#include "model/identity.h"

namespace jit::auth {

// Tokens longer than this are refused before any decoding.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;
// An unknown kid makes the authenticator re-read its key source at most this often.
inline constexpr Duration kJwksRefetchInterval = std::chrono::minutes(1);

// What a token's claims must say, besides being signed by a known key.
struct JwtExpectations {
  std::string issuer;                                 // "iss" must equal this exactly
  std::string audience;                               // "aud" must equal it or contain it
  std::string username_claim = "preferred_username";  // a non-empty string claim, required
  std::string groups_claim = "groups";                // an array of strings; absent means no groups
  Duration leeway = std::chrono::seconds(60);         // clock skew allowed on exp, nbf and iat
};

// A token split and decoded, its signature not yet checked.
struct ParsedJwt {
  std::string alg;                 // the header's "alg": RS256 or ES256 (others are refused)
  std::optional<std::string> kid;  // the header's "kid", when present
  std::string signing_input;       // "<header>.<payload>" as sent
  std::string payload;             // decoded payload bytes (JSON, not parsed yet)
  std::string signature;           // decoded signature bytes
};

// True when `token` has the shape of a compact JWS: three parts separated by dots, the first
// not empty. Says nothing about validity; used to tell JWTs from opaque static tokens.
bool LooksLikeJwt(std::string_view token);

// Splits and decodes a compact JWS: at most kMaxTokenBytes, exactly three non-empty strict
// base64url parts, a header that is a JSON object without repeated keys, with "alg" RS256 or
// ES256, an optional string "kid" and no "crit". Header keys such as "jwk", "jku" and "x5u"
// are ignored: keys only ever come from the configured JWKS. Unauthenticated with a short
// message (never the token) on anything else.
Result<ParsedJwt> ParseJwt(std::string_view token);

// Checks `jwt` against `key` and `expect` at time `now`: the header's alg must equal the
// key's pinned alg, the signature must verify, and the payload must be a JSON object whose
// iss, aud, exp (required, in the future), nbf and iat (when present, not in the future) hold,
// with `expect.leeway` of skew. Returns the username and groups (principal_id left empty).
// Unauthenticated with a short message otherwise.
Result<model::Identity> VerifyJwt(const ParsedJwt& jwt, const Jwk& key,
                                  const JwtExpectations& expect, Time now);

// ParseJwt, the key named by the token's kid (Jwks::Find), then VerifyJwt. An unknown kid is
// Unauthenticated ("unknown signing key").
Result<model::Identity> VerifyJwt(std::string_view token, const Jwks& keys,
                                  const JwtExpectations& expect, Time now);

// Settings of the OIDC authenticator.
struct OidcSettings {
  std::string issuer;     // exact "iss"; an https URL (http only on a loopback host)
  std::string audience;   // this broker's client id at the identity provider
  std::string jwks_file;  // path of a JWKS document; exactly one of jwks_file and jwks_url
  std::string jwks_url;   // the issuer's JWKS URL; https (http only on a loopback host)
  std::string username_claim = "preferred_username";  // claim naming the user
  std::string groups_claim = "groups";                // claim listing the user's groups
  Duration leeway = std::chrono::seconds(60);         // clock skew allowed, 0 to 5 minutes

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

// The authenticator's settings from the config's auth.oidc section.
OidcSettings OidcSettingsFromConfig(const OidcConfig& config);

// An Authenticator for OIDC bearer tokens. Keys come from `settings.jwks_file` (read now: a
// missing or bad file is an error here) or from `settings.jwks_url` (fetched now through
// `http`; a failure here is not an error, the fetch is retried when a token arrives). When a
// token names a kid that the cached set lacks, the source is read again, at most once per
// kJwksRefetchInterval of `clock`'s monotonic time, and a set that fails to load never
// replaces the cached one. Authenticate refuses tokens that do not look like JWTs with
// "missing or unknown bearer token" (the static authenticator's wording), every other bad
// token with Unauthenticated and a short reason, and answers Unavailable while no key set has
// ever been loaded. `http` and `clock` must outlive the authenticator. Thread-safe.
// InvalidArgument when the settings are invalid; NotFound / InvalidArgument for the file.
Result<std::unique_ptr<Authenticator>> NewOidcAuthenticator(const OidcSettings& settings,
                                                            aws::HttpTransport& http, Clock& clock);

// Asks each authenticator in order and returns the first success. Build it as
// {static tokens, OIDC}: a static token is matched by hash first (a JWT-shaped string can be a
// static token too), and a JWT then goes to OIDC, which refuses non-JWT tokens at once with
// the generic message. When all refuse, the result is the first error that is not
// Unauthenticated (for example Unavailable while the JWKS cannot be fetched), otherwise the
// last authenticator's refusal (so a JWT gets the OIDC reason). Thread-safe when the parts are.
std::unique_ptr<Authenticator> NewChainAuthenticator(
    std::vector<std::unique_ptr<Authenticator>> authenticators);

// The broker's authenticator for a config, and what it was built from.
struct BrokerAuth {
  std::shared_ptr<Authenticator> authenticator;  // never null
  std::shared_ptr<Authenticator> oidc;           // null without auth.oidc
  OidcSettings oidc_settings;                    // meaningful when `oidc` is set
};

// Builds {static tokens, automation tokens (their files read now) and `dev_users`, then OIDC
// bearer tokens when config.oidc is set} as NewChainAuthenticator describes. `previous` (may be
// null) is what the config in force was built into: its OIDC authenticator is kept, with its cached
// keys, when the OIDC settings are unchanged and the keys come from a URL; a JWKS file is always
// read again, so that a SIGHUP after rotating the file takes effect at once; so are the automation
// token files. Errors of ReadAutomationKeys with "auth.automation: " and of NewOidcAuthenticator
// with "auth.oidc: " before the message.
Result<BrokerAuth> BuildBrokerAuth(const AuthSettings& config, std::vector<DevUser> dev_users,
                                   aws::HttpTransport& http, Clock& clock,
                                   const BrokerAuth* previous);

}  // namespace jit::auth
