#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "model/identity.h"

namespace jit::auth {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;

// --- keys and signing, all made here (no private key is committed) ----------------------------

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

std::string BnBytes(EVP_PKEY* pkey, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
  std::string out(static_cast<std::size_t>(pad_to > 0 ? pad_to : BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

json RsaJwk(EVP_PKEY* pkey, const std::string& kid) {
  json k = {{"kty", "RSA"},
            {"n", EncodeBase64Url(BnBytes(pkey, OSSL_PKEY_PARAM_RSA_N))},
            {"e", EncodeBase64Url(BnBytes(pkey, OSSL_PKEY_PARAM_RSA_E))}};
  if (!kid.empty()) k["kid"] = kid;
  return k;
}

json EcJwk(EVP_PKEY* pkey, const std::string& kid) {
  json k = {{"kty", "EC"},
            {"crv", "P-256"},
            {"x", EncodeBase64Url(BnBytes(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
            {"y", EncodeBase64Url(BnBytes(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  if (!kid.empty()) k["kid"] = kid;
  return k;
}

// RS256 or ES256 (raw r||s) signature of `input` by `pkey`, as JWS carries it.
std::string Sign(EVP_PKEY* pkey, std::string_view input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit_ex(md, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr), 1);
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(md, nullptr, &len, data, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len, data, input.size()),
      1);
  sig.resize(len);
  EVP_MD_CTX_free(md);
  if (!EVP_PKEY_is_a(pkey, "EC")) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* der = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(der), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(der), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(der);
  return raw;
}

// HMAC-SHA-256/384/512 of `input` keyed with `secret` (the confusion attack's signature).
std::string Hmac(const char* digest, std::string_view secret, std::string_view input) {
  unsigned char out[64];
  std::size_t len = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                      sizeof out, &len),
            nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string PublicPem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio, pkey), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string B64(std::string_view s) { return EncodeBase64Url(s); }

std::string SigningInput(const json& header, const json& claims) {
  return B64(header.dump()) + "." + B64(claims.dump());
}

std::string SignedToken(EVP_PKEY* pkey, const json& header, const json& claims) {
  std::string input = SigningInput(header, claims);
  return input + "." + B64(Sign(pkey, input));
}

// --- fakes --------------------------------------------------------------------------------------

// Serves a JWKS body (or fails), counting the calls. Thread-safe.
class FakeJwksServer final : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpCall& call) override {
    MutexLock lock(&mu_);
    ++calls_;
    urls_.push_back(call.url);
    if (!up_) return UnavailableError("fake: connection refused");
    aws::HttpResponse r;
    r.status = status_;
    r.body = body_;
    return r;
  }
  void Serve(std::string body, long status = 200) {
    MutexLock lock(&mu_);
    body_ = std::move(body);
    status_ = status;
    up_ = true;
  }
  void Down() {
    MutexLock lock(&mu_);
    up_ = false;
  }
  int calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> urls() const {
    MutexLock lock(&mu_);
    return urls_;
  }

 private:
  mutable Mutex mu_;
  bool up_ GUARDED_BY(mu_) = false;
  long status_ GUARDED_BY(mu_) = 200;
  std::string body_ GUARDED_BY(mu_);
  int calls_ GUARDED_BY(mu_) = 0;
  std::vector<std::string> urls_ GUARDED_BY(mu_);
};

// Answers one fixed result, for chain tests.
class FixedAuthenticator final : public Authenticator {
 public:
  explicit FixedAuthenticator(Result<model::Identity> r) : r_(std::move(r)) {}
  Result<model::Identity> Authenticate(std::string_view) override { return r_; }

 private:
  Result<model::Identity> r_;
};

constexpr char kIssuer[] = "https://idp.example.com";
constexpr char kAudience[] = "jit";

// Keys generated once for the whole binary: RSA-2048 is slow under sanitizers.
struct Keys {
  Pkey rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})};
  Pkey rsa2{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})};
  Pkey ec{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  Pkey ec2{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
};
const Keys& K() {
  static const Keys* keys = new Keys();
  return *keys;
}

class OidcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(K().rsa, nullptr);
    ASSERT_NE(K().ec, nullptr);
    jwks_path_ = (dir_.path() / "jwks.json").string();
    WriteJwks(DefaultJwks());
  }

  static json DefaultJwks() {
    return {{"keys", {RsaJwk(K().rsa.get(), "rsa-1"), EcJwk(K().ec.get(), "ec-1")}}};
  }

  void WriteJwks(const json& jwks) { WriteJwksText(jwks.dump()); }
  void WriteJwksText(const std::string& text) {
    std::ofstream out(jwks_path_, std::ios::binary | std::ios::trunc);
    out << text;
  }

  OidcSettings FileSettings() const {
    OidcSettings s;
    s.issuer = kIssuer;
    s.audience = kAudience;
    s.jwks_file = jwks_path_;
    return s;
  }
  OidcSettings UrlSettings() const {
    OidcSettings s = FileSettings();
    s.jwks_file.clear();
    s.jwks_url = "https://idp.example.com/.well-known/jwks.json";
    return s;
  }

  std::unique_ptr<Authenticator> FileAuth() {
    Result<std::unique_ptr<Authenticator>> a = NewOidcAuthenticator(FileSettings(), http_, clock_);
    EXPECT_OK(a);
    return a.ok() ? std::move(*a) : nullptr;
  }

  std::int64_t Now() const { return ToUnixMillis(clock_.Now()) / 1000; }

  json Claims() const {
    return {{"iss", kIssuer},
            {"aud", kAudience},
            {"sub", "00u1"},
            {"exp", Now() + 300},
            {"iat", Now()},
            {"nbf", Now()},
            {"preferred_username", "alice"},
            {"groups", {"engineers", "sre"}}};
  }

  static json RsaHeader(const std::string& kid = "rsa-1") {
    return {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}};
  }
  static json EcHeader(const std::string& kid = "ec-1") {
    return {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid}};
  }

  std::string RsaToken(const json& claims) const {
    return SignedToken(K().rsa.get(), RsaHeader(), claims);
  }
  std::string RsaToken() const { return RsaToken(Claims()); }
  std::string EcToken() const { return SignedToken(K().ec.get(), EcHeader(), Claims()); }

  jit::testing::TempDir dir_;
  std::string jwks_path_;
  FakeClock clock_;
  FakeJwksServer http_;
};

