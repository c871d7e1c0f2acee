#pragma once
// The web UI's signed cookies: the session (who is signed in, until when) and short-lived
// blobs such as the OIDC login state. They are stateless: any broker replica holding the same
// key accepts a cookie another replica issued, so no session table is shared.
//
// Format of a signed value: "v1.<exp>.<base64url(payload)>.<base64url(HMAC-SHA256)>", with
// <exp> the expiry in Unix seconds and the MAC taken over "v1.<exp>.<payload>" with a key
// derived from the master key for one purpose ("session", "oidc-login"), so that a value made
// for one purpose never passes for another. Values are signed, not encrypted: the browser
// that holds a cookie may read what it says about its own user.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "model/identity.h"
#include "policy/config.h"

namespace jit::api {

// A session key must have at least this many bytes.
inline constexpr std::size_t kMinSessionKeyBytes = 32;
// Browsers keep cookies up to about 4 KiB with their name; larger sessions are refused.
inline constexpr std::size_t kMaxCookieValueBytes = 3800;

// A signed-in browser.
struct UiSession {
  model::Identity identity;
  std::string sid;     // random, unique per sign-in; the CSRF token is derived from it
  std::string method;  // how the user signed in: "dev" or "oidc"
  Time issued_at;
  Time expires_at;
};

// Signs and checks the UI's cookies with one master key. Immutable after construction and
// therefore thread-safe.
class CookieSigner {
 public:
  // InvalidArgument when `key` is shorter than kMinSessionKeyBytes.
  static Result<CookieSigner> Create(std::string_view key);
  // A signer with a fresh random key (dev mode, or no ui.session_key_file): cookies do not
  // survive a restart and are not accepted by other processes.
  static CookieSigner WithRandomKey();

  // The cookie value of a new session for `who` (and a fresh sid), valid from `now` for
  // `lifetime` (whole seconds); the session itself in `issued` when not null. InvalidArgument
  // when the value would be too large for a browser to keep (kMaxCookieValueBytes; many
  // groups), lifetime is under a second or the username is empty.
  Result<std::string> IssueSession(const model::Identity& who, std::string_view method, Time now,
                                   Duration lifetime, UiSession* issued = nullptr) const;
  // The session a cookie value stands for. Unauthenticated ("session expired" or "invalid
  // session") for anything not signed by this key, malformed, or past its expiry at `now`.
  Result<UiSession> VerifySession(std::string_view value, Time now) const;

  // The CSRF token of a session: a MAC of its sid, so that it needs no storage and differs for
  // every sign-in. The page reads it from GET /ui/auth/session and sends it in X-CSRF-Token.
  std::string CsrfToken(const UiSession& session) const;
  // True when `presented` is the session's CSRF token (compared in constant time).
  bool CheckCsrf(const UiSession& session, std::string_view presented) const;

  // A signed value carrying `payload` (any text) for `purpose`, valid until `expires`.
  std::string Seal(std::string_view purpose, std::string_view payload, Time expires) const;
  // The payload of a value Seal made for the same purpose. Unauthenticated when it was made
  // for another purpose or key, is malformed or has expired at `now`.
  Result<std::string> Open(std::string_view purpose, std::string_view sealed, Time now) const;

 private:
  explicit CookieSigner(std::string key) : key_(std::move(key)) {}
  std::string Mac(std::string_view purpose, std::string_view data) const;
  // Open, also giving the value's expiry.
  Result<std::string> OpenWithExpiry(std::string_view purpose, std::string_view sealed, Time now,
                                     Time* expires) const;

  std::string key_;
};

// Reads a session key file: its bytes, less a trailing newline. NotFound when it cannot be
// read, InvalidArgument when it holds fewer than kMinSessionKeyBytes bytes.
Result<std::string> ReadSessionKeyFile(const std::string& path);

// The value of the cookie `name` in a Cookie request header ("a=1; b=2"); nullopt when it is
// not there. The first of repeated names wins.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

struct CookieAttributes {
  bool secure = true;
  bool http_only = true;
  std::string path = "/";
  std::string same_site = "Lax";
  // Seconds; negative: a session cookie (no Max-Age); 0: delete it now.
  long long max_age = -1;
};

// A Set-Cookie header value: "name=value; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Lax".
std::string SetCookie(std::string_view name, std::string_view value, const CookieAttributes& a);

}  // namespace jit::api
