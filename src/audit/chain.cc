#include "audit/chain.h"

#include <array>
#include <memory>
#include <string>

#include "core/check.h"
#include "core/crypto.h"
#include "model/chain.h"

namespace jit::audit {

ChainCheck VerifyChain(const std::vector<model::AuditEvent>& events,
                       std::string_view prev_hash_before_first, std::int64_t expected_first_seq) {
  std::string_view prev_hash = prev_hash_before_first;
  std::int64_t expected_seq = expected_first_seq;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const model::AuditEvent& e = events[i];
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
    if (model::ChainHash(e) != e.hash) {
      return {false, e.seq, "hash does not match the event's contents (the event was edited)",
              "edited", i};
    }
    prev_hash = e.hash;
    ++expected_seq;
  }
  return {true, 0, "", "", 0};
}

}  // namespace jit::audit