// Refused with 401 and the given reason, and the message does not echo the token.
void ExpectRefused(Authenticator& auth, const std::string& token, const std::string& reason) {
  Result<model::Identity> r = auth.Authenticate(token);
  ASSERT_THAT(r, StatusIs(StatusCode::kUnauthenticated, reason)) << token;
  for (std::size_t i = 0; i + 12 <= token.size(); i += 12) {
    EXPECT_THAT(r.error().message(), Not(HasSubstr(token.substr(i, 12))));
  }
}
void ExpectRefused(Authenticator& auth, const std::string& token) {
  EXPECT_THAT(auth.Authenticate(token), StatusIs(StatusCode::kUnauthenticated)) << token;
}

// --- accepted tokens
// ------------------------------------------------------------------------------

TEST_F(OidcTest, AcceptsAValidRs256TokenWithUsernameAndGroups) {
  auto auth = FileAuth();
  Result<model::Identity> who = auth->Authenticate(RsaToken());
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "alice");
  EXPECT_THAT(who->groups, ElementsAre("engineers", "sre"));
  EXPECT_EQ(who->principal_id, "");
}

TEST_F(OidcTest, AcceptsAValidEs256TokenWithUsernameAndGroups) {
  auto auth = FileAuth();
  Result<model::Identity> who = auth->Authenticate(EcToken());
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "alice");
  EXPECT_THAT(who->groups, ElementsAre("engineers", "sre"));
}

TEST_F(OidcTest, AcceptsAnAudienceArrayThatContainsOurs) {
  auto auth = FileAuth();
  json c = Claims();
  c["aud"] = {"other", kAudience};
  EXPECT_OK(auth->Authenticate(RsaToken(c)));
}

TEST_F(OidcTest, AbsentGroupsClaimMeansNoGroups) {
  auto auth = FileAuth();
  json c = Claims();
  c.erase("groups");
  Result<model::Identity> who = auth->Authenticate(RsaToken(c));
  ASSERT_OK(who);
  EXPECT_THAT(who->groups, IsEmpty());
}

TEST_F(OidcTest, UsesTheConfiguredClaims) {
  OidcSettings s = FileSettings();
  s.username_claim = "email";
  s.groups_claim = "roles";
  auto auth = NewOidcAuthenticator(s, http_, clock_);
  ASSERT_OK(auth);
  json c = Claims();
  c["email"] = "alice@example.com";
  c["roles"] = {"approvers"};
  Result<model::Identity> who = (*auth)->Authenticate(RsaToken(c));
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "alice@example.com");
  EXPECT_THAT(who->groups, ElementsAre("approvers"));
  c.erase("email");
  ExpectRefused(**auth, RsaToken(c), "token has no username claim");
}

TEST_F(OidcTest, AllowsClockSkewWithinTheLeeway) {
  auto auth = FileAuth();
  json c = Claims();
  c["exp"] = Now() - 30;
  c["nbf"] = Now() + 30;
  c["iat"] = Now() + 30;
  EXPECT_OK(auth->Authenticate(RsaToken(c)));
}

TEST_F(OidcTest, TokenWithoutKidIsAcceptedWhenTheSetHasOneKey) {
  WriteJwks({{"keys", {RsaJwk(K().rsa.get(), "")}}});
  auto auth = FileAuth();
  EXPECT_OK(auth->Authenticate(SignedToken(K().rsa.get(), {{"alg", "RS256"}}, Claims())));
  EXPECT_OK(auth->Authenticate(RsaToken()));
}

TEST_F(OidcTest, TokenWithoutKidIsRefusedWhenTheSetHasSeveralKeys) {
  auto auth = FileAuth();
  ExpectRefused(*auth, SignedToken(K().rsa.get(), {{"alg", "RS256"}}, Claims()),
                "unknown signing key");
}

// --- hostile tokens: algorithms ---------------------------------------------------------------

TEST_F(OidcTest, RefusesAlgNoneInAnyCaseWithOrWithoutSignature) {
  auto auth = FileAuth();
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    for (const char* kid : {"rsa-1", "ec-1", ""}) {
      json header = {{"alg", alg}, {"typ", "JWT"}};
      if (*kid != '\0') header["kid"] = kid;
      std::string input = SigningInput(header, Claims());
      ExpectRefused(*auth, input + ".", "token algorithm not allowed");
      ExpectRefused(*auth, input + "." + B64("anything"), "token algorithm not allowed");
      ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)),
                    "token algorithm not allowed");
      ExpectRefused(*auth, input, "missing or unknown bearer token");  // two parts
    }
  }
}

TEST_F(OidcTest, RefusesHmacSignedWithTheRsaPublicKey) {
  auto auth = FileAuth();
  const std::string pem = PublicPem(K().rsa.get());
  const std::string n = BnBytes(K().rsa.get(), OSSL_PKEY_PARAM_RSA_N);
  const std::string jwk = RsaJwk(K().rsa.get(), "rsa-1").dump();
  const std::vector<std::pair<const char*, const char*>> algs = {
      {"HS256", "SHA256"}, {"HS384", "SHA384"}, {"HS512", "SHA512"}, {"hs256", "SHA256"}};
  for (const auto& [alg, digest] : algs) {
    for (const std::string& secret : {pem, n, B64(n), jwk}) {
      std::string input = SigningInput({{"alg", alg}, {"kid", "rsa-1"}}, Claims());
      ExpectRefused(*auth, input + "." + B64(Hmac(digest, secret, input)),
                    "token algorithm not allowed");
    }
  }
}

TEST_F(OidcTest, RefusesEveryOtherAlgorithm) {
  auto auth = FileAuth();
  for (const char* alg :
       {"RS384", "RS512", "PS256", "ES384", "ES512", "EdDSA", "rs256", "RS256 ", "", "ES256K"}) {
    std::string input = SigningInput({{"alg", alg}, {"kid", "rsa-1"}}, Claims());
    ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)),
                  "token algorithm not allowed");
  }
  // alg missing or not a string.
  for (const json& header : {json{{"kid", "rsa-1"}}, json{{"alg", 256}, {"kid", "rsa-1"}},
                             json{{"alg", {"RS256"}}, {"kid", "rsa-1"}}}) {
    std::string input = SigningInput(header, Claims());
    ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)), "malformed token");
  }
}

