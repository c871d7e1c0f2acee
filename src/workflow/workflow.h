#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "findings/finding.h"
#include "findings/settings.h"
#include "model/identity.h"
#include "policy/config.h"
#include "policy/explain.h"
#include "policy/policy.h"
#include "provider/provider.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "tickets/jira.h"
#include "workflow/notifications.h"
#include "workflow/observer.h"
#include "workflow/report.h"
#include "workflow/standing.h"

namespace jit::workflow {

struct SubmitInput {
  std::string account;         // id or name
  std::string permission_set;  // name or ARN
  Duration duration{0};
  std::string reason;
  std::string ticket;
  // A scheduled start within the rule's schedule_window; none: at once (policy::AccessRequest).
  std::optional<Time> start_at;
  // Several accounts (ids or names), instead of `account`: one request per account, filed
  // together (model::Request::batch) and decided once (Workflow::Submit).
  std::vector<std::string> accounts;
};

// Page sizes: List takes a limit of 1..kMaxListLimit, Audit 1..kMaxAuditLimit. Outside them
// both answer PageLimitError(max): InvalidArgument "limit must be a whole number from 1 to <max>".
inline constexpr int kMaxListLimit = 500;
inline constexpr int kMaxAuditLimit = 1000;
Status PageLimitError(int max);

// A refused call worth a trace in the audit trail (docs/ARCHITECTURE.md "Who checks what"): a
// bad token or Slack signature, a CSRF failure, a permission refusal, acting on a request the
// caller cannot see, a per-user limit. The HTTP server decides which answers are refusals and
// how many per source it writes (api/refusal_audit.h).
struct Refusal {
  std::string actor;            // who the caller proved to be; "" when unauthenticated
  std::string source;           // the client's address; "" when unknown
  std::string request_id;       // the jit request the call named, if any
  std::string method;           // "POST"
  std::string path;             // without the query; bounded and printable (the log's form)
  int status = 0;               // the HTTP status answered: 401, 403, 404, 429
  std::string code;             // the error code answered ("permission_denied")
  std::string message;          // the error message answered
  std::int64_t suppressed = 0;  // refusals from this source left out since the last one written
};

struct ListInput {
  std::optional<model::RequestState> state;
  bool mine = false;  // only the caller's own requests
  // Only the requests waiting for the caller's decision, newest first: pending requests, and
  // active grants whose extension waits, whose approvers include the caller, that are not the
  // caller's own and that the caller has not approved yet. At most `limit` of them, without
  // paging (next_cursor is empty); `state`, `review` and `cursor` must not be given with it.
  bool awaiting = false;
  // "open" or "closed": only break-glass requests whose post-incident review is so; empty: all.
  std::string review;
  int limit = 50;  // 1..kMaxListLimit
  std::string cursor;
};

// A request with its history (the audit events that name it, oldest first).
struct RequestView {
  model::Request request;
  std::vector<model::AuditEvent> history;
  // A request filed for several accounts: every request of it the caller may see, this one
  // included, in the order they were asked for (model::Request::batch); empty otherwise.
  std::vector<model::Request> batch;
};

// A policy dry run, with the config it was made against (the explanation points into it).
struct ExplainView {
  std::shared_ptr<const policy::Config> config;
  policy::Explanation explanation;
};

// What Workflow::ActOnFindings did with one finding of a delivery.
struct FindingOutcome {
  std::string id;  // the finding's id
  // "acted" (it ended access), "ignored" (below the rules' bar, or it names nobody who holds or
  // awaits access) or "duplicate" (acted on before: nothing done).
  std::string outcome;
  std::string why;                   // for "ignored": why
  std::vector<std::string> users;    // the usernames whose requests it ended
  std::vector<std::string> revoked;  // the approved or active requests it revoked
  std::vector<std::string> denied;   // the pending requests it denied
};

// What Workflow::ActOnFindings did with a delivery.
struct FindingsOutcome {
  std::string event_id;
  bool duplicate = false;                // the event, or every finding in it, was acted on before
  std::vector<FindingOutcome> findings;  // in the event's order
};

struct WorkflowOptions {
  // Grants that fail this many times in a row (retryable errors) fail for good.
  int max_grant_attempts = 8;
  // How often an asynchronous create or delete is polled.
  Duration poll_interval = Duration(1000);
  // How long one listing of an (account, permission set) may tell the grants after it that a
  // user does not hold the assignment yet (PresenceCheck, workflow/presence_check.h). 0: each
  // grant lists.
  Duration standing_check_reuse = std::chrono::seconds(5);
  // Resolves the Identity Center user id of a caller whose Identity carries none (Submit).
  // Not owned; must outlive the workflow. nullptr: such callers cannot request access.
  provider::Directory* directory = nullptr;
  // Lists every assignment of the pairs jit offers, groups' too, for StandingAccess. Not owned;
  // must outlive the workflow. nullptr: StandingAccess answers FailedPrecondition.
  provider::AssignmentInventory* inventory = nullptr;
  // Hears committed audit events and issued revocations (metrics). Not owned; may be null.
  WorkflowObserver* observer = nullptr;
  // Turns each step's audit events into notify jobs in the same transaction, and runs them.
  // Not owned; may be null (no notifications).
  Notifications* notifications = nullptr;
  // Runs session cut-off jobs (cutoff/engine.h); the workflow puts them when a grant's
  // assignment is deleted and cut-off is on for it. Not owned; may be null (such jobs wait).
  scheduler::JobRunner* cutoff = nullptr;
  // Runs session activity summary jobs (activity/service.h); when set, the end of a grant that
  // was active in an account puts one (due at once; it waits for the window to close). Not
  // owned; may be null (session activity is off: no such jobs are put).
  scheduler::JobRunner* activity = nullptr;
  // Checks the tickets of requests under rules with `ticket_check` (tickets/jira.h) before they
  // are filed. Not owned; may be null: such requests are then refused (Unavailable), except
  // break-glass ones, which go ahead with the check recorded as not made.
  tickets::TicketChecker* tickets = nullptr;
  // A revocation still failing this long after it was due is reported once: audited as
  // "revoke.overdue" (high) and sent to the security audience.
  Duration revoke_overdue_after = std::chrono::seconds(60);
  // The config's `findings:` rules in force (findings/settings.h), read at each delivery so that
  // a reload applies. Empty function, or a result that is null or Empty(): findings are off.
  std::function<std::shared_ptr<const findings::Settings>()> finding_rules;
};

// The request state machine (docs/ARCHITECTURE.md "Request lifecycle"):
//
//   pending --approve (k of n)--> approved --grant ok--> active --expiry/revoke--> revoking
//   --> ended; pending --> denied | cancelled | timed_out; approved --> failed.
//
// Every transition is one store transaction that updates the request, appends its audit
// event and puts its follow-up jobs. Decisions re-read the request inside the transaction, so
// two racing decisions cannot both win. Thread-safe.
//
// Errors of the caller-facing methods: InvalidArgument (bad input or outside policy),
// PermissionDenied (not allowed: self-approval, not an approver, not your request),
// NotFound (no such request, or one the caller may not see), FailedPrecondition (wrong state),
// Unavailable (store).
class Workflow final : public scheduler::JobRunner {
 public:
  Workflow(store::Store& store, policy::ConfigHolder& config, provider::Provider& provider,
           Clock& clock, WorkflowOptions options = {});

