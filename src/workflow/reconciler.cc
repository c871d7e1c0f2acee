#include "workflow/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "cutoff/engine.h"
#include "workflow/jobs.h"

namespace jit::workflow {
namespace {

using json = nlohmann::json;
using model::LedgerEntry;
using model::LedgerOrigin;
using model::LedgerState;
using model::Request;
using model::RequestState;
using store::Tx;

provider::Assignment AssignmentOf(const LedgerEntry& e) {
  return {e.principal_id, e.account_id, e.permission_set_arn};
}

// Whether the entry is as it was read: any grant or revoke job that touched it since changes
// one of these.
bool Unchanged(const LedgerEntry& was, const LedgerEntry& now) {
  return was.origin == now.origin && was.state == now.state && was.holders == now.holders &&
         was.operation_id == now.operation_id && was.updated_at == now.updated_at;
}

// Holders named in a drift event's details; beyond these only their number is given (an
// assignment held by thousands of grants ends each with its own event).
constexpr std::size_t kHoldersNamed = 10;

json Describe(const LedgerEntry& e) {
  std::size_t named = std::min(e.holders.size(), kHoldersNamed);
  return {{"principal_id", e.principal_id},
          {"account_id", e.account_id},
          {"permission_set_arn", e.permission_set_arn},
          {"origin", e.origin == LedgerOrigin::kJit ? "jit" : "standing"},
          {"holders", std::vector<std::string>(e.holders.begin(), e.holders.begin() + named)},
          {"holder_count", e.holders.size()}};
}

Status Append(Tx& tx, Time now, std::string_view action, const std::string& request_id,
              std::string_view severity, const json& details) {
  model::AuditEvent ev;
  ev.at = now;
  ev.actor = std::string(kSystemActor);
  ev.action = std::string(action);
  ev.request_id = request_id;
  ev.severity = std::string(severity);
  ev.details = details.dump();
  return tx.AppendAudit(std::move(ev)).error();
}

// What the holders of an entry are up to, read inside a transaction.
struct Holders {
  std::vector<Request> active;  // state kActive
  bool any_live = false;        // a holder that has not ended, or still has a job
};

Result<Holders> ReadHolders(Tx& tx, const LedgerEntry& e) {
  Holders h;
  for (const std::string& id : e.holders) {
    auto r = tx.GetRequest(id);
    if (!r.has_value()) {
      if (r.error().code() == StatusCode::kNotFound) continue;  // gone: counts as ended
      return r.error();
    }
    JIT_ASSIGN_OR_RETURN(auto jobs, tx.JobsForRequest(id));
    if (!model::IsTerminal(r->state) || !jobs.empty()) h.any_live = true;
    if (r->state == RequestState::kActive) h.active.push_back(std::move(r).value());
  }
  return h;
}

}  // namespace

Status ReconcilerOptions::Validate() const {
  if (interval.count() <= 0) return InvalidArgumentError("interval must be positive");
  if (revoke_polls < 0) return InvalidArgumentError("revoke_polls must not be negative");
  if (revoke_poll_wait.count() < 0) {
    return InvalidArgumentError("revoke_poll_wait must not be negative");
  }
  if (settle_time.count() < 0) return InvalidArgumentError("settle_time must not be negative");
  if (max_ends_per_transaction < 1) {
    return InvalidArgumentError("max_ends_per_transaction must be at least 1");
  }
  return OkStatus();
}

namespace {

// One run's work, kept apart from the scheduling.
class RunContext {
 public:
  RunContext(store::Store& store, provider::Provider& provider, Clock& clock,
             const ReconcilerOptions& options)
      : store_(store), provider_(provider), clock_(clock), options_(options) {}

  Result<ReconcileReport> Run() {
    JIT_ASSIGN_OR_RETURN(std::vector<LedgerEntry> entries, store_.ListLedger());
    for (const LedgerEntry& e : entries) {
      ++report_.entries_checked;
      if (clock_.Now() - e.updated_at < options_.settle_time) continue;
      switch (e.state) {
        case LedgerState::kGranting:
          break;  // the grant job owns it
        case LedgerState::kPresent:
          CheckPresent(e);
          break;
        case LedgerState::kRevoking:
          ResumeDelete(e);
          break;
      }
    }
    return std::move(report_);
  }

