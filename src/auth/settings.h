#pragma once
// The `auth:` section of the config file: static tokens and OpenID Connect.

#include <string>
#include <vector>

#include "config/reader.h"
#include "core/clock.h"

namespace jit::auth {

struct StaticToken {
  std::string name;
  std::string sha256_hex;  // lowercase hex of SHA-256(token)
  std::vector<std::string> groups;
};

// A token of a machine that may only post threat findings (`auth.automation`, docs/FINDINGS.md):
// EventBridge's API destination sends it as "Authorization: Bearer TOKEN". The token itself is
// in a file (never in the config), read when the authenticator is built (at start and on each
// reload) and kept only as its SHA-256.
struct AutomationToken {
  std::string name;        // unique among auth.tokens and auth.automation; the audit's actor
  std::string token_file;  // the file holding the token (at least 32 characters)
  int line = 0;
};

// The `auth.oidc` section: bearer tokens from an OpenID Connect identity provider. auth/
// turns it into its authenticator's settings.
struct OidcConfig {
  std::string issuer;     // exact "iss" of the tokens; https (http only on a loopback host)
  std::string audience;   // the broker's client id; tokens' "aud" must hold it
  std::string jwks_file;  // a JWKS file; exactly one of jwks_file and jwks_url
  std::string jwks_url;   // the issuer's JWKS URL; https (http only on a loopback host)
  std::string username_claim = "preferred_username";  // claim naming the user
  std::string groups_claim = "groups";                // claim listing the user's groups
  Duration leeway{Duration(60 * 1000)};               // clock skew allowed, 0s to 5m
  // The web UI's sign-in (authorization-code flow with PKCE, docs/UI.md).
  std::string client_id;           // the client registered for the UI; empty: the audience
  std::string client_secret_file;  // its secret; empty: a public client (PKCE only)
  std::vector<std::string> scopes = {"openid", "profile"};  // must include openid
  int line = 0;                                             // of the `oidc:` key (0: no section)

  // The client id the UI signs in with: client_id, or the audience when that is empty.
  const std::string& LoginClientId() const { return client_id.empty() ? audience : client_id; }

  bool Empty() const { return line == 0; }
};

// The `auth:` section.
struct AuthSettings {
  std::vector<StaticToken> tokens;          // auth.tokens
  OidcConfig oidc;                          // auth.oidc; Empty() when absent
  std::vector<AutomationToken> automation;  // auth.automation
};

// Reads `auth: {oidc, tokens, automation}`, reporting problems to `reader`. An empty `oidc:` is the
// same as none.
AuthSettings ParseAuthSettings(const config::Field& field, config::Reader& reader);

}  // namespace jit::auth
