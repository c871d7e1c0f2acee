#include "workflow/workflow.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "core/crypto.h"
#include "core/duration.h"
#include "core/ids.h"
#include "core/retry.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "cutoff/engine.h"
#include "model/identity.h"
#include "workflow/jobs.h"
#include "workflow/presence_check.h"
#include "workflow/rate_limiter.h"

namespace jit::workflow {
namespace {

using json = nlohmann::json;
using model::AuditEvent;
using model::Job;
using model::JobKind;
using model::LedgerEntry;
using model::LedgerOrigin;
using model::LedgerState;
using model::Request;
using model::RequestState;
using scheduler::JobOutcome;
using store::Tx;

provider::Assignment AssignmentOf(const Request& r) {
  return {r.principal_id, r.account_id, r.permission_set_arn};
}

// The ledger entry of `a` without its holders (store::Tx::GetLedgerHead), and whether
// request_id is one of them: what the grant and revoke jobs decide from, whatever the number
// of holders (no holder list is read or written on their paths).
struct HeldEntry {
  std::optional<store::LedgerHead> head;
  bool held = false;  // request_id holds it (false without an entry)
};
Result<HeldEntry> ReadLedger(Tx& tx, const provider::Assignment& a, const std::string& request_id) {
  HeldEntry out;
  JIT_ASSIGN_OR_RETURN(out.head,
                       tx.GetLedgerHead(a.principal_id, a.account_id, a.permission_set_arn));
  if (out.head) {
    JIT_ASSIGN_OR_RETURN(out.held, tx.IsLedgerHolder(a.principal_id, a.account_id,
                                                     a.permission_set_arn, request_id));
  }
  return out;
}

Status AppendEvent(Tx& tx, Time now, std::string_view actor, std::string_view action,
                   const std::string& request_id, std::string_view severity,
                   const json& details = json::object()) {
  AuditEvent e;
  e.at = now;
  e.actor = std::string(actor);
  e.action = std::string(action);
  e.request_id = request_id;
  e.severity = std::string(severity);
  e.details = details.dump();
  auto appended = tx.AppendAudit(std::move(e));
  return appended.error();
}

// When the grant of an approved request may run: at its scheduled start, or now.
Time GrantDue(const Request& r, Time now) {
  return r.start_at && *r.start_at > now ? *r.start_at : now;
}

std::string StateName(RequestState s) { return std::string(model::RequestStateName(s)); }

// The time a request holds or asks for: an active grant's, else from its start (GrantDue) for
// its duration.
std::pair<Time, Time> TimeSpanOf(const Request& r, Time now) {
  if (r.state == RequestState::kActive && r.activated_at && r.expires_at) {
    return {*r.activated_at, *r.expires_at};
  }
  Time start = GrantDue(r, now);
  return {start, start + std::chrono::seconds(r.duration_seconds)};
}

bool SpansOverlap(const std::pair<Time, Time>& a, const std::pair<Time, Time>& b) {
  return a.first < b.second && b.first < a.second;
}

// How long until one of `open` closes without anyone acting: a pending request at its approval
// deadline, an approved or active one at the end of its time. A minute when none says.
// The one check of the readers' permissions (the audit trail, reports, standing access): admins
// and auditors only; PermissionDenied "only admins and auditors can <what>" otherwise.
Status RequireAdminOrAuditor(const policy::Config& config, const model::Identity& who,
                             std::string_view what) {
  if (policy::IsAdmin(config, who) || policy::IsAuditor(config, who)) return OkStatus();
  return PermissionDeniedError("only admins and auditors can " + std::string(what));
}

Duration UntilOneCloses(const std::vector<Request>& open, Time now) {
  std::optional<Time> first;
  for (const Request& r : open) {
    std::optional<Time> closes;
    if (r.state == RequestState::kPending) {
      closes = r.approval_deadline;
    } else {
      closes = TimeSpanOf(r, now).second;
    }
    if (closes && (!first || *closes < *first)) first = closes;
  }
  if (!first) return std::chrono::minutes(1);
  return std::max<Duration>(std::chrono::seconds(1), std::chrono::ceil<Duration>(*first - now));
}

// Submit's refusal of a request whose requester already has `open` for the same target.
Status DuplicateOf(const Request& open) {
  std::string target = model::IsGroupAccount(open.account_id)
                           ? "the group " + open.permission_set_name
                           : open.account_name + " / " + open.permission_set_name;
  std::string what = "you already have request " + open.id + " for " + target + " (" +
                     StateName(open.state) + "): ";
  switch (open.state) {
    case RequestState::kPending:
      return FailedPreconditionError(what + "wait for its decision, or cancel it first");
    case RequestState::kActive:
      return FailedPreconditionError(what + "extend it instead, or revoke it first");
    default:
      return FailedPreconditionError(what + "revoke it first to ask again");
  }
}

Status WrongState(const Request& r, std::string_view wanted) {
  return FailedPreconditionError("request " + r.id + " is " + StateName(r.state) + ", not " +
                                 std::string(wanted));
}

// ---- Threat findings ---------------------------------------------------------------------------

// The store records that remember the findings and events acted on (store::Tx::InsertRecord).
constexpr std::string_view kFindingRecord = "finding";

// A record key of at most 400 bytes: `prefix` and the id, or its SHA-256 when the id is long.
std::string FindingKey(std::string_view prefix, std::string_view id) {
  constexpr std::size_t kMaxKey = 400;
  std::string key = std::string(prefix) + "/" + std::string(id);
  // A record key is UTF-8 without NUL (store::CheckRecord); an id from JSON may hold "\u0000".
  if (key.size() <= kMaxKey && key.find('\0') == std::string::npos) return key;
  return std::string(prefix) + "/sha256:" + Sha256Hex(id);
}

// The audit details every finding event carries.
json FindingDetails(const findings::Event& event, const findings::Finding& f) {
  return json{{"finding_id", f.id},
              {"event_id", event.event_id},
              {"source", findings::SourceName(f.source)},
              {"types", f.types},
              {"severity", findings::SeverityName(f.severity)},
              {"severity_given", f.severity_text},
              {"title", f.title},
              {"account", f.account},
              {"region", f.region},
              {"principals", f.principals}};
}

}  // namespace

class Workflow::Impl {
 public:
  Impl(store::Store& store, policy::ConfigHolder& config, provider::Provider& provider,
       Clock& clock, WorkflowOptions options)
      : store_(store),
        config_(config),
        provider_(provider),
        clock_(clock),
        options_(std::move(options)),
        presence_(provider, clock, options_.standing_check_reuse) {}

  // Runs `fn` in a transaction, again when it loses a race (Aborted); the observer hears what
  // committed.
  Status Transact(const std::function<Status(Tx&)>& fn,
                  std::vector<model::AuditEvent>* committed = nullptr) {
    return TransactAndTell(
        store_, options_.observer, fn,
        options_.notifications != nullptr ? options_.notifications->Hook() : BeforeCommit(),
        committed);
  }

  // ---- Who may see and do what -------------------------------------------------------------

  bool MaySee(const policy::Config& config, const model::Identity& who, const Request& r) const {
    if (r.requester == who.username) return true;
    if (policy::IsAdmin(config, who) || policy::IsAuditor(config, who)) return true;
    if (r.break_glass && policy::MayApproveAnything(config, who)) return true;
    return MayApprove(who, r);
  }

  static bool MayApprove(const model::Identity& who, const Request& r) {
    policy::Subjects approvers{r.approver_users, r.approver_groups};
    return !approvers.Empty() && approvers.Contains(who);
  }

  // Reads a request inside `tx` for a caller: another's request the caller may not see reads
  // as NotFound, so that ids cannot be probed.
  Result<Request> ReadFor(Tx& tx, const policy::Config& config, const model::Identity& who,
                          const std::string& id) {
    if (!IsWellFormedId(id, "req_")) return NotFoundError("no request " + id);
    auto r = tx.GetRequest(id);
    if (!r.has_value()) {
      if (r.error().code() == StatusCode::kNotFound) return NotFoundError("no request " + id);
      return r.error();
    }
    if (!MaySee(config, who, *r)) return NotFoundError("no request " + id);
    return r;
  }

  // ---- Caller-facing transitions ------------------------------------------------------------

  // Submit's limits on the requester's open requests, read in its transaction `tx`: a duplicate
  // of `r` (same account and permission set, overlapping time) is FailedPrecondition naming it;
  // a request beyond the cap is ResourceExhausted, with `*retry_after` (when not null) set.
  // `rule_cap` (the rule's max_active_per_user; 0: none) caps the requester's open requests
  // under r's rule likewise.
  Status CheckOpenRequests(Tx& tx, const policy::Limits& limits, int rule_cap, const Request& r,
                           Time now, Duration* retry_after) {
    int cap = limits.open_requests_per_user;
    if (!limits.refuse_duplicates && cap <= 0 && rule_cap <= 0) return OkStatus();
    JIT_ASSIGN_OR_RETURN(std::vector<Request> open, tx.OpenRequestsOf(r.requester));
    if (limits.refuse_duplicates) {
      std::pair<Time, Time> asked = TimeSpanOf(r, now);
      for (const Request& o : open) {
        if (o.account_id == r.account_id && o.permission_set_arn == r.permission_set_arn &&
            SpansOverlap(TimeSpanOf(o, now), asked)) {
          return DuplicateOf(o);
        }
      }
    }
    if (cap > 0 && open.size() >= static_cast<std::size_t>(cap)) {
      if (retry_after != nullptr) *retry_after = UntilOneCloses(open, now);
      return ResourceExhaustedError("you have " + std::to_string(open.size()) +
                                    " open requests (pending, approved or active), the most one "
                                    "user may have; cancel one or wait until one ends");
    }
    if (rule_cap > 0) {
      std::vector<Request> same_rule;
      for (const Request& o : open) {
        if (o.rule == r.rule) same_rule.push_back(o);
      }
      if (same_rule.size() >= static_cast<std::size_t>(rule_cap)) {
        if (retry_after != nullptr) *retry_after = UntilOneCloses(same_rule, now);
        return ResourceExhaustedError(
            "you have " + std::to_string(same_rule.size()) + " open requests under rule '" +
            r.rule +
            "', the most it allows one user (max_active_per_user); cancel one or wait "
            "until one ends");
      }
    }
    return OkStatus();
  }

