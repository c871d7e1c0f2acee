#pragma once
// The browser sign-in of the web UI: the OpenID Connect authorization-code flow with PKCE
// (RFC 7636, S256 only), `state` and `nonce`, against the configured issuer. Discovery reads
// <issuer>/.well-known/openid-configuration; the code is exchanged at the token endpoint over
// an HttpTransport (libcurl in the binary); the id_token is checked by an OIDC Authenticator
// (jwt.h: signature by a key of the issuer's JWKS, iss, aud = client id, exp, nbf, iat) and
// then for its nonce (and azp when it names several audiences).
//
// Nothing here keeps per-login state: Begin returns what the caller must keep (in a signed
// cookie, api/session.h) and hand back to Finish, so any broker replica may finish a login
// another one began.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.h"
#include "auth/settings.h"
#include "aws/http.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "model/identity.h"

namespace jit::auth {

// `length` bytes from the system's CSPRNG, base64url-encoded without padding.
std::string RandomUrlToken(std::size_t length);

// RFC 7636 §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].
bool IsValidPkceVerifier(std::string_view verifier);
// A fresh code_verifier: 32 random bytes, base64url (43 characters).
std::string NewPkceVerifier();
// BASE64URL(SHA256(ASCII(verifier))), the S256 code_challenge (RFC 7636 §4.2).
std::string PkceChallengeS256(std::string_view verifier);

// application/x-www-form-urlencoded escaping (RFC 6749 appendix B): unreserved characters
// [A-Za-z0-9-._~] as they are, everything else %XX (a space too).
std::string FormEncode(std::string_view s);

// What jit uses of an issuer's discovery document.
struct OidcProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::vector<std::string> token_endpoint_auth_methods;  // empty: client_secret_basic only
};

// Parses a discovery document. InvalidArgument unless it is a JSON object whose "issuer" is
// exactly `expected_issuer` (OpenID Connect Discovery §4.3), whose authorization_endpoint and
// token_endpoint are https URLs (http only on a loopback host), which lists "code" among
// response_types_supported when it has that list, and "S256" among
// code_challenge_methods_supported when it has that list.
Result<OidcProviderMetadata> ParseDiscovery(std::string_view json,
                                            std::string_view expected_issuer);

struct OidcLoginSettings {
  std::string issuer;         // as in auth.oidc
  std::string client_id;      // auth.oidc.client_id (default: the audience)
  std::string client_secret;  // empty: a public client (PKCE only)
  std::vector<std::string> scopes = {"openid", "profile"};  // "openid" must be among them
  // How long a discovery document is used before it is fetched again.
  Duration discovery_ttl = std::chrono::hours(1);

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

// What Begin hands out: the URL to send the browser to, and what the caller must keep until
// the browser comes back.
struct OidcLoginStart {
  std::string authorization_url;
  std::string redirect_uri;  // sent again with the code, as RFC 6749 §4.1.3 wants
  std::string state;
  std::string nonce;
  std::string code_verifier;
};

// The login flow. `id_token_verifier` is an OIDC authenticator whose expected audience is the
// client id. `http` and `clock` must outlive this. Thread-safe.
class OidcLogin {
 public:
  OidcLogin(OidcLoginSettings settings, std::unique_ptr<Authenticator> id_token_verifier,
            aws::HttpTransport& http, Clock& clock);

  // A fresh state, nonce and PKCE verifier, and the authorization URL carrying them (the
  // verifier as its S256 challenge) and `redirect_uri` (where the issuer sends the browser
  // back: <public_url>/ui/auth/callback). Fetches the discovery document when none is cached:
  // Unavailable when the issuer cannot be reached or answers badly (the next call tries
  // again). InvalidArgument when redirect_uri is not https (or http on loopback).
  Result<OidcLoginStart> Begin(std::string_view redirect_uri);

  // Completes a login the browser came back from: `returned_state` must equal `saved.state`
  // (Unauthenticated otherwise), the code is exchanged with `saved.code_verifier` and
  // `saved.redirect_uri`, and the
  // id_token must verify and carry `saved.nonce`. Returns who signed in. Unauthenticated for
  // a refused code or a bad id_token; Unavailable when the issuer cannot be reached.
  Result<model::Identity> Finish(const OidcLoginStart& saved, std::string_view returned_state,
                                 std::string_view code);

  const OidcLoginSettings& settings() const { return settings_; }

 private:
  Result<OidcProviderMetadata> Metadata();

  const OidcLoginSettings settings_;
  const std::unique_ptr<Authenticator> verifier_;
  aws::HttpTransport& http_;
  Clock& clock_;

  Mutex mu_;
  std::optional<OidcProviderMetadata> metadata_ GUARDED_BY(mu_);
  MonoTime metadata_fetched_ GUARDED_BY(mu_) = {};
};

}  // namespace jit::auth
