#pragma once
// A durable unit of work of the job queue (outbox entries and timers), as the store keeps it.

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace jit::model {

enum class JobKind {
  kGrant,            // create the assignment, then poll until it exists
  kRevoke,           // due at expiry: delete the assignment, then poll until it is gone
  kApprovalTimeout,  // due at the approval deadline
  kNotify,           // deliver a notification
  kCutoff,           // session cut-off: deny an ended grant's open AWS sessions (cutoff/)
  kCutoffLift,       // take that denial out once those sessions have expired
  kActivitySummary,  // session activity: read and audit a grant's CloudTrail events (activity/)
};
// "grant", "revoke", "approval_timeout", "notify", "session_cutoff", "session_cutoff_lift",
// "activity_summary"
std::string_view JobKindName(JobKind k);
std::optional<JobKind> ParseJobKind(std::string_view name);

// A durable unit of work: an outbox entry or a timer.
struct Job {
  std::string id;  // "job_" + 26 characters
  JobKind kind = JobKind::kGrant;
  std::string request_id;
  Time due_at;              // run at or after this time
  Time first_due_at;        // the due time it was created with (lag is measured from it)
  int attempts = 0;         // failed attempts so far
  std::string lease_owner;  // who is running it now (empty: nobody)
  std::optional<Time> lease_until;
  std::string last_error;
  std::string payload;  // JSON text, kind-specific ("{}" when none)
  Time created_at;
};

}  // namespace jit::model
