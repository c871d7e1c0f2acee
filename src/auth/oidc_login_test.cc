#include "auth/oidc_login.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "model/identity.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::auth::oidc_login_test {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr char kIssuer[] = "https://idp.example.com";
constexpr char kClient[] = "jit-ui";
constexpr char kRedirect[] = "https://jit.example.com/ui/auth/callback";
constexpr char kTokenEndpoint[] = "https://idp.example.com/oauth2/token";

// --- PKCE and encoding -----------------------------------------------------------------------

TEST(Pkce, MatchesTheExampleOfRfc7636AppendixB) {
  EXPECT_EQ(PkceChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, NewVerifiersAreValidAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string v = NewPkceVerifier();
    EXPECT_TRUE(IsValidPkceVerifier(v)) << v;
    EXPECT_EQ(v.size(), 43u);
    EXPECT_TRUE(seen.insert(v).second) << "repeated verifier " << v;
  }
}

TEST(Pkce, VerifierLengthAndAlphabetFollowTheRfc) {
  EXPECT_FALSE(IsValidPkceVerifier(std::string(42, 'a')));
  EXPECT_TRUE(IsValidPkceVerifier(std::string(43, 'a')));
  EXPECT_TRUE(IsValidPkceVerifier(std::string(128, '~')));
  EXPECT_FALSE(IsValidPkceVerifier(std::string(129, 'a')));
  EXPECT_TRUE(IsValidPkceVerifier(std::string(40, 'a') + "-._"));
  EXPECT_FALSE(IsValidPkceVerifier(std::string(42, 'a') + "+"));
  EXPECT_FALSE(IsValidPkceVerifier(std::string(42, 'a') + "="));
  EXPECT_FALSE(IsValidPkceVerifier(std::string(42, 'a') + " "));
}

