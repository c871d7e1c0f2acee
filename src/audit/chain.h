#pragma once
// The hash chain of the audit trail. Each event's hash covers an unambiguous encoding of its
// fields and the hash of the event before, so that editing, removing or reordering events is
// detected by re-walking the chain.
//
// Depends only on the plain structs of store/model.h (header-only use); the store links this
// library, never the other way round.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/model.h"

namespace jit::audit {

// The prev_hash of the first event: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Lower-case hex SHA-256 of `data` (64 characters). Thread-safe.
std::string Sha256Hex(std::string_view data);

// An unambiguous byte encoding of seq, at (unix milliseconds), actor, action, request_id,
// severity, details and prev_hash: a version tag, then each field as "<length>:<bytes>;".
// `e.hash` is not part of it. Two events encode alike only when those fields are equal.
std::string CanonicalEncoding(const store::AuditEvent& e);

// Sha256Hex(CanonicalEncoding(e)): the value the store puts in e.hash.
std::string ChainHash(const store::AuditEvent& e);

// The outcome of VerifyChain.
struct ChainCheck {
  bool ok = true;
  std::int64_t first_bad_seq = 0;  // seq of the first bad event (0 when ok)
  std::string why;                 // what is wrong with it (empty when ok)
  // "missing" (a seq was skipped), "reordered" (a seq came back, or the link to the event
  // before is broken) or "edited" (the event's own hash does not match); empty when ok.
  std::string problem;
  std::size_t bad_index = 0;  // index of the first bad event in the list (0 when ok)
};

// Walks `events` (oldest first, consecutive) and reports the first event that
//   - does not carry the next seq (expected_first_seq, +1, ...): a gap or a reorder,
//   - has a prev_hash other than the hash of the event before it (prev_hash_before_first for
//     the first one): an event before it was removed, reordered or rewritten, or
//   - has a hash other than ChainHash of its own fields: it was edited.
// An empty list is ok. Pure function; thread-safe.
ChainCheck VerifyChain(const std::vector<store::AuditEvent>& events,
                       std::string_view prev_hash_before_first = kGenesisHash,
                       std::int64_t expected_first_seq = 1);

}  // namespace jit::audit
