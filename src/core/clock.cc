#include "core/clock.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/mutex.h"

namespace jit {

std::int64_t ToUnixMillis(Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Time FromUnixMillis(std::int64_t ms) {
  ms = std::clamp(ms, kMinUnixMillis, kMaxUnixMillis);
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::milliseconds(ms)));
}

void SleepFor(Clock& clock, Duration d) {
  if (d <= Duration(0)) return;
  // Shared with the timer's function, which the clock may destroy after this call returns.
  struct Wake {
    Mutex mu;
    CondVar cv;
    bool fired GUARDED_BY(mu) = false;
  };
  auto wake = std::make_shared<Wake>();
  clock.ScheduleAt(clock.Now() + d, [wake] {
    MutexLock lock(&wake->mu);
    wake->fired = true;
    wake->cv.SignalAll();
  });
  MutexLock lock(&wake->mu);
  while (!wake->fired) wake->cv.Wait(wake->mu);
}

namespace {

// Starts `fn` on a new thread that never takes asynchronous signals: the timer thread may be
// made before `jit serve` blocks SIGHUP/SIGTERM for its sigwait loop, and a signal delivered
// to it would kill the process with the default action.
std::thread StartWithoutSignals(std::function<void()> fn) {
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  std::thread t(std::move(fn));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return t;
}

}  // namespace

RealClock::RealClock() : thread_(StartWithoutSignals([this] { Loop(); })) {}

RealClock::~RealClock() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  thread_.join();
}

Time RealClock::Now() const { return std::chrono::system_clock::now(); }
MonoTime RealClock::MonoNow() const { return std::chrono::steady_clock::now(); }

TimerId RealClock::ScheduleAt(Time when, std::function<void()> fn) {
  TimerId id = 0;
  {
    MutexLock lock(&mu_);
    id = next_id_++;
    timers_.emplace(when, std::make_pair(id, std::move(fn)));
  }
  cv_.SignalAll();
  return id;
}

void RealClock::Cancel(TimerId id) {
  MutexLock lock(&mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void RealClock::Loop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    if (timers_.empty()) {
      cv_.Wait(mu_);
      continue;
    }
    Time due = timers_.begin()->first;
    Time now = Now();
    if (due > now) {
      // Wait on the monotonic clock, at most a second at a time, then look at the wall
      // clock again: a wall clock stepped forward must not make a timer late.
      auto wait = std::min<std::chrono::nanoseconds>(due - now, std::chrono::seconds(1));
      cv_.WaitUntil(mu_, MonoNow() + wait);
      continue;
    }
    auto node = timers_.extract(timers_.begin());
    mu_.Unlock();
    node.mapped().second();
    mu_.Lock();
  }
}

FakeClock::FakeClock() : FakeClock(FromUnixMillis(1767225600000)) {}  // 2026-01-01T00:00:00Z
FakeClock::FakeClock(Time start) : now_(start), mono_(MonoTime() + std::chrono::hours(1)) {}

Time FakeClock::Now() const {
  MutexLock lock(&mu_);
  return now_;
}

MonoTime FakeClock::MonoNow() const {
  MutexLock lock(&mu_);
  return mono_;
}

TimerId FakeClock::ScheduleAt(Time when, std::function<void()> fn) {
  MutexLock lock(&mu_);
  TimerId id = next_id_++;
  timers_.emplace(when, std::make_pair(id, std::move(fn)));
  return id;
}

void FakeClock::Cancel(TimerId id) {
  MutexLock lock(&mu_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void FakeClock::Advance(Duration d) {
  Time target;
  {
    MutexLock lock(&mu_);
    target = now_ + d;
  }
  FireDue(target);
}

void FakeClock::SetTime(Time t) {
  {
    MutexLock lock(&mu_);
    if (t < now_) {
      now_ = t;  // stepping back: monotonic time does not move
      return;
    }
  }
  FireDue(t);
}

void FakeClock::FireDue(Time until) {
  for (;;) {
    std::function<void()> fn;
    {
      MutexLock lock(&mu_);
      if (timers_.empty() || timers_.begin()->first > until) {
        if (until > now_) {
          mono_ += until - now_;
          now_ = until;
        }
        return;
      }
      auto node = timers_.extract(timers_.begin());
      if (node.key() > now_) {
        mono_ += node.key() - now_;
        now_ = node.key();
      }
      fn = std::move(node.mapped().second);
    }
    fn();  // may schedule further timers, which fire in this same Advance when due
  }
}

std::size_t FakeClock::PendingTimers() const {
  MutexLock lock(&mu_);
  return timers_.size();
}

}  // namespace jit
