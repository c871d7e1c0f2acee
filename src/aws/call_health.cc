#include "aws/call_health.h"

#include "core/mutex.h"
#include "core/time_format.h"

namespace jit::aws {

void CallHealth::Record(const std::string& operation, std::string_view outcome) {
  MutexLock lock(&mu_);
  if (outcome == "network_error" || outcome == "server_error") {
    ++failures_in_a_row_;
    last_failure_ = clock_.Now();
    last_what_ = operation + ": " + std::string(outcome);
  } else {
    // Any answer that is not a failure of the service itself (throttling and refusals too)
    // shows it is there.
    failures_in_a_row_ = 0;
  }
}

Status CallHealth::Check() const {
  MutexLock lock(&mu_);
  if (failures_in_a_row_ < failures_to_trip_) return OkStatus();
  if (clock_.Now() - last_failure_ >= forget_after_) return OkStatus();
  return UnavailableError(std::to_string(failures_in_a_row_) +
                          " calls in a row failed, the last (" + last_what_ + ") at " +
                          FormatRfc3339(last_failure_));
}

}  // namespace jit::aws