TEST_F(OidcTest, RefusesAnRs256TokenForAnEcKeyAndViceVersa) {
  auto auth = FileAuth();
  // Signed with the right kind of key for the alg, but the kid pins the other algorithm.
  ExpectRefused(*auth, SignedToken(K().rsa.get(), RsaHeader("ec-1"), Claims()),
                "token algorithm not allowed");
  ExpectRefused(*auth, SignedToken(K().ec.get(), EcHeader("rsa-1"), Claims()),
                "token algorithm not allowed");
  // The alg matches the kid's key but the signature is by the other kind of key.
  ExpectRefused(*auth, SignedToken(K().rsa.get(), EcHeader("ec-1"), Claims()),
                "bad token signature");
  ExpectRefused(*auth, SignedToken(K().ec.get(), RsaHeader("rsa-1"), Claims()),
                "bad token signature");
}

// --- hostile tokens: keys and signatures ---------------------------------------------------------

TEST_F(OidcTest, RefusesAnotherKeyWithTheSameKid) {
  auto auth = FileAuth();
  ExpectRefused(*auth, SignedToken(K().rsa2.get(), RsaHeader("rsa-1"), Claims()),
                "bad token signature");
  ExpectRefused(*auth, SignedToken(K().ec2.get(), EcHeader("ec-1"), Claims()),
                "bad token signature");
}

TEST_F(OidcTest, IgnoresKeysEmbeddedInTheHeader) {
  auto auth = FileAuth();
  // The attacker's own key in "jwk", "jku" pointing at their server: never used or fetched.
  json header = RsaHeader("attacker");
  header["jwk"] = RsaJwk(K().rsa2.get(), "attacker");
  header["jku"] = "https://evil.example/jwks.json";
  ExpectRefused(*auth, SignedToken(K().rsa2.get(), header, Claims()), "unknown signing key");
  header["kid"] = "rsa-1";
  ExpectRefused(*auth, SignedToken(K().rsa2.get(), header, Claims()), "bad token signature");
  for (const std::string& url : http_.urls()) EXPECT_THAT(url, Not(HasSubstr("evil")));
}

TEST_F(OidcTest, RefusesTamperedPayloadsAndSignatures) {
  auto auth = FileAuth();
  for (const std::string& token : {RsaToken(), EcToken()}) {
    std::size_t dot = token.rfind('.');
    json c = Claims();
    c["preferred_username"] = "carol";
    c["groups"] = {"admins"};
    std::string header = token.substr(0, token.find('.'));
    ExpectRefused(*auth, header + "." + B64(c.dump()) + token.substr(dot), "bad token signature");
    std::string sig = *DecodeBase64Url(token.substr(dot + 1));
    sig[sig.size() / 2] ^= 0x01;
    ExpectRefused(*auth, token.substr(0, dot + 1) + B64(sig), "bad token signature");
    ExpectRefused(*auth, token.substr(0, dot + 1) + B64(sig + "x"), "bad token signature");
    ExpectRefused(*auth, token.substr(0, dot + 1) + B64(sig.substr(1)), "bad token signature");
  }
}

TEST_F(OidcTest, RefusesAnEs256SignatureInDerForm) {
  auto auth = FileAuth();
  std::string input = SigningInput(EcHeader(), Claims());
  std::string raw = Sign(K().ec.get(), input);
  ECDSA_SIG* s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(s, &der);
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  ExpectRefused(*auth, input + "." + B64(der_sig), "bad token signature");
  // An all-zero r||s is never valid.
  ExpectRefused(*auth, input + "." + B64(std::string(64, '\0')), "bad token signature");
}

TEST_F(OidcTest, RefusesCriticalHeaderExtensions) {
  auto auth = FileAuth();
  json header = RsaHeader();
  header["crit"] = {"exp"};
  header["exp"] = 1;
  ExpectRefused(*auth, SignedToken(K().rsa.get(), header, Claims()), "malformed token");
}

TEST_F(OidcTest, RefusesRepeatedKeysInHeaderOrClaims) {
  auto auth = FileAuth();
  // {"alg":"RS256","kid":"rsa-1","alg":"none"}: parsers disagree which alg wins.
  std::string header = R"({"alg":"RS256","kid":"rsa-1","alg":"none"})";
  std::string input = B64(header) + "." + B64(Claims().dump());
  ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)), "malformed token");
  std::string claims = Claims().dump();
  claims.insert(1, R"("preferred_username":"carol",)");
  input = B64(RsaHeader().dump()) + "." + B64(claims);
  ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)), "malformed token");
}

// --- hostile tokens: claims
// ------------------------------------------------------------------------

TEST_F(OidcTest, RefusesExpiredTokens) {
  auto auth = FileAuth();
  json c = Claims();
  c["exp"] = Now() - 61;
  ExpectRefused(*auth, RsaToken(c), "token expired");
  // A token valid now is refused once the clock passes exp plus the leeway.
  std::string token = RsaToken();
  EXPECT_OK(auth->Authenticate(token));
  clock_.Advance(std::chrono::seconds(300 + 60));
  ExpectRefused(*auth, token, "token expired");
}

TEST_F(OidcTest, RefusesMissingOrMalformedExp) {
  auto auth = FileAuth();
  json c = Claims();
  c.erase("exp");
  ExpectRefused(*auth, RsaToken(c), "token has no expiry");
  for (const json& bad : {json("9999999999"), json(true), json(nullptr), json::array()}) {
    c["exp"] = bad;
    ExpectRefused(*auth, RsaToken(c), "malformed token");
  }
  c["exp"] = 1e300;  // far future is fine as a number; the IdP decides lifetimes
  EXPECT_OK(auth->Authenticate(RsaToken(c)));
}

