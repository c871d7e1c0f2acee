#pragma once
// An access request as the store keeps it: its state, approvals and pending extension. Plain
// structs; the rules that move a request from one state to another are workflow/'s. Shared by
// store, audit, notify, workflow and api (the layer below them all).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace jit::model {

// What a request grants is an Identity Center account assignment (account, permission set), or,
// for a rule with `identity_center_groups` (group elevation, docs/POLICY.md), membership in an
// Identity Center group. A group target stands in the same places as an assignment, so that
// rules, decisions, limits, the ledger and the provider treat both alike: its account is
// kGroupAccount (never 12 digits, so never a real account), its permission set name is the
// group's name in the config and its permission set ARN the group's identity store GroupId.
inline constexpr std::string_view kGroupAccount = "group";

// True when `account_id` is kGroupAccount: the target is a group membership.
inline bool IsGroupAccount(std::string_view account_id) { return account_id == kGroupAccount; }

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
  std::string id;                   // "req_" + 26 characters (core/ids.h)
  std::string requester;            // username
  std::string principal_id;         // the requester's Identity Center user id
  std::string account_id;           // 12 digits, or kGroupAccount for a group membership
  std::string account_name;         // kGroupAccount for a group membership
  std::string permission_set_name;  // or the group's name
  std::string permission_set_arn;   // or the group's identity store GroupId
  std::int64_t duration_seconds = 0;
  std::string reason;
  std::string ticket;
  std::string rule;  // name of the policy rule that admitted the request
  // One request for several accounts (issue 16): the ids of every request filed with this one,
  // this one included, in the order the accounts were asked for; empty for a request of one
  // account. Each is granted, revoked and audited on its own; approval, denial and
  // cancellation act on all of them at once.
  std::vector<std::string> batch;
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

}  // namespace jit::model