  Result<Request> Submit(const model::Identity& who, const SubmitInput& in, Duration* retry_after,
                         std::vector<model::AuditEvent>* history) {
    if (!in.accounts.empty()) return SubmitBatch(who, in, retry_after);
    auto config = config_.Get();
    policy::AccessRequest ask{in.account, in.permission_set, in.duration,
                              in.reason,  in.ticket,         in.start_at};
    Time now = clock_.Now();
    JIT_ASSIGN_OR_RETURN(policy::Decision d, policy::Evaluate(*config, who, ask, now));
    JIT_ASSIGN_OR_RETURN(std::optional<json> ticket,
                         CheckTicket(who, in.ticket, d.rule->ticket_check, d.break_glass));

    // The per-user limits (policy::Limits), which never refuse break-glass. The rate first, before
    // anything is asked of Identity Center or the store, so that a flood is turned away cheaply.
    const policy::Limits& limits = config->limits;
    bool limited = !d.break_glass;
    std::optional<MonoTime> rate_slot;
    if (limited) {
      JIT_ASSIGN_OR_RETURN(rate_slot, AdmitSubmission(who, limits, retry_after));
    }
    Result<Request> filed =
        File(who, in, d, now, limited ? &limits : nullptr, retry_after, history, ticket);
    // A submission that filed nothing does not count against the rate.
    if (!filed.has_value() && rate_slot) submissions_.Release(who.username, *rate_slot);
    return filed;
  }

  // The per-user rate of submissions (limits.requests_per_minute_per_user): the slot taken (to
  // Release when nothing is filed), none without a rate, or ResourceExhausted with
  // `retry_after` set.
  Result<std::optional<MonoTime>> AdmitSubmission(const model::Identity& who,
                                                  const policy::Limits& limits,
                                                  Duration* retry_after) {
    if (limits.requests_per_minute_per_user <= 0) return std::optional<MonoTime>();
    MonoTime mono = clock_.MonoNow();
    Admission admitted =
        submissions_.TryAcquire(who.username, limits.requests_per_minute_per_user, mono);
    if (!admitted.allowed) {
      if (retry_after != nullptr) *retry_after = admitted.retry_after;
      return ResourceExhaustedError(
          "you have asked for access " + std::to_string(limits.requests_per_minute_per_user) +
          " times in the last minute, the most one user may; try again in " +
          FormatDuration(std::chrono::ceil<std::chrono::seconds>(admitted.retry_after)));
    }
    return std::optional<MonoTime>(mono);
  }

  // One request for several accounts (SubmitInput::accounts): every target is decided on its
  // own, then all are filed in one transaction under the strictest terms among them.
  Result<Request> SubmitBatch(const model::Identity& who, const SubmitInput& in,
                              Duration* retry_after) {
    auto config = config_.Get();
    const policy::Limits& limits = config->limits;
    if (in.accounts.size() < 2) {
      return InvalidArgumentError("'accounts' must list at least two accounts (or use 'account')");
    }
    if (static_cast<int>(in.accounts.size()) > limits.max_targets_per_request) {
      return InvalidArgumentError("a request may name at most " +
                                  std::to_string(limits.max_targets_per_request) +
                                  " accounts, not " + std::to_string(in.accounts.size()));
    }
    Time now = clock_.Now();
    std::vector<policy::Decision> decisions;
    std::set<std::string> seen;
    for (const std::string& account : in.accounts) {
      policy::AccessRequest ask{account,   in.permission_set, in.duration,
                                in.reason, in.ticket,         in.start_at};
      Result<policy::Decision> d = policy::Evaluate(*config, who, ask, now);
      if (!d.has_value()) {
        return Status(d.error().code(),
                      "account " + PrintableExcerpt(account, 40) + ": " + d.error().message());
      }
      if (model::IsGroupAccount(d->account->id)) {
        return InvalidArgumentError(
            "a group membership is asked for alone, not among several accounts");
      }
      if (!seen.insert(d->account->id).second) {
        return InvalidArgumentError("account " + d->account->id + " is named twice");
      }
      decisions.push_back(*std::move(d));
    }
    // The strictest terms: break-glass only when every target is; otherwise approval unless
    // every target is automatic, by as many approvers as the most demanding target asks, within
    // the shortest timeout.
    bool all_break_glass = true, any_break_glass = false, all_auto = true;
    int required = 0;
    Duration timeout = Duration::max();
    policy::Subjects all_approvers;
    for (const policy::Decision& d : decisions) {
      all_break_glass = all_break_glass && d.break_glass;
      any_break_glass = any_break_glass || d.break_glass;
      all_auto = all_auto && (d.auto_approve || d.break_glass);
      required = std::max(required, d.approvals_required);
      if (d.approvals_required > 0) timeout = std::min(timeout, d.approval_timeout);
      for (const std::string& u : d.approvers.users) all_approvers.users.push_back(u);
      for (const std::string& g : d.approvers.groups) all_approvers.groups.push_back(g);
    }
    if (any_break_glass && !all_break_glass) {
      return InvalidArgumentError(
          "a break-glass account cannot share a request with accounts that need approval; ask "
          "for it on its own");
    }
    if (!all_auto) {
      for (policy::Decision& d : decisions) {
        d.auto_approve = false;
        d.approvals_required = required;
        d.approval_timeout = timeout;
        // A target whose own rule needs no approval is approved by the approvers of the others
        // (stricter than no approval); the others keep their own rule's approvers.
        if (d.approvers.Empty()) d.approvers = all_approvers;
      }
    }
    // One ticket for every target: checked once, as the most demanding of their rules asks.
    policy::TicketCheck check = policy::TicketCheck::kNone;
    for (const policy::Decision& d : decisions) check = std::max(check, d.rule->ticket_check);
    JIT_ASSIGN_OR_RETURN(std::optional<json> ticket,
                         CheckTicket(who, in.ticket, check, all_break_glass));
    std::optional<MonoTime> rate_slot;
    if (!all_break_glass) {
      JIT_ASSIGN_OR_RETURN(rate_slot, AdmitSubmission(who, limits, retry_after));
    }
    Result<Request> filed = FileBatch(who, in, decisions, now, all_break_glass ? nullptr : &limits,
                                      retry_after, ticket);
    if (!filed.has_value() && rate_slot) submissions_.Release(who.username, *rate_slot);
    return filed;
  }

  Result<Request> FileBatch(const model::Identity& who, const SubmitInput& in,
                            const std::vector<policy::Decision>& decisions, Time now,
                            const policy::Limits* limits, Duration* retry_after,
                            const std::optional<json>& ticket) {
    JIT_ASSIGN_OR_RETURN(std::string principal_id, PrincipalOf(who));
    std::vector<Request> rows;
    std::vector<std::string> ids;
    for (const policy::Decision& d : decisions) {
      rows.push_back(NewRow(who, principal_id, in, d, now));
      ids.push_back(rows.back().id);
    }
    for (Request& r : rows) r.batch = ids;
    Status s = Transact([&](Tx& tx) -> Status {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const policy::Decision& d = decisions[i];
        if (limits != nullptr) {
          Status checked =
              CheckOpenRequests(tx, *limits, d.rule != nullptr ? d.rule->max_active_per_user : 0,
                                rows[i], now, retry_after);
          if (!checked.ok()) {
            return Status(checked.code(),
                          "account " + rows[i].account_id + ": " + checked.message());
          }
        }
        JIT_RETURN_IF_ERROR(InsertFiled(tx, who, rows[i], d, now, ticket));
      }
      return OkStatus();
    });
    if (!s.ok()) return s;
    for (Request& r : rows) {
      r.version = 1;
      LogBreakGlass(r);
    }
    return rows.front();
  }

  // The requester's Identity Center user id: from the identity, else from the directory.
  Result<std::string> PrincipalOf(const model::Identity& who) {
    std::string principal_id = who.principal_id;
    if (principal_id.empty() && options_.directory != nullptr) {
      auto found = options_.directory->UserId(who.username);
      if (!found.has_value()) {
        if (found.error().code() == StatusCode::kNotFound ||
            found.error().code() == StatusCode::kInvalidArgument) {
          return InvalidArgumentError("user " + who.username + " is not known to Identity Center");
        }
        // The broker could not ask (throttled, down, or its role may not): not the caller's
        // fault, and worth a retry.
        return UnavailableError("cannot look up user " + who.username +
                                " in Identity Center: " + found.error().ToString());
      }
      principal_id = std::move(found).value();
    }
    if (principal_id.empty()) {
      return InvalidArgumentError("user '" + who.username +
                                  "' has no Identity Center principal and cannot hold access");
    }
    return principal_id;
  }

  // A new request row as `d` decided it (state and jobs are InsertFiled's).
  Request NewRow(const model::Identity& who, const std::string& principal_id, const SubmitInput& in,
                 const policy::Decision& d, Time now) {
    Request r;
    r.id = NewId("req_", now);
    r.requester = who.username;
    r.principal_id = principal_id;
    r.account_id = d.account->id;
    r.account_name = d.account->name;
    r.permission_set_name = d.permission_set->name;
    r.permission_set_arn = d.permission_set->arn;
    r.duration_seconds = std::chrono::duration_cast<std::chrono::seconds>(d.duration).count();
    r.reason = in.reason;
    r.ticket = in.ticket;
    r.rule = d.rule->name;
    r.break_glass = d.break_glass;
    r.approvals_required = d.approvals_required;
    r.approver_users = d.approvers.users;
    r.approver_groups = d.approvers.groups;
    r.created_at = now;
    r.start_at = d.start_at;
    if (d.break_glass) r.review_state = "open";
    return r;
  }

  // Submit after the policy and the rate: resolves the requester's principal and files the
  // request decided by `d`, checking `limits` (null: none, for break-glass) on the requester's
  // open requests in the same transaction.
  // `history` (may be null) receives the audit events that name the new request, as committed.
  Result<Request> File(const model::Identity& who, const SubmitInput& in, const policy::Decision& d,
                       Time now, const policy::Limits* limits, Duration* retry_after,
                       std::vector<model::AuditEvent>* history = nullptr,
                       const std::optional<json>& ticket = std::nullopt) {
    JIT_ASSIGN_OR_RETURN(std::string principal_id, PrincipalOf(who));
    Request r = NewRow(who, principal_id, in, d, now);
    std::vector<model::AuditEvent> committed;
    Status s = Transact(
        [&](Tx& tx) -> Status {
          if (limits != nullptr) {
            JIT_RETURN_IF_ERROR(
                CheckOpenRequests(tx, *limits, d.rule != nullptr ? d.rule->max_active_per_user : 0,
                                  r, now, retry_after));
          }
          return InsertFiled(tx, who, r, d, now, ticket);
        },
        history != nullptr ? &committed : nullptr);
    if (!s.ok()) return s;
    if (history != nullptr) {
      history->clear();
      for (model::AuditEvent& e : committed) {
        if (e.request_id == r.id) history->push_back(std::move(e));
      }
    }
    r.version = 1;
    LogBreakGlass(r);
    return r;
  }

