#pragma once
// The web UI (docs/UI.md): its files at / and /ui/<file>, and its sign-in endpoints under
// /ui/auth/. Sessions are stateless signed cookies (api/session.h), so that several broker
// replicas sharing ui.session_key_file accept each other's sessions. A session calls /v1
// like a bearer token does (ApiHandler asks this class through CookieSessions); every
// state-changing call made with the cookie must carry the session's CSRF token.
//
// Paths:
//   GET  /, /index.html       the page
//   GET  /ui/<file>           its scripts, styles and images (ETag, If-None-Match → 304)
//   GET  /ui/auth/session     {signed_in, user, csrf_token, expires_at, sign_in: {...}}
//   POST /ui/auth/dev         {"username": "alice"}: dev mode only
//   GET  /ui/auth/login       OIDC: redirects to the issuer (authorization code + PKCE)
//   GET  /ui/auth/callback    OIDC: the issuer's redirect back; sets the session cookie
//   POST /ui/auth/logout      ends the browser's session (CSRF token required)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"
#include "api/session.h"
#include "auth/auth.h"
#include "auth/oidc_login.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "model/identity.h"

namespace jit::api {

// The Content-Security-Policy of every page and file of the UI.
inline constexpr std::string_view kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

struct UiOptions {
  // Dev mode: the users one may sign in as by name, without a password. Empty elsewhere.
  std::vector<auth::DevUser> dev_users;
  // How long a session lasts (ui.session_lifetime).
  Duration session_lifetime = std::chrono::hours(8);
  // Where browsers reach the broker (server.public_url), without a trailing slash; empty: the
  // address the server listens on (SetListenUrl), fit for loopback only.
  std::string public_url;
};

class Ui final : public CookieSessions {
 public:
  // `oidc` (not owned, may be null: no OIDC sign-in) and `clock` must outlive this.
  Ui(UiOptions options, CookieSigner signer, auth::OidcLogin* oidc, Clock& clock);

  // The URL the server listens on ("http://127.0.0.1:8080"), used as the base when
  // options.public_url is empty. Call after the server has bound its port.
  void SetListenUrl(std::string url);
  // <base>: public_url, else the listen URL; empty before SetListenUrl when there is neither.
  std::string BaseUrl() const;
  // False only when the base URL is plain http on a loopback host: cookies are Secure anywhere
  // else.
  bool SecureCookies() const;

  // True for the paths this class answers: "/", "/index.html" and everything under "/ui/".
  static bool Owns(std::string_view target);

  // Answers a request for one of those paths. Never throws.
  ApiResponse Handle(const ApiRequest& request);

  // CookieSessions.
  std::optional<Result<model::Identity>> Authenticate(const ApiRequest& request) const override;

  // The names of the cookies for the current base URL ("__Host-" prefixed when Secure).
  std::string SessionCookieName() const;
  std::string LoginCookieName() const;

 private:
  ApiResponse HandleUnchecked(const ApiRequest& request);
  ApiResponse File(const ApiRequest& request, std::string_view name) const;
  ApiResponse SessionInfo(const std::optional<UiSession>& session) const;
  ApiResponse DevSignIn(const ApiRequest& request);
  ApiResponse OidcBegin();
  ApiResponse OidcCallback(const ApiRequest& request, std::string_view query);
  ApiResponse SignOut(const ApiRequest& request);
  // The session of a request's cookie, if it has a valid one.
  std::optional<UiSession> CurrentSession(const ApiRequest& request) const;
  // A Set-Cookie value with a new session for `who`; the session itself in `issued` when not
  // null. InvalidArgument when the session is too large for a cookie.
  Result<std::string> SessionCookieFor(const model::Identity& who, std::string_view method,
                                       UiSession* issued) const;
  CookieAttributes Attributes(long long max_age) const;

  const UiOptions options_;
  const CookieSigner signer_;
  auth::OidcLogin* const oidc_;
  Clock& clock_;

  mutable Mutex mu_;
  std::string listen_url_ GUARDED_BY(mu_);
};

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view s);

}  // namespace jit::api
