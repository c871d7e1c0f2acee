#pragma once
// How the workflow names and makes its jobs (shared by workflow.cc and notifications.cc).

#include <string>
#include <string_view>

#include "core/clock.h"
#include "model/job.h"

namespace jit::workflow {

// The actor that the audit trail names for what jit does by itself (expiry, revocation, drift).
inline constexpr std::string_view kSystemActor = "jit";

// Each request has at most one grant, revoke and approval-timeout job, so their ids are derived
// from the request id: putting a job again replaces it, and a replayed transition cannot
// enqueue a duplicate.
inline std::string JobId(model::JobKind kind, const std::string& request_id) {
  return std::string(model::JobKindName(kind)) + ":" + request_id;
}

// A job `id` of `kind` for `request_id`, due at `due`, made at `now`, with `payload`.
inline model::Job MakeJobWithId(std::string id, model::JobKind kind, const std::string& request_id,
                                Time due, Time now, std::string payload = "{}") {
  model::Job j;
  j.id = std::move(id);
  j.kind = kind;
  j.request_id = request_id;
  j.due_at = due;
  j.first_due_at = due;
  j.created_at = now;
  j.payload = std::move(payload);
  return j;
}

inline model::Job MakeJob(model::JobKind kind, const std::string& request_id, Time due, Time now) {
  return MakeJobWithId(JobId(kind, request_id), kind, request_id, due, now);
}

}  // namespace jit::workflow