TEST_F(OidcTest, RefusesTokensNotYetValid) {
  auto auth = FileAuth();
  json c = Claims();
  c["nbf"] = Now() + 120;
  ExpectRefused(*auth, RsaToken(c), "token not yet valid");
  c["nbf"] = "0";
  ExpectRefused(*auth, RsaToken(c), "malformed token");
}

TEST_F(OidcTest, RefusesTokensIssuedInTheFuture) {
  auto auth = FileAuth();
  json c = Claims();
  c["iat"] = Now() + 120;
  ExpectRefused(*auth, RsaToken(c), "token issued in the future");
}

TEST_F(OidcTest, RefusesTheWrongIssuer) {
  auto auth = FileAuth();
  for (const json& iss : {json("https://evil.example.com"), json("https://idp.example.com/"),
                          json("HTTPS://IDP.EXAMPLE.COM"), json(nullptr), json::array({kIssuer})}) {
    json c = Claims();
    c["iss"] = iss;
    ExpectRefused(*auth, RsaToken(c), "wrong token issuer");
  }
  json c = Claims();
  c.erase("iss");
  ExpectRefused(*auth, RsaToken(c), "wrong token issuer");
}

TEST_F(OidcTest, RefusesTheWrongAudienceAsStringOrArray) {
  auto auth = FileAuth();
  for (const json& aud : {json("other"), json("JIT"), json("jit "), json::array(),
                          json::array({"other", "another"}), json({{"jit", 1}}), json(1)}) {
    json c = Claims();
    c["aud"] = aud;
    ExpectRefused(*auth, RsaToken(c), "wrong token audience");
  }
  json c = Claims();
  c.erase("aud");
  ExpectRefused(*auth, RsaToken(c), "wrong token audience");
}

TEST_F(OidcTest, RefusesAMissingOrEmptyUsername) {
  auto auth = FileAuth();
  json c = Claims();
  c.erase("preferred_username");
  ExpectRefused(*auth, RsaToken(c), "token has no username claim");
  for (const json& bad : {json(""), json(42), json::array({"alice"}), json(nullptr)}) {
    c["preferred_username"] = bad;
    ExpectRefused(*auth, RsaToken(c), "token has no username claim");
  }
}

TEST_F(OidcTest, RefusesAGroupsClaimOfTheWrongType) {
  auto auth = FileAuth();
  for (const json& bad : {json("admins"), json({{"admins", true}}), json::array({"engineers", 1}),
                          json(nullptr), json::array({json::array({"admins"})})}) {
    json c = Claims();
    c["groups"] = bad;
    ExpectRefused(*auth, RsaToken(c), "token groups claim is not a list of strings");
  }
}

TEST_F(OidcTest, RefusesClaimsThatAreNotAnObject) {
  auto auth = FileAuth();
  for (const std::string& payload :
       {std::string("[]"), std::string("\"alice\""), std::string("{"), std::string("{} {}")}) {
    std::string input = B64(RsaHeader().dump()) + "." + B64(payload);
    ExpectRefused(*auth, input + "." + B64(Sign(K().rsa.get(), input)), "malformed token");
  }
}

// --- hostile tokens: shape
// -------------------------------------------------------------------------

TEST_F(OidcTest, RefusesEveryTruncationOfAValidToken) {
  auto auth = FileAuth();
  for (const std::string& token : {RsaToken(), EcToken()}) {
    ASSERT_OK(auth->Authenticate(token));
    for (std::size_t n = 0; n < token.size(); ++n) ExpectRefused(*auth, token.substr(0, n));
    ExpectRefused(*auth, token.substr(1));
  }
  EXPECT_EQ(http_.calls(), 0);  // file source: nothing fetched over HTTP
}

TEST_F(OidcTest, RefusesGarbage) {
  auto auth = FileAuth();
  const std::vector<std::string> garbage = {
      "",
      "garbage",
      "Bearer x",
      ".",
      "..",
      "...",
      "a.b.c",
      "eyJ.eyJ.eyJ",
      std::string("\0\0.\0.\0", 6),
      "\xff\xfe.\xff.\xff",
      B64("{}") + "." + B64("{}") + "." + B64("x"),
      B64("[]") + "." + B64("{}") + "." + B64("x"),
      B64("null") + "." + B64("{}") + "." + B64("x"),
      B64(std::string(2000, '[')) + ".e30.e30",
      B64(std::string(5000, '[') + std::string(5000, ']')) + ".e30.e30"};
  for (const std::string& g : garbage) ExpectRefused(*auth, g);
}

TEST_F(OidcTest, RefusesTokensWithTheWrongNumberOfParts) {
  auto auth = FileAuth();
  std::string token = RsaToken();
  ExpectRefused(*auth, token + "." + B64("extra"));
  ExpectRefused(*auth, token + ".");
  ExpectRefused(*auth, token.substr(0, token.rfind('.')));
  EXPECT_THAT(ParseJwt(token + "." + B64("extra")),
              StatusIs(StatusCode::kUnauthenticated, "malformed token"));
  // The JWE compact form has five parts.
  ExpectRefused(*auth, token + ".a.b");
}

TEST_F(OidcTest, RefusesBadBase64Url) {
  auto auth = FileAuth();
  std::string token = RsaToken();
  std::size_t d1 = token.find('.');
  std::size_t d2 = token.rfind('.');
  // Standard-alphabet characters, padding, whitespace, in each part.
  for (std::size_t at : {std::size_t{2}, d1 + 3, d2 + 3}) {
    for (char c : {'+', '/', '=', ' ', '\n', '%', '*'}) {
      std::string bad = token;
      bad[at] = c;
      ExpectRefused(*auth, bad);
    }
  }
  ExpectRefused(*auth, token + "==");
  ExpectRefused(*auth, token.substr(0, d1) + "=" + token.substr(d1));
}

TEST_F(OidcTest, RefusesOversizeTokens) {
  auto auth = FileAuth();
  json c = Claims();
  c["padding"] = std::string(kMaxTokenBytes, 'x');
  std::string token = RsaToken(c);
  ASSERT_GT(token.size(), kMaxTokenBytes);
  ExpectRefused(*auth, token, "token too large");
  c["padding"] = std::string(kMaxTokenBytes / 2, 'x');
  EXPECT_OK(auth->Authenticate(RsaToken(c)));
}