  static void LogBreakGlass(const Request& r) {
    if (r.break_glass) {
      spdlog::warn("break-glass access {} by {} to {} / {}", r.id, r.requester, r.account_name,
                   r.permission_set_name);
    }
  }

  // The ticket check a rule asks for (`check`), before a request is filed: the details of its
  // `ticket.checked` event, or nullopt when there is no check. The checker's refusal is the
  // request's (TicketChecker::Check). A check that cannot run (Unavailable, or no checker)
  // refuses the request too, except a break-glass one, which goes ahead with the check recorded
  // as not made: an emergency does not wait on Jira.
  Result<std::optional<json>> CheckTicket(const model::Identity& who, const std::string& ticket,
                                          policy::TicketCheck check, bool break_glass) {
    if (check == policy::TicketCheck::kNone) return std::optional<json>();
    json details = {{"system", "jira"},
                    {"ticket", ticket},
                    {"check", std::string(policy::TicketCheckName(check))}};
    Status unavailable = UnavailableError("tickets cannot be checked: jit has no 'jira' set up");
    if (options_.tickets != nullptr) {
      Result<tickets::TicketStatus> found = options_.tickets->Check(
          ticket, who,
          check == policy::TicketCheck::kAssigned ? tickets::Requirement::kAssigned
                                                  : tickets::Requirement::kOpen);
      if (found.ok()) {
        details["result"] = "passed";
        details["ticket"] = found->key;
        details["status"] = found->status;
        details["assignee"] = found->assignee.empty() ? json(nullptr) : json(found->assignee);
        details["assigned_to_requester"] = found->assigned_to_requester;
        return std::optional<json>(std::move(details));
      }
      if (found.error().code() != StatusCode::kUnavailable) return found.error();
      unavailable = found.error();
    }
    if (!break_glass) return unavailable;
    details["result"] = "not_checked";
    details["error"] = unavailable.message();
    return std::optional<json>(std::move(details));
  }