 private:
  Status Transact(const std::function<Status(Tx&)>& fn) {
    return TransactAndTell(
        store_, options_.observer, fn,
        options_.notifications != nullptr ? options_.notifications->Hook() : BeforeCommit());
  }

  void Error(const LedgerEntry& e, const std::string& what) {
    std::string line =
        e.principal_id + " / " + e.account_id + " / " + e.permission_set_arn + ": " + what;
    spdlog::warn("reconciler: {}", line);
    report_.errors.push_back(std::move(line));
  }

  // The provider's assignments of one (account, permission set), listed once per run.
  const Result<std::vector<provider::Assignment>>& Listed(const LedgerEntry& e) {
    auto key = std::make_pair(e.account_id, e.permission_set_arn);
    auto it = listed_.find(key);
    if (it == listed_.end()) {
      ++report_.pairs_listed;
      it =
          listed_.emplace(key, provider_.ListAssignments(e.account_id, e.permission_set_arn)).first;
    }
    return it->second;
  }

  void CheckPresent(const LedgerEntry& e) {
    const auto& listed = Listed(e);
    if (!listed.has_value()) {
      Error(e, "cannot list assignments: " + listed.error().ToString());
      return;
    }
    provider::Assignment a = AssignmentOf(e);
    bool exists = std::find(listed->begin(), listed->end(), a) != listed->end();

    // kMissingMore: a batch of the holders was ended, more remain (the next transaction goes on).
    enum class Act { kNone, kSkipped, kDelete, kMissing, kMissingMore, kStale };
    Act act = Act::kNone;
    LedgerEntry marked;
    int ended = 0;
    int ended_before = 0;  // by the earlier batches
    const auto step = [&](Tx& tx) -> Status {
      act = Act::kNone;
      ended = 0;
      JIT_ASSIGN_OR_RETURN(auto now_entry,
                           tx.GetLedger(e.principal_id, e.account_id, e.permission_set_arn));
      if (!now_entry || !Unchanged(e, *now_entry)) {
        act = Act::kSkipped;
        return OkStatus();
      }
      JIT_ASSIGN_OR_RETURN(Holders h, ReadHolders(tx, *now_entry));
      Time now = clock_.Now();
      if (exists) {
        // Only an assignment jit made, that nobody holds any more, is jit's to delete.
        if (e.origin != LedgerOrigin::kJit || h.any_live) return OkStatus();
        marked = *now_entry;
        marked.state = LedgerState::kRevoking;
        marked.operation_id.clear();
        marked.updated_at = now;
        act = Act::kDelete;
        return tx.PutLedger(marked);
      }
      if (!h.active.empty()) {
        // In bounded batches: one transaction ending thousands of grants would hold the writer
        // (and the memory of its events and jobs) for as long as it takes.
        const bool more =
            h.active.size() > static_cast<std::size_t>(options_.max_ends_per_transaction);
        if (more) h.active.resize(options_.max_ends_per_transaction);
        for (Request& r : h.active) {
          json d = Describe(e);
          d["note"] = "the assignment was removed outside jit";
          JIT_RETURN_IF_ERROR(Append(tx, now, "drift.assignment_missing", r.id, "high", d));
          r.state = RequestState::kEnded;
          r.ended_at = now;
          r.end_reason = "assignment removed outside jit";
          JIT_RETURN_IF_ERROR(tx.UpdateRequest(r));
          JIT_RETURN_IF_ERROR(Append(tx, now, "request.ended", r.id, "info",
                                     {{"assignment", "removed outside jit"}}));
          JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(model::JobKind::kRevoke, r.id)));
          JIT_RETURN_IF_ERROR(tx.DeleteJob(JobId(model::JobKind::kGrant, r.id)));
          if (options_.policy != nullptr) {
            JIT_RETURN_IF_ERROR(cutoff::ScheduleCutoff(tx, *options_.policy->Get(), r, now, now));
          }
          if (options_.activity && r.activated_at && !model::IsGroupAccount(r.account_id)) {
            JIT_RETURN_IF_ERROR(
                tx.PutJob(MakeJob(model::JobKind::kActivitySummary, r.id, now, now)));
          }
          ++ended;
        }
        if (more) {
          act = Act::kMissingMore;
          return OkStatus();  // the entry stays as it was read, for the next batch
        }
        act = Act::kMissing;
        return tx.DeleteLedger(e.principal_id, e.account_id, e.permission_set_arn);
      }
      if (!h.any_live) {
        // Neither assignment nor anyone relying on it: an entry left behind.
        act = Act::kStale;
        JIT_RETURN_IF_ERROR(Append(tx, now, "drift.ledger_stale", "", "warning", Describe(e)));
        return tx.DeleteLedger(e.principal_id, e.account_id, e.permission_set_arn);
      }
      return OkStatus();  // holders that are being granted or revoked: their jobs see to it
    };
    Status s = Transact(step);
    while (s.ok() && act == Act::kMissingMore) {
      ended_before += ended;
      s = Transact(step);
    }
    if (s.ok() && act == Act::kMissing) {
      ended += ended_before;
    } else {
      report_.requests_ended += ended_before;  // a later batch failed or was overtaken
    }
    if (!s.ok()) {
      Error(e, "store: " + s.ToString());
      return;
    }
    switch (act) {
      case Act::kNone:
        return;
      case Act::kSkipped:
        ++report_.skipped;
        return;
      case Act::kMissingMore:  // not after the loop above
      case Act::kMissing:
        ++report_.missing;
        report_.requests_ended += ended;
        spdlog::warn(
            "reconciler: assignment {} / {} / {} was removed outside jit; ended {} "
            "request(s)",
            e.principal_id, e.account_id, e.permission_set_arn, ended);
        return;
      case Act::kStale:
        ++report_.stale_entries;
        return;
      case Act::kDelete:
        Delete(marked);
        return;
    }
  }