TEST(RandomUrlToken, IsUnpaddedBase64UrlOfTheAskedLength) {
  std::string t = RandomUrlToken(24);
  EXPECT_EQ(t.size(), 32u);
  EXPECT_EQ(DecodeBase64Url(t)->size(), 24u);
  EXPECT_NE(RandomUrlToken(24), t);
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(FormEncode, EscapesAllButUnreservedCharacters) {
  EXPECT_EQ(FormEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(FormEncode("a b&c=d/e?f+g%"), "a%20b%26c%3Dd%2Fe%3Ff%2Bg%25");
  EXPECT_EQ(FormEncode("\xc3\xa9"), "%C3%A9");
}

// --- discovery -------------------------------------------------------------------------------

json Discovery() {
  return {{"issuer", kIssuer},
          {"authorization_endpoint", "https://idp.example.com/oauth2/authorize"},
          {"token_endpoint", kTokenEndpoint},
          {"jwks_uri", "https://idp.example.com/jwks"},
          {"response_types_supported", {"code", "id_token"}},
          {"code_challenge_methods_supported", {"plain", "S256"}},
          {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}}};
}

TEST(ParseDiscovery, ReadsTheEndpoints) {
  Result<OidcProviderMetadata> m = ParseDiscovery(Discovery().dump(), kIssuer);
  ASSERT_OK(m);
  EXPECT_EQ(m->issuer, kIssuer);
  EXPECT_EQ(m->authorization_endpoint, "https://idp.example.com/oauth2/authorize");
  EXPECT_EQ(m->token_endpoint, kTokenEndpoint);
  EXPECT_EQ(m->token_endpoint_auth_methods,
            (std::vector<std::string>{"client_secret_basic", "client_secret_post"}));
}

TEST(ParseDiscovery, RefusesWhatWouldWeakenTheFlow) {
  auto with = [](const char* key, const json& value) {
    json d = Discovery();
    if (value.is_null()) {
      d.erase(key);
    } else {
      d[key] = value;
    }
    return ParseDiscovery(d.dump(), kIssuer);
  };
  // Another issuer's document (OpenID Connect Discovery §4.3).
  EXPECT_THAT(with("issuer", "https://evil.example.com"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("names issuer")));
  EXPECT_THAT(with("issuer", "https://idp.example.com/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with("token_endpoint", "http://idp.example.com/token"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("token_endpoint")));
  EXPECT_THAT(with("authorization_endpoint", nullptr),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("authorization_endpoint")));
  EXPECT_THAT(with("code_challenge_methods_supported", json{"plain"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("S256")));
  EXPECT_THAT(with("response_types_supported", json{"id_token"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("authorization-code")));
  EXPECT_THAT(ParseDiscovery("not json", kIssuer), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDiscovery(R"({"issuer": "https://idp.example.com", "issuer": "x"})", kIssuer),
              StatusIs(StatusCode::kInvalidArgument));
  // Lists that are absent are assumed to allow the flow (many providers leave them out).
  EXPECT_THAT(with("code_challenge_methods_supported", nullptr), IsOk());
  // Loopback http is fine, like the issuer itself.
  json local = Discovery();
  local["issuer"] = "http://127.0.0.1:9999";
  local["authorization_endpoint"] = "http://127.0.0.1:9999/auth";
  local["token_endpoint"] = "http://127.0.0.1:9999/token";
  EXPECT_THAT(ParseDiscovery(local.dump(), "http://127.0.0.1:9999"), IsOk());
}

// --- the flow, against a fake identity provider ----------------------------------------------

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string Coordinate(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
  std::string out(32, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_free(bn);
  return out;
}

// ES256 (raw r||s), as JWS carries it.
std::string SignEs256(EVP_PKEY* pkey, std::string_view input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit_ex(md, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr), 1);
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(md, nullptr, &len, data, input.size()), 1);
  std::string der(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &len, data, input.size()),
      1);
  der.resize(len);
  EVP_MD_CTX_free(md);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

// The query parameters of a URL (values decoded).
std::map<std::string, std::string> QueryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  std::string q = url.substr(url.find('?') + 1);
  std::size_t at = 0;
  while (at <= q.size()) {
    std::size_t amp = q.find('&', at);
    std::string part = q.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    std::size_t eq = part.find('=');
    std::string value = part.substr(eq + 1);
    std::string decoded;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '%' && i + 2 < value.size()) {
        decoded.push_back(static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        decoded.push_back(value[i]);
      }
    }
    out[part.substr(0, eq)] = decoded;
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return out;
}

// An identity provider: discovery, JWKS and a token endpoint that answers with whatever
// id_token the test sets, recording what it was sent. Thread-safe.
class FakeIdp final : public aws::HttpTransport {
 public:
  FakeIdp() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {}

  Result<aws::HttpResponse> Send(const aws::HttpCall& call) override {
    MutexLock lock(&mu_);
    calls_.push_back(call);
    aws::HttpResponse r;
    r.status = 200;
    if (call.url == std::string(kIssuer) + "/.well-known/openid-configuration") {
      if (!discovery_up_) return UnavailableError("fake: connection refused");
      r.body = Discovery().dump();
    } else if (call.url == "https://idp.example.com/jwks") {
      r.body = json{{"keys",
                     {{{"kty", "EC"},
                       {"crv", "P-256"},
                       {"kid", "k1"},
                       {"x", EncodeBase64Url(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X))},
                       {"y", EncodeBase64Url(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y))}}}}}
                   .dump();
    } else if (call.url == kTokenEndpoint) {
      r.status = token_status_;
      r.body = token_body_;
    } else {
      r.status = 404;
    }
    return r;
  }

  std::string Sign(const json& claims) const {
    std::string input = EncodeBase64Url(json{{"alg", "ES256"}, {"kid", "k1"}}.dump()) + "." +
                        EncodeBase64Url(claims.dump());
    return input + "." + EncodeBase64Url(SignEs256(key_.get(), input));
  }

  void AnswerToken(long status, std::string body) {
    MutexLock lock(&mu_);
    token_status_ = status;
    token_body_ = std::move(body);
  }
  void SetDiscoveryUp(bool up) {
    MutexLock lock(&mu_);
    discovery_up_ = up;
  }
  std::vector<aws::HttpCall> CallsTo(const std::string& url) const {
    MutexLock lock(&mu_);
    std::vector<aws::HttpCall> out;
    for (const auto& c : calls_) {
      if (c.url == url) out.push_back(c);
    }
    return out;
  }

 private:
  Pkey key_;
  mutable Mutex mu_;
  std::vector<aws::HttpCall> calls_ GUARDED_BY(mu_);
  long token_status_ GUARDED_BY(mu_) = 500;
  std::string token_body_ GUARDED_BY(mu_);
  bool discovery_up_ GUARDED_BY(mu_) = true;
};

class OidcLoginTest : public ::testing::Test {
 protected:
  void SetUp() override { login_ = Make("s3cret"); }

  std::unique_ptr<OidcLogin> Make(const std::string& secret) {
    OidcSettings verify;
    verify.issuer = kIssuer;
    verify.audience = kClient;
    verify.jwks_url = "https://idp.example.com/jwks";
    auto verifier = NewOidcAuthenticator(verify, idp_, clock_);
    EXPECT_THAT(verifier, IsOk());
    OidcLoginSettings s;
    s.issuer = kIssuer;
    s.client_id = kClient;
    s.client_secret = secret;
    s.scopes = {"openid", "profile", "groups"};
    EXPECT_THAT(s.Validate(), IsOk());
    return std::make_unique<OidcLogin>(s, std::move(verifier).value(), idp_, clock_);
  }

  json Claims(const OidcLoginStart& start) const {
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
    return {{"iss", kIssuer},
            {"aud", kClient},
            {"sub", "u-123"},
            {"preferred_username", "alice"},
            {"groups", {"engineers"}},
            {"nonce", start.nonce},
            {"iat", now},
            {"exp", now + 300}};
  }

  void AnswerWithIdToken(const json& claims) {
    idp_.AnswerToken(
        200, json{{"access_token", "at"}, {"token_type", "Bearer"}, {"id_token", idp_.Sign(claims)}}
                 .dump());
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  FakeIdp idp_;
  std::unique_ptr<OidcLogin> login_;
};

TEST_F(OidcLoginTest, BeginSendsTheBrowserToTheIssuerWithStateNonceAndS256Challenge) {
  Result<OidcLoginStart> start = login_->Begin(kRedirect);
  ASSERT_OK(start);
  EXPECT_EQ(start->authorization_url.rfind("https://idp.example.com/oauth2/authorize?", 0), 0u);
  std::map<std::string, std::string> q = QueryOf(start->authorization_url);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], kClient);
  EXPECT_EQ(q["redirect_uri"], kRedirect);
  EXPECT_EQ(q["scope"], "openid profile groups");
  EXPECT_EQ(q["state"], start->state);
  EXPECT_EQ(q["nonce"], start->nonce);
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["code_challenge"], PkceChallengeS256(start->code_verifier));
  EXPECT_TRUE(IsValidPkceVerifier(start->code_verifier));
  EXPECT_EQ(q.count("code_verifier"), 0u) << "the verifier never leaves the broker's cookie";
  EXPECT_GE(start->state.size(), 32u);
  EXPECT_GE(start->nonce.size(), 32u);
  EXPECT_EQ(start->redirect_uri, kRedirect);

  Result<OidcLoginStart> again = login_->Begin(kRedirect);
  ASSERT_OK(again);
  EXPECT_NE(again->state, start->state);
  EXPECT_NE(again->nonce, start->nonce);
  EXPECT_NE(again->code_verifier, start->code_verifier);
  // The discovery document is fetched once and kept.
  EXPECT_EQ(idp_.CallsTo(std::string(kIssuer) + "/.well-known/openid-configuration").size(), 1u);
}