  // Inserts a new request `r` (approved at once, or pending until its approval deadline) with
  // its audit events and its first job; `r` becomes the row as inserted. `ticket`: the details
  // of its ticket check (a `ticket.checked` event after `request.created`), when it had one.
  Status InsertFiled(Tx& tx, const model::Identity& who, Request& r, const policy::Decision& d,
                     Time now, const std::optional<json>& ticket = std::nullopt) {
    json created = {{"account", r.account_id},
                    {"account_name", r.account_name},
                    {"permission_set", r.permission_set_name},
                    {"duration", FormatDuration(d.duration)},
                    {"rule", r.rule},
                    {"reason", r.reason}};
    if (!r.ticket.empty()) created["ticket"] = r.ticket;
    if (r.start_at) created["start_at"] = FormatRfc3339(*r.start_at);
    if (!r.batch.empty()) created["batch"] = r.batch;
    {
      Request row = r;
      std::vector<Job> jobs;
      if (d.break_glass || d.auto_approve) {
        row.state = RequestState::kApproved;
        row.decided_at = now;
        jobs.push_back(MakeJob(JobKind::kGrant, row.id, GrantDue(row, now), now));
      } else {
        row.state = RequestState::kPending;
        row.approval_deadline = now + d.approval_timeout;
        jobs.push_back(MakeJob(JobKind::kApprovalTimeout, row.id, *row.approval_deadline, now));
      }
      JIT_RETURN_IF_ERROR(tx.InsertRequest(row));
      JIT_RETURN_IF_ERROR(
          AppendEvent(tx, now, who.username, "request.created", row.id, "info", created));
      if (ticket.has_value()) {
        bool checked = ticket->value("result", "") == "passed";
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "ticket.checked", row.id,
                                        checked ? "info" : "high", *ticket));
      }
      if (d.break_glass) {
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "breakglass.activated", row.id,
                                        "high", {{"reason", row.reason}, {"review", "open"}}));
      } else if (d.auto_approve) {
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "request.approved", row.id, "info",
                                        {{"automatic", true}, {"rule", row.rule}}));
      }
      for (const Job& j : jobs) JIT_RETURN_IF_ERROR(tx.PutJob(j));
      r = row;
    }
    return OkStatus();
  }

  Result<Request> Approve(const model::Identity& who, const std::string& id,
                          const std::string& comment) {
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      if (r.requester == who.username) {
        return PermissionDeniedError("you cannot approve your own request");
      }
      if (!MayApprove(who, r)) {
        return PermissionDeniedError("you are not an approver of request " + r.id);
      }
      Time now = clock_.Now();
      if (r.state == RequestState::kActive && r.extension) {
        JIT_RETURN_IF_ERROR(ApproveExtension(tx, *config, who, r, comment, now));
        out = std::move(r);
        return OkStatus();
      }
      if (r.state != RequestState::kPending) return WrongState(r, "pending");
      if (r.approval_deadline && now >= *r.approval_deadline) {
        return FailedPreconditionError("the approval window of request " + r.id + " has closed");
      }
      for (const auto& a : r.approvals) {
        if (a.approver == who.username) {
          return FailedPreconditionError("you have already approved request " + r.id);
        }
      }
      // One request for several accounts is decided once: the approval counts for every
      // pending target the approver may approve (each under its own rule's approvers).
      for (const std::string& other_id : r.batch) {
        if (other_id == r.id) continue;
        JIT_ASSIGN_OR_RETURN(Request other, tx.GetRequest(other_id));
        if (other.state != RequestState::kPending || !MayApprove(who, other)) continue;
        if (std::any_of(other.approvals.begin(), other.approvals.end(),
                        [&](const model::Approval& a) { return a.approver == who.username; })) {
          continue;
        }
        JIT_RETURN_IF_ERROR(AddApproval(tx, who, other, comment, now));
      }
      JIT_RETURN_IF_ERROR(AddApproval(tx, who, r, comment, now));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  // Calls `fn` on every other pending request filed with `r` (Request::batch).
  Status ForOtherPending(Tx& tx, const Request& r, const std::function<Status(Request&)>& fn) {
    for (const std::string& other_id : r.batch) {
      if (other_id == r.id) continue;
      JIT_ASSIGN_OR_RETURN(Request other, tx.GetRequest(other_id));
      if (other.state == RequestState::kPending) JIT_RETURN_IF_ERROR(fn(other));
    }
    return OkStatus();
  }

  // Adds `who`'s approval to the pending request `r` (checked by the caller), approves it when
  // it has enough, and updates the row.
  Status AddApproval(Tx& tx, const model::Identity& who, Request& r, const std::string& comment,
                     Time now) {
    {
      r.approvals.push_back({who.username, comment, now});
      int have = static_cast<int>(r.approvals.size());
      JIT_RETURN_IF_ERROR(AppendEvent(
          tx, now, who.username, "request.approval", r.id, "info",
          {{"comment", comment}, {"approvals", have}, {"required", r.approvals_required}}));
      if (have >= r.approvals_required) {
        r.state = RequestState::kApproved;
        r.decided_at = now;
        JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, r.id)));
        JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kGrant, r.id, GrantDue(r, now), now)));
        JIT_RETURN_IF_ERROR(AppendEvent(
            tx, now, who.username, "request.approved", r.id, "info",
            {{"waited_ms",
              std::chrono::duration_cast<std::chrono::milliseconds>(now - r.created_at).count()}}));
      }
      return tx.UpdateRequest(r);
    }
  }

  Status RecordRefusal(const Refusal& f) {
    json details = {{"source", f.source}, {"method", f.method}, {"path", f.path},
                    {"status", f.status}, {"code", f.code},     {"message", f.message}};
    if (f.suppressed > 0) details["suppressed"] = f.suppressed;
    return Transact([&](Tx& tx) {
      return AppendEvent(tx, clock_.Now(), f.actor.empty() ? "anonymous" : f.actor,
                         "access.refused", f.request_id, "warning", details);
    });
  }

  Result<Request> Deny(const model::Identity& who, const std::string& id,
                       const std::string& reason) {
    if (reason.empty()) return InvalidArgumentError("a reason is required to deny a request");
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      if (r.requester == who.username) {
        return PermissionDeniedError("you cannot deny your own request; cancel it instead");
      }
      if (!MayApprove(who, r) && !policy::IsAdmin(*config, who)) {
        return PermissionDeniedError("you are not an approver of request " + r.id);
      }
      Time now = clock_.Now();
      if (r.state == RequestState::kActive && r.extension) {
        // The extension is refused; the grant runs on until its expiry.
        JIT_RETURN_IF_ERROR(
            DropExtension(tx, r, now, who.username, "extension.denied", {{"reason", reason}}));
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
        out = std::move(r);
        return OkStatus();
      }
      if (r.state != RequestState::kPending) return WrongState(r, "pending");
      auto deny = [&](Request& one) -> Status {
        one.state = RequestState::kDenied;
        one.decided_at = now;
        one.ended_at = now;
        one.decided_by = who.username;
        one.end_reason = reason;
        JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, one.id)));
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "request.denied", one.id, "info",
                                        {{"reason", reason}}));
        return tx.UpdateRequest(one);
      };
      // One request for several accounts is decided once: its other pending targets go too.
      JIT_RETURN_IF_ERROR(ForOtherPending(tx, r, deny));
      JIT_RETURN_IF_ERROR(deny(r));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<Request> Cancel(const model::Identity& who, const std::string& id) {
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      if (r.requester != who.username) {
        return PermissionDeniedError("only the requester can cancel request " + r.id);
      }
      if (r.state != RequestState::kPending) return WrongState(r, "pending");
      Time now = clock_.Now();
      auto cancel = [&](Request& one) -> Status {
        one.state = RequestState::kCancelled;
        one.decided_at = now;
        one.ended_at = now;
        one.decided_by = who.username;
        one.end_reason = "cancelled by the requester";
        JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, one.id)));
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, who.username, "request.cancelled", one.id, "info"));
        return tx.UpdateRequest(one);
      };
      JIT_RETURN_IF_ERROR(ForOtherPending(tx, r, cancel));
      JIT_RETURN_IF_ERROR(cancel(r));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<Request> Revoke(const model::Identity& who, const std::string& id,
                         const std::string& reason) {
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      bool admin = policy::IsAdmin(*config, who);
      if (r.requester != who.username && !admin) {
        return PermissionDeniedError("only the requester or an admin can revoke request " + r.id);
      }
      if (r.state != RequestState::kActive && r.state != RequestState::kApproved) {
        return WrongState(r, "approved or active");
      }
      Time now = clock_.Now();
      JIT_RETURN_IF_ERROR(DropExtension(tx, r, now, kSystemActor, "extension.cancelled",
                                        {{"why", "the grant was revoked"}}));
      r.end_reason = "revoked by " + who.username + (reason.empty() ? "" : ": " + reason);
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "request.revoked", r.id,
                                      admin && r.requester != who.username ? "warning" : "info",
                                      {{"reason", reason}}));
      JIT_RETURN_IF_ERROR(BeginRevoke(tx, r, now));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  // Moves an approved or active request `r` to revoking (its end_reason, audit event and
  // dropped extension are the caller's) and puts the job that removes the access; updates the
  // row.
  Status BeginRevoke(Tx& tx, Request& r, Time now) {
    bool was_active = r.state == RequestState::kActive;
    r.state = RequestState::kRevoking;
    // An active grant is removed now. While the grant is still being made, its job hands over
    // to a revocation once the create has settled.
    JIT_ASSIGN_OR_RETURN(auto jobs, tx.JobsForRequest(r.id));
    bool grant_pending = std::any_of(jobs.begin(), jobs.end(),
                                     [](const Job& j) { return j.kind == JobKind::kGrant; });
    if (was_active || !grant_pending) {
      JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kRevoke, r.id, now, now)));
    } else if (r.start_at && now < *r.start_at) {
      // A scheduled grant that has not started: its job runs now, finds nothing made, and
      // ends the request.
      JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kGrant, r.id, now, now)));
    }
    return tx.UpdateRequest(r);
  }

  Result<Request> EndOutOfScope(const std::string& id, const std::string& reason) {
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, tx.GetRequest(id));
      Time now = clock_.Now();
      json details = {{"reason", reason}, {"cause", "account_scope"}};
      if (r.state == RequestState::kPending) {
        r.state = RequestState::kDenied;
        r.decided_at = now;
        r.ended_at = now;
        r.decided_by = std::string(kSystemActor);
        r.end_reason = reason;
        JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, r.id)));
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, kSystemActor, "request.denied", r.id, "warning", details));
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
      } else if (r.state == RequestState::kActive || r.state == RequestState::kApproved) {
        JIT_RETURN_IF_ERROR(DropExtension(tx, r, now, kSystemActor, "extension.cancelled",
                                          {{"why", "the grant was revoked"}}));
        r.end_reason = "revoked by jit: " + reason;
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, kSystemActor, "request.revoked", r.id, "warning", details));
        JIT_RETURN_IF_ERROR(BeginRevoke(tx, r, now));
      } else {
        return WrongState(r, "pending, approved or active");
      }
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  Status RecordScopeChange(const std::vector<std::string>& added,
                           const std::vector<std::string>& removed, std::size_t total) {
    json details = {{"added", added}, {"removed", removed}, {"accounts", total}};
    return Transact([&](Tx& tx) {
      return AppendEvent(tx, clock_.Now(), kSystemActor, "accounts.scope_changed", "",
                         removed.empty() ? "info" : "warning", details);
    });
  }

  // ---- Revocation on a threat finding (docs/FINDINGS.md) ------------------------------------

  // For each name of `names`, the requesters of open requests it names: those whose Identity
  // Center user id it is, and those whose username it is but for case (an identity provider
  // may spell a username otherwise than the role session name does). Read outside the
  // transaction: the store finds open requests by exact requester only.
  Result<std::map<std::string, std::set<std::string>>> RequestersNamed(
      const std::set<std::string>& names) {
    std::map<std::string, std::set<std::string>> out;
    if (names.empty()) return out;
    std::map<std::string, std::vector<std::string>> by_lower;
    for (const std::string& n : names) by_lower[ToLower(n)].push_back(n);
    for (RequestState state :
         {RequestState::kPending, RequestState::kApproved, RequestState::kActive}) {
      store::RequestFilter filter;
      filter.state = state;
      filter.limit = kMaxListLimit;
      do {
        JIT_ASSIGN_OR_RETURN(store::RequestPage page, store_.ListRequests(filter));
        for (const Request& r : page.items) {
          if (names.count(r.principal_id) > 0) out[r.principal_id].insert(r.requester);
          if (auto it = by_lower.find(ToLower(r.requester)); it != by_lower.end()) {
            for (const std::string& n : it->second) out[n].insert(r.requester);
          }
        }
        filter.cursor = page.next_cursor;
      } while (!filter.cursor.empty());
    }
    return out;
  }

  // Ends every open request of the users `f` names, in `tx`; fills o.users, o.revoked and
  // o.denied (empty when it names nobody with an open request).
  Status EndForFinding(Tx& tx, const model::Identity& who, const findings::Event& event,
                       const findings::Finding& f,
                       const std::map<std::string, std::set<std::string>>& named, Time now,
                       FindingOutcome& o) {
    // Each principal names a user by username (case aside), or by Identity Center user id.
    std::map<std::string, Request> open;  // by id, so that two names of one user act once
    for (const std::string& p : f.principals) {
      std::set<std::string> requesters = {p};
      if (auto it = named.find(p); it != named.end()) {
        requesters.insert(it->second.begin(), it->second.end());
      }
      for (const std::string& requester : requesters) {
        JIT_ASSIGN_OR_RETURN(std::vector<Request> theirs, tx.OpenRequestsOf(requester));
        for (Request& r : theirs) {
          if (EqualsIgnoreCase(r.requester, p) || r.principal_id == p) {
            open.emplace(r.id, std::move(r));
          }
        }
      }
    }
    std::string what = std::string(findings::SourceName(f.source)) + " finding " + f.id + " (" +
                       (f.types.empty() ? std::string() : f.types.front() + ", ") +
                       std::string(findings::SeverityName(f.severity)) + ")";
    json details = {{"reason", "threat finding: " + what},
                    {"cause", "finding"},
                    {"finding_id", f.id},
                    {"event_id", event.event_id}};
    std::set<std::string> users;
    for (auto& [id, r] : open) {
      users.insert(r.requester);
      if (r.state == RequestState::kPending) {
        r.state = RequestState::kDenied;
        r.decided_at = now;
        r.ended_at = now;
        r.decided_by = who.username;
        r.end_reason = "denied on a threat finding: " + what;
        JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, r.id)));
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, who.username, "request.denied", r.id, "warning", details));
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
        o.denied.push_back(r.id);
      } else {
        JIT_RETURN_IF_ERROR(DropExtension(tx, r, now, kSystemActor, "extension.cancelled",
                                          {{"why", "the grant was revoked"}}));
        r.end_reason = "revoked on a threat finding: " + what;
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, who.username, "request.revoked", r.id, "warning", details));
        JIT_RETURN_IF_ERROR(BeginRevoke(tx, r, now));
        o.revoked.push_back(r.id);
      }
    }
    o.users.assign(users.begin(), users.end());
    return OkStatus();
  }

  Result<FindingsOutcome> ActOnFindings(const model::Identity& who, const findings::Event& event) {
    if (!who.automation) {
      return PermissionDeniedError("only an automation token (auth.automation) can post findings");
    }
    std::shared_ptr<const findings::Settings> rules =
        options_.finding_rules ? options_.finding_rules() : nullptr;
    if (rules == nullptr || rules->Empty()) {
      return FailedPreconditionError(
          "revocation on findings is off: the config has no findings: section");
    }
    if (event.findings.empty()) return InvalidArgumentError("the event carries no finding");
    std::set<std::string> names;
    for (const findings::Finding& f : event.findings) {
      names.insert(f.principals.begin(), f.principals.end());
    }
    JIT_ASSIGN_OR_RETURN(auto named, RequestersNamed(names));
    const std::string event_key = FindingKey("event", event.event_id);
    FindingsOutcome out;
    Status s = Transact([&](Tx& tx) -> Status {
      out = FindingsOutcome{event.event_id, false, {}};
      Time now = clock_.Now();
      JIT_ASSIGN_OR_RETURN(std::optional<std::string> seen_event,
                           tx.GetRecord(kFindingRecord, event_key));
      bool any_acted = false;
      for (const findings::Finding& f : event.findings) {
        FindingOutcome o;
        o.id = f.id;
        const std::string key = FindingKey(findings::SourceName(f.source), f.id);
        JIT_ASSIGN_OR_RETURN(std::optional<std::string> seen, tx.GetRecord(kFindingRecord, key));
        if (seen_event || seen) {
          o.outcome = "duplicate";
          out.findings.push_back(std::move(o));
          continue;
        }
        json details = FindingDetails(event, f);
        findings::Decision d = findings::Decide(*rules, f);
        if (d.act) {
          JIT_RETURN_IF_ERROR(EndForFinding(tx, who, event, f, named, now, o));
          if (o.revoked.empty() && o.denied.empty()) {
            d.why_not = f.principals.empty()
                            ? "it names no principal"
                            : "it names nobody who holds or awaits access through jit";
          }
        }
        if (!d.why_not.empty()) {
          o.outcome = "ignored";
          o.why = d.why_not;
          details["why"] = d.why_not;
          JIT_RETURN_IF_ERROR(
              AppendEvent(tx, now, who.username, "finding.ignored", "", "info", details));
          out.findings.push_back(std::move(o));
          continue;
        }
        o.outcome = "acted";
        details["users"] = o.users;
        details["revoked"] = o.revoked;
        details["denied"] = o.denied;
        JIT_RETURN_IF_ERROR(
            AppendEvent(tx, now, who.username, "finding.acted", "", "high", details));
        json record = {{"event_id", event.event_id},
                       {"at", FormatRfc3339(now)},
                       {"users", o.users},
                       {"revoked", o.revoked},
                       {"denied", o.denied}};
        JIT_ASSIGN_OR_RETURN(bool inserted, tx.InsertRecord(kFindingRecord, key, record.dump()));
        // Read as absent above, in this transaction: another writer got in between.
        if (!inserted) return AbortedError("finding " + f.id + " was recorded meanwhile");
        any_acted = true;
        out.findings.push_back(std::move(o));
      }
      out.duplicate = std::all_of(out.findings.begin(), out.findings.end(),
                                  [](const FindingOutcome& o) { return o.outcome == "duplicate"; });
      if (any_acted && !seen_event) {
        JIT_ASSIGN_OR_RETURN(
            bool inserted,
            tx.InsertRecord(kFindingRecord, event_key, json{{"at", FormatRfc3339(now)}}.dump()));
        if (!inserted) return AbortedError("event " + event.event_id + " was recorded meanwhile");
      }
      return OkStatus();
    });
    if (!s.ok()) return s;
    for (const FindingOutcome& o : out.findings) {
      if (o.outcome == "duplicate") {
        spdlog::info("finding {} of event {}: acted on before; nothing done",
                     PrintableExcerpt(o.id, 200), PrintableExcerpt(event.event_id, 200));
      } else if (o.outcome == "acted") {
        std::string ended;
        for (const std::string& id : o.revoked) ended += (ended.empty() ? "" : ", ") + id;
        for (const std::string& id : o.denied) ended += (ended.empty() ? "" : ", ") + id;
        spdlog::warn("finding {} of event {} ended the access of {} user(s): {}",
                     PrintableExcerpt(o.id, 200), PrintableExcerpt(event.event_id, 200),
                     o.users.size(), ended);
      }
    }
    return out;
  }

  Result<Request> Extend(const model::Identity& who, const std::string& id, Duration extra) {
    auto extra_s = std::chrono::duration_cast<std::chrono::seconds>(extra);
    if (extra_s.count() < 1) {
      return InvalidArgumentError("an extension must be at least 1s");
    }
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      if (r.requester != who.username) {
        return PermissionDeniedError("only the requester can extend request " + r.id);
      }
      if (r.state != RequestState::kActive || !r.expires_at) return WrongState(r, "active");
      // The rule that admitted the request must still cover it, now, for the longer total.
      Time now = clock_.Now();
      policy::GrantTerms grant{r.account_id, r.permission_set_name, r.rule,
                               std::chrono::seconds(r.duration_seconds)};
      JIT_RETURN_IF_ERROR(policy::CheckExtension(*config, who, grant, extra_s, now).error());
      auto rule = std::find_if(config->rules.begin(), config->rules.end(),
                               [&r](const policy::Rule& x) { return x.name == r.rule; });
      if (rule == config->rules.end()) {
        return PermissionDeniedError("rule " + r.rule + " is no longer in the config");
      }
      if (!rule->approval.automatic && !rule->break_glass) {
        // The same approvers say yes to the extension, as many as the request needed.
        if (r.extension) {
          return FailedPreconditionError("request " + r.id +
                                         " already has an extension awaiting approval");
        }
        model::PendingExtension ext;
        ext.seconds = extra_s.count();
        ext.requested_at = now;
        ext.deadline = std::min(now + rule->approval.timeout, *r.expires_at);
        r.extension = ext;
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "extension.requested", r.id, "info",
                                        {{"extra", FormatDuration(extra_s)},
                                         {"required", r.approvals_required},
                                         {"deadline", FormatRfc3339(ext.deadline)}}));
        JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kApprovalTimeout, r.id, ext.deadline, now)));
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
        out = std::move(r);
        return OkStatus();
      }
      r.duration_seconds += extra_s.count();
      r.expires_at = *r.expires_at + extra_s;
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "request.extended", r.id, "info",
                                      {{"by", who.username},
                                       {"extra", FormatDuration(extra_s)},
                                       {"expires_at", FormatRfc3339(*r.expires_at)}}));
      // The expiry timer moves with the grant (RunRevoke also re-checks expires_at).
      JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kRevoke, r.id, *r.expires_at, now)));
      JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<Request> Review(const model::Identity& who, const std::string& id,
                         const std::string& comment) {
    auto config = config_.Get();
    Request out;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request r, ReadFor(tx, *config, who, id));
      if (r.requester == who.username) {
        return PermissionDeniedError("you cannot review your own break-glass request");
      }
      if (!policy::IsAdmin(*config, who) && !policy::MayApproveAnything(*config, who)) {
        return PermissionDeniedError("only admins and approvers review break-glass requests");
      }
      if (!r.break_glass) {
        return FailedPreconditionError("request " + r.id + " is not break-glass; it has no review");
      }
      if (r.review_state != "open") {
        return FailedPreconditionError("the review of request " + r.id + " is closed already");
      }
      Time now = clock_.Now();
      r.review_state = "closed";
      r.reviewed_by = who.username;
      r.review_comment = comment;
      r.reviewed_at = now;
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "breakglass.reviewed", r.id, "info",
                                      {{"comment", comment}}));
      JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
      out = std::move(r);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }

  // ---- Reading --------------------------------------------------------------------------------

  Result<RequestView> Get(const model::Identity& who, const std::string& id) {
    auto config = config_.Get();
    if (!IsWellFormedId(id, "req_")) return NotFoundError("no request " + id);
    auto r = store_.GetRequest(id);
    if (!r.has_value()) {
      if (r.error().code() == StatusCode::kNotFound) return NotFoundError("no request " + id);
      return r.error();
    }
    if (!MaySee(*config, who, *r)) return NotFoundError("no request " + id);
    JIT_ASSIGN_OR_RETURN(auto history, store_.ListAudit(0, 1000, id));
    RequestView view{std::move(r).value(), std::move(history), {}};
    for (const std::string& other_id : view.request.batch) {
      if (other_id == view.request.id) {
        view.batch.push_back(view.request);
        continue;
      }
      Result<Request> other = store_.GetRequest(other_id);
      if (!other.has_value()) {
        if (other.error().code() == StatusCode::kNotFound) continue;
        return other.error();
      }
      if (MaySee(*config, who, *other)) view.batch.push_back(*std::move(other));
    }
    return view;
  }

  Result<store::RequestPage> List(const model::Identity& who, const ListInput& in) {
    if (in.limit < 1 || in.limit > kMaxListLimit) return PageLimitError(kMaxListLimit);
    if (!in.review.empty() && in.review != "open" && in.review != "closed") {
      return InvalidArgumentError("review must be open or closed");
    }
    auto config = config_.Get();
    if (in.awaiting) return ListAwaiting(who, in);
    store::RequestFilter f;
    f.state = in.state;
    f.limit = in.limit;
    f.cursor = in.cursor;
    if (in.mine) f.requester = who.username;
    bool sees_all = policy::IsAdmin(*config, who) || policy::IsAuditor(*config, who);
    if (in.review.empty() && (in.mine || sees_all)) return store_.ListRequests(f);

    // Everyone else sees their own requests and those they may approve, and the store does not
    // index reviews: page through the store, keeping what is visible and asked for, until the
    // page is full.
    store::RequestPage out;
    f.limit = 500;
    constexpr int kMaxScannedPages = 40;
    for (int page = 0; page < kMaxScannedPages; ++page) {
      JIT_ASSIGN_OR_RETURN(store::RequestPage p, store_.ListRequests(f));
      for (auto& r : p.items) {
        if (!MaySee(*config, who, r)) continue;
        if (!in.review.empty() && r.review_state != in.review) continue;
        out.items.push_back(std::move(r));
        if (static_cast<int>(out.items.size()) == in.limit) {
          out.next_cursor = out.items.back().id;
          return out;
        }
      }
      if (p.next_cursor.empty()) return out;
      f.cursor = p.next_cursor;
    }
    if (!out.items.empty()) out.next_cursor = out.items.back().id;
    return out;
  }

  // List with `awaiting`: pending requests and active ones with an extension waiting, through the
  // store's state index, keeping those the caller may decide and has not.
  Result<store::RequestPage> ListAwaiting(const model::Identity& who, const ListInput& in) {
    if (in.state.has_value() || !in.review.empty() || !in.cursor.empty() || in.mine) {
      return InvalidArgumentError("awaiting=me takes no state, review, mine or cursor");
    }
    auto approved_by_caller = [&who](const std::vector<model::Approval>& approvals) {
      return std::any_of(approvals.begin(), approvals.end(),
                         [&who](const model::Approval& a) { return a.approver == who.username; });
    };
    store::RequestPage out;
    for (model::RequestState state :
         {model::RequestState::kPending, model::RequestState::kActive}) {
      store::RequestFilter f;
      f.state = state;
      f.limit = 500;
      constexpr int kMaxScannedPages = 40;
      for (int page = 0; page < kMaxScannedPages; ++page) {
        JIT_ASSIGN_OR_RETURN(store::RequestPage p, store_.ListRequests(f));
        for (auto& r : p.items) {
          if (r.requester == who.username || !MayApprove(who, r)) continue;
          bool waits = state == model::RequestState::kPending
                           ? !approved_by_caller(r.approvals)
                           : r.extension.has_value() && !approved_by_caller(r.extension->approvals);
          if (waits) out.items.push_back(std::move(r));
        }
        if (p.next_cursor.empty()) break;
        f.cursor = p.next_cursor;
      }
    }
    // Ids sort by creation time: newest first, as every list.
    std::sort(out.items.begin(), out.items.end(),
              [](const Request& a, const Request& b) { return a.id > b.id; });
    if (static_cast<int>(out.items.size()) > in.limit) out.items.resize(in.limit);
    return out;
  }

  Result<ExplainView> Explain(const model::Identity& who, const model::Identity& subject,
                              const policy::AccessRequest& ask) {
    auto config = config_.Get();
    if (subject.username != who.username && !policy::IsAdmin(*config, who) &&
        !policy::IsAuditor(*config, who)) {
      return PermissionDeniedError(
          "only admins and auditors can explain the policy for someone else");
    }
    policy::Explanation e = policy::Explain(*config, subject, ask, clock_.Now());
    return ExplainView{std::move(config), std::move(e)};
  }

  Result<std::vector<AuditEvent>> Audit(const model::Identity& who, std::int64_t after_seq,
                                        int limit) {
    if (limit < 1 || limit > kMaxAuditLimit) return PageLimitError(kMaxAuditLimit);
    if (after_seq < 0) return InvalidArgumentError("after must not be negative");
    JIT_RETURN_IF_ERROR(CheckAuditReader(who));
    return store_.ListAudit(after_seq, limit);
  }

  Result<ReportSummary> Report(const model::Identity& who, Duration window) {
    if (window <= Duration(0) || window > kMaxReportWindow) {
      return InvalidArgumentError("the report window must be more than 0 and at most " +
                                  FormatDuration(kMaxReportWindow));
    }
    auto config = config_.Get();
    JIT_RETURN_IF_ERROR(RequireAdminOrAuditor(*config, who, "read reports"));
    Time now = clock_.Now();
    return BuildSummary(store_, now - window, now);
  }

  Status CheckAuditReader(const model::Identity& who) {
    return RequireAdminOrAuditor(*config_.Get(), who, "read the audit trail");
  }

  Result<StandingInventory> StandingAccess(const model::Identity& who, std::string_view account) {
    auto config = config_.Get();
    JIT_RETURN_IF_ERROR(RequireAdminOrAuditor(*config, who, "list standing access"));
    if (options_.inventory == nullptr) {
      return FailedPreconditionError("this broker cannot list Identity Center's assignments");
    }
    Result<std::vector<model::LedgerEntry>> ledger = store_.ListLedger();
    if (!ledger.has_value()) return ledger.error();
    return ListStanding(*config, account, *ledger, *options_.inventory);
  }

  // ---- Jobs -----------------------------------------------------------------------------------

  JobOutcome Run(const Job& job) {
    switch (job.kind) {
      case JobKind::kApprovalTimeout:
        return RunApprovalTimeout(job);
      case JobKind::kGrant:
        return RunGrant(job);
      case JobKind::kRevoke:
        return RunRevoke(job);
      case JobKind::kNotify:
        if (options_.notifications != nullptr) return options_.notifications->Run(store_, job);
        spdlog::warn("notify job {}: this broker has no notifier; dropping it", job.id);
        return JobOutcome::Done();
      case JobKind::kCutoff:
      case JobKind::kCutoffLift:
        if (options_.cutoff != nullptr) return options_.cutoff->Run(job);
        // Kept, not dropped: a broker started with cut-off wired runs it later.
        spdlog::warn("session cut-off job {}: this broker does not run session cut-off", job.id);
        return JobOutcome::Retry("this broker does not run session cut-off");
      case JobKind::kActivitySummary:
        if (options_.activity != nullptr) return options_.activity->Run(job);
        // Kept: a broker started with session activity on summarizes it later.
        spdlog::warn("activity summary job {}: this broker does not read session activity", job.id);
        return JobOutcome::Retry("this broker does not read session activity");
    }
    spdlog::error("job {} has a kind this broker does not run; dropping it", job.id);
    return JobOutcome::Done();
  }

 private:
  static JobOutcome FromStatus(const Status& s) {
    return s.ok() ? JobOutcome::Done() : JobOutcome::Retry(s.ToString());
  }

  JobOutcome RunApprovalTimeout(const Job& job) {
    Duration wait{0};
    Status s = Transact([&](Tx& tx) -> Status {
      auto got = tx.GetRequest(job.request_id);
      if (!got.has_value()) {
        return got.error().code() == StatusCode::kNotFound ? OkStatus() : got.error();
      }
      Request r = std::move(got).value();
      Time now = clock_.Now();
      if (r.state == RequestState::kActive && r.extension) {
        if (now < r.extension->deadline) {
          wait = std::chrono::duration_cast<Duration>(r.extension->deadline - now);
          return OkStatus();
        }
        JIT_RETURN_IF_ERROR(DropExtension(tx, r, now, kSystemActor, "extension.timed_out"));
        return tx.UpdateRequest(r);
      }
      if (r.state != RequestState::kPending) return OkStatus();
      if (r.approval_deadline && now < *r.approval_deadline) {
        // Fired early (the wall clock moved back): wait again.
        wait = std::chrono::duration_cast<Duration>(*r.approval_deadline - now);
        return OkStatus();
      }
      r.state = RequestState::kTimedOut;
      r.decided_at = now;
      r.ended_at = now;
      r.end_reason = "no decision before the approval deadline";
      JIT_RETURN_IF_ERROR(tx.DeleteJob(job.id));
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "request.timed_out", r.id, "info"));
      return tx.UpdateRequest(r);
    });
    if (s.ok() && wait.count() > 0) return JobOutcome::CheckAgain(wait);
    return FromStatus(s);
  }

  // One approval of the pending extension of active request `r` (inside tx; the caller has
  // checked that `who` may approve and is not the requester). With enough approvals the grant
  // lasts longer at once and its expiry timer moves, if the config (reloaded since the
  // extension was asked for, perhaps) still allows the longer total; otherwise the approval is
  // refused and the extension lapses at its deadline.
  Status ApproveExtension(Tx& tx, const policy::Config& config, const model::Identity& who,
                          Request& r, const std::string& comment, Time now) {
    model::PendingExtension& ext = *r.extension;
    if (now >= ext.deadline) {
      return FailedPreconditionError("the approval window of the extension of request " + r.id +
                                     " has closed");
    }
    for (const auto& a : ext.approvals) {
      if (a.approver == who.username) {
        return FailedPreconditionError("you have already approved the extension of request " +
                                       r.id);
      }
    }
    ext.approvals.push_back({who.username, comment, now});
    int have = static_cast<int>(ext.approvals.size());
    int required = std::max(1, r.approvals_required);
    if (have >= required) {
      policy::GrantTerms grant{r.account_id, r.permission_set_name, r.rule,
                               std::chrono::seconds(r.duration_seconds)};
      Result<Duration> total =
          policy::CheckExtensionLimit(config, grant, std::chrono::seconds(ext.seconds));
      if (!total) {
        return FailedPreconditionError("the extension of request " + r.id +
                                       " can no longer be approved: " + total.error().message());
      }
    }
    JIT_RETURN_IF_ERROR(
        AppendEvent(tx, now, who.username, "extension.approval", r.id, "info",
                    {{"comment", comment}, {"approvals", have}, {"required", required}}));
    if (have >= required) {
      std::chrono::seconds extra(ext.seconds);
      json approvers = json::array();
      for (const auto& a : ext.approvals) approvers.push_back(a.approver);
      r.duration_seconds += ext.seconds;
      r.expires_at = *r.expires_at + extra;
      r.extension.reset();
      JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, r.id)));
      JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kRevoke, r.id, *r.expires_at, now)));
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, who.username, "request.extended", r.id, "info",
                                      {{"by", r.requester},
                                       {"approved_by", std::move(approvers)},
                                       {"extra", FormatDuration(extra)},
                                       {"expires_at", FormatRfc3339(*r.expires_at)}}));
    }
    return tx.UpdateRequest(r);
  }

  // Forgets the pending extension of `r`, if any (inside tx; the caller updates `r`), with an
  // audit event saying why.
  Status DropExtension(Tx& tx, Request& r, Time now, std::string_view actor,
                       std::string_view action, json details = json::object()) {
    if (!r.extension) return OkStatus();
    details["extra"] = FormatDuration(std::chrono::seconds(r.extension->seconds));
    r.extension.reset();
    JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kApprovalTimeout, r.id)));
    return AppendEvent(tx, now, actor, action, r.id, "info", details);
  }

  // Marks `r` active (inside tx) and sets its expiry timer.
  Status Activate(Tx& tx, Request& r, Time now, const json& details) {
    r.state = RequestState::kActive;
    r.activated_at = now;
    r.expires_at = now + std::chrono::seconds(r.duration_seconds);
    json d = details;
    d["expires_at"] = FormatRfc3339(*r.expires_at);
    JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "request.activated", r.id, "info", d));
    JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kRevoke, r.id, *r.expires_at, now)));
    JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kGrant, r.id)));
    return tx.UpdateRequest(r);
  }

  // Ends `r` (inside tx) after its access is gone (or never existed).
  Status End(Tx& tx, Request& r, Time now, const json& details) {
    if (r.state == RequestState::kRevoking) {
      r.state = RequestState::kEnded;
      r.ended_at = now;
      JIT_RETURN_IF_ERROR(
          AppendEvent(tx, now, kSystemActor, "request.ended", r.id, "info", details));
      JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
      // Session activity: what the grant's sessions did, summarized once their window closes.
      if (options_.activity != nullptr && r.activated_at && !model::IsGroupAccount(r.account_id)) {
        JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kActivitySummary, r.id, now, now)));
      }
    }
    JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kGrant, r.id)));
    return tx.DeleteJob(JobId(JobKind::kRevoke, r.id));
  }

  // Fails `r` for good (inside tx). When a create may have reached the provider, the
  // assignment is handed to a revocation so that nothing is left behind.
  Status Fail(Tx& tx, Request& r, Time now, const std::string& why) {
    Time t = now;
    r.state = RequestState::kFailed;
    r.ended_at = t;
    r.failure_reason = why;
    JIT_RETURN_IF_ERROR(
        AppendEvent(tx, t, kSystemActor, "request.failed", r.id, "warning", {{"reason", why}}));
    JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(JobKind::kGrant, r.id)));
    return tx.UpdateRequest(r);
  }

  // The grant job: make sure the assignment exists, sharing one that jit already holds or that
  // existed before (standing access), then activate the request.
  JobOutcome RunGrant(const Job& job) {
    auto got = store_.GetRequest(job.request_id);
    if (!got.has_value()) {
      if (got.error().code() == StatusCode::kNotFound) return JobOutcome::Done();
      return JobOutcome::Retry(got.error().ToString());
    }
    Request r = std::move(got).value();
    if (r.state != RequestState::kApproved && r.state != RequestState::kRevoking) {
      return JobOutcome::Done();
    }
    if (Time now = clock_.Now();
        r.state == RequestState::kApproved && r.start_at && now < *r.start_at) {
      // Fired before the scheduled start (the wall clock moved back): wait again.
      return JobOutcome::CheckAgain(std::chrono::duration_cast<Duration>(*r.start_at - now));
    }
    provider::Assignment a = AssignmentOf(r);

    // Decide, from the ledger, what to do next.
    enum class Next { kDone, kWait, kCheckStanding, kCreate, kPoll };
    Next next = Next::kDone;
    std::string op_id;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
      r = cur;
      Time now = clock_.Now();
      JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
      LedgerEntry* entry = read.head ? &read.head->entry : nullptr;
      bool holder = read.held;
      if (r.state == RequestState::kRevoking && !holder) {
        // Revoked before jit asked for anything: nothing to remove.
        next = Next::kDone;
        return End(tx, r, now, {{"assignment", "never created"}});
      }
      if (r.state != RequestState::kApproved && r.state != RequestState::kRevoking) {
        next = Next::kDone;
        return tx.DeleteJob(job.id);
      }
      if (!entry) {
        next = Next::kCheckStanding;
        return OkStatus();
      }
      switch (entry->state) {
        case LedgerState::kPresent:
          if (!holder) {
            JIT_RETURN_IF_ERROR(
                tx.AddLedgerHolder(a.principal_id, a.account_id, a.permission_set_arn, r.id));
            entry->updated_at = now;
            JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
          }
          next = Next::kDone;
          if (r.state == RequestState::kRevoking) {
            JIT_RETURN_IF_ERROR(tx.DeleteJob(job.id));
            return tx.PutJob(MakeJob(JobKind::kRevoke, r.id, now, now));
          }
          return Activate(tx, r, now,
                          {{"assignment", entry->origin == LedgerOrigin::kStanding
                                              ? "standing (existed before jit)"
                                              : "shared with an earlier grant"}});
        case LedgerState::kGranting:
          if (!holder) {
            next = Next::kWait;  // another request is creating it; join once it exists
            return OkStatus();
          }
          op_id = entry->operation_id;
          next = op_id.empty() ? Next::kCreate : Next::kPoll;
          return OkStatus();
        case LedgerState::kRevoking:
          next = Next::kWait;  // being deleted; create it again once that is done
          return OkStatus();
      }
      return OkStatus();
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());

    switch (next) {
      case Next::kDone:
        return JobOutcome::DoneAndDeleted();  // every path to kDone deleted the job above
      case Next::kWait:
        return JobOutcome::CheckAgain(options_.poll_interval);
      case Next::kCheckStanding:
        return CheckStandingThenCreate(job, r, a);
      case Next::kCreate:
        return Create(job, r, a);
      case Next::kPoll:
        return PollCreate(job, r, a, op_id);
    }
    return JobOutcome::Done();
  }

  // No ledger entry: the assignment may exist already (standing access). Record what we find.
  JobOutcome CheckStandingThenCreate(const Job& job, Request& r, const provider::Assignment& a) {
    auto exists = presence_.Exists(a);
    if (!exists.has_value()) return GrantTrouble(job, r, exists.error());
    bool standing = *exists;
    bool create = false;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
      r = cur;
      JIT_ASSIGN_OR_RETURN(auto entry,
                           tx.GetLedgerHead(a.principal_id, a.account_id, a.permission_set_arn));
      if (entry) return OkStatus();  // someone else got there first; the next run joins
      if (r.state != RequestState::kApproved) return OkStatus();
      Time now = clock_.Now();
      LedgerEntry e;
      e.principal_id = a.principal_id;
      e.account_id = a.account_id;
      e.permission_set_arn = a.permission_set_arn;
      e.updated_at = now;
      if (standing) {
        e.origin = LedgerOrigin::kStanding;
        e.state = LedgerState::kPresent;
        JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
        JIT_RETURN_IF_ERROR(
            tx.AddLedgerHolder(a.principal_id, a.account_id, a.permission_set_arn, r.id));
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "grant.standing", r.id, "warning",
                                        {{"note",
                                          "the user already held this assignment; jit will not "
                                          "delete it"}}));
        return Activate(tx, r, now, {{"assignment", "standing (existed before jit)"}});
      }
      // Record the intent before calling the provider, so that a crash in between is resumed.
      e.origin = LedgerOrigin::kJit;
      e.state = LedgerState::kGranting;
      JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
      JIT_RETURN_IF_ERROR(
          tx.AddLedgerHolder(a.principal_id, a.account_id, a.permission_set_arn, r.id));
      create = true;
      return OkStatus();
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());
    if (!create) return JobOutcome::CheckAgain(Duration(0));
    return Create(job, r, a);
  }

  JobOutcome Create(const Job& job, Request& r, const provider::Assignment& a) {
    auto op = provider_.Grant(a);
    if (!op.has_value()) return GrantTrouble(job, r, op.error());
    if (op->state == provider::OperationState::kInProgress) {
      Status s = Transact([&](Tx& tx) -> Status {
        JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
        if (!read.held) return OkStatus();
        LedgerEntry* entry = &read.head->entry;
        // Another runner of this job recorded its create first: keep that one (creating an
        // existing assignment succeeds, so the second create changed nothing).
        if (!entry->operation_id.empty()) return OkStatus();
        entry->operation_id = op->id;
        entry->updated_at = clock_.Now();
        JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
        JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
        cur.grant_operation_id = op->id;
        JIT_RETURN_IF_ERROR(AppendEvent(tx, clock_.Now(), kSystemActor, "grant.started", r.id,
                                        "info", {{"operation_id", op->id}}));
        return tx.UpdateRequest(cur);
      });
      if (!s.ok()) return JobOutcome::Retry(s.ToString());
      return JobOutcome::CheckAgain(options_.poll_interval);
    }
    return Settle(job, r, a, *op);
  }

  JobOutcome PollCreate(const Job& job, Request& r, const provider::Assignment& a,
                        const std::string& op_id) {
    auto op = provider_.GrantStatus(op_id);
    if (!op.has_value()) {
      if (op.error().code() == StatusCode::kNotFound) {
        // The provider forgot the operation: forget it too (so that the new create's id is
        // recorded), and ask again (creating an existing one succeeds).
        Status f = Transact([&](Tx& tx) -> Status {
          JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
          if (!read.held || read.head->entry.operation_id != op_id) return OkStatus();
          read.head->entry.operation_id.clear();
          return tx.PutLedgerHead(read.head->entry);
        });
        if (!f.ok()) return JobOutcome::Retry(f.ToString());
        return Create(job, r, a);
      }
      return GrantTrouble(job, r, op.error());
    }
    if (op->state == provider::OperationState::kInProgress) {
      return JobOutcome::CheckAgain(options_.poll_interval);
    }
    return Settle(job, r, a, *op);
  }

  // A create has finished: the assignment exists (activate, or hand over to a revocation when
  // the request was revoked meanwhile) or it failed (fail the request).
  JobOutcome Settle(const Job& job, Request& r, const provider::Assignment& a,
                    const provider::Operation& op) {
    bool ok = op.state == provider::OperationState::kSucceeded;
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
      r = cur;
      Time now = clock_.Now();
      JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
      if (!read.held) return tx.DeleteJob(job.id);
      LedgerEntry* entry = &read.head->entry;
      if (!ok) {
        JIT_RETURN_IF_ERROR(tx.DeleteLedger(a.principal_id, a.account_id, a.permission_set_arn));
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "grant.failed", r.id, "warning",
                                        {{"reason", op.failure_reason}}));
        if (r.state == RequestState::kRevoking) return End(tx, r, now, {{"assignment", "failed"}});
        return Fail(tx, r, now,
                    "Identity Center could not create the assignment: " + op.failure_reason);
      }
      entry->state = LedgerState::kPresent;
      entry->operation_id.clear();
      entry->updated_at = now;
      JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "grant.succeeded", r.id, "info"));
      if (r.state == RequestState::kRevoking) {
        JIT_RETURN_IF_ERROR(tx.DeleteJob(job.id));
        return tx.PutJob(MakeJob(JobKind::kRevoke, r.id, now, now));
      }
      return Activate(tx, r, now, {{"assignment", "created"}});
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());
    // Each path above deleted the job (Activate, End and Fail delete the grant job).
    return JobOutcome::DoneAndDeleted();
  }

  // A provider call of the grant failed. Retryable errors are retried up to a limit; then, or
  // at once for errors that retrying will not mend, the request fails. Whatever the provider
  // may have created is handed to a revocation.
  JobOutcome GrantTrouble(const Job& job, Request& r, const Status& err) {
    if (IsRetryable(err) && job.attempts + 1 < options_.max_grant_attempts) {
      return JobOutcome::Retry(err.ToString());
    }
    provider::Assignment a = AssignmentOf(r);
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
      r = cur;
      Time now = clock_.Now();
      JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
      LedgerEntry* entry = read.head ? &read.head->entry : nullptr;
      bool holder = read.held;
      if (holder && entry->state == LedgerState::kGranting) {
        // A create may have reached Identity Center: delete to be sure.
        entry->state = LedgerState::kRevoking;
        entry->operation_id.clear();
        entry->updated_at = now;
        JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
        JIT_RETURN_IF_ERROR(tx.PutJob(MakeJob(JobKind::kRevoke, r.id, now, now)));
      }
      if (r.state == RequestState::kRevoking) {
        if (holder) return tx.DeleteJob(job.id);  // the revocation finishes it
        return End(tx, r, now, {{"assignment", "never created"}});
      }
      if (r.state != RequestState::kApproved) return tx.DeleteJob(job.id);
      return Fail(tx, r, now, err.message());
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());
    return JobOutcome::Done();
  }

  // The revoke job: due at expiry (or now, after an early revoke). Releases this request's hold
  // on the assignment and deletes the assignment when jit made it and nobody else holds it.
  // Never gives up: every failure is retried.
  JobOutcome RunRevoke(const Job& job) {
    enum class Next { kDone, kDelete, kPoll, kWait, kNotYet };
    Next next = Next::kDone;
    std::string op_id;
    Duration not_yet{0};
    Request r;
    Status s = Transact([&](Tx& tx) -> Status {
      auto got = tx.GetRequest(job.request_id);
      if (!got.has_value()) {
        if (got.error().code() != StatusCode::kNotFound) return got.error();
        next = Next::kDone;
        return tx.DeleteJob(job.id);
      }
      r = std::move(got).value();
      Time now = clock_.Now();
      if (r.state == RequestState::kActive) {
        if (r.expires_at && now < *r.expires_at) {
          // Fired early (the wall clock moved back, or the grant was extended): wait again.
          next = Next::kNotYet;
          not_yet = std::chrono::duration_cast<Duration>(*r.expires_at - now);
          return OkStatus();
        }
        JIT_RETURN_IF_ERROR(DropExtension(tx, r, now, kSystemActor, "extension.cancelled",
                                          {{"why", "the grant expired first"}}));
        r.state = RequestState::kRevoking;
        r.end_reason = "expired";
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "request.expired", r.id, "info",
                                        {{"expires_at", FormatRfc3339(*r.expires_at)}}));
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
      }
      provider::Assignment a = AssignmentOf(r);
      JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
      if (!read.held) {
        next = Next::kDone;
        return End(tx, r, now, {{"assignment", "not held"}});
      }
      LedgerEntry* entry = &read.head->entry;
      switch (entry->state) {
        case LedgerState::kGranting:
          next = Next::kWait;  // the grant job settles the create first
          return OkStatus();
        case LedgerState::kPresent:
          if (entry->origin == LedgerOrigin::kStanding || read.head->holder_count > 1) {
            bool standing = entry->origin == LedgerOrigin::kStanding;
            if (read.head->holder_count <= 1) {  // the last holder: nothing left to remember
              JIT_RETURN_IF_ERROR(
                  tx.DeleteLedger(a.principal_id, a.account_id, a.permission_set_arn));
            } else {
              JIT_RETURN_IF_ERROR(
                  tx.RemoveLedgerHolder(a.principal_id, a.account_id, a.permission_set_arn, r.id));
              entry->updated_at = now;
              JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
            }
            next = Next::kDone;
            return End(tx, r, now,
                       {{"assignment", standing ? "kept (standing access)"
                                                : "kept (still held by another grant)"}});
          }
          // The last holder of an assignment jit made: delete it.
          entry->state = LedgerState::kRevoking;
          entry->operation_id.clear();
          entry->updated_at = now;
          JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
          next = Next::kDelete;
          return OkStatus();
        case LedgerState::kRevoking:
          op_id = entry->operation_id;
          next = op_id.empty() ? Next::kDelete : Next::kPoll;
          return OkStatus();
      }
      return OkStatus();
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());

    provider::Assignment a = AssignmentOf(r);
    switch (next) {
      case Next::kDone:
        return JobOutcome::DoneAndDeleted();  // deleted above, or by End
      case Next::kNotYet:
        return JobOutcome::CheckAgain(not_yet);
      case Next::kWait:
        return JobOutcome::CheckAgain(options_.poll_interval);
      case Next::kDelete: {
        auto op = provider_.Revoke(a);
        if (!op.has_value()) return RevokeTrouble(job, r, op.error().ToString());
        if (options_.observer != nullptr) options_.observer->OnRevokeIssued(r, clock_.Now());
        if (op->state == provider::OperationState::kInProgress) {
          Status rec = Transact([&](Tx& tx) -> Status {
            JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
            if (!read.held) return OkStatus();
            LedgerEntry* entry = &read.head->entry;
            // Another runner of this job (a replica whose lease ran out while it still ran)
            // recorded its delete first: keep that one, and poll it next time.
            if (!entry->operation_id.empty()) return OkStatus();
            entry->operation_id = op->id;
            JIT_RETURN_IF_ERROR(tx.PutLedgerHead(*entry));
            JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
            cur.revoke_operation_id = op->id;
            JIT_RETURN_IF_ERROR(AppendEvent(tx, clock_.Now(), kSystemActor, "revoke.started", r.id,
                                            "info", {{"operation_id", op->id}}));
            return tx.UpdateRequest(cur);
          });
          if (!rec.ok()) return JobOutcome::Retry(rec.ToString());
          return JobOutcome::CheckAgain(options_.poll_interval);
        }
        return SettleRevoke(job, r, a, *op);
      }
      case Next::kPoll: {
        auto op = provider_.RevokeStatus(op_id);
        if (!op.has_value()) {
          if (op.error().code() == StatusCode::kNotFound) {
            Status f = ForgetRevokeOperation(r, a);
            if (!f.ok()) return JobOutcome::Retry(f.ToString());
            return JobOutcome::CheckAgain(Duration(0));
          }
          return RevokeTrouble(job, r, op.error().ToString());
        }
        if (op->state == provider::OperationState::kInProgress) {
          return JobOutcome::CheckAgain(options_.poll_interval);
        }
        return SettleRevoke(job, r, a, *op);
      }
    }
    return JobOutcome::Done();
  }

  // A revocation's provider call failed: retry it (for ever). Once it is later than
  // revoke_overdue_after past its due time, say so once: a high-severity audit event, which the
  // security audience hears.
  JobOutcome RevokeTrouble(const Job& job, const Request& r, const std::string& why) {
    Time now = clock_.Now();
    if (now - job.first_due_at >= options_.revoke_overdue_after && !r.revoke_overdue_at) {
      Status s = Transact([&](Tx& tx) -> Status {
        JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
        if (cur.revoke_overdue_at) return OkStatus();
        cur.revoke_overdue_at = now;
        JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "revoke.overdue", cur.id, "high",
                                        {{"due_at", FormatRfc3339(job.first_due_at)},
                                         {"attempts", job.attempts + 1},
                                         {"error", why}}));
        return tx.UpdateRequest(cur);
      });
      if (!s.ok())
        spdlog::warn("cannot record the overdue revocation of {}: {}", r.id, s.ToString());
    }
    return JobOutcome::Retry(why);
  }

  // Clears the recorded delete operation so that the next run issues the delete again.
  Status ForgetRevokeOperation(const Request& r, const provider::Assignment& a) {
    return Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(HeldEntry read, ReadLedger(tx, a, r.id));
      if (!read.held) return OkStatus();
      read.head->entry.operation_id.clear();
      return tx.PutLedgerHead(read.head->entry);
    });
  }

  JobOutcome SettleRevoke(const Job& job, Request& r, const provider::Assignment& a,
                          const provider::Operation& op) {
    if (op.state == provider::OperationState::kFailed) {
      // Identity Center could not delete it: issue the delete again, with back-off, until it can.
      Status s = ForgetRevokeOperation(r, a);
      if (!s.ok()) return JobOutcome::Retry(s.ToString());
      return RevokeTrouble(job, r,
                           "Identity Center could not delete the assignment: " + op.failure_reason);
    }
    Status s = Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
      r = cur;
      Time now = clock_.Now();
      JIT_RETURN_IF_ERROR(tx.DeleteLedger(a.principal_id, a.account_id, a.permission_set_arn));
      JIT_RETURN_IF_ERROR(AppendEvent(tx, now, kSystemActor, "revoke.succeeded", r.id, "info"));
      JIT_RETURN_IF_ERROR(tx.DeleteJob(job.id));
      // Sessions opened with the assignment outlive it: cut them off where that is on.
      JIT_RETURN_IF_ERROR(cutoff::ScheduleCutoff(tx, *config_.Get(), r, now, now));
      return End(tx, r, now, {{"assignment", "deleted"}});
    });
    if (!s.ok()) return JobOutcome::Retry(s.ToString());
    return JobOutcome::DoneAndDeleted();
  }

  store::Store& store_;
  policy::ConfigHolder& config_;
  provider::Provider& provider_;
  Clock& clock_;
  WorkflowOptions options_;
  // The grants' standing-access check (declared after options_, which it is built from).
  PresenceCheck presence_;
  // Submissions per requester in the last minute (policy::Limits::requests_per_minute_per_user).
  SlidingWindowLimiter submissions_{std::chrono::minutes(1)};
};

