#pragma once
// What the workflow and the reconciler tell observers (metrics; later notifications): the audit
// events of each transaction once it has committed, and when a revocation's delete went out.

#include <functional>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/audit_event.h"
#include "model/request.h"
#include "store/store.h"

namespace jit::workflow {

class WorkflowObserver {
 public:
  virtual ~WorkflowObserver() = default;
  // The audit events a transaction appended, in order, after it committed durably. Called on
  // the committing thread; must not block and must not call back into the workflow.
  virtual void OnCommitted(const std::vector<model::AuditEvent>& events) = 0;
  // Identity Center accepted the delete of `r`'s assignment at `at` (r.end_reason says why:
  // "expired" for expiries).
  virtual void OnRevokeIssued(const model::Request& r, Time at) = 0;
};

// Called inside the transaction, after `fn` succeeded, with the audit events it appended: what
// follows from them (notification jobs) is written in the same transaction. An error undoes
// the whole transaction.
using BeforeCommit =
    std::function<Status(store::Tx& tx, const std::vector<model::AuditEvent>& events)>;

// Runs `fn` in one store transaction, again (up to 5 times in all) when it loses a race
// (Aborted). `before_commit` (may be empty) runs last inside it. When it commits, `observer`
// (may be null) hears the audit events of the attempt that committed, and `committed` (may be
// null) receives them as stored (with their sequence numbers). Returns the transaction's status.
Status TransactAndTell(store::Store& store, WorkflowObserver* observer,
                       const std::function<Status(store::Tx&)>& fn,
                       const BeforeCommit& before_commit = {},
                       std::vector<model::AuditEvent>* committed = nullptr);

}  // namespace jit::workflow
