#pragma once
// The JSON object of a request, as the HTTP API returns it and as notifications
// carry it (notify::EventJson's "request"): defined once here, so that the two cannot differ.

#include <nlohmann/json.hpp>

#include "model/request.h"

namespace jit::model {

// {"id", "requester", "account": {"id", "name"}, "permission_set": {"name", "arn"},
//  "duration_seconds", "duration", "reason", "ticket", "rule", "break_glass", "state",
//  "approvals_required", "approvals": [{"approver", "comment", "at"}], "created_at", ...,
//  "extension": {...} or null}. Times are RFC 3339; unset times and empty optional strings are
// null. Pure function.
nlohmann::json RequestToJson(const Request& r);

}  // namespace jit::model