Status PageLimitError(int max) {
  return InvalidArgumentError("limit must be a whole number from 1 to " + std::to_string(max));
}

Workflow::Workflow(store::Store& store, policy::ConfigHolder& config, provider::Provider& provider,
                   Clock& clock, WorkflowOptions options)
    : impl_(std::make_shared<Impl>(store, config, provider, clock, std::move(options))) {}

Result<model::Request> Workflow::Submit(const model::Identity& who, const SubmitInput& in,
                                        Duration* retry_after,
                                        std::vector<model::AuditEvent>* history) {
  if (history != nullptr) history->clear();
  return impl_->Submit(who, in, retry_after, history);
}
Result<model::Request> Workflow::Approve(const model::Identity& who, const std::string& id,
                                         const std::string& comment) {
  JIT_RETURN_IF_ERROR(policy::CheckFreeText("comment", comment));
  return impl_->Approve(who, id, comment);
}
Result<model::Request> Workflow::Deny(const model::Identity& who, const std::string& id,
                                      const std::string& reason) {
  JIT_RETURN_IF_ERROR(policy::CheckFreeText("reason", reason));
  return impl_->Deny(who, id, reason);
}
Result<model::Request> Workflow::Cancel(const model::Identity& who, const std::string& id) {
  return impl_->Cancel(who, id);
}
Result<model::Request> Workflow::Revoke(const model::Identity& who, const std::string& id,
                                        const std::string& reason) {
  JIT_RETURN_IF_ERROR(policy::CheckFreeText("reason", reason));
  return impl_->Revoke(who, id, reason);
}
Result<model::Request> Workflow::EndOutOfScope(const std::string& id, const std::string& reason) {
  return impl_->EndOutOfScope(id, reason);
}
Status Workflow::RecordScopeChange(const std::vector<std::string>& added,
                                   const std::vector<std::string>& removed, std::size_t total) {
  return impl_->RecordScopeChange(added, removed, total);
}
Result<FindingsOutcome> Workflow::ActOnFindings(const model::Identity& who,
                                                const findings::Event& event) {
  return impl_->ActOnFindings(who, event);
}

