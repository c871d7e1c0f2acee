#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "core/mutex.h"

namespace jit {

// Wall time (UTC). Deadlines are stored as wall times so that they survive a restart.
using Time = std::chrono::system_clock::time_point;
// Monotonic time, for measuring intervals only.
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

using TimerId = std::uint64_t;

// The one source of time. Every component that needs the time takes a Clock&.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current wall time, UTC.
  virtual Time Now() const = 0;
  // The current monotonic time.
  virtual MonoTime MonoNow() const = 0;

  // Calls `fn` once, on a thread of the clock's choosing, once the wall time has reached
  // `when` (at once, soon, when `when` is already past). `fn` must not block for long and
  // must not call Cancel on its own id. Returns an id for Cancel.
  virtual TimerId ScheduleAt(Time when, std::function<void()> fn) = 0;
  // Cancels a timer that has not fired yet. Cancelling a fired or unknown id does nothing.
  virtual void Cancel(TimerId id) = 0;
};

// The real clock. Timers run on one internal thread; they wait on the monotonic clock and
// re-check the wall clock when they wake, so that a stepped wall clock is honoured.
class RealClock final : public Clock {
 public:
  RealClock();
  ~RealClock() override;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  Time Now() const override;
  MonoTime MonoNow() const override;
  TimerId ScheduleAt(Time when, std::function<void()> fn) override;
  void Cancel(TimerId id) override;

 private:
  void Loop();

  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  TimerId next_id_ GUARDED_BY(mu_) = 1;
  std::multimap<Time, std::pair<TimerId, std::function<void()>>> timers_ GUARDED_BY(mu_);
  std::thread thread_;
};

// A clock that moves only when a test says so. Advance() fires the timers that come due,
// in order of due time, on the calling thread, with Now() equal to each timer's due time.
class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  FakeClock();
  explicit FakeClock(Time start);

  Time Now() const override;
  MonoTime MonoNow() const override;
  TimerId ScheduleAt(Time when, std::function<void()> fn) override;
  void Cancel(TimerId id) override;

  // Moves time forward by `d`, firing due timers on the way.
  void Advance(Duration d);
  // Sets the wall time (forward or back); fires timers that are due at the new time.
  void SetTime(Time t);
  // Number of timers waiting.
  std::size_t PendingTimers() const;

 private:
  void FireDue(Time until);

  mutable Mutex mu_;
  Time now_ GUARDED_BY(mu_);
  MonoTime mono_ GUARDED_BY(mu_);
  TimerId next_id_ GUARDED_BY(mu_) = 1;
  std::multimap<Time, std::pair<TimerId, std::function<void()>>> timers_ GUARDED_BY(mu_);
};

// Blocks the calling thread until `clock` has passed its Now() + `d` (a timer of the clock wakes
// it): with a FakeClock, until a test advances the clock that far. Returns at once for d <= 0.
// For waits inside workers (back-off between the tries of a call, polls), so that no worker
// sleeps in real time behind the clock's back.
void SleepFor(Clock& clock, Duration d);

// Unix milliseconds <-> Time, for storage.
std::int64_t ToUnixMillis(Time t);
// Values outside [kMinUnixMillis, kMaxUnixMillis] are clamped to them: Time (nanoseconds since
// 1970 in 64 bits) cannot hold more, and converting such a value would overflow.
Time FromUnixMillis(std::int64_t ms);
// The earliest and latest times Time holds, in Unix milliseconds (about 1677-09-21 and
// 2262-04-11).
inline constexpr std::int64_t kMaxUnixMillis =
    std::chrono::duration_cast<std::chrono::milliseconds>(Time::duration::max()).count();
inline constexpr std::int64_t kMinUnixMillis =
    std::chrono::duration_cast<std::chrono::milliseconds>(Time::duration::min()).count() + 1;

}  // namespace jit