  // A new request, decided by policy::Evaluate at the clock's now. Auto-approved and
  // break-glass requests are approved at once; their grant runs at once, or at `start_at` when
  // the request is scheduled (then the request stays approved until its start).
  //
  // Then the per-user limits of the policy (policy::Limits), except for break-glass requests,
  // which no limit refuses: ResourceExhausted when the requester has submitted
  // `requests_per_minute_per_user` requests in the last 60 s (counted in this process's memory;
  // refused submissions do not count) or has `open_requests_per_user` requests open;
  // FailedPrecondition naming the existing request when `refuse_duplicates` and the requester
  // has an open request for the same account and permission set whose time overlaps this one's.
  // The open requests are read in the transaction that inserts the new one, so racing
  // submissions cannot pass a cap together. On ResourceExhausted, `*retry_after` (when not null)
  // is how long to wait before trying again (more than zero): until a slot of the rate limit
  // frees, or until the first open request closes by itself (approval time-out, expiry).
  //
  // `history` (when not null) receives the new request's history as the submit committed it
  // (its audit events, oldest first): what Get would answer just after, without reading it back
  // (issue 18: the POST answer built from the submit). Left empty for a request filed for
  // several accounts.
  Result<model::Request> Submit(const model::Identity& who, const SubmitInput& in,
                                Duration* retry_after = nullptr,
                                std::vector<model::AuditEvent>* history = nullptr);
  // One approval by one of the request's approvers (never the requester): a pending request is
  // approved with its rule's number of distinct approvals; an active request's pending
  // extension is applied with as many.
  Result<model::Request> Approve(const model::Identity& who, const std::string& id,
                                 const std::string& comment);
  // An approver or admin (never the requester) refuses a pending request, or an active
  // request's pending extension (the grant then runs on to its expiry).
  Result<model::Request> Deny(const model::Identity& who, const std::string& id,
                              const std::string& reason);
  // Only the requester, while pending.
  Result<model::Request> Cancel(const model::Identity& who, const std::string& id);
  // The requester or an admin, while approved or active: the access ends now.
  Result<model::Request> Revoke(const model::Identity& who, const std::string& id,
                                const std::string& reason);

  // The system ends a request whose account has left jit's scope (org/refresher.h): a pending
  // one is denied by "jit" ("request.denied"), an approved or active one is revoked
  // ("request.revoked" by "jit"; the access is removed as on any revocation). Both events are
  // "warning" with details {reason, cause: "account_scope"}; `reason` becomes the end reason.
  // FailedPrecondition for a request in any other state; NotFound for an unknown id. No
  // permission check: the caller is the broker itself.
  Result<model::Request> EndOutOfScope(const std::string& id, const std::string& reason);
  // Audits "accounts.scope_changed" (by "jit"; "warning" when accounts left, else "info") with
  // the account ids that came into and left the scope and the number of accounts now in it.
  Status RecordScopeChange(const std::vector<std::string>& added,
                           const std::vector<std::string>& removed, std::size_t total);

