#pragma once
// Compares the assignment ledger with what Identity Center really holds, and mends the drift
// (issue 3 "Reconciler").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/periodic.h"
#include "core/result.h"
#include "policy/config.h"
#include "provider/provider.h"
#include "store/store.h"
#include "workflow/notifications.h"
#include "workflow/observer.h"

namespace jit::workflow {

struct ReconcilerOptions {
  // Time between two runs (the first runs at Start).
  Duration interval = std::chrono::minutes(5);
  // After deleting an assignment, how often its delete is polled within one run; still in
  // progress after that, the entry is left for the next run.
  int revoke_polls = 3;
  // The wait before each of those polls, timed by the Clock (SleepFor): a FakeClock's Advance
  // ends it.
  Duration revoke_poll_wait = Duration(1000);
  // Entries changed more recently than this are left for a later run: Identity Center's
  // lists may lag a just-finished create or delete by a moment.
  Duration settle_time = std::chrono::minutes(1);
  // An assignment removed outside jit ends its active grants in transactions of at most this
  // many grants each (the ledger entry goes with the last), so that thousands of grants of
  // one assignment never hold the store's writer at once.
  int max_ends_per_transaction = 200;
  // Hears the drift events it commits. Not owned; may be null.
  WorkflowObserver* observer = nullptr;
  // Sends drift to the security audience (notify jobs in the same transaction). Not owned; may
  // be null.
  Notifications* notifications = nullptr;
  // The policy in force: a grant ended because its assignment was removed outside jit gets its
  // sessions cut off where the policy says so (cutoff/engine.h ScheduleCutoff). Not owned; may
  // be null (no cut-off).
  policy::ConfigHolder* policy = nullptr;
  // Session activity is on (WorkflowOptions::activity): a grant ended this way gets its activity
  // summary job too.
  bool activity = false;

  Status Validate() const;
};

// What one run found and did.
struct ReconcileReport {
  int entries_checked = 0;     // ledger entries looked at
  int pairs_listed = 0;        // (account, permission set) pairs listed at the provider
  int deleted = 0;             // leftover assignments jit deleted ("drift.deleted")
  int delete_in_progress = 0;  // deletes still under way at the end of the run
  int missing = 0;             // entries whose assignment was gone ("drift.assignment_missing")
  int requests_ended = 0;      // active requests ended because their assignment was gone
  int stale_entries = 0;       // entries without assignment or live holder, removed
  int skipped = 0;             // entries that changed while the run looked at them
  std::vector<std::string> errors;  // provider or store failures (the entry is retried next run)
};

// On a schedule (and once at Start), for every ledger entry:
//  (a) an assignment jit made whose holders have all ended (or are gone) but which still exists
//      is deleted (Provider::Revoke, then RevokeStatus a few times), its entry removed, and
//      "drift.deleted" (high) audited. While that delete is under way the entry is kRevoking
//      with no live holder, so a new grant waits for it instead of sharing a dying assignment;
//      the next run finishes it.
//  (b) an entry whose assignment is gone while one of its holders is active: "drift.assignment_
//      missing" (high) is audited, the active holders are ended (end_reason "assignment removed
//      outside jit") and the entry is removed.
// Assignments that jit found in place (standing access) are never deleted, nor is anything the
// ledger does not name. Every change happens in a store transaction that re-reads the entry
// and skips it when it changed since it was read, so a grant or revoke job running at the same
// time always wins. Thread-safe.
class Reconciler {
 public:
  // `store`, `provider` and `clock` must outlive the reconciler.
  // REQUIRES: options.Validate().ok().
  Reconciler(store::Store& store, provider::Provider& provider, Clock& clock,
             ReconcilerOptions options = {});
  // Stops it if running.
  ~Reconciler();
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // One pass over the ledger. Errors: only a failure to read the ledger (Unavailable);
  // per-entry failures are in the report and the entry is looked at again next run.
  Result<ReconcileReport> RunOnce();

  // Runs RunOnce on its own thread now and then every `interval` (timed by the Clock).
  // FailedPrecondition when started already.
  Status Start();
  // Waits for a run under way to finish; no run starts after. Idempotent.
  void Stop();
  // Runs completed by the background thread (for tests).
  std::int64_t runs() const;

 private:
  void RunAndLog();

  store::Store& store_;
  provider::Provider& provider_;
  Clock& clock_;
  const ReconcilerOptions options_;
  PeriodicTask task_;  // last: it calls RunAndLog, which uses the members above
};

}  // namespace jit::workflow