Result<model::Request> Workflow::Extend(const model::Identity& who, const std::string& id,
                                        Duration extra) {
  return impl_->Extend(who, id, extra);
}
Result<model::Request> Workflow::Review(const model::Identity& who, const std::string& id,
                                        const std::string& comment) {
  JIT_RETURN_IF_ERROR(policy::CheckFreeText("comment", comment));
  return impl_->Review(who, id, comment);
}
Status Workflow::RecordRefusal(const Refusal& refusal) { return impl_->RecordRefusal(refusal); }
Result<RequestView> Workflow::Get(const model::Identity& who, const std::string& id) {
  return impl_->Get(who, id);
}
Result<store::RequestPage> Workflow::List(const model::Identity& who, const ListInput& in) {
  return impl_->List(who, in);
}
Result<ExplainView> Workflow::Explain(const model::Identity& who, const model::Identity& subject,
                                      const policy::AccessRequest& ask) {
  return impl_->Explain(who, subject, ask);
}
Result<std::vector<model::AuditEvent>> Workflow::Audit(const model::Identity& who,
                                                       std::int64_t after_seq, int limit) {
  return impl_->Audit(who, after_seq, limit);
}
Status Workflow::CheckAuditReader(const model::Identity& who) {
  return impl_->CheckAuditReader(who);
}
Result<ReportSummary> Workflow::Report(const model::Identity& who, Duration window) {
  return impl_->Report(who, window);
}

Result<StandingInventory> Workflow::StandingAccess(const model::Identity& who,
                                                   std::string_view account) {
  return impl_->StandingAccess(who, account);
}
scheduler::JobOutcome Workflow::Run(const model::Job& job) { return impl_->Run(job); }

}  // namespace jit::workflow