TEST_F(OidcLoginTest, DiscoveryIsFetchedAgainAfterItsTimeToLive) {
  ASSERT_OK(login_->Begin(kRedirect));
  clock_.Advance(std::chrono::hours(2));
  ASSERT_OK(login_->Begin(kRedirect));
  EXPECT_EQ(idp_.CallsTo(std::string(kIssuer) + "/.well-known/openid-configuration").size(), 2u);
}

TEST_F(OidcLoginTest, AnUnreachableIssuerIsUnavailableAndTriedAgainNextTime) {
  idp_.SetDiscoveryUp(false);
  EXPECT_THAT(login_->Begin(kRedirect), StatusIs(StatusCode::kUnavailable));
  idp_.SetDiscoveryUp(true);
  EXPECT_THAT(login_->Begin(kRedirect), IsOk());
}

TEST_F(OidcLoginTest, BeginRefusesARedirectThatIsNotHttps) {
  EXPECT_THAT(login_->Begin("http://jit.example.com/ui/auth/callback"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("public_url")));
  EXPECT_THAT(login_->Begin("http://127.0.0.1:8080/ui/auth/callback"), IsOk());
}

TEST_F(OidcLoginTest, FinishExchangesTheCodeWithTheVerifierAndReturnsTheUser) {
  OidcLoginStart start = *login_->Begin(kRedirect);
  AnswerWithIdToken(Claims(start));
  Result<model::Identity> who = login_->Finish(start, start.state, "the/code+1");
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "alice");
  EXPECT_EQ(who->groups, std::vector<std::string>{"engineers"});

  std::vector<aws::HttpCall> calls = idp_.CallsTo(kTokenEndpoint);
  ASSERT_EQ(calls.size(), 1u);
  const aws::HttpCall& c = calls[0];
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.body, "grant_type=authorization_code&code=the%2Fcode%2B1&redirect_uri=" +
                        FormEncode(kRedirect) + "&code_verifier=" + start.code_verifier);
  bool form = false;
  std::string authorization;
  for (const auto& [name, value] : c.headers) {
    if (name == "Content-Type") form = value == "application/x-www-form-urlencoded";
    if (name == "Authorization") authorization = value;
  }
  EXPECT_TRUE(form);
  // base64("jit-ui:s3cret")
  EXPECT_EQ(authorization, "Basic aml0LXVpOnMzY3JldA==");
}

TEST_F(OidcLoginTest, APublicClientSendsItsIdInTheBodyAndNoSecret) {
  auto pub = Make("");
  OidcLoginStart start = *pub->Begin(kRedirect);
  AnswerWithIdToken(Claims(start));
  ASSERT_OK(pub->Finish(start, start.state, "code"));
  const aws::HttpCall c = idp_.CallsTo(kTokenEndpoint).back();
  EXPECT_THAT(c.body, HasSubstr("&client_id=jit-ui"));
  for (const auto& [name, value] : c.headers) EXPECT_NE(name, "Authorization");
}

