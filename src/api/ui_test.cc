#include "api/ui.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "api/ui_assets.h"
#include "auth/jwks.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "model/identity.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::api::ui_test {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey = "0123456789abcdef0123456789abcdef";

std::string Header(const ApiResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> Headers(const ApiResponse& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers) {
    if (k == name) out.push_back(v);
  }
  return out;
}

// "name=value; Path=/..." -> "name=value", for a Cookie header.
std::string CookiePair(const std::string& set_cookie) {
  return set_cookie.substr(0, set_cookie.find(';'));
}

ApiRequest Req(std::string method, std::string target, std::string cookie = "",
               std::string body = "") {
  ApiRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.cookie = std::move(cookie);
  r.body = std::move(body);
  if (!r.body.empty()) r.content_type = "application/json";
  return r;
}

class UiTest : public ::testing::Test {
 protected:
  std::unique_ptr<Ui> MakeUi(std::string public_url = "", auth::OidcLogin* oidc = nullptr,
                             bool dev = true) {
    UiOptions o;
    if (dev) o.dev_users = auth::DevUsers();
    o.session_lifetime = std::chrono::hours(1);
    o.public_url = std::move(public_url);
    auto ui = std::make_unique<Ui>(o, *CookieSigner::Create(kKey), oidc, clock_);
    ui->SetListenUrl("http://127.0.0.1:8080");
    return ui;
  }

  // Signs in as `user` in dev mode; returns the Cookie header and the CSRF token.
  std::pair<std::string, std::string> SignIn(Ui& ui, const std::string& user) {
    ApiResponse r = ui.Handle(Req("POST", "/ui/auth/dev", "", json{{"username", user}}.dump()));
    EXPECT_EQ(r.status, 200) << r.body;
    json body = json::parse(r.body);
    return {CookiePair(Header(r, "Set-Cookie")), body.value("csrf_token", "")};
  }

  FakeClock clock_{std::chrono::system_clock::now()};
};

// --- files -----------------------------------------------------------------------------------

