#pragma once
// What `jit restore` does to a restored store before it replaces the data folder's store, so
// that the broker's jobs and reconciler make Identity Center match it without re-granting what
// has ended since the backup and without leaving behind an assignment jit made
// (docs/STORAGE.md "Backup and restore").

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace jit::app {

// What the restore command knows about the two stores.
struct RestoreFacts {
  Time backup_taken_at;              // when the backup was made (or its newest event)
  std::int64_t backup_last_seq = 0;  // the backup's newest audit event
  // The store being replaced: absent (nothing there), read (`replaced` below is it) or
  // unreadable (why in `replaced_problem`).
  bool replaced_present = false;
  std::string replaced_problem;
  std::string replaced_kept_as;  // the name it is kept under; empty when there is none
  std::int64_t replaced_last_seq = 0;
  std::string replaced_last_hash;
};

// What CarryForward changed in the restored store.
struct RestoreReport {
  int requests_ended = 0;       // open in the backup, ended in the replaced store: ended here too
  int requests_granted = 0;     // pending/approved in the backup, active in the replaced store:
                                // active here too, until the same expiry
  int ledger_carried = 0;       // ledger entries of the replaced store the backup lacks (or has
                                // otherwise): kept for holders granted since, or handed to the
                                // reconciler to delete
  int grants_failed = 0;        // approved, not yet granted, with no replaced store to ask
  int entries_released = 0;     // entries of jit's with no live holder: the reconciler deletes them
  int standing_dropped = 0;     // entries of standing access with no live holder: forgotten
  int notify_jobs_dropped = 0;  // notifications the replaced store had delivered since
};

// The message a grant fails with when the restored store cannot tell whether it happened.
std::string RestoredGrantFailure(Time backup_taken_at);

// Brings `restored` (a copy of the backup, opened by nobody else) in line with what happened
// after the backup, in one transaction of `restored`; `replaced` is only read.
//
// With the replaced store (`replaced` non-null):
//  - a request open (pending, approved, active, revoking) in the backup that the replaced store
//    shows ended (ended, denied, cancelled, timed_out, failed; or revoking, taken as ended)
//    takes its ended state there (its reason and time), loses its grant, revoke and
//    approval-timeout jobs, and gets a "restore.request_ended" event: nothing re-grants it;
//  - a request pending or approved in the backup that the replaced store shows active takes
//    that state (its activation and expiry), with a revoke job at that expiry instead of its
//    grant job ("restore.request_granted"): not a new grant of the full duration;
//  - a ledger entry of the replaced store that the backup lacks is added for the holders that
//    are active here (as it was there), or, with none and origin jit, as "revoking" with no
//    holder, which the reconciler's first run deletes; an entry the backup has gains those
//    holders (a "granting" one becomes "present"), and one that is standing access in the backup
//    but jit's in the replaced store becomes jit's ("restore.ledger_carried" each);
//  - notification jobs the replaced store no longer has (delivered since) are dropped.
// Without it (absent or unreadable):
//  - an approved request (its grant not finished in the backup) fails with
//    RestoredGrantFailure ("request.failed"): no grant job creates an assignment for it.
// Then, either way, every ledger entry with no live holder (a request that is open or has a
// grant, revoke or approval-timeout job) is handed to the reconciler: jit's become "revoking"
// with no operation (deleted at its first run; dated an hour back, as deletes need no settle
// time), standing ones are removed; dead holders are dropped from entries with live ones.
// Last, one "store.restored" event with the counts and the facts. Audit events are appended
// through Tx::AppendAudit (the chain goes on from the backup's last event).
// Errors: the stores' (nothing is changed then).
Result<RestoreReport> CarryForward(store::Store& restored, store::Store* replaced,
                                   const RestoreFacts& facts, Clock& clock);

}  // namespace jit::app