  // A kRevoking entry: finish the reconciler's own delete of an earlier run. Entries whose
  // holders are alive (or have jobs) belong to a revoke job and are left alone.
  void ResumeDelete(const LedgerEntry& e) {
    bool mine = false;
    bool skipped = false;
    Status s = Transact([&](Tx& tx) -> Status {
      mine = false;
      skipped = false;
      JIT_ASSIGN_OR_RETURN(auto now_entry,
                           tx.GetLedger(e.principal_id, e.account_id, e.permission_set_arn));
      if (!now_entry || !Unchanged(e, *now_entry)) {
        skipped = true;
        return OkStatus();
      }
      JIT_ASSIGN_OR_RETURN(Holders h, ReadHolders(tx, *now_entry));
      mine = e.origin == LedgerOrigin::kJit && !h.any_live;
      return OkStatus();
    });
    if (!s.ok()) {
      Error(e, "store: " + s.ToString());
      return;
    }
    if (skipped) ++report_.skipped;
    if (!mine) return;
    if (e.operation_id.empty()) {
      Delete(e);
      return;
    }
    Poll(e, e.operation_id, std::max(1, options_.revoke_polls));
  }

  // Deletes the assignment of `e` (marked kRevoking by this run or an earlier one).
  void Delete(const LedgerEntry& e) {
    auto op = provider_.Revoke(AssignmentOf(e));
    if (op.has_value() && op->state == provider::OperationState::kInProgress) {
      LedgerEntry recorded = RecordOperation(e, op->id);
      if (recorded.operation_id != op->id) return;  // changed meanwhile: not ours any more
      Poll(recorded, op->id, options_.revoke_polls);
      return;
    }
    Settle(e, op);
  }

  // Polls the delete `op_id` of `e` up to `polls` times, then settles what it found.
  void Poll(const LedgerEntry& e, const std::string& op_id, int polls) {
    for (int i = 0; i < polls; ++i) {
      SleepFor(clock_, options_.revoke_poll_wait);
      auto polled = provider_.RevokeStatus(op_id);
      if (!polled.has_value() && polled.error().code() == StatusCode::kNotFound) {
        RecordOperation(e, "");  // the provider forgot it: the next run deletes again
        Error(e, "the provider does not know delete " + op_id);
        return;
      }
      if (!polled.has_value() || polled->state != provider::OperationState::kInProgress) {
        Settle(e, polled);
        return;
      }
    }
    ++report_.delete_in_progress;
  }

