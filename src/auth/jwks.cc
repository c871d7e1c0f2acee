#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <utility>

#include "auth/strict_json.h"
#include "core/encoding.h"
#include "core/strings.h"

namespace jit::auth {

class PublicKey {
 public:
  explicit PublicKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  ~PublicKey() { EVP_PKEY_free(pkey_); }
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // OpenSSL takes keys as non-const; verification only reads them (and a fully set-up
  // EVP_PKEY may be used from several threads at once).
  EVP_PKEY* get() const { return pkey_; }

 private:
  EVP_PKEY* const pkey_;
};

namespace {

using Bytes = std::string;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kP256CoordinateBytes = 32;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Builds a public key from OSSL_PARAMs and checks it (for EC: the point is on the curve).
std::shared_ptr<const PublicKey> FromData(const char* type, OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1 || raw == nullptr) {
    return nullptr;
  }
  auto key = std::make_shared<const PublicKey>(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

// The key's string member, or nullopt when absent; `bad` is set when present but not a string.
std::optional<std::string> StringMember(const nlohmann::json& o, const char* name, bool& bad) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  if (!it->is_string()) {
    bad = true;
    return std::nullopt;
  }
  return it->get<std::string>();
}

Result<std::shared_ptr<const PublicKey>> RsaKey(const nlohmann::json& o) {
  bool bad = false;
  std::optional<std::string> n64 = StringMember(o, "n", bad);
  std::optional<std::string> e64 = StringMember(o, "e", bad);
  if (bad || !n64 || !e64) return InvalidArgumentError("RSA key without string n and e");
  std::optional<Bytes> n = DecodeBase64Url(*n64);
  std::optional<Bytes> e = DecodeBase64Url(*e64);
  if (!n || !e || n->empty() || e->empty()) {
    return InvalidArgumentError("RSA n or e is not base64url");
  }
  BnPtr bn_n(BN_bin2bn(U(*n), static_cast<int>(n->size()), nullptr));
  BnPtr bn_e(BN_bin2bn(U(*e), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return InternalError("out of memory");
  int bits = BN_num_bits(bn_n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return InvalidArgumentError("RSA modulus of " + std::to_string(bits) +
                                " bits (2048 to 8192 accepted)");
  }
  // A public exponent is odd, at least 3 and small; anything else is a broken or hostile key.
  if (BN_num_bits(bn_e.get()) > 64 || !BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return InvalidArgumentError("RSA exponent is not a valid public exponent");
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return InternalError("out of memory");
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return InternalError("out of memory");
  std::shared_ptr<const PublicKey> key = FromData("RSA", params.get());
  if (!key) return InvalidArgumentError("OpenSSL refused the RSA key");
  return key;
}

Result<std::shared_ptr<const PublicKey>> P256Key(const nlohmann::json& o) {
  bool bad = false;
  std::optional<std::string> x64 = StringMember(o, "x", bad);
  std::optional<std::string> y64 = StringMember(o, "y", bad);
  if (bad || !x64 || !y64) return InvalidArgumentError("EC key without string x and y");
  std::optional<Bytes> x = DecodeBase64Url(*x64);
  std::optional<Bytes> y = DecodeBase64Url(*y64);
  // RFC 7518 §6.2.1.2: each coordinate is exactly the curve's size, zeros kept.
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
    return InvalidArgumentError("EC x or y is not 32 base64url bytes");
  }
  std::array<unsigned char, 1 + 2 * kP256CoordinateBytes> point{};
  point[0] = 0x04;  // uncompressed
  std::memcpy(point.data() + 1, x->data(), kP256CoordinateBytes);
  std::memcpy(point.data() + 1 + kP256CoordinateBytes, y->data(), kP256CoordinateBytes);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  std::shared_ptr<const PublicKey> key = FromData("EC", params);
  if (!key) return InvalidArgumentError("the EC point is not on P-256");
  return key;
}

// One entry of "keys": the usable key, or why it is skipped.
Result<Jwk> ReadKey(const nlohmann::json& o) {
  if (!o.is_object()) return InvalidArgumentError("not a JSON object");
  bool bad = false;
  std::optional<std::string> kty = StringMember(o, "kty", bad);
  std::optional<std::string> kid = StringMember(o, "kid", bad);
  std::optional<std::string> use = StringMember(o, "use", bad);
  std::optional<std::string> alg = StringMember(o, "alg", bad);
  std::optional<std::string> crv = StringMember(o, "crv", bad);
  if (bad) return InvalidArgumentError("kty, kid, use, alg or crv is not a string");
  if (!kty) return InvalidArgumentError("no kty");
  if (use && *use != "sig")
    return InvalidArgumentError("use is '" + PrintableExcerpt(*use, 64) + "', not 'sig'");
  if (auto ops = o.find("key_ops"); ops != o.end()) {
    if (!ops->is_array() || std::none_of(ops->begin(), ops->end(), [](const nlohmann::json& op) {
          return op.is_string() && op.get_ref<const std::string&>() == "verify";
        })) {
      return InvalidArgumentError("key_ops does not allow verify");
    }
  }
  Jwk jwk;
  jwk.kid = kid.value_or("");
  if (*kty == "RSA") {
    jwk.alg = JwsAlgorithm::kRS256;
    if (alg && *alg != "RS256") {
      return InvalidArgumentError("alg '" + PrintableExcerpt(*alg, 64) +
                                  "' on an RSA key (only RS256 is accepted)");
    }
    JIT_ASSIGN_OR_RETURN(jwk.key, RsaKey(o));
  } else if (*kty == "EC") {
    jwk.alg = JwsAlgorithm::kES256;
    if (!crv || *crv != "P-256") return InvalidArgumentError("EC curve is not P-256");
    if (alg && *alg != "ES256") {
      return InvalidArgumentError("alg '" + PrintableExcerpt(*alg, 64) +
                                  "' on a P-256 key (only ES256 is accepted)");
    }
    JIT_ASSIGN_OR_RETURN(jwk.key, P256Key(o));
  } else {
    return InvalidArgumentError("unsupported kty '" + PrintableExcerpt(*kty, 64) + "'");
  }
  return jwk;
}

}  // namespace

std::string_view JwsAlgorithmName(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRS256:
      return "RS256";
    case JwsAlgorithm::kES256:
      return "ES256";
  }
  return "?";
}

const Jwk* Jwks::Find(const std::optional<std::string>& kid) const {
  if (keys.size() == 1 && (keys[0].kid.empty() || !kid)) return &keys[0];
  if (!kid) return nullptr;
  for (const Jwk& k : keys) {
    if (!k.kid.empty() && k.kid == *kid) return &k;
  }
  return nullptr;
}

Result<Jwks> ParseJwks(std::string_view json) {
  if (json.size() > kMaxJwksBytes) return InvalidArgumentError("the JWKS is larger than 1 MiB");
  std::optional<nlohmann::json> doc = ParseStrictJson(json);
  if (!doc || !doc->is_object()) {
    return InvalidArgumentError("the JWKS is not a JSON object (or repeats a key)");
  }
  auto keys = doc->find("keys");
  if (keys == doc->end() || !keys->is_array()) {
    return InvalidArgumentError("the JWKS has no \"keys\" array");
  }
  Jwks out;
  std::set<std::string> kids;
  bool kidless = false;
  std::size_t index = 0;
  for (const nlohmann::json& entry : *keys) {
    ++index;
    Result<Jwk> key = ReadKey(entry);
    if (!key.ok()) {
      std::string kid;
      if (entry.is_object()) {
        if (auto it = entry.find("kid"); it != entry.end() && it->is_string()) {
          kid = " (kid '" + PrintableExcerpt(it->get_ref<const std::string&>(), 64) + "')";
        }
      }
      out.skipped.push_back("key " + std::to_string(index) + kid + ": " + key.error().message());
      continue;
    }
    if (key->kid.empty()) {
      kidless = true;
    } else if (!kids.insert(key->kid).second) {
      return InvalidArgumentError("the JWKS has two keys with kid '" +
                                  PrintableExcerpt(key->kid, 64) + "'");
    }
    out.keys.push_back(std::move(*key));
  }
  if (out.keys.empty()) return InvalidArgumentError("the JWKS has no usable RS256 or ES256 key");
  if (kidless && out.keys.size() > 1) {
    return InvalidArgumentError("the JWKS has a key without a kid among several keys");
  }
  return out;
}

bool VerifySignature(const Jwk& key, std::string_view signing_input, std::string_view signature) {
  if (!key.key) return false;
  EVP_PKEY* pkey = key.key->get();
  std::string der;
  std::string_view sig = signature;
  switch (key.alg) {
    case JwsAlgorithm::kRS256:
      if (!EVP_PKEY_is_a(pkey, "RSA") || signature.size() != std::size_t(EVP_PKEY_get_size(pkey))) {
        return false;
      }
      break;
    case JwsAlgorithm::kES256: {
      if (!EVP_PKEY_is_a(pkey, "EC") || signature.size() != 2 * kP256CoordinateBytes) {
        return false;
      }
      // JWS carries r||s (RFC 7518 §3.4); OpenSSL wants a DER ECDSA-Sig-Value.
      std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> s(ECDSA_SIG_new());
      BnPtr r(BN_bin2bn(U(signature), kP256CoordinateBytes, nullptr));
      BnPtr ss(BN_bin2bn(U(signature) + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
      if (!s || !r || !ss || ECDSA_SIG_set0(s.get(), r.get(), ss.get()) != 1) return false;
      static_cast<void>(r.release());  // owned by `s` now
      static_cast<void>(ss.release());
      int len = i2d_ECDSA_SIG(s.get(), nullptr);
      if (len <= 0) return false;
      der.resize(static_cast<std::size_t>(len));
      auto* p = reinterpret_cast<unsigned char*>(der.data());
      if (i2d_ECDSA_SIG(s.get(), &p) != len) return false;
      sig = der;
      break;
    }
    default:
      return false;
  }
  MdCtxPtr md(EVP_MD_CTX_new());
  if (!md ||
      EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(md.get(), U(sig), sig.size(), U(signing_input), signing_input.size()) ==
         1;
}

}  // namespace jit::auth
