#pragma once
// One event of the audit trail, as the store keeps it. Hashing it is model/chain.h; checking a
// chain of them is audit/.

#include <cstdint>
#include <string>

#include "core/clock.h"

namespace jit::model {

// One entry of the append-only, hash-chained audit trail.
struct AuditEvent {
  std::int64_t seq = 0;  // 1, 2, 3, ... assigned by the store
  Time at;
  std::string actor;       // username, or "jit" for the broker itself
  std::string action;      // "request.created", "request.approved", "grant.succeeded", ...
  std::string request_id;  // empty when the event names no request
  std::string severity;    // "info", "warning" or "high"
  std::string details;     // a JSON object as text ("{}" when there is nothing to add)
  std::string prev_hash;   // hex SHA-256 of the event before (64 zeros for the first)
  std::string hash;        // hex SHA-256 over this event's canonical encoding and prev_hash
};

}  // namespace jit::model
