#include "model/chain.h"

#include "core/crypto.h"

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

std::string ChainHash(const AuditEvent& e) { return jit::Sha256Hex(CanonicalEncoding(e)); }

}  // namespace jit::model
