#pragma once
// A sliding-window rate limit per key: the workflow's `requests_per_minute_per_user`.

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace jit::workflow {

// What SlidingWindowLimiter::TryAcquire decided.
struct Admission {
  bool allowed = true;
  // When refused: how long until a slot frees (more than zero). Zero when allowed.
  Duration retry_after{0};
};

// At most `limit` events per key in any `window`, by the monotonic time the caller passes (the
// workflow's Clock::MonoNow, so that tests move it with a FakeClock). Kept in memory only: a
// restart forgets it, and each process of several counts on its own. Memory: one time per event
// still in the window, per key; keys idle for a window are dropped from time to time.
// Thread-safe.
class SlidingWindowLimiter {
 public:
  explicit SlidingWindowLimiter(Duration window);

  // Records an event of `key` at `now` when fewer than `limit` were recorded in the window that
  // ends at `now`. Otherwise records nothing and says how long until enough of them leave the
  // window for one more. `limit` <= 0: no limit, nothing recorded, always allowed.
  Admission TryAcquire(const std::string& key, int limit, MonoTime now);
  // Forgets one event of `key` recorded at `at` (it did not happen after all: the submission was
  // refused for another reason). Nothing when there is none.
  void Release(const std::string& key, MonoTime at);

  // Keys held now (for tests of the clean-up).
  std::size_t KeysForTesting() const;

 private:
  // Drops the times of `times` that have left the window ending at `now`.
  void Trim(std::deque<MonoTime>& times, MonoTime now) const;

  const Duration window_;
  mutable Mutex mu_;
  std::unordered_map<std::string, std::deque<MonoTime>> times_ GUARDED_BY(mu_);
  std::size_t acquired_since_sweep_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::workflow