// --- key sources
// ------------------------------------------------------------------------------------

TEST_F(OidcTest, UnknownKidIsRefused) {
  auto auth = FileAuth();
  ExpectRefused(*auth, SignedToken(K().rsa.get(), RsaHeader("nope"), Claims()),
                "unknown signing key");
  json header = RsaHeader();
  header["kid"] = 1;
  ExpectRefused(*auth, SignedToken(K().rsa.get(), header, Claims()), "malformed token");
}

TEST_F(OidcTest, UnknownKidRefetchesTheUrlAtMostOnceAMinute) {
  http_.Serve(DefaultJwks().dump());
  auto auth = NewOidcAuthenticator(UrlSettings(), http_, clock_);
  ASSERT_OK(auth);
  EXPECT_EQ(http_.calls(), 1);  // fetched at start
  EXPECT_THAT(http_.urls(), ElementsAre("https://idp.example.com/.well-known/jwks.json"));
  EXPECT_OK((*auth)->Authenticate(RsaToken()));
  EXPECT_EQ(http_.calls(), 1);  // cached

  ExpectRefused(**auth, SignedToken(K().rsa.get(), RsaHeader("a"), Claims()),
                "unknown signing key");
  EXPECT_EQ(http_.calls(), 1);  // within a minute of the start
  clock_.Advance(std::chrono::minutes(2));
  ExpectRefused(**auth, SignedToken(K().rsa.get(), RsaHeader("b"), Claims()),
                "unknown signing key");
  EXPECT_EQ(http_.calls(), 2);
  clock_.Advance(std::chrono::seconds(30));
  for (const char* kid : {"c", "d", "e", "b"}) {
    ExpectRefused(**auth, SignedToken(K().rsa.get(), RsaHeader(kid), Claims()),
                  "unknown signing key");
  }
  EXPECT_EQ(http_.calls(), 2);  // a second unknown kid within a minute does not refetch
  clock_.Advance(std::chrono::seconds(31));
  ExpectRefused(**auth, SignedToken(K().rsa.get(), RsaHeader("f"), Claims()),
                "unknown signing key");
  EXPECT_EQ(http_.calls(), 3);
  // Known kids never refetch.
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_OK((*auth)->Authenticate(RsaToken()));
  EXPECT_OK((*auth)->Authenticate(EcToken()));
  EXPECT_EQ(http_.calls(), 3);
}

TEST_F(OidcTest, RotatedKeyInTheFileIsAcceptedAfterRefetch) {
  auto auth = FileAuth();
  std::string new_token = SignedToken(K().rsa2.get(), RsaHeader("rsa-2"), Claims());
  json rotated = {{"keys", {RsaJwk(K().rsa2.get(), "rsa-2"), EcJwk(K().ec.get(), "ec-1")}}};
  WriteJwks(rotated);
  // Within a minute of the last read the file is not read again.
  clock_.Advance(std::chrono::seconds(10));
  ExpectRefused(*auth, new_token, "unknown signing key");
  clock_.Advance(std::chrono::seconds(60));
  json c = Claims();
  c["exp"] = Now() + 300;
  new_token = SignedToken(K().rsa2.get(), RsaHeader("rsa-2"), c);
  Result<model::Identity> who = auth->Authenticate(new_token);
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "alice");
  // The retired key is gone with the old set.
  c["iat"] = Now();
  ExpectRefused(*auth, SignedToken(K().rsa.get(), RsaHeader("rsa-1"), c), "unknown signing key");
}

TEST_F(OidcTest, RotatedKeyAtTheUrlIsAcceptedAfterRefetch) {
  http_.Serve(DefaultJwks().dump());
  auto auth = NewOidcAuthenticator(UrlSettings(), http_, clock_);
  ASSERT_OK(auth);
  http_.Serve(
      json{{"keys", {RsaJwk(K().rsa.get(), "rsa-1"), EcJwk(K().ec2.get(), "ec-2")}}}.dump());
  clock_.Advance(std::chrono::minutes(1));
  json c = Claims();
  EXPECT_OK((*auth)->Authenticate(SignedToken(K().ec2.get(), EcHeader("ec-2"), c)));
  EXPECT_OK((*auth)->Authenticate(RsaToken(c)));
  EXPECT_EQ(http_.calls(), 2);
}

TEST_F(OidcTest, AFailedRefetchKeepsTheCachedKeys) {
  auto auth = FileAuth();
  WriteJwksText("{not json");
  clock_.Advance(std::chrono::minutes(2));
  ExpectRefused(*auth, SignedToken(K().rsa.get(), RsaHeader("x"), Claims()), "unknown signing key");
  EXPECT_OK(auth->Authenticate(RsaToken()));
  EXPECT_OK(auth->Authenticate(EcToken()));
}

