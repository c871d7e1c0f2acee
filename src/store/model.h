#pragma once
// Data the store keeps. Plain structs; the store knows their shape, not the rules that move a
// request from one state to another (that is workflow/).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace jit::store {

enum class RequestState {
  kPending,
  kApproved,
  kActive,
  kRevoking,
  kEnded,
  kDenied,
  kCancelled,
  kTimedOut,
  kFailed,
};

// "pending", "approved", "active", "revoking", "ended", "denied", "cancelled", "timed_out",
// "failed".
std::string_view RequestStateName(RequestState s);
std::optional<RequestState> ParseRequestState(std::string_view name);
// ended, denied, cancelled, timed_out, failed.
bool IsTerminal(RequestState s);

struct Approval {
  std::string approver;  // username
  std::string comment;
  Time at;
};

// An extension of an active grant that waits for approval (rules with approvers). Only one at a
// time; it lapses at `deadline` (never later than the grant's expiry) unless approved before.
struct PendingExtension {
  std::int64_t seconds = 0;         // how much longer the grant would last, at least 1
  Time requested_at;                // when the requester asked
  Time deadline;                    // approvals from then on are refused
  std::vector<Approval> approvals;  // distinct approvers so far
};

// One access request, as it stands now. Its history is the audit events that name it.
struct Request {
  std::string id;            // "req_" + 26 characters (core/ids.h)
  std::string requester;     // username
  std::string principal_id;  // the requester's Identity Center user id
  std::string account_id;    // 12 digits
  std::string account_name;
  std::string permission_set_name;
  std::string permission_set_arn;
  std::int64_t duration_seconds = 0;
  std::string reason;
  std::string ticket;
  std::string rule;  // name of the policy rule that admitted the request
  bool break_glass = false;
  int approvals_required = 0;               // 0 = approved automatically
  std::vector<std::string> approver_users;  // who may approve, fixed when submitted
  std::vector<std::string> approver_groups;
  std::vector<Approval> approvals;
  RequestState state = RequestState::kPending;
  Time created_at;
  std::optional<Time> approval_deadline;  // pending requests time out then
  std::optional<Time> start_at;           // a scheduled start: no grant is made before it
  std::optional<Time> decided_at;         // approved, denied, cancelled or timed out
  std::optional<Time> activated_at;       // the assignment exists from then on
  std::optional<Time> expires_at;         // activated_at + duration
  std::optional<Time> ended_at;
  std::string decided_by;           // who denied or cancelled
  std::string end_reason;           // "expired", "revoked by carol: ...", ...
  std::string failure_reason;       // why a grant failed for good
  std::string grant_operation_id;   // the provider's id for an asynchronous grant
  std::string revoke_operation_id;  // likewise for the revocation
  // The post-incident review of a break-glass request: "open" from submission until an
  // approver or admin closes it, then "closed"; empty for other requests.
  std::string review_state;
  std::string reviewed_by;          // who closed the review
  std::string review_comment;       // what they wrote
  std::optional<Time> reviewed_at;  // when
  // An extension the requester asked for that still waits for approval; none most of the time.
  std::optional<PendingExtension> extension;
  // When a revocation that kept failing past its due time was reported (once per request).
  std::optional<Time> revoke_overdue_at;
  std::int64_t version = 0;  // bumped by every update (optimistic concurrency)
};

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

enum class JobKind {
  kGrant,            // create the assignment, then poll until it exists
  kRevoke,           // due at expiry: delete the assignment, then poll until it is gone
  kApprovalTimeout,  // due at the approval deadline
  kNotify,           // deliver a notification
};
std::string_view JobKindName(JobKind k);  // "grant", "revoke", "approval_timeout", "notify"
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

enum class LedgerOrigin {
  kJit,       // jit created the assignment; jit deletes it when the last holder ends
  kStanding,  // it existed before jit granted it; jit never deletes it
};
enum class LedgerState {
  kGranting,  // a create is under way
  kPresent,   // the assignment exists
  kRevoking,  // a delete is under way
};

// "jit", "standing" and back; "granting", "present", "revoking" and back (how engines keep them).
std::string_view LedgerOriginName(LedgerOrigin o);
std::optional<LedgerOrigin> ParseLedgerOrigin(std::string_view name);
std::string_view LedgerStateName(LedgerState s);
std::optional<LedgerState> ParseLedgerState(std::string_view name);

// What jit knows of one Identity Center assignment (principal, account, permission set).
struct LedgerEntry {
  std::string principal_id;
  std::string account_id;
  std::string permission_set_arn;
  LedgerOrigin origin = LedgerOrigin::kJit;
  LedgerState state = LedgerState::kGranting;
  std::vector<std::string> holders;  // ids of the requests that rely on it
  std::string operation_id;          // the create or delete under way, if any
  Time updated_at;
};

}  // namespace jit::store
