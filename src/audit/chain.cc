#include "audit/chain.h"

#include <array>
#include <memory>

#include "core/check.h"
#include "core/crypto.h"

namespace jit::audit {
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

std::string Sha256Hex(std::string_view data) { return jit::Sha256Hex(data); }

std::string CanonicalEncoding(const store::AuditEvent& e) {
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

std::string ChainHash(const store::AuditEvent& e) { return Sha256Hex(CanonicalEncoding(e)); }

ChainCheck VerifyChain(const std::vector<store::AuditEvent>& events,
                       std::string_view prev_hash_before_first, std::int64_t expected_first_seq) {
  std::string_view prev_hash = prev_hash_before_first;
  std::int64_t expected_seq = expected_first_seq;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const store::AuditEvent& e = events[i];
    if (e.seq != expected_seq) {
      return {false, e.seq,
              "seq " + std::to_string(e.seq) + " where " + std::to_string(expected_seq) +
                  " was expected (an event is missing or out of order)",
              e.seq > expected_seq ? "missing" : "reordered", i};
    }
    if (e.prev_hash != prev_hash) {
      return {false, e.seq,
              "prev_hash does not match the hash of the event before (an earlier event was "
              "removed, reordered or rewritten)",
              "reordered", i};
    }
    if (ChainHash(e) != e.hash) {
      return {false, e.seq, "hash does not match the event's contents (the event was edited)",
              "edited", i};
    }
    prev_hash = e.hash;
    ++expected_seq;
  }
  return {true, 0, "", "", 0};
}

}  // namespace jit::audit
