#pragma once
// Checking the hash chain of the audit trail: re-walks a list of events and reports the first
// one that was edited, removed or reordered. How one event is hashed is model/chain.h (the store
// engines hash as they append); this is the reader's side.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/audit_event.h"
#include "model/chain.h"

namespace jit::audit {

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
//   - has a hash other than model::ChainHash of its own fields: it was edited.
// An empty list is ok. Pure function; thread-safe.
ChainCheck VerifyChain(const std::vector<model::AuditEvent>& events,
                       std::string_view prev_hash_before_first = model::kGenesisHash,
                       std::int64_t expected_first_seq = 1);

}  // namespace jit::audit
