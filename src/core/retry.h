#pragma once
// Whether and how to retry a failure, decided by its status code as docs/ARCHITECTURE.md "Errors" and
// core/status.h define them. Every retry decision in jit asks these, so that a code means the
// same everywhere.

#include <functional>

#include "core/status.h"

namespace jit {

// Unavailable (throttled, 5xx, time-out, store busy): the same call may succeed later; retry
// it after a back-off.
bool ShouldRetryCall(const Status& s);
// Aborted (lost a race): run the whole transaction again, re-reading what it read.
bool ShouldRetryTransaction(const Status& s);
// Either of the above: a step that failed so may succeed when run again later (a job is
// retried with the scheduler's back-off). Every other code is final: retrying unchanged does
// not mend InvalidArgument, NotFound, PermissionDenied, FailedPrecondition and the rest.
bool IsRetryable(const Status& s);

// How often a transaction is run in all when it keeps losing races.
inline constexpr int kTransactionAttempts = 5;

// Runs `transaction` until it returns anything but Aborted, `attempts` times at the most;
// returns its last status.
Status RetryAborted(const std::function<Status()>& transaction,
                    int attempts = kTransactionAttempts);

}  // namespace jit