  // Stores the delete under way in the entry; returns the entry as stored (unchanged when it
  // was changed by someone else).
  LedgerEntry RecordOperation(const LedgerEntry& e, const std::string& op_id) {
    LedgerEntry out = e;
    Status s = Transact([&](Tx& tx) -> Status {
      out = e;
      JIT_ASSIGN_OR_RETURN(auto now_entry,
                           tx.GetLedger(e.principal_id, e.account_id, e.permission_set_arn));
      if (!now_entry || !Unchanged(e, *now_entry)) return OkStatus();
      out.operation_id = op_id;
      out.updated_at = clock_.Now();
      return tx.PutLedger(out);
    });
    if (!s.ok()) {
      Error(e, "store: " + s.ToString());
      return e;
    }
    return out;
  }

  // A delete answered: done (remove the entry, audit the drift), failed (clear the operation
  // so that the next run deletes again) or still going (next run).
  void Settle(const LedgerEntry& e, const Result<provider::Operation>& op) {
    if (!op.has_value()) {
      Error(e, "delete: " + op.error().ToString());
      return;
    }
    if (op->state == provider::OperationState::kInProgress) {
      ++report_.delete_in_progress;
      return;
    }
    if (op->state == provider::OperationState::kFailed) {
      RecordOperation(e, "");
      Error(e, "Identity Center could not delete the assignment: " + op->failure_reason);
      return;
    }
    bool done = false;
    Status s = Transact([&](Tx& tx) -> Status {
      done = false;
      JIT_ASSIGN_OR_RETURN(auto now_entry,
                           tx.GetLedger(e.principal_id, e.account_id, e.permission_set_arn));
      if (!now_entry || now_entry->state != LedgerState::kRevoking ||
          now_entry->holders != e.holders) {
        return OkStatus();
      }
      json d = Describe(e);
      d["note"] = "jit deleted an assignment it had made that should have ended";
      if (!op->id.empty()) d["operation_id"] = op->id;
      JIT_RETURN_IF_ERROR(Append(tx, clock_.Now(), "drift.deleted", "", "high", d));
      done = true;
      return tx.DeleteLedger(e.principal_id, e.account_id, e.permission_set_arn);
    });
    if (!s.ok()) {
      Error(e, "store: " + s.ToString());
      return;
    }
    if (done) {
      ++report_.deleted;
      spdlog::warn("reconciler: deleted leftover assignment {} / {} / {}", e.principal_id,
                   e.account_id, e.permission_set_arn);
    } else {
      ++report_.skipped;
    }
  }

  store::Store& store_;
  provider::Provider& provider_;
  Clock& clock_;
  const ReconcilerOptions& options_;
  ReconcileReport report_;
  std::map<std::pair<std::string, std::string>, Result<std::vector<provider::Assignment>>> listed_;
};

}  // namespace

Reconciler::Reconciler(store::Store& store, provider::Provider& provider, Clock& clock,
                       ReconcilerOptions options)
    : store_(store),
      provider_(provider),
      clock_(clock),
      options_(std::move(options)),
      task_(clock, options_.interval, [this] { RunAndLog(); }) {
  JIT_CHECK(options_.Validate().ok());
}

Reconciler::~Reconciler() { Stop(); }

Result<ReconcileReport> Reconciler::RunOnce() {
  return RunContext(store_, provider_, clock_, options_).Run();
}

Status Reconciler::Start() {
  Status s = task_.Start();
  if (!s.ok()) return FailedPreconditionError("the reconciler has been started already");
  return OkStatus();
}

void Reconciler::Stop() { task_.Stop(); }

std::int64_t Reconciler::runs() const { return task_.runs(); }

void Reconciler::RunAndLog() {
  Result<ReconcileReport> report = RunOnce();
  if (!report.has_value()) {
    spdlog::warn("reconciler: cannot read the ledger: {}", report.error().ToString());
  } else if (report->deleted + report->missing + report->stale_entries > 0 ||
             !report->errors.empty()) {
    spdlog::info(
        "reconciler: {} entries, {} deleted, {} missing ({} requests ended), {} stale, {} "
        "errors",
        report->entries_checked, report->deleted, report->missing, report->requests_ended,
        report->stale_entries, report->errors.size());
  }
}

}  // namespace jit::workflow
