#include "api/ui.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "api/json.h"
#include "api/ui_assets.h"
#include "core/crypto.h"
#include "core/form.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "core/url.h"
#include "model/identity.h"

namespace jit::api {
namespace {

using nlohmann::json;

constexpr std::string_view kLoginPurpose = "oidc-login";
// How long a browser may take at the identity provider.
constexpr auto kLoginLifetime = std::chrono::minutes(10);

bool IsLoopbackHttp(std::string_view url) {
  return url.substr(0, 7) == "http://" && IsHttpsOrLoopbackHttpUrl(url);
}

std::int64_t Seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// Headers of every answer under / and /ui/.
void AddSecurityHeaders(ApiResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(kUiContentSecurityPolicy));
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

ApiResponse Json(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = Dump(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

ApiResponse JsonError(int status, std::string_view code, std::string_view message) {
  return Json(status, ErrorJson(code, message));
}

// A small page for what happens outside the single-page app (sign-in errors).
ApiResponse Page(int status, std::string_view title, std::string_view message) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      HtmlEscape(title) +
      " - jit</title><link rel=\"stylesheet\" href=\"/ui/app.css\"></head>"
      "<body><main class=\"page-message\"><h1>" +
      HtmlEscape(title) + "</h1><p role=\"alert\">" + HtmlEscape(message) +
      "</p><p><a href=\"/\">Back to jit</a></p></main></body></html>\n";
  return r;
}

ApiResponse Redirect(std::string location) {
  ApiResponse r;
  r.status = 302;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", std::move(location));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

bool IsStateChanging(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// "application/json" or "application/json; charset=utf-8".
bool IsJsonContentType(std::string_view v) {
  std::string_view media = v.substr(0, v.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower;
  for (char c : media) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  return lower == "application/json";
}

json LoginStateJson(const auth::OidcLoginStart& s) {
  return json{{"state", s.state},
              {"nonce", s.nonce},
              {"verifier", s.code_verifier},
              {"redirect_uri", s.redirect_uri}};
}

std::optional<auth::OidcLoginStart> LoginStateFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auth::OidcLoginStart s;
  for (auto [key, out] : {std::pair<const char*, std::string*>{"state", &s.state},
                          std::pair<const char*, std::string*>{"nonce", &s.nonce},
                          std::pair<const char*, std::string*>{"verifier", &s.code_verifier},
                          std::pair<const char*, std::string*>{"redirect_uri", &s.redirect_uri}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    *out = it->get<std::string>();
  }
  return s;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Ui::Ui(UiOptions options, CookieSigner signer, auth::OidcLogin* oidc, Clock& clock)
    : options_(std::move(options)), signer_(std::move(signer)), oidc_(oidc), clock_(clock) {}

void Ui::SetListenUrl(std::string url) {
  MutexLock lock(&mu_);
  listen_url_ = std::move(url);
}

std::string Ui::BaseUrl() const {
  std::string base = options_.public_url;
  if (base.empty()) {
    MutexLock lock(&mu_);
    base = listen_url_;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

bool Ui::SecureCookies() const { return !IsLoopbackHttp(BaseUrl()); }

std::string Ui::SessionCookieName() const {
  // "__Host-": the browser keeps it only when Secure, for Path=/ and without a Domain, so no
  // sibling host can plant or widen it.
  return SecureCookies() ? "__Host-jit_session" : "jit_session";
}

std::string Ui::LoginCookieName() const {
  return SecureCookies() ? "__Host-jit_login" : "jit_login";
}

CookieAttributes Ui::Attributes(long long max_age) const {
  CookieAttributes a;
  a.secure = SecureCookies();
  a.http_only = true;
  a.path = "/";
  a.same_site = "Lax";
  a.max_age = max_age;
  return a;
}

bool Ui::Owns(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/" || path == "/index.html" || path.substr(0, 4) == "/ui/";
}

ApiResponse Ui::Handle(const ApiRequest& request) {
  ApiResponse r;
  try {
    r = HandleUnchecked(request);
  } catch (const std::exception& e) {
    spdlog::error("ui: unexpected exception on {} {}: {}", request.method,
                  PathForLog(request.target), e.what());
    r = Page(500, "Internal error", "Something went wrong inside jit; the log says more.");
  } catch (...) {
    spdlog::error("ui: unexpected exception on {} {}", request.method, PathForLog(request.target));
    r = Page(500, "Internal error", "Something went wrong inside jit; the log says more.");
  }
  AddSecurityHeaders(r);
  return r;
}

ApiResponse Ui::HandleUnchecked(const ApiRequest& request) {
  std::string_view target = request.target;
  std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  auto method_not_allowed = [](std::string_view allowed) {
    ApiResponse r = JsonError(405, "method_not_allowed",
                              "method not allowed here; use " + std::string(allowed));
    r.headers.emplace_back("Allow", std::string(allowed));
    return r;
  };

  if (path == "/ui/auth/session") {
    if (request.method != "GET") return method_not_allowed("GET");
    return SessionInfo(CurrentSession(request));
  }
  if (path == "/ui/auth/dev") {
    if (request.method != "POST") return method_not_allowed("POST");
    return DevSignIn(request);
  }
  if (path == "/ui/auth/login") {
    if (request.method != "GET") return method_not_allowed("GET");
    return OidcBegin();
  }
  if (path == "/ui/auth/callback") {
    if (request.method != "GET") return method_not_allowed("GET");
    return OidcCallback(request, query);
  }
  if (path == "/ui/auth/logout") {
    if (request.method != "POST") return method_not_allowed("POST");
    return SignOut(request);
  }
  if (path.substr(0, 9) == "/ui/auth/") return JsonError(404, "not_found", "no such endpoint");

  // Files.
  std::string_view name = path == "/" || path == "/index.html" ? "index.html" : path.substr(4);
  if (request.method != "GET" && request.method != "HEAD") return method_not_allowed("GET");
  return File(request, name);
}

ApiResponse Ui::File(const ApiRequest& request, std::string_view name) const {
  const EmbeddedFile* f = FindUiFile(name);
  if (f == nullptr) return Page(404, "Not found", "There is no such page.");
  ApiResponse r;
  r.content_type = std::string(UiContentType(name));
  // Names carry no version: browsers revalidate each time and mostly get a 304.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", std::string(f->etag));
  if (!request.if_none_match.empty() &&
      (request.if_none_match == f->etag || request.if_none_match == "*" ||
       request.if_none_match.find(f->etag) != std::string::npos)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  if (request.method != "HEAD") r.body = std::string(f->body);
  return r;
}

std::optional<UiSession> Ui::CurrentSession(const ApiRequest& request) const {
  std::optional<std::string> value = CookieValue(request.cookie, SessionCookieName());
  if (!value) return std::nullopt;
  Result<UiSession> session = signer_.VerifySession(*value, clock_.Now());
  if (!session) return std::nullopt;
  return *std::move(session);
}

std::optional<Result<model::Identity>> Ui::Authenticate(const ApiRequest& request) const {
  std::optional<std::string> value = CookieValue(request.cookie, SessionCookieName());
  if (!value) return std::nullopt;
  Result<UiSession> session = signer_.VerifySession(*value, clock_.Now());
  if (!session) return Result<model::Identity>(session.error());
  if (IsStateChanging(request.method) && !signer_.CheckCsrf(*session, request.csrf_token)) {
    return Result<model::Identity>(PermissionDeniedError(
        "missing or wrong X-CSRF-Token header for this session; reload the page"));
  }
  return Result<model::Identity>(std::move(session->identity));
}

ApiResponse Ui::SessionInfo(const std::optional<UiSession>& session) const {
  json dev_users = json::array();
  for (const auth::DevUser& u : options_.dev_users) {
    dev_users.push_back(json{{"username", u.username}, {"groups", u.groups}});
  }
  json out = {{"signed_in", session.has_value()},
              {"now", FormatRfc3339(clock_.Now())},
              {"sign_in", json{{"dev_users", std::move(dev_users)}, {"oidc", oidc_ != nullptr}}}};
  if (session) {
    out["user"] =
        json{{"username", session->identity.username}, {"groups", session->identity.groups}};
    out["csrf_token"] = signer_.CsrfToken(*session);
    out["expires_at"] = FormatRfc3339(session->expires_at);
    out["method"] = session->method;
  } else {
    out["user"] = nullptr;
    out["csrf_token"] = nullptr;
    out["expires_at"] = nullptr;
    out["method"] = nullptr;
  }
  return Json(200, out);
}

Result<std::string> Ui::SessionCookieFor(const model::Identity& who, std::string_view method,
                                         UiSession* issued) const {
  JIT_ASSIGN_OR_RETURN(std::string value, signer_.IssueSession(who, method, clock_.Now(),
                                                               options_.session_lifetime, issued));
  return SetCookie(SessionCookieName(), value, Attributes(Seconds(options_.session_lifetime)));
}

ApiResponse Ui::DevSignIn(const ApiRequest& request) {
  if (options_.dev_users.empty()) {
    return JsonError(404, "not_found", "signing in by name is only for jit serve --dev");
  }
  // A cross-site form cannot send application/json without the browser asking first (CORS),
  // which jit never allows: this keeps other sites from signing a browser in.
  if (!IsJsonContentType(request.content_type)) {
    return JsonError(415, "unsupported_media_type", "send the body as application/json");
  }
  Result<json> body = ParseJsonObject(request.body);
  if (!body) return JsonError(400, "bad_request", body.error().message());
  auto username = body->find("username");
  if (username == body->end() || !username->is_string() || body->size() != 1) {
    return JsonError(400, "bad_request", "the body must be {\"username\": NAME}");
  }
  const auto& name = username->get_ref<const std::string&>();
  for (const auth::DevUser& u : options_.dev_users) {
    if (u.username != name) continue;
    model::Identity who{u.username, u.groups, u.principal_id};
    UiSession session;
    Result<std::string> cookie = SessionCookieFor(who, "dev", &session);
    if (!cookie) return JsonError(422, "invalid_argument", cookie.error().message());
    ApiResponse r = SessionInfo(session);
    r.headers.emplace_back("Set-Cookie", *cookie);
    r.user = u.username;
    spdlog::info("ui: {} signed in (dev mode)", u.username);
    return r;
  }
  return JsonError(422, "invalid_argument", "no dev user called '" + name + "'");
}

ApiResponse Ui::OidcBegin() {
  if (oidc_ == nullptr) {
    return Page(404, "Sign-in unavailable",
                "This jit server has no OpenID Connect sign-in (auth.oidc is not configured).");
  }
  std::string base = BaseUrl();
  if (base.empty()) {
    return Page(503, "Sign-in unavailable", "jit is still starting; try again in a moment.");
  }
  Result<auth::OidcLoginStart> start = oidc_->Begin(base + "/ui/auth/callback");
  if (!start) {
    spdlog::warn("ui: cannot start an OIDC sign-in: {}", start.error().ToString());
    if (start.error().code() == StatusCode::kInvalidArgument) {
      return Page(500, "Sign-in unavailable",
                  "This server is not set up for browser sign-in: its server.public_url must be "
                  "an https URL.");
    }
    return Page(503, "Sign-in unavailable",
                "jit cannot reach the identity provider right now; try again in a moment.");
  }
  std::string sealed =
      signer_.Seal(kLoginPurpose, Dump(LoginStateJson(*start)), clock_.Now() + kLoginLifetime);
  ApiResponse r = Redirect(start->authorization_url);
  r.headers.emplace_back("Set-Cookie",
                         SetCookie(LoginCookieName(), sealed, Attributes(Seconds(kLoginLifetime))));
  return r;
}

ApiResponse Ui::OidcCallback(const ApiRequest& request, std::string_view query) {
  if (oidc_ == nullptr) {
    return Page(404, "Sign-in unavailable",
                "This jit server has no OpenID Connect sign-in (auth.oidc is not configured).");
  }
  // The login cookie is spent whatever happens next.
  const std::string clear_login = SetCookie(LoginCookieName(), "", Attributes(0));
  auto fail = [&clear_login](int status, std::string_view message) {
    ApiResponse r = Page(status, "Sign-in failed", message);
    r.headers.emplace_back("Set-Cookie", clear_login);
    return r;
  };
  std::optional<std::map<std::string, std::string>> params = ParseForm(query);
  if (!params) return fail(400, "The sign-in answer is malformed.");
  auto param = [&params](const char* name) {
    auto it = params->find(name);
    return it == params->end() ? std::string() : it->second;
  };
  std::optional<std::string> cookie = CookieValue(request.cookie, LoginCookieName());
  if (!cookie) {
    return fail(400,
                "This browser has no sign-in in progress (it may have taken more than 10 "
                "minutes, or cookies are blocked). Start again.");
  }
  Result<std::string> opened = signer_.Open(kLoginPurpose, *cookie, clock_.Now());
  std::optional<auth::OidcLoginStart> saved =
      opened ? LoginStateFromJson(*opened) : std::optional<auth::OidcLoginStart>();
  if (!saved) return fail(400, "The sign-in has expired or is damaged. Start again.");
  if (!ConstantTimeEquals(param("state"), saved->state)) {
    return fail(400, "The sign-in answer does not belong to this browser's sign-in. Start again.");
  }
  if (std::string error = param("error"); !error.empty()) {
    spdlog::info("ui: the identity provider refused a sign-in: {}", PathForLog(error));
    return fail(401, "The identity provider refused the sign-in (" + PathForLog(error) + ").");
  }
  Result<model::Identity> who = oidc_->Finish(*saved, param("state"), param("code"));
  if (!who) {
    spdlog::warn("ui: OIDC sign-in failed: {}", who.error().ToString());
    if (who.error().code() == StatusCode::kUnavailable) {
      return fail(503, "jit cannot reach the identity provider right now; try again.");
    }
    return fail(401, "Sign-in failed: " + who.error().message());
  }
  Result<std::string> session = SessionCookieFor(*who, "oidc", nullptr);
  if (!session) return fail(422, session.error().message());
  ApiResponse r = Redirect("/");
  r.headers.emplace_back("Set-Cookie", clear_login);
  r.headers.emplace_back("Set-Cookie", *session);
  r.user = who->username;
  spdlog::info("ui: {} signed in (OIDC)", who->username);
  return r;
}

ApiResponse Ui::SignOut(const ApiRequest& request) {
  std::optional<UiSession> session = CurrentSession(request);
  // With a valid session, only the page itself may end it (CSRF); a stale cookie is just
  // dropped.
  if (session && !signer_.CheckCsrf(*session, request.csrf_token)) {
    return JsonError(403, "csrf_failed",
                     "missing or wrong X-CSRF-Token header for this session; reload the page");
  }
  ApiResponse r = SessionInfo(std::nullopt);
  r.headers.emplace_back("Set-Cookie", SetCookie(SessionCookieName(), "", Attributes(0)));
  if (session) {
    r.user = session->identity.username;
    spdlog::info("ui: {} signed out", session->identity.username);
  }
  return r;
}

}  // namespace jit::api
