#include "core/retry.h"

namespace jit {

bool ShouldRetryCall(const Status& s) { return s.code() == StatusCode::kUnavailable; }

bool ShouldRetryTransaction(const Status& s) { return s.code() == StatusCode::kAborted; }

bool IsRetryable(const Status& s) { return ShouldRetryCall(s) || ShouldRetryTransaction(s); }

Status RetryAborted(const std::function<Status()>& transaction, int attempts) {
  Status s;
  for (int i = 0; i < attempts; ++i) {
    s = transaction();
    if (!ShouldRetryTransaction(s)) return s;
  }
  return s;
}

}  // namespace jit
