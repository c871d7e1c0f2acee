// Fuzzes OIDC token handling: auth::ParseJwt, auth::VerifyJwt and auth::ParseJwks. The first
// byte picks what the rest is:
//   0: a token as a client sends it: ParseJwt, then VerifyJwt against the harness's key set
//      (both an RSA and an EC key; a fuzzed token cannot carry a valid signature, so it must be
//      refused);
//   1: a JWKS document: ParseJwks, and every key it yields checks a signature;
//   2: a header and a payload (JSON texts, split at the first 0x00) that the harness signs
//      with its EC key: VerifyJwt then sees a valid signature and checks the claims.
// What must hold (a violation aborts): mode 0 never authenticates; a token VerifyJwt accepts
// carries a username and came with the expected issuer and audience; errors are
// Unauthenticated (tokens) or InvalidArgument (key sets); nothing crashes.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "model/identity.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "jwt_fuzzer: %s\n", why.c_str());
  std::abort();
}

std::string Bn(EVP_PKEY* pkey, const char* name, int pad) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) Fail("no key parameter");
  std::string out(static_cast<std::size_t>(pad > 0 ? pad : BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

// The harness's keys, made once: an EC P-256 key it signs mode-2 tokens with, and an RSA key.
struct Keys {
  EVP_PKEY* ec = nullptr;
  EVP_PKEY* rsa = nullptr;
  jit::auth::Jwks jwks;
};

const Keys& TheKeys() {
  static const Keys* keys = [] {
    auto* k = new Keys;
    k->ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    k->rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
    if (k->ec == nullptr || k->rsa == nullptr) Fail("cannot make keys");
    json set = {{"keys",
                 {{{"kty", "EC"},
                   {"crv", "P-256"},
                   {"kid", "ec-1"},
                   {"x", jit::EncodeBase64Url(Bn(k->ec, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
                   {"y", jit::EncodeBase64Url(Bn(k->ec, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}},
                  {{"kty", "RSA"},
                   {"kid", "rsa-1"},
                   {"n", jit::EncodeBase64Url(Bn(k->rsa, OSSL_PKEY_PARAM_RSA_N, 0))},
                   {"e", jit::EncodeBase64Url(Bn(k->rsa, OSSL_PKEY_PARAM_RSA_E, 0))}}}}};
    auto parsed = jit::auth::ParseJwks(set.dump());
    if (!parsed.has_value() || parsed->keys.size() != 2) Fail("cannot parse the harness's JWKS");
    k->jwks = std::move(parsed).value();
    return k;
  }();
  return *keys;
}

// ES256: the DER signature OpenSSL makes, as the raw r||s of JWS.
std::string SignEs256(EVP_PKEY* pkey, std::string_view input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit_ex(md, nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) != 1 ||
      EVP_DigestSign(md, nullptr, &len, data, input.size()) != 1) {
    Fail("cannot sign");
  }
  std::string der(len, '\0');
  if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &len, data, input.size()) !=
      1) {
    Fail("cannot sign");
  }
  EVP_MD_CTX_free(md);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

jit::auth::JwtExpectations Expect() {
  jit::auth::JwtExpectations e;
  e.issuer = "https://idp.example.com";
  e.audience = "jit";
  return e;
}

const jit::Time kNow = jit::FromUnixMillis(1767225600000);  // 2026-01-01T00:00:00Z

void CheckAccepted(const jit::Result<jit::model::Identity>& who, bool may_accept) {
  if (who.has_value()) {
    if (!may_accept) Fail("a token without a valid signature was accepted");
    if (who->username.empty()) Fail("an accepted token has no username");
    return;
  }
  if (who.error().code() != jit::StatusCode::kUnauthenticated) {
    Fail("a refused token is not Unauthenticated: " + who.error().ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Keys& keys = TheKeys();
  const std::uint8_t mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    auto parsed = jit::auth::ParseJwt(rest);
    if (parsed.has_value()) {
      for (const auto& key : keys.jwks.keys) {
        CheckAccepted(jit::auth::VerifyJwt(*parsed, key, Expect(), kNow), false);
      }
    } else if (parsed.error().code() != jit::StatusCode::kUnauthenticated) {
      Fail("ParseJwt error is not Unauthenticated: " + parsed.error().ToString());
    }
    CheckAccepted(jit::auth::VerifyJwt(rest, keys.jwks, Expect(), kNow), false);
    (void)jit::auth::LooksLikeJwt(rest);
    return 0;
  }
  if (mode == 1) {
    auto set = jit::auth::ParseJwks(rest);
    if (!set.has_value()) {
      if (set.error().code() != jit::StatusCode::kInvalidArgument) {
        Fail("ParseJwks error is not InvalidArgument: " + set.error().ToString());
      }
      return 0;
    }
    for (const auto& key : set->keys) {
      if (key.key == nullptr) Fail("a parsed key has no public key");
      (void)jit::auth::VerifySignature(key, "e30.e30", std::string(64, 'x'));
      (void)set->Find(key.kid);
    }
    (void)set->Find(std::nullopt);
    return 0;
  }
  // mode 2: sign what the fuzzer wrote.
  std::size_t split = rest.find('\0');
  std::string_view header = rest.substr(0, split);
  std::string_view payload =
      split == std::string_view::npos ? std::string_view() : rest.substr(split + 1);
  std::string input = jit::EncodeBase64Url(header) + "." + jit::EncodeBase64Url(payload);
  std::string token = input + "." + jit::EncodeBase64Url(SignEs256(keys.ec, input));
  auto who = jit::auth::VerifyJwt(token, keys.jwks, Expect(), kNow);
  CheckAccepted(who, true);
  if (who.has_value()) {
    // Accepted: the claims must say what was expected.
    json claims = json::parse(payload, nullptr, false);
    if (!claims.is_object() || claims.value("iss", json()) != "https://idp.example.com") {
      Fail("accepted a token whose iss is not the issuer");
    }
  }
  return 0;
}