TEST_F(OidcLoginTest, AWrongStateIsRefusedBeforeTheCodeIsSpent) {
  OidcLoginStart start = *login_->Begin(kRedirect);
  AnswerWithIdToken(Claims(start));
  EXPECT_THAT(login_->Finish(start, "other-state", "code"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("state")));
  EXPECT_THAT(login_->Finish(start, "", "code"), StatusIs(StatusCode::kUnauthenticated));
  OidcLoginStart no_state = start;
  no_state.state = "";
  EXPECT_THAT(login_->Finish(no_state, "", "code"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_TRUE(idp_.CallsTo(kTokenEndpoint).empty());
}

TEST_F(OidcLoginTest, IdTokensThatDoNotFitThisSignInAreRefused) {
  OidcLoginStart start = *login_->Begin(kRedirect);
  struct Case {
    const char* what;
    std::function<void(json&)> change;
    const char* message;
  };
  std::vector<Case> cases = {
      {"another nonce", [](json& c) { c["nonce"] = "replayed"; }, "nonce"},
      {"no nonce", [](json& c) { c.erase("nonce"); }, "nonce"},
      {"another audience", [](json& c) { c["aud"] = "other-client"; }, "audience"},
      {"another issuer", [](json& c) { c["iss"] = "https://evil.example.com"; }, "issuer"},
      {"expired", [](json& c) { c["exp"] = c["iat"].get<long long>() - 3600; }, "expired"},
      {"several audiences without azp",
       [](json& c) {
         c["aud"] = {kClient, "api"};
       },
       "azp"},
      {"several audiences, azp of another",
       [](json& c) {
         c["aud"] = {kClient, "api"};
         c["azp"] = "api";
       },
       "azp"},
  };
  for (const Case& k : cases) {
    json claims = Claims(start);
    k.change(claims);
    AnswerWithIdToken(claims);
    EXPECT_THAT(login_->Finish(start, start.state, "code"),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr(k.message)))
        << k.what;
  }
  json good = Claims(start);
  good["aud"] = {kClient, "api"};
  good["azp"] = kClient;
  AnswerWithIdToken(good);
  EXPECT_THAT(login_->Finish(start, start.state, "code"), IsOk());
}

TEST_F(OidcLoginTest, AForgedIdTokenIsRefused) {
  OidcLoginStart start = *login_->Begin(kRedirect);
  FakeIdp other;  // another key
  idp_.AnswerToken(200, json{{"id_token", other.Sign(Claims(start))}}.dump());
  EXPECT_THAT(login_->Finish(start, start.state, "code"),
              StatusIs(StatusCode::kUnauthenticated, Not(HasSubstr("nonce"))));
  // Unsigned ("alg": "none").
  std::string none =
      EncodeBase64Url(R"({"alg":"none"})") + "." + EncodeBase64Url(Claims(start).dump()) + ".";
  idp_.AnswerToken(200, json{{"id_token", none}}.dump());
  EXPECT_THAT(login_->Finish(start, start.state, "code"), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(OidcLoginTest, TheIssuersRefusalsAndFailuresAreTold) {
  OidcLoginStart start = *login_->Begin(kRedirect);
  idp_.AnswerToken(400, R"({"error": "invalid_grant", "error_description": "code used"})");
  EXPECT_THAT(login_->Finish(start, start.state, "code"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("invalid_grant")));
  idp_.AnswerToken(502, "bad gateway");
  EXPECT_THAT(login_->Finish(start, start.state, "code"), StatusIs(StatusCode::kUnavailable));
  idp_.AnswerToken(200, R"({"access_token": "at"})");
  EXPECT_THAT(login_->Finish(start, start.state, "code"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("id_token")));
  idp_.AnswerToken(200, "not json");
  EXPECT_THAT(login_->Finish(start, start.state, "code"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(login_->Finish(start, start.state, ""), StatusIs(StatusCode::kUnauthenticated));
}

TEST(OidcLoginSettings, ValidateNamesTheBadField) {
  OidcLoginSettings s;
  s.issuer = kIssuer;
  s.client_id = kClient;
  EXPECT_THAT(s.Validate(), IsOk());
  s.scopes = {"profile"};
  EXPECT_THAT(s.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("openid")));
  s.scopes = {"openid"};
  s.client_id = "";
  EXPECT_THAT(s.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("client_id")));
  s.client_id = kClient;
  s.issuer = "http://idp.example.com";
  EXPECT_THAT(s.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("issuer")));
}

}  // namespace
}  // namespace jit::auth::oidc_login_test
