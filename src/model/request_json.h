#pragma once
// The JSON object of a request, as the HTTP API returns it and as notifications carry it
// (notify::EventJson's "request"): defined once here, so that the two cannot differ.

#include <nlohmann/json.hpp>

#include "model/request.h"

namespace jit::model {

// The request object: id, requester, account {id, name}, permission_set {name, arn},
// duration_seconds, duration, reason, ticket, rule, break_glass, state, approvals_required,
// approvals [{approver, comment, at}], the times (RFC 3339 UTC, null when unset), decided_by,
// end_reason and failure_reason, start_at (a scheduled start; null: at once), the break-glass
// review: review_state ("open", "closed"; null for requests that are not break-glass),
// reviewed_by, review_comment, reviewed_at, and extension: null, or the extension awaiting
// approval {duration_seconds, duration, requested_at, deadline, approvals_required,
// approvals}. Empty optional strings are null. Pure function.
nlohmann::json RequestToJson(const Request& r);

}  // namespace jit::model