TEST_F(UiTest, ThePageIsServedAtTheRootWithAStrictPolicy) {
  auto ui = MakeUi();
  for (const char* path : {"/", "/index.html", "/?x=1"}) {
    ApiResponse r = ui->Handle(Req("GET", path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_THAT(r.body, HasSubstr("<script type=\"module\" src=\"/ui/app.js\"></script>"));
    std::string csp = Header(r, "Content-Security-Policy");
    EXPECT_THAT(csp, HasSubstr("default-src 'self'"));
    EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
    EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(csp, HasSubstr("object-src 'none'"));
    EXPECT_THAT(csp, Not(HasSubstr("unsafe")));
    EXPECT_EQ(Header(r, "Referrer-Policy"), "no-referrer");
    EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY");
    EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(Header(r, "ETag").size(), 34u);
  }
}

TEST_F(UiTest, EveryFileHasItsContentTypeAndRevalidatesWithItsETag) {
  auto ui = MakeUi();
  ASSERT_GE(EmbeddedUiFiles().size(), 5u);
  for (const EmbeddedFile& f : EmbeddedUiFiles()) {
    std::string path = "/ui/" + std::string(f.name);
    ApiResponse r = ui->Handle(Req("GET", path));
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, f.body);
    EXPECT_NE(r.content_type, "application/octet-stream") << path;
    if (f.name.ends_with(".js")) {
      EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    }
    if (f.name.ends_with(".css")) {
      EXPECT_EQ(r.content_type, "text/css; charset=utf-8");
    }
    if (f.name.ends_with(".svg")) {
      EXPECT_EQ(r.content_type, "image/svg+xml");
    }
    EXPECT_FALSE(Header(r, "Content-Security-Policy").empty());
    ApiRequest again = Req("GET", path);
    again.if_none_match = Header(r, "ETag");
    ApiResponse cached = ui->Handle(again);
    EXPECT_EQ(cached.status, 304) << path;
    EXPECT_TRUE(cached.body.empty());
    again.if_none_match = "\"stale\"";
    EXPECT_EQ(ui->Handle(again).status, 200);
  }
}

TEST_F(UiTest, UnknownFilesAreNotFoundAndOnlyGetIsAllowed) {
  auto ui = MakeUi();
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/nope.js")).status, 404);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/../handlers.cc")).status, 404);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/")).status, 404);
  ApiResponse r = ui->Handle(Req("POST", "/ui/app.js"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET");
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/auth/nothing")).status, 404);
}

TEST_F(UiTest, OwnsOnlyTheRootAndUi) {
  EXPECT_TRUE(Ui::Owns("/"));
  EXPECT_TRUE(Ui::Owns("/?a=b"));
  EXPECT_TRUE(Ui::Owns("/index.html"));
  EXPECT_TRUE(Ui::Owns("/ui/app.js"));
  EXPECT_FALSE(Ui::Owns("/v1/me"));
  EXPECT_FALSE(Ui::Owns("/healthz"));
  EXPECT_FALSE(Ui::Owns("/uix"));
  EXPECT_FALSE(Ui::Owns("/ui"));
}

// The page works under its Content-Security-Policy and offline: no inline script or style, no
// event-handler attributes, nothing fetched from another origin, no HTML built from strings.
TEST_F(UiTest, TheFilesNeedNoInlineCodeAndNothingFromElsewhere) {
  const std::regex inline_script("<script(?![^>]*\\bsrc=)[^>]*>", std::regex::icase);
  const std::regex handler_attribute("<[^>]*\\son[a-z]+\\s*=", std::regex::icase);
  const std::regex style_attribute("<[^>]*\\sstyle\\s*=", std::regex::icase);
  const std::regex remote("(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}", std::regex::icase);
  for (const EmbeddedFile& f : EmbeddedUiFiles()) {
    std::string body(f.body);
    SCOPED_TRACE(std::string(f.name));
    if (f.name.ends_with(".html")) {
      EXPECT_FALSE(std::regex_search(body, inline_script));
      EXPECT_FALSE(std::regex_search(body, handler_attribute));
      EXPECT_FALSE(std::regex_search(body, style_attribute));
      EXPECT_THAT(body, Not(HasSubstr("<style")));
    }
    if (f.name.ends_with(".js")) {
      EXPECT_THAT(body, Not(HasSubstr("innerHTML")));
      EXPECT_THAT(body, Not(HasSubstr("outerHTML")));
      EXPECT_THAT(body, Not(HasSubstr("insertAdjacentHTML")));
      EXPECT_THAT(body, Not(HasSubstr("eval(")));
      EXPECT_THAT(body, Not(HasSubstr("new Function")));
      EXPECT_THAT(body, Not(HasSubstr("document.write")));
    }
    // The SVG names its XML namespace, which is not fetched.
    std::string text = std::regex_replace(body, std::regex("http://www\\.w3\\.org/2000/svg"), "");
    EXPECT_FALSE(std::regex_search(text, remote)) << "refers to another origin";
  }
}

// --- dev sign-in and sessions -----------------------------------------------------------------

TEST_F(UiTest, DevSignInSetsAnHttpOnlyLaxSessionCookie) {
  auto ui = MakeUi();
  ApiResponse r = ui->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": "bob"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = Header(r, "Set-Cookie");
  // Loopback http: not Secure (the browser would drop it), so no __Host- prefix either.
  EXPECT_EQ(cookie.rfind("jit_session=v1.", 0), 0u) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Lax"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, HasSubstr("; Max-Age=3600"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));
  json body = json::parse(r.body);
  EXPECT_EQ(body["signed_in"], true);
  EXPECT_EQ(body["user"]["username"], "bob");
  EXPECT_EQ(body["method"], "dev");
  EXPECT_FALSE(body["csrf_token"].get<std::string>().empty());
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
}

TEST_F(UiTest, CookiesAreSecureWithHostPrefixOutsideLoopback) {
  auto ui = MakeUi("https://jit.example.com");
  EXPECT_TRUE(ui->SecureCookies());
  EXPECT_EQ(ui->BaseUrl(), "https://jit.example.com");
  ApiResponse r = ui->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": "bob"})"));
  std::string cookie = Header(r, "Set-Cookie");
  EXPECT_EQ(cookie.rfind("__Host-jit_session=", 0), 0u) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; Secure"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, Not(HasSubstr("Domain")));

  auto plain = MakeUi("");
  plain->SetListenUrl("http://10.0.0.5:8080");
  EXPECT_TRUE(plain->SecureCookies()) << "http on a non-loopback address still gets Secure";
  auto local = MakeUi("http://localhost:8080/");
  EXPECT_FALSE(local->SecureCookies());
  EXPECT_EQ(local->BaseUrl(), "http://localhost:8080");
}

