#include "app/restore.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "core/time_format.h"
#include "workflow/jobs.h"

namespace jit::app {
namespace {

using json = nlohmann::json;
using model::JobKind;
using model::LedgerEntry;
using model::LedgerOrigin;
using model::LedgerState;
using model::Request;
using model::RequestState;

Status AppendRestoreEvent(store::Tx& tx, Time now, std::string_view action,
                          const std::string& request_id, std::string_view severity,
                          const json& details) {
  model::AuditEvent e;
  e.at = now;
  e.actor = std::string(workflow::kSystemActor);
  e.action = std::string(action);
  e.request_id = request_id;
  e.severity = std::string(severity);
  e.details = details.dump(-1, ' ', false, json::error_handler_t::replace);
  return tx.AppendAudit(std::move(e)).error();
}

json DescribeEntry(const LedgerEntry& e) {
  return {{"principal_id", e.principal_id},
          {"account_id", e.account_id},
          {"permission_set_arn", e.permission_set_arn}};
}

// Every request of `store` that is not in a final state.
Result<std::vector<Request>> OpenRequests(store::Store& store) {
  std::vector<Request> out;
  for (RequestState s : {RequestState::kPending, RequestState::kApproved, RequestState::kActive,
                         RequestState::kRevoking}) {
    store::RequestFilter filter;
    filter.state = s;
    filter.limit = 500;
    for (;;) {
      JIT_ASSIGN_OR_RETURN(store::RequestPage page, store.ListRequests(filter));
      for (Request& r : page.items) out.push_back(std::move(r));
      if (page.next_cursor.empty()) break;
      filter.cursor = page.next_cursor;
    }
  }
  return out;
}

// A holder is live when its request is open or still has a grant, revoke or approval-timeout
// job (what the reconciler's "live holder" means, but for notifications, which end by
// themselves).
Result<bool> IsLiveHolder(store::Tx& tx, const std::string& id) {
  Result<Request> r = tx.GetRequest(id);
  if (!r.has_value()) {
    if (r.error().code() == StatusCode::kNotFound) return false;
    return r.error();
  }
  if (!model::IsTerminal(r->state)) return true;
  JIT_ASSIGN_OR_RETURN(std::vector<model::Job> jobs, tx.JobsForRequest(id));
  for (const model::Job& j : jobs) {
    if (j.kind != JobKind::kNotify) return true;
  }
  return false;
}

}  // namespace

std::string RestoredGrantFailure(Time backup_taken_at) {
  return "restored from a backup taken at " + FormatRfc3339(backup_taken_at) + "; ask again";
}

Result<RestoreReport> CarryForward(store::Store& restored, store::Store* replaced,
                                   const RestoreFacts& facts, Clock& clock) {
  // Read first (nobody else writes either store), then change in one transaction.
  JIT_ASSIGN_OR_RETURN(std::vector<Request> open, OpenRequests(restored));
  JIT_ASSIGN_OR_RETURN(std::vector<LedgerEntry> restored_ledger, restored.ListLedger());
  JIT_ASSIGN_OR_RETURN(std::vector<model::Job> restored_jobs, restored.ListJobs());

  std::vector<Request> ended_since;    // the replaced store's versions
  std::vector<Request> granted_since;  // open but not active here, active there
  std::vector<LedgerEntry> replaced_ledger;
  std::set<std::string> replaced_job_ids;
  // The replaced store's session cut-off jobs, by request: a grant that ended after the backup
  // still has its sessions to cut off (or its cut-off to lift).
  std::map<std::string, std::vector<model::Job>> replaced_cutoffs;
  if (replaced != nullptr) {
    for (const Request& r : open) {
      Result<Request> there = replaced->GetRequest(r.id);
      if (!there.has_value()) {
        if (there.error().code() == StatusCode::kNotFound) continue;
        return there.error().WithContext("replaced store");
      }
      if (there->state == RequestState::kRevoking) {
        // Its access was being taken away: as good as ended (the carried-forward entry below
        // sees to the assignment).
        Request ended = std::move(there).value();
        ended.state = RequestState::kEnded;
        if (!ended.ended_at) ended.ended_at = clock.Now();
        ended_since.push_back(std::move(ended));
      } else if (model::IsTerminal(there->state)) {
        ended_since.push_back(std::move(there).value());
      } else if (there->state == RequestState::kActive &&
                 (r.state == RequestState::kPending || r.state == RequestState::kApproved)) {
        granted_since.push_back(std::move(there).value());
      }
    }
    JIT_ASSIGN_OR_RETURN(replaced_ledger, replaced->ListLedger());
    JIT_ASSIGN_OR_RETURN(std::vector<model::Job> jobs, replaced->ListJobs());
    for (const model::Job& j : jobs) {
      replaced_job_ids.insert(j.id);
      if (j.kind == JobKind::kCutoff || j.kind == JobKind::kCutoffLift) {
        replaced_cutoffs[j.request_id].push_back(j);
      }
    }
  }

  RestoreReport report;
  const Time now = clock.Now();
  // Deletes need no settle time (workflow/reconciler.h): date the entries handed over so that the
  // reconciler's run at start takes them.
  const Time handed_over_at = now - std::chrono::hours(1);
  Status s = restored.Transact([&](store::Tx& tx) -> Status {
    report = RestoreReport{};

    // Requests that ended after the backup stay ended.
    for (const Request& there : ended_since) {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(there.id));
      if (model::IsTerminal(cur.state)) continue;
      Request next = there;
      next.version = cur.version;
      JIT_RETURN_IF_ERROR(tx.UpdateRequest(next));
      for (JobKind k : {JobKind::kGrant, JobKind::kRevoke, JobKind::kApprovalTimeout}) {
        JIT_RETURN_IF_ERROR(tx.DeleteJob(workflow::JobId(k, there.id)));
      }
      for (model::Job j : replaced_cutoffs[there.id]) {
        j.lease_owner.clear();
        j.lease_until.reset();
        JIT_RETURN_IF_ERROR(tx.PutJob(j));
      }
      json d = {{"state_in_backup", model::RequestStateName(cur.state)},
                {"state", model::RequestStateName(there.state)},
                {"note", "it ended after the backup was taken (the replaced store says so)"}};
      if (there.ended_at) d["ended_at"] = FormatRfc3339(*there.ended_at);
      if (!there.end_reason.empty()) d["end_reason"] = there.end_reason;
      if (!there.failure_reason.empty()) d["failure_reason"] = there.failure_reason;
      if (!there.decided_by.empty()) d["decided_by"] = there.decided_by;
      JIT_RETURN_IF_ERROR(
          AppendRestoreEvent(tx, now, "restore.request_ended", there.id, "info", d));
      ++report.requests_ended;
    }

    // Requests granted after the backup keep the access they have, until it was to end: not a
    // new grant of the full duration from now.
    for (const Request& there : granted_since) {
      JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(there.id));
      if (cur.state == RequestState::kActive || model::IsTerminal(cur.state)) continue;
      Request next = there;
      next.version = cur.version;
      JIT_RETURN_IF_ERROR(tx.UpdateRequest(next));
      JIT_RETURN_IF_ERROR(tx.DeleteJob(workflow::JobId(JobKind::kGrant, there.id)));
      JIT_RETURN_IF_ERROR(tx.DeleteJob(workflow::JobId(JobKind::kApprovalTimeout, there.id)));
      Time due = there.expires_at.value_or(now);
      JIT_RETURN_IF_ERROR(tx.PutJob(workflow::MakeJob(JobKind::kRevoke, there.id, due, now)));
      json d = {{"state_in_backup", model::RequestStateName(cur.state)},
                {"state", "active"},
                {"expires_at", FormatRfc3339(due)},
                {"note", "it was granted after the backup was taken (the replaced store says so)"}};
      JIT_RETURN_IF_ERROR(
          AppendRestoreEvent(tx, now, "restore.request_granted", there.id, "info", d));
      ++report.requests_granted;
    }

    // Notifications delivered since: the replaced store no longer has their jobs.
    if (replaced != nullptr) {
      for (const model::Job& j : restored_jobs) {
        if (j.kind != JobKind::kNotify || replaced_job_ids.count(j.id) > 0) continue;
        JIT_RETURN_IF_ERROR(tx.DeleteJob(j.id));
        ++report.notify_jobs_dropped;
      }
    }

    // Assignments made after the backup: kept for the requests granted since that hold them
    // (active here now), else, when jit made them, handed to the reconciler to delete.
    for (const LedgerEntry& there : replaced_ledger) {
      std::vector<std::string> active_holders;
      for (const std::string& id : there.holders) {
        Result<Request> r = tx.GetRequest(id);
        if (!r.has_value()) {
          if (r.error().code() == StatusCode::kNotFound) continue;
          return r.error();
        }
        if (r->state == RequestState::kActive) active_holders.push_back(id);
      }
      JIT_ASSIGN_OR_RETURN(
          auto here, tx.GetLedger(there.principal_id, there.account_id, there.permission_set_arn));
      json d = DescribeEntry(there);
      d["holders_in_replaced_store"] = there.holders;
      if (here) {
        bool changed = false;
        for (const std::string& id : active_holders) {
          if (std::find(here->holders.begin(), here->holders.end(), id) == here->holders.end()) {
            here->holders.push_back(id);
            changed = true;
          }
        }
        if (!active_holders.empty() && here->state == LedgerState::kGranting) {
          here->state = LedgerState::kPresent;  // the create finished after the backup
          here->operation_id.clear();
          changed = true;
        }
        if (there.origin == LedgerOrigin::kJit && here->origin == LedgerOrigin::kStanding) {
          here->origin = LedgerOrigin::kJit;
          changed = true;
          d["note"] =
              "standing access in the backup, made by jit since; jit deletes it when its "
              "last holder ends";
        }
        if (!changed) continue;  // the backup's holders release it
        if (!d.contains("note")) d["note"] = "holders granted since the backup";
        JIT_RETURN_IF_ERROR(tx.PutLedger(*here));
      } else if (!active_holders.empty()) {
        LedgerEntry e = there;
        e.state = LedgerState::kPresent;
        e.operation_id.clear();
        e.holders = active_holders;
        JIT_RETURN_IF_ERROR(tx.PutLedger(e));
        d["note"] = "made after the backup was taken for requests granted since";
      } else if (there.origin == LedgerOrigin::kJit) {
        LedgerEntry e;
        e.principal_id = there.principal_id;
        e.account_id = there.account_id;
        e.permission_set_arn = there.permission_set_arn;
        e.origin = LedgerOrigin::kJit;
        e.state = LedgerState::kRevoking;
        e.updated_at = handed_over_at;
        JIT_RETURN_IF_ERROR(tx.PutLedger(e));
        d["note"] = "made after the backup was taken; the reconciler deletes it";
      } else {
        continue;  // standing access nobody here holds: never jit's to delete
      }
      JIT_RETURN_IF_ERROR(AppendRestoreEvent(tx, now, "restore.ledger_carried", "", "warning", d));
      ++report.ledger_carried;
    }

    // No replaced store to ask: a grant the backup had not finished may have happened and
    // ended since; granting it now could hand out access again. It fails instead.
    if (replaced == nullptr) {
      const std::string why = RestoredGrantFailure(facts.backup_taken_at);
      for (const Request& r : open) {
        JIT_ASSIGN_OR_RETURN(Request cur, tx.GetRequest(r.id));
        if (cur.state != RequestState::kApproved) continue;
        cur.state = RequestState::kFailed;
        cur.ended_at = now;
        cur.failure_reason = why;
        JIT_RETURN_IF_ERROR(tx.UpdateRequest(cur));
        JIT_RETURN_IF_ERROR(tx.DeleteJob(workflow::JobId(JobKind::kGrant, cur.id)));
        JIT_RETURN_IF_ERROR(tx.DeleteJob(workflow::JobId(JobKind::kApprovalTimeout, cur.id)));
        JIT_RETURN_IF_ERROR(
            AppendRestoreEvent(tx, now, "request.failed", cur.id, "warning", {{"reason", why}}));
        ++report.grants_failed;
      }
    }

    // Entries nobody live holds any more go to the reconciler.
    for (const LedgerEntry& was : restored_ledger) {
      JIT_ASSIGN_OR_RETURN(auto e,
                           tx.GetLedger(was.principal_id, was.account_id, was.permission_set_arn));
      if (!e) continue;
      std::vector<std::string> live;
      for (const std::string& id : e->holders) {
        JIT_ASSIGN_OR_RETURN(bool is_live, IsLiveHolder(tx, id));
        if (is_live) live.push_back(id);
      }
      if (!live.empty()) {
        if (live.size() != e->holders.size()) {
          e->holders = std::move(live);
          JIT_RETURN_IF_ERROR(tx.PutLedger(*e));
        }
        continue;
      }
      if (e->origin == LedgerOrigin::kStanding) {
        JIT_RETURN_IF_ERROR(tx.DeleteLedger(e->principal_id, e->account_id, e->permission_set_arn));
        ++report.standing_dropped;
        continue;
      }
      if (e->state == LedgerState::kRevoking && e->operation_id.empty() &&
          e->updated_at <= handed_over_at) {
        continue;
      }
      e->state = LedgerState::kRevoking;
      e->operation_id.clear();
      e->updated_at = handed_over_at;
      JIT_RETURN_IF_ERROR(tx.PutLedger(*e));
      ++report.entries_released;
    }

    json d = {{"backup_taken_at", FormatRfc3339(facts.backup_taken_at)},
              {"backup_last_seq", facts.backup_last_seq},
              {"requests_ended", report.requests_ended},
              {"requests_granted", report.requests_granted},
              {"ledger_carried", report.ledger_carried},
              {"grants_failed", report.grants_failed},
              {"entries_released", report.entries_released},
              {"standing_dropped", report.standing_dropped},
              {"notify_jobs_dropped", report.notify_jobs_dropped}};
    if (replaced != nullptr) {
      d["replaced_store"] = "read";
      d["replaced_last_seq"] = facts.replaced_last_seq;
      d["replaced_last_hash"] = facts.replaced_last_hash;
    } else if (facts.replaced_present) {
      d["replaced_store"] = "unreadable: " + facts.replaced_problem;
    } else {
      d["replaced_store"] = "none";
    }
    if (!facts.replaced_kept_as.empty()) d["replaced_kept_as"] = facts.replaced_kept_as;
    return AppendRestoreEvent(tx, now, "store.restored", "",
                              replaced != nullptr ? "warning" : "high", d);
  });
  if (!s.ok()) return s;
  return report;
}

}  // namespace jit::app
