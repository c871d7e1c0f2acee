#include "model/chain.h"

#include <openssl/evp.h>

#include <array>

#include "core/check.h"

namespace jit::model {
namespace {

// Bumped if the encoding ever changes, so that old and new chains cannot be confused.
constexpr std::string_view kEncodingTag = "jit-audit-v1;";

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out.append(field.data(), field.size());
  out += ';';
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL; fail closed.
  JIT_CHECK(
      EVP_Digest(data.data(), data.size(), digest.data(), &digest_len, EVP_sha256(), nullptr) == 1);
  JIT_CHECK(digest_len == 32);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned int i = 0; i < digest_len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

std::string CanonicalEncoding(const AuditEvent& e) {
  std::string out(kEncodingTag);
  out.reserve(kEncodingTag.size() + 128 + e.actor.size() + e.action.size() + e.request_id.size() +
              e.severity.size() + e.details.size() + e.prev_hash.size());
  AppendField(out, std::to_string(e.seq));
  AppendField(out, std::to_string(ToUnixMillis(e.at)));
  AppendField(out, e.actor);
  AppendField(out, e.action);
  AppendField(out, e.request_id);
  AppendField(out, e.severity);
  AppendField(out, e.details);
  AppendField(out, e.prev_hash);
  return out;
}

std::string ChainHash(const AuditEvent& e) { return Sha256Hex(CanonicalEncoding(e)); }

}  // namespace jit::model