TEST_F(OidcTest, UnreachableUrlAtStartIsUnavailableUntilAFetchSucceeds) {
  http_.Down();
  auto auth = NewOidcAuthenticator(UrlSettings(), http_, clock_);
  ASSERT_OK(auth);
  EXPECT_THAT((*auth)->Authenticate(RsaToken()), StatusIs(StatusCode::kUnavailable));
  http_.Serve(DefaultJwks().dump());
  EXPECT_THAT((*auth)->Authenticate(RsaToken()), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(http_.calls(), 1);  // the rate limit holds for failures too
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_OK((*auth)->Authenticate(RsaToken(Claims())));
  EXPECT_EQ(http_.calls(), 2);
}

TEST_F(OidcTest, UrlAnsweringAnErrorOrGarbageProvidesNoKeys) {
  http_.Serve(DefaultJwks().dump(), 500);
  auto auth = NewOidcAuthenticator(UrlSettings(), http_, clock_);
  ASSERT_OK(auth);
  EXPECT_THAT((*auth)->Authenticate(RsaToken()), StatusIs(StatusCode::kUnavailable));
  http_.Serve("<html>");
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_THAT((*auth)->Authenticate(RsaToken(Claims())), StatusIs(StatusCode::kUnavailable));
  // Non-JWTs are refused without touching the network.
  clock_.Advance(std::chrono::minutes(1));
  ExpectRefused(**auth, "dev-alice", "missing or unknown bearer token");
  EXPECT_EQ(http_.calls(), 2);
}

TEST_F(OidcTest, MissingOrBadJwksFileIsAnErrorAtStart) {
  OidcSettings s = FileSettings();
  s.jwks_file = (dir_.path() / "missing.json").string();
  EXPECT_THAT(NewOidcAuthenticator(s, http_, clock_), StatusIs(StatusCode::kNotFound));
  WriteJwksText(R"({"keys": []})");
  EXPECT_THAT(NewOidcAuthenticator(FileSettings(), http_, clock_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no usable")));
}

// --- settings -----------------------------------------------------------------------------------

TEST(OidcSettings, ValidateNamesTheBadField) {
  OidcSettings good;
  good.issuer = "https://idp.example.com";
  good.audience = "jit";
  good.jwks_file = "/etc/jit/jwks.json";
  EXPECT_OK(good.Validate());
  auto with = [&](auto change) {
    OidcSettings s = good;
    change(s);
    return s.Validate();
  };
  EXPECT_OK(with([](OidcSettings& s) { s.issuer = "http://127.0.0.1:8081/realms/x"; }));
  EXPECT_OK(with([](OidcSettings& s) {
    s.jwks_file.clear();
    s.jwks_url = "http://localhost:9/jwks";
  }));
  EXPECT_THAT(with([](OidcSettings& s) { s.issuer.clear(); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("issuer")));
  EXPECT_THAT(with([](OidcSettings& s) { s.issuer = "http://idp.example.com"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("issuer")));
  EXPECT_THAT(with([](OidcSettings& s) { s.audience.clear(); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("audience")));
  EXPECT_THAT(with([](OidcSettings& s) { s.jwks_url = "https://idp.example.com/jwks"; }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  EXPECT_THAT(with([](OidcSettings& s) { s.jwks_file.clear(); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  EXPECT_THAT(with([](OidcSettings& s) {
                s.jwks_file.clear();
                s.jwks_url = "http://127.0.0.1@evil.example/jwks";
              }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("jwks_url")));
  EXPECT_THAT(with([](OidcSettings& s) { s.username_claim.clear(); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("username_claim")));
  EXPECT_THAT(with([](OidcSettings& s) { s.leeway = std::chrono::minutes(6); }),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("leeway")));
}

TEST(OidcSettings, InvalidSettingsAreRefusedByTheConstructor) {
  FakeClock clock;
  FakeJwksServer http;
  EXPECT_THAT(NewOidcAuthenticator(OidcSettings{}, http, clock),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(http.calls(), 0);
}

TEST(OidcSettings, ComeFromTheConfigSection) {
  OidcConfig c;
  c.issuer = "https://idp.example.com";
  c.audience = "jit";
  c.jwks_url = "https://idp.example.com/jwks";
  c.username_claim = "email";
  c.groups_claim = "roles";
  c.leeway = std::chrono::seconds(30);
  OidcSettings s = OidcSettingsFromConfig(c);
  EXPECT_EQ(s.issuer, c.issuer);
  EXPECT_EQ(s.audience, "jit");
  EXPECT_EQ(s.jwks_url, c.jwks_url);
  EXPECT_EQ(s.jwks_file, "");
  EXPECT_EQ(s.username_claim, "email");
  EXPECT_EQ(s.groups_claim, "roles");
  EXPECT_EQ(s.leeway, std::chrono::seconds(30));
  EXPECT_OK(s.Validate());
}

// --- chain --------------------------------------------------------------------------------------

TEST_F(OidcTest, ChainTriesStaticTokensThenOidc) {
  std::vector<std::unique_ptr<Authenticator>> parts;
  parts.push_back(NewStaticAuthenticator(DevUsers(), {}));
  parts.push_back(FileAuth());
  auto chain = NewChainAuthenticator(std::move(parts));
  Result<model::Identity> bob = chain->Authenticate("dev-bob");
  ASSERT_OK(bob);
  EXPECT_EQ(bob->username, "bob");
  Result<model::Identity> alice = chain->Authenticate(RsaToken());
  ASSERT_OK(alice);
  EXPECT_EQ(alice->username, "alice");
  EXPECT_THAT(alice->groups, ElementsAre("engineers", "sre"));
  // A non-JWT gets the generic refusal; a JWT gets the OIDC reason.
  ExpectRefused(*chain, "dev-mallory", "missing or unknown bearer token");
  ExpectRefused(*chain, "", "missing or unknown bearer token");
  json c = Claims();
  c["exp"] = Now() - 3600;
  ExpectRefused(*chain, RsaToken(c), "token expired");
  ExpectRefused(*chain, SigningInput({{"alg", "none"}}, Claims()) + ".",
                "token algorithm not allowed");
}

// --- the broker's authenticator, built again on SIGHUP ------------------------------------------

AuthSettings ConfigWith(std::vector<StaticToken> tokens, const OidcSettings* oidc) {
  AuthSettings c;
  c.tokens = std::move(tokens);
  if (oidc != nullptr) {
    c.oidc.issuer = oidc->issuer;
    c.oidc.audience = oidc->audience;
    c.oidc.jwks_file = oidc->jwks_file;
    c.oidc.jwks_url = oidc->jwks_url;
    c.oidc.line = 1;
  }
  return c;
}

TEST_F(OidcTest, BrokerAuthTakesStaticTokensThenOidcAndReloadsTheFile) {
  OidcSettings file = FileSettings();
  StaticToken bot{
      "ci-bot", "0c7e8e3df6b3ef1d3c25e1a0bd5b27f6e9c5e3b1a7d4c2f08e9b6a5d4c3b2a10", {"automation"}};
  Result<BrokerAuth> first = BuildBrokerAuth(ConfigWith({bot}, &file), {}, http_, clock_, nullptr);
  ASSERT_OK(first);
  ASSERT_NE(first->oidc, nullptr);
  EXPECT_OK(first->authenticator->Authenticate(RsaToken()));
  ExpectRefused(*first->authenticator, "dev-alice", "missing or unknown bearer token");

  // The file is rotated; a rebuild reads it at once (no minute's wait for an unknown kid).
  WriteJwks(json{{"keys", {RsaJwk(K().rsa2.get(), "rsa-2")}}});
  Result<BrokerAuth> second =
      BuildBrokerAuth(ConfigWith({}, &file), DevUsers(), http_, clock_, &*first);
  ASSERT_OK(second);
  EXPECT_NE(second->oidc, first->oidc);
  EXPECT_OK(second->authenticator->Authenticate(
      SignedToken(K().rsa2.get(), RsaHeader("rsa-2"), Claims())));
  ExpectRefused(*second->authenticator, RsaToken(), "unknown signing key");
  EXPECT_OK(second->authenticator->Authenticate("dev-alice"));

  // A bad file fails the rebuild and names the section.
  WriteJwksText("{not json");
  EXPECT_THAT(BuildBrokerAuth(ConfigWith({}, &file), {}, http_, clock_, &*second),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("auth.oidc: ")));
  // Without auth.oidc, static tokens only.
  Result<BrokerAuth> plain = BuildBrokerAuth(ConfigWith({}, nullptr), {}, http_, clock_, nullptr);
  ASSERT_OK(plain);
  EXPECT_EQ(plain->oidc, nullptr);
  ExpectRefused(*plain->authenticator, RsaToken(), "missing or unknown bearer token");
}

TEST_F(OidcTest, BrokerAuthKeepsTheUrlAuthenticatorAndItsKeysWhenUnchanged) {
  http_.Serve(DefaultJwks().dump());
  OidcSettings url = UrlSettings();
  Result<BrokerAuth> first = BuildBrokerAuth(ConfigWith({}, &url), {}, http_, clock_, nullptr);
  ASSERT_OK(first);
  EXPECT_OK(first->authenticator->Authenticate(RsaToken()));
  int fetches = http_.calls();
  http_.Down();  // the identity provider is down while the broker reloads
  Result<BrokerAuth> second = BuildBrokerAuth(ConfigWith({}, &url), {}, http_, clock_, &*first);
  ASSERT_OK(second);
  EXPECT_EQ(second->oidc, first->oidc);
  EXPECT_OK(second->authenticator->Authenticate(RsaToken()));
  EXPECT_EQ(http_.calls(), fetches);
  // Another audience is another authenticator.
  url.audience = "jit-2";
  Result<BrokerAuth> third = BuildBrokerAuth(ConfigWith({}, &url), {}, http_, clock_, &*second);
  ASSERT_OK(third);
  EXPECT_NE(third->oidc, first->oidc);
}

TEST(SwappableAuthenticator, AnswersWithTheOneInForce) {
  SwappableAuthenticator swap(NewStaticAuthenticator(DevUsers(), {}));
  EXPECT_OK(swap.Authenticate("dev-bob"));
  swap.Set(std::make_shared<FixedAuthenticator>(UnauthenticatedError("nobody")));
  EXPECT_THAT(swap.Authenticate("dev-bob"), StatusIs(StatusCode::kUnauthenticated, "nobody"));
}

TEST(ChainAuthenticator, PrefersAnErrorOtherThanUnauthenticated) {
  std::vector<std::unique_ptr<Authenticator>> parts;
  parts.push_back(std::make_unique<FixedAuthenticator>(UnavailableError("keys unavailable")));
  parts.push_back(std::make_unique<FixedAuthenticator>(UnauthenticatedError("no")));
  auto chain = NewChainAuthenticator(std::move(parts));
  EXPECT_THAT(chain->Authenticate("x"), StatusIs(StatusCode::kUnavailable));
}

TEST(ChainAuthenticator, FirstSuccessWins) {
  std::vector<std::unique_ptr<Authenticator>> parts;
  parts.push_back(std::make_unique<FixedAuthenticator>(UnauthenticatedError("no")));
  parts.push_back(std::make_unique<FixedAuthenticator>(model::Identity{"a", {}, ""}));
  parts.push_back(std::make_unique<FixedAuthenticator>(model::Identity{"b", {}, ""}));
  auto chain = NewChainAuthenticator(std::move(parts));
  Result<model::Identity> who = chain->Authenticate("x");
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "a");
  EXPECT_THAT(NewChainAuthenticator({})->Authenticate("x"),
              StatusIs(StatusCode::kUnauthenticated, "missing or unknown bearer token"));
}

// --- JWKS parsing
// ---------------------------------------------------------------------------------

TEST(ParseJwks, PinsRs256ToRsaAndEs256ToP256) {
  json doc = {{"keys", {RsaJwk(K().rsa.get(), "r"), EcJwk(K().ec.get(), "e")}}};
  doc["keys"][0]["alg"] = "RS256";
  doc["keys"][0]["use"] = "sig";
  doc["keys"][1]["key_ops"] = {"verify"};
  Result<Jwks> keys = ParseJwks(doc.dump());
  ASSERT_OK(keys);
  ASSERT_EQ(keys->keys.size(), 2u);
  EXPECT_EQ(keys->keys[0].kid, "r");
  EXPECT_EQ(keys->keys[0].alg, JwsAlgorithm::kRS256);
  EXPECT_EQ(keys->keys[1].kid, "e");
  EXPECT_EQ(keys->keys[1].alg, JwsAlgorithm::kES256);
  EXPECT_THAT(keys->skipped, IsEmpty());
  EXPECT_EQ(keys->Find(std::string("e")), &keys->keys[1]);
  EXPECT_EQ(keys->Find(std::string("x")), nullptr);
  EXPECT_EQ(keys->Find(std::nullopt), nullptr);
}

TEST(ParseJwks, SkipsKeysItCannotUseAndSaysWhy) {
  auto rsa = [](const std::string& kid) { return RsaJwk(K().rsa.get(), kid); };
  auto ec = [](const std::string& kid) { return EcJwk(K().ec.get(), kid); };
  json enc = rsa("enc");
  enc["use"] = "enc";
  json rsa_es = rsa("rsa-es");
  rsa_es["alg"] = "ES256";
  json rsa_hs = rsa("rsa-hs");
  rsa_hs["alg"] = "HS256";
  json rsa_ps = rsa("rsa-ps");
  rsa_ps["alg"] = "PS256";
  json ec_rs = ec("ec-rs");
  ec_rs["alg"] = "RS256";
  json p384 = ec("p384");
  p384["crv"] = "P-384";
  json off_curve = ec("off");
  std::string y = *DecodeBase64Url(off_curve["y"].get<std::string>());
  y[31] ^= 0x01;
  off_curve["y"] = EncodeBase64Url(y);
  json short_x = ec("short-x");
  short_x["x"] = EncodeBase64Url(std::string(31, '\x01'));
  json padded_n = rsa("padded");
  padded_n["n"] = padded_n["n"].get<std::string>() + "=";
  json no_verify = rsa("encrypt-only");
  no_verify["key_ops"] = {"encrypt"};
  Pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  json doc = {{"keys",
               {enc,
                rsa_es,
                rsa_hs,
                rsa_ps,
                ec_rs,
                p384,
                off_curve,
                short_x,
                padded_n,
                no_verify,
                RsaJwk(small.get(), "rsa-1024"),
                {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "ed"}, {"x", "AAAA"}},
                "not an object",
                {{"kid", "no-kty"}},
                rsa("good")}}};
  Result<Jwks> keys = ParseJwks(doc.dump());
  ASSERT_OK(keys);
  ASSERT_EQ(keys->keys.size(), 1u);
  EXPECT_EQ(keys->keys[0].kid, "good");
  ASSERT_EQ(keys->skipped.size(), 15u);
  EXPECT_THAT(keys->skipped[0], HasSubstr("use is 'enc'"));
  EXPECT_THAT(keys->skipped[1], HasSubstr("alg 'ES256' on an RSA key"));
  EXPECT_THAT(keys->skipped[2], HasSubstr("alg 'HS256' on an RSA key"));
  EXPECT_THAT(keys->skipped[4], HasSubstr("alg 'RS256' on a P-256 key"));
  EXPECT_THAT(keys->skipped[5], HasSubstr("not P-256"));
  EXPECT_THAT(keys->skipped[6], HasSubstr("not on P-256"));
  EXPECT_THAT(keys->skipped[10], HasSubstr("1024 bits"));
  EXPECT_THAT(keys->skipped[11], HasSubstr("unsupported kty 'oct'"));
}

TEST(ParseJwks, AcceptsOneKeyWithoutKid) {
  Result<Jwks> keys = ParseJwks(json{{"keys", {EcJwk(K().ec.get(), "")}}}.dump());
  ASSERT_OK(keys);
  EXPECT_EQ(keys->Find(std::nullopt), &keys->keys[0]);
  EXPECT_EQ(keys->Find(std::string("any")), &keys->keys[0]);
}

TEST(ParseJwks, RefusesAmbiguousOrUnusableSets) {
  auto bad = [](const std::string& text) { return ParseJwks(text); };
  json two_kidless = {{"keys", {RsaJwk(K().rsa.get(), ""), EcJwk(K().ec.get(), "e")}}};
  EXPECT_THAT(bad(two_kidless.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("without a kid")));
  json same_kid = {{"keys", {RsaJwk(K().rsa.get(), "k"), RsaJwk(K().rsa2.get(), "k")}}};
  EXPECT_THAT(bad(same_kid.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("two keys with kid 'k'")));
  EXPECT_THAT(bad(R"({"keys": []})"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad(R"({"keys": {}})"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad("[]"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad("{\"keys\": ["), StatusIs(StatusCode::kInvalidArgument));
  std::string dup = json{{"keys", {RsaJwk(K().rsa.get(), "k")}}}.dump();
  dup.insert(1, R"("keys": [],)");
  EXPECT_THAT(bad(dup), StatusIs(StatusCode::kInvalidArgument, HasSubstr("repeats a key")));
  EXPECT_THAT(bad(std::string(kMaxJwksBytes + 1, ' ')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 MiB")));
  EXPECT_THAT(bad(std::string(100000, '[')), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseJwks, NeverThrowsOnTruncatedInput) {
  std::string doc = json{{"keys", {RsaJwk(K().rsa.get(), "r"), EcJwk(K().ec.get(), "e")}}}.dump();
  for (std::size_t n = 0; n < doc.size(); n += 3) {
    Result<Jwks> r = ParseJwks(doc.substr(0, n));
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

// --- base64url ----------------------------------------------------------------------------------

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    std::optional<std::string> back = DecodeBase64Url(EncodeBase64Url(bytes));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 251));
  }
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
  EXPECT_EQ(EncodeBase64Url("{\"alg\":\"none\"}"), "eyJhbGciOiJub25lIn0");
}

TEST(Base64Url, IsStrict) {
  EXPECT_EQ(DecodeBase64Url("-_8"), std::optional<std::string>("\xfb\xff"));
  EXPECT_FALSE(DecodeBase64Url("+/8").has_value());   // standard alphabet
  EXPECT_FALSE(DecodeBase64Url("-_8=").has_value());  // padding
  EXPECT_FALSE(DecodeBase64Url("-_9").has_value());   // non-zero trailing bits
  EXPECT_FALSE(DecodeBase64Url("QQ=").has_value());
  EXPECT_FALSE(DecodeBase64Url("QR").has_value());     // "A" is QQ
  EXPECT_FALSE(DecodeBase64Url("A").has_value());      // impossible length
  EXPECT_FALSE(DecodeBase64Url("QU FB").has_value());  // whitespace
  EXPECT_FALSE(DecodeBase64Url("QUF\n").has_value());
  EXPECT_EQ(DecodeBase64Url(""), std::optional<std::string>(""));
}

TEST(LooksLikeJwt, NeedsThreeDotSeparatedParts) {
  EXPECT_TRUE(LooksLikeJwt("a.b.c"));
  EXPECT_TRUE(LooksLikeJwt("a.b."));
  EXPECT_FALSE(LooksLikeJwt(".b.c"));
  EXPECT_FALSE(LooksLikeJwt("a.b"));
  EXPECT_FALSE(LooksLikeJwt("a.b.c.d"));
  EXPECT_FALSE(LooksLikeJwt("dev-alice"));
  EXPECT_FALSE(LooksLikeJwt(""));
}

}  // namespace
}  // namespace jit::auth