TEST_F(UiTest, DevSignInRefusesStrangersOtherBodiesAndNonDevServers) {
  auto ui = MakeUi();
  EXPECT_EQ(ui->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": "mallory"})")).status, 422);
  EXPECT_EQ(ui->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": 1})")).status, 400);
  EXPECT_EQ(ui->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": "bob", "x": 1})")).status,
            400);
  EXPECT_EQ(ui->Handle(Req("POST", "/ui/auth/dev", "", "[]")).status, 400);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/auth/dev")).status, 405);
  // A cross-site form can post text/plain or form data, never JSON without asking first.
  ApiRequest form = Req("POST", "/ui/auth/dev", "", R"({"username": "bob"})");
  form.content_type = "text/plain";
  ApiResponse r = ui->Handle(form);
  EXPECT_EQ(r.status, 415);
  EXPECT_TRUE(Headers(r, "Set-Cookie").empty());
  form.content_type = "application/JSON; charset=utf-8";
  EXPECT_EQ(ui->Handle(form).status, 200);

  auto prod = MakeUi("https://jit.example.com", nullptr, /*dev=*/false);
  r = prod->Handle(Req("POST", "/ui/auth/dev", "", R"({"username": "bob"})"));
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(Headers(r, "Set-Cookie").empty());
  json info = json::parse(prod->Handle(Req("GET", "/ui/auth/session")).body);
  EXPECT_EQ(info["sign_in"]["dev_users"], json::array());
  EXPECT_EQ(info["sign_in"]["oidc"], false);
}

TEST_F(UiTest, TheSessionEndpointSaysWhoIsSignedIn) {
  auto ui = MakeUi();
  json anon = json::parse(ui->Handle(Req("GET", "/ui/auth/session")).body);
  EXPECT_EQ(anon["signed_in"], false);
  EXPECT_TRUE(anon["user"].is_null());
  EXPECT_TRUE(anon["csrf_token"].is_null());
  EXPECT_EQ(anon["sign_in"]["dev_users"].size(), 3u);
  EXPECT_EQ(anon["sign_in"]["dev_users"][0]["username"], "alice");
  EXPECT_TRUE(anon["now"].is_string());

  auto [cookie, csrf] = SignIn(*ui, "carol");
  json info = json::parse(ui->Handle(Req("GET", "/ui/auth/session", cookie)).body);
  EXPECT_EQ(info["signed_in"], true);
  EXPECT_EQ(info["user"]["username"], "carol");
  EXPECT_EQ(info["user"]["groups"], (json{"approvers", "sre", "admins"}));
  EXPECT_EQ(info["csrf_token"], csrf);

  json garbage = json::parse(ui->Handle(Req("GET", "/ui/auth/session", "jit_session=xx")).body);
  EXPECT_EQ(garbage["signed_in"], false);
}