  // Only the requester, while active: the access lasts `extra` longer (whole seconds, at least
  // one). The rule that admitted the request must still cover the caller, now, for the new
  // total (policy::CheckExtension): InvalidArgument when the total is above the rule's or the
  // permission set's maximum or outside the rule's hours, PermissionDenied when the rule no
  // longer covers the caller. Auto-approved and break-glass grants extend at once: the expiry
  // (and its revoke job) moves and "request.extended" is audited. Grants of rules with
  // approvers get a pending extension ("extension.requested") that the request's approvers
  // approve (as many as the request needed) or deny before min(now + the rule's approval
  // timeout, expires_at); it lapses then ("extension.timed_out"), or when the grant ends first
  // ("extension.cancelled"). FailedPrecondition while one is pending already.
  Result<model::Request> Extend(const model::Identity& who, const std::string& id, Duration extra);
  // Closes the post-incident review of a break-glass request: admins and the approvers of any
  // rule may, never the requester (PermissionDenied). FailedPrecondition for a request that is
  // not break-glass or whose review is closed already. Audits "breakglass.reviewed".
  Result<model::Request> Review(const model::Identity& who, const std::string& id,
                                const std::string& comment);

  // Reading: requesters see their own requests, approvers those they may approve, admins and
  // auditors everything; the approvers of any rule also see break-glass requests (they may
  // review them). Another's request reads as NotFound.
  Result<RequestView> Get(const model::Identity& who, const std::string& id);

  // Writes "access.refused" (severity "warning"; actor the caller, or "anonymous") with the
  // refusal's source, method, path, status, code, message and suppressed count as details.
  // Errors: the store's.
  Status RecordRefusal(const Refusal& refusal);
  Result<store::RequestPage> List(const model::Identity& who, const ListInput& in);
  // What the policy in force would decide for `subject` asking for `ask` now, rule by rule
  // (`jit policy explain`). Anyone may explain for themselves; explaining for someone else takes
  // an admin or an auditor (PermissionDenied otherwise). Nothing is written.
  Result<ExplainView> Explain(const model::Identity& who, const model::Identity& subject,
                              const policy::AccessRequest& ask);

  // Reading the audit trail: admins and auditors only (PermissionDenied "only admins and
  // auditors can read the audit trail" otherwise). The one check of that permission: Audit makes
  // it, and so does the API before it verifies the trail (GET /v1/audit/verify).
  Status CheckAuditReader(const model::Identity& who);
  // The events after `after_seq` (>= 0), at most `limit` (1..kMaxAuditLimit). InvalidArgument for
  // either out of range, checked before CheckAuditReader.
  Result<std::vector<model::AuditEvent>> Audit(const model::Identity& who, std::int64_t after_seq,
                                               int limit);

  // The KPIs of the requests created in the last `window` (workflow/report.h, docs/OPERATIONS.md
  // "Reports"): admins and auditors only (PermissionDenied "only admins and auditors can read
  // reports"). InvalidArgument for a window not in (0, kMaxReportWindow], checked first.
  Result<ReportSummary> Report(const model::Identity& who, Duration window);
  // The standing access in Identity Center of the pairs jit offers, in `account` (an id or name
  // of the catalog; empty: every account): workflow/standing.h ListStanding over the ledger.
  // Admins and auditors only (PermissionDenied "only admins and auditors can list standing
  // access"); InvalidArgument for an account not in the catalog; FailedPrecondition when the
  // workflow has no inventory (WorkflowOptions::inventory); Unavailable (store, Identity Center).
  // Nothing is written.
  Result<StandingInventory> StandingAccess(const model::Identity& who, std::string_view account);

  // Revocation on a threat finding (docs/FINDINGS.md). Only an automation identity may
  // (Identity::automation; PermissionDenied "only an automation token (auth.automation) can post
  // findings" for anyone else); FailedPrecondition when findings are off
  // (WorkflowOptions::finding_rules); InvalidArgument for an event without findings.
  //
  // In one transaction: a delivery whose event id, or a finding whose id, was acted on before
  // changes nothing ("duplicate"; not audited). A finding below the rules' bar
  // (findings::Decide), or naming nobody who holds or awaits access, is audited as
  // "finding.ignored" (info) and not remembered, so that a later delivery may still act. A
  // finding that acts ends every open request of each user it names (a principal that equals a
  // requester's username or Identity Center user id): pending ones are denied, approved and
  // active ones revoked (their assignments removed and, where cut-off is on, their sessions cut
  // off, as on any revocation), each audited with the finding's id (cause "finding"); then
  // "finding.acted" (high) is audited, which notifies the security audience
  // ("finding.revoked"), and the finding (and the event) are remembered as store records of kind
  // "finding" so that a re-delivery, to this replica or another, acts once.
  Result<FindingsOutcome> ActOnFindings(const model::Identity& who, const findings::Event& event);

  // scheduler::JobRunner: grant, revoke and approval-timeout jobs.
  scheduler::JobOutcome Run(const model::Job& job) override;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace jit::workflow
