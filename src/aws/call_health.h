#pragma once
// Whether AWS answers: a verdict for /readyz from the outcomes of recent calls (CallObserver).

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/status.h"

namespace jit::aws {

// Thread-safe.
class CallHealth {
 public:
  // After `failures_to_trip` attempts in a row that got no answer or a 5xx, the service counts
  // as unreachable until an attempt succeeds, or `forget_after` passes without another failure.
  explicit CallHealth(Clock& clock, int failures_to_trip = 3,
                      Duration forget_after = std::chrono::minutes(5))
      : clock_(clock), failures_to_trip_(failures_to_trip), forget_after_(forget_after) {}

  // One attempt's outcome (json_client.h OutcomeOf names).
  void Record(const std::string& operation, std::string_view outcome);
  // OK, or Unavailable saying what failed and when.
  Status Check() const;

 private:
  Clock& clock_;
  const int failures_to_trip_;
  const Duration forget_after_;
  mutable Mutex mu_;
  int failures_in_a_row_ GUARDED_BY(mu_) = 0;
  Time last_failure_ GUARDED_BY(mu_);
  std::string last_what_ GUARDED_BY(mu_);
};

}  // namespace jit::aws