TEST_F(UiTest, ACookieAuthenticatesAsItsUserAndStateChangesNeedTheCsrfToken) {
  auto ui = MakeUi();
  EXPECT_FALSE(ui->Authenticate(Req("GET", "/v1/me")).has_value()) << "no cookie: not ours";
  EXPECT_FALSE(ui->Authenticate(Req("GET", "/v1/me", "other=1")).has_value());

  auto [cookie, csrf] = SignIn(*ui, "alice");
  auto got = ui->Authenticate(Req("GET", "/v1/me", "a=b; " + cookie));
  ASSERT_TRUE(got.has_value());
  ASSERT_OK(*got);
  EXPECT_EQ((*got)->username, "alice");
  EXPECT_EQ((*got)->groups, std::vector<std::string>{"engineers"});
  EXPECT_EQ((*got)->principal_id, "a11ce000-0000-4000-8000-000000000001");

  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    ApiRequest change = Req(method, "/v1/requests", cookie, "{}");
    EXPECT_THAT(*ui->Authenticate(change),
                StatusIs(StatusCode::kPermissionDenied, HasSubstr("X-CSRF-Token")))
        << method;
    change.csrf_token = csrf.substr(1);
    EXPECT_THAT(*ui->Authenticate(change), StatusIs(StatusCode::kPermissionDenied));
    change.csrf_token = csrf;
    EXPECT_THAT(*ui->Authenticate(change), IsOk());
  }
  // Another session's token does not do.
  auto [bob_cookie, bob_csrf] = SignIn(*ui, "bob");
  ApiRequest mixed = Req("POST", "/v1/requests", cookie, "{}");
  mixed.csrf_token = bob_csrf;
  EXPECT_THAT(*ui->Authenticate(mixed), StatusIs(StatusCode::kPermissionDenied));

  EXPECT_THAT(*ui->Authenticate(Req("GET", "/v1/me", "jit_session=v1.1.e30.AAAA")),
              StatusIs(StatusCode::kUnauthenticated));
  clock_.Advance(std::chrono::hours(1));
  EXPECT_THAT(*ui->Authenticate(Req("GET", "/v1/me", cookie)),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

TEST_F(UiTest, SignOutNeedsTheCsrfTokenAndClearsTheCookie) {
  auto ui = MakeUi();
  auto [cookie, csrf] = SignIn(*ui, "alice");
  ApiResponse refused = ui->Handle(Req("POST", "/ui/auth/logout", cookie, "{}"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_TRUE(Headers(refused, "Set-Cookie").empty());
  ApiRequest out = Req("POST", "/ui/auth/logout", cookie, "{}");
  out.csrf_token = csrf;
  ApiResponse r = ui->Handle(out);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Set-Cookie"), "jit_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  EXPECT_EQ(json::parse(r.body)["signed_in"], false);
  // Without a valid session there is nothing to protect: the cookie is just dropped.
  EXPECT_EQ(ui->Handle(Req("POST", "/ui/auth/logout", "jit_session=junk", "{}")).status, 200);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/auth/logout")).status, 405);
}

// --- OIDC sign-in through the UI ---------------------------------------------------------------

// Accepts any JWT-shaped token whose payload names a user: the signature and claims checks
// are auth/'s (oidc_login_test.cc); this one lets the UI's flow be driven end to end.
class PayloadAuthenticator final : public auth::Authenticator {
 public:
  Result<model::Identity> Authenticate(std::string_view token) override {
    std::string t(token);
    std::size_t a = t.find('.');
    std::size_t b = t.find('.', a + 1);
    auto payload = DecodeBase64Url(t.substr(a + 1, b - a - 1));
    json claims = json::parse(payload.value_or(""), nullptr, false);
    if (!claims.is_object() || !claims.contains("preferred_username")) {
      return UnauthenticatedError("bad token");
    }
    return model::Identity{claims["preferred_username"], {"engineers"}, ""};
  }
};

class FakeIssuer final : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpCall& call) override {
    MutexLock lock(&mu_);
    aws::HttpResponse r;
    r.status = 200;
    if (call.url == "https://idp.example.com/.well-known/openid-configuration") {
      r.body = json{{"issuer", "https://idp.example.com"},
                    {"authorization_endpoint", "https://idp.example.com/authorize"},
                    {"token_endpoint", "https://idp.example.com/token"}}
                   .dump();
    } else if (call.url == "https://idp.example.com/token") {
      ++token_calls;
      std::string id_token =
          EncodeBase64Url(R"({"alg":"ES256"})") + "." +
          EncodeBase64Url(json{{"preferred_username", "erin"}, {"nonce", nonce}}.dump()) + ".c2ln";
      r.body = json{{"id_token", id_token}}.dump();
    } else {
      r.status = 404;
    }
    return r;
  }
  Mutex mu_;
  std::string nonce GUARDED_BY(mu_);
  int token_calls GUARDED_BY(mu_) = 0;
};

std::map<std::string, std::string> Query(const std::string& url) {
  std::map<std::string, std::string> out;
  std::string q = url.substr(url.find('?') + 1);
  std::regex pair("([^&=]+)=([^&]*)");
  for (auto it = std::sregex_iterator(q.begin(), q.end(), pair); it != std::sregex_iterator();
       ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

class UiOidcTest : public UiTest {
 protected:
  void SetUp() override {
    auth::OidcLoginSettings s;
    s.issuer = "https://idp.example.com";
    s.client_id = "jit-ui";
    login_ = std::make_unique<auth::OidcLogin>(s, std::make_unique<PayloadAuthenticator>(), issuer_,
                                               clock_);
    ui_ = MakeUi("https://jit.example.com", login_.get(), /*dev=*/false);
  }

  // Starts a sign-in; returns the login cookie and the authorization URL's parameters.
  std::pair<std::string, std::map<std::string, std::string>> Begin() {
    ApiResponse r = ui_->Handle(Req("GET", "/ui/auth/login"));
    EXPECT_EQ(r.status, 302) << r.body;
    std::string location = Header(r, "Location");
    EXPECT_EQ(location.rfind("https://idp.example.com/authorize?", 0), 0u) << location;
    std::string cookie = Header(r, "Set-Cookie");
    EXPECT_EQ(cookie.rfind("__Host-jit_login=", 0), 0u) << cookie;
    EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
    EXPECT_THAT(cookie, HasSubstr("; Secure"));
    EXPECT_THAT(cookie, HasSubstr("; SameSite=Lax"));
    EXPECT_THAT(cookie, HasSubstr("; Max-Age=600"));
    return {CookiePair(cookie), Query(location)};
  }

  FakeIssuer issuer_;
  std::unique_ptr<auth::OidcLogin> login_;
  std::unique_ptr<Ui> ui_;
};

TEST_F(UiOidcTest, TheCallbackSignsTheBrowserInAsTheIdTokensUser) {
  auto [login_cookie, q] = Begin();
  EXPECT_EQ(q["redirect_uri"], "https%3A%2F%2Fjit.example.com%2Fui%2Fauth%2Fcallback");
  EXPECT_EQ(q["code_challenge_method"], "S256");
  {
    MutexLock lock(&issuer_.mu_);
    issuer_.nonce = q["nonce"];
  }
  ApiResponse r =
      ui_->Handle(Req("GET", "/ui/auth/callback?code=abc&state=" + q["state"], login_cookie));
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/");
  std::vector<std::string> cookies = Headers(r, "Set-Cookie");
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies[0].rfind("__Host-jit_login=;", 0), 0u) << "the login cookie is spent";
  EXPECT_THAT(cookies[0], HasSubstr("Max-Age=0"));
  EXPECT_EQ(cookies[1].rfind("__Host-jit_session=v1.", 0), 0u);
  auto who = ui_->Authenticate(Req("GET", "/v1/me", CookiePair(cookies[1])));
  ASSERT_TRUE(who.has_value());
  ASSERT_OK(*who);
  EXPECT_EQ((*who)->username, "erin");
  json info = json::parse(ui_->Handle(Req("GET", "/ui/auth/session", CookiePair(cookies[1]))).body);
  EXPECT_EQ(info["method"], "oidc");
}

TEST_F(UiOidcTest, TheCallbackRefusesAnotherBrowsersOrAnExpiredSignIn) {
  auto [login_cookie, q] = Begin();
  // No login cookie (another browser, or a forged link).
  ApiResponse r = ui_->Handle(Req("GET", "/ui/auth/callback?code=abc&state=" + q["state"]));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("no sign-in in progress"));
  // Another state than this browser's.
  r = ui_->Handle(Req("GET", "/ui/auth/callback?code=abc&state=other", login_cookie));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("does not belong"));
  // Too late.
  clock_.Advance(std::chrono::minutes(11));
  r = ui_->Handle(Req("GET", "/ui/auth/callback?code=abc&state=" + q["state"], login_cookie));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("expired"));
  MutexLock lock(&issuer_.mu_);
  EXPECT_EQ(issuer_.token_calls, 0) << "no code was exchanged";
}

