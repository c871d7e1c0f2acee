#pragma once
// The audit trail in formats that other tools read: OCSF (the Open Cybersecurity Schema
// Framework, used by Amazon Security Lake and SIEMs).

#include <nlohmann/json.hpp>

#include "model/audit_event.h"

namespace jit::audit {

// One event as an OCSF 1.1 "User Access Management" event (class_uid 3005, category 3):
// activity "Assign Privileges" for request.activated, "Revoke Privileges" for request.ended,
// "Other" (99) for the rest; severity from the event's (info 1, warning 3, high 4); the actor;
// the account and permission set where the event names them; jit's own fields (seq, action,
// request id, details, the hashes) under "unmapped", so nothing is lost. Invalid UTF-8 in
// event text is replaced.
nlohmann::json ToOcsf(const model::AuditEvent& e);

}  // namespace jit::audit
