#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "core/check.h"
#include "core/encoding.h"

namespace jit {

std::string Sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  JIT_CHECK(EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) == 1);
  JIT_CHECK(len == 32);
  return {reinterpret_cast<const char*>(md.data()), len};
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  JIT_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
                 &len) != nullptr);
  JIT_CHECK(len == 32);
  return {reinterpret_cast<const char*>(md.data()), len};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace jit