TEST_F(UiOidcTest, TheIssuersErrorIsShownEscaped) {
  auto [login_cookie, q] = Begin();
  ApiResponse r = ui_->Handle(
      Req("GET", "/ui/auth/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=" + q["state"],
          login_cookie));
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, Not(HasSubstr("<script>")));
  EXPECT_THAT(r.body, HasSubstr("&lt;script&gt;"));
  EXPECT_FALSE(Header(r, "Content-Security-Policy").empty());
}

TEST_F(UiOidcTest, AWrongNonceSignsNobodyIn) {
  auto [login_cookie, q] = Begin();
  {
    MutexLock lock(&issuer_.mu_);
    issuer_.nonce = "someone-elses";
  }
  ApiResponse r =
      ui_->Handle(Req("GET", "/ui/auth/callback?code=abc&state=" + q["state"], login_cookie));
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("nonce"));
  for (const std::string& c : Headers(r, "Set-Cookie")) {
    EXPECT_THAT(c, Not(HasSubstr("jit_session=v1")));
  }
}

TEST_F(UiOidcTest, WithoutOidcTheLoginSaysSo) {
  auto ui = MakeUi("https://jit.example.com", nullptr, /*dev=*/false);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/auth/login")).status, 404);
  EXPECT_EQ(ui->Handle(Req("GET", "/ui/auth/callback?code=a&state=b")).status, 404);
  json info = json::parse(ui_->Handle(Req("GET", "/ui/auth/session")).body);
  EXPECT_EQ(info["sign_in"]["oidc"], true);
}

TEST(HtmlEscape, EscapesMarkup) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace jit::api::ui_test
