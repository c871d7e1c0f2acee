#pragma once
// The hash of one audit event in the chain of the audit trail. Each event's hash covers an
// unambiguous encoding of its fields and the hash of the event before, so that editing,
// removing or reordering events is detected by re-walking the chain (audit::VerifyChain).
// Store engines compute it when they append; audit/ checks it. Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "model/audit_event.h"

namespace jit::model {

// The prev_hash of the first event: 64 zeros.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";


// An unambiguous byte encoding of seq, at (unix milliseconds), actor, action, request_id,
// severity, details and prev_hash: a version tag, then each field as "<length>:<bytes>;".
// `e.hash` is not part of it. Two events encode alike only when those fields are equal.
std::string CanonicalEncoding(const AuditEvent& e);

// Sha256Hex(CanonicalEncoding(e)): the value the store puts in e.hash.
std::string ChainHash(const AuditEvent& e);

}  // namespace jit::model
