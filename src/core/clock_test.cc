#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"

namespace jit {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(UnixMillis, RoundTrips) {
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(0)), 0);
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(1767225600123)), 1767225600123);
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(-1500)), -1500);
}

TEST(FakeClock, StartsAtNewYear2026) {
  FakeClock clock;
  EXPECT_EQ(ToUnixMillis(clock.Now()), 1767225600000);
  FakeClock other(FromUnixMillis(1000));
  EXPECT_EQ(ToUnixMillis(other.Now()), 1000);
}

TEST(FakeClock, AdvanceMovesWallAndMonotonicTime) {
  FakeClock clock;
  Time wall = clock.Now();
  MonoTime mono = clock.MonoNow();
  clock.Advance(minutes(5));
  EXPECT_EQ(clock.Now() - wall, minutes(5));
  EXPECT_EQ(clock.MonoNow() - mono, minutes(5));
}

TEST(FakeClock, AdvanceFiresDueTimersInDueOrderAtTheirDueTime) {
  FakeClock clock;
  Time start = clock.Now();
  std::vector<std::pair<std::string, Time>> fired;
  auto record = [&](std::string name) {
    return [&, name] { fired.emplace_back(name, clock.Now()); };
  };
  clock.ScheduleAt(start + seconds(30), record("c"));
  clock.ScheduleAt(start + seconds(10), record("a"));
  clock.ScheduleAt(start + seconds(20), record("b"));
  clock.ScheduleAt(start + seconds(20), record("b2"));  // same due time: scheduling order
  clock.ScheduleAt(start + minutes(2), record("later"));
  EXPECT_EQ(clock.PendingTimers(), 5u);

  clock.Advance(seconds(9));
  EXPECT_TRUE(fired.empty());

  clock.Advance(seconds(51));  // now start + 60s
  ASSERT_EQ(fired.size(), 4u);
  EXPECT_EQ(fired[0], std::make_pair(std::string("a"), start + seconds(10)));
  EXPECT_EQ(fired[1], std::make_pair(std::string("b"), start + seconds(20)));
  EXPECT_EQ(fired[2], std::make_pair(std::string("b2"), start + seconds(20)));
  EXPECT_EQ(fired[3], std::make_pair(std::string("c"), start + seconds(30)));
  EXPECT_EQ(clock.Now(), start + seconds(60));
  EXPECT_EQ(clock.PendingTimers(), 1u);
}

TEST(FakeClock, TimerExactlyAtTargetFires) {
  FakeClock clock;
  bool fired = false;
  clock.ScheduleAt(clock.Now() + seconds(1), [&] { fired = true; });
  clock.Advance(seconds(1));
  EXPECT_TRUE(fired);
}

TEST(FakeClock, PastTimerFiresOnNextAdvance) {
  FakeClock clock;
  Time start = clock.Now();
  Time seen{};
  clock.ScheduleAt(start - hours(1), [&] { seen = clock.Now(); });
  clock.Advance(milliseconds(0));
  EXPECT_EQ(seen, start);  // time never goes back to fire a late timer
}

TEST(FakeClock, TimersScheduledByACallbackFireInTheSameAdvanceWhenDue) {
  FakeClock clock;
  Time start = clock.Now();
  std::vector<Time> fired;
  clock.ScheduleAt(start + seconds(10), [&] {
    fired.push_back(clock.Now());
    clock.ScheduleAt(clock.Now() + seconds(5), [&] {
      fired.push_back(clock.Now());
      clock.ScheduleAt(clock.Now() + hours(1), [&] { fired.push_back(clock.Now()); });
    });
  });
  clock.Advance(seconds(30));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], start + seconds(10));
  EXPECT_EQ(fired[1], start + seconds(15));
  EXPECT_EQ(clock.PendingTimers(), 1u);
  EXPECT_EQ(clock.Now(), start + seconds(30));
}

TEST(FakeClock, CancelledTimerDoesNotFire) {
  FakeClock clock;
  int fired = 0;
  TimerId a = clock.ScheduleAt(clock.Now() + seconds(1), [&] { fired += 1; });
  clock.ScheduleAt(clock.Now() + seconds(2), [&] { fired += 10; });
  clock.Cancel(a);
  clock.Cancel(a);       // twice: nothing
  clock.Cancel(999999);  // unknown: nothing
  EXPECT_EQ(clock.PendingTimers(), 1u);
  clock.Advance(seconds(5));
  EXPECT_EQ(fired, 10);
}

TEST(FakeClock, CallbackCanCancelALaterTimer) {
  FakeClock clock;
  bool later_fired = false;
  TimerId later = clock.ScheduleAt(clock.Now() + seconds(2), [&] { later_fired = true; });
  clock.ScheduleAt(clock.Now() + seconds(1), [&] { clock.Cancel(later); });
  clock.Advance(seconds(5));
  EXPECT_FALSE(later_fired);
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(FakeClock, SetTimeForwardFiresDueTimers) {
  FakeClock clock;
  Time start = clock.Now();
  Time seen{};
  clock.ScheduleAt(start + minutes(1), [&] { seen = clock.Now(); });
  clock.SetTime(start + hours(1));
  EXPECT_EQ(seen, start + minutes(1));
  EXPECT_EQ(clock.Now(), start + hours(1));
}

TEST(FakeClock, SetTimeBackwardsFiresNothingAndKeepsMonotonicTime) {
  FakeClock clock;
  Time start = clock.Now();
  MonoTime mono = clock.MonoNow();
  bool fired = false;
  clock.ScheduleAt(start + minutes(1), [&] { fired = true; });
  clock.SetTime(start - hours(1));
  EXPECT_FALSE(fired);
  EXPECT_EQ(clock.Now(), start - hours(1));
  EXPECT_EQ(clock.MonoNow(), mono);
  EXPECT_EQ(clock.PendingTimers(), 1u);
  clock.Advance(minutes(61));  // back at start + 1m
  EXPECT_TRUE(fired);
}

// Waits (bounded) until `done` is true; returns whether it became true in time.
class Latch {
 public:
  void Set() {
    {
      MutexLock lock(&mu_);
      done_ = true;
    }
    cv_.SignalAll();
  }
  bool WaitFor(milliseconds d) {
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (!done_ && cv_.WaitUntil(mu_, deadline)) {
    }
    return done_;
  }
  bool IsSet() {
    MutexLock lock(&mu_);
    return done_;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool done_ = false;
};

TEST(RealClock, NowIsCloseToSystemTime) {
  RealClock clock;
  auto diff = clock.Now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), seconds(5));
  MonoTime a = clock.MonoNow();
  MonoTime b = clock.MonoNow();
  EXPECT_LE(a, b);
}

TEST(RealClock, TimerFiresWhenDue) {
  RealClock clock;
  Latch latch;
  Time due = clock.Now() + milliseconds(30);
  Time fired_at{};
  clock.ScheduleAt(due, [&] {
    fired_at = clock.Now();
    latch.Set();
  });
  ASSERT_TRUE(latch.WaitFor(seconds(10)));
  EXPECT_GE(fired_at, due);
}

TEST(RealClock, PastTimerFiresSoon) {
  RealClock clock;
  Latch latch;
  clock.ScheduleAt(clock.Now() - hours(1), [&] { latch.Set(); });
  EXPECT_TRUE(latch.WaitFor(seconds(10)));
}

TEST(RealClock, CancelledTimerDoesNotFire) {
  RealClock clock;
  Latch cancelled;
  Latch marker;
  TimerId id = clock.ScheduleAt(clock.Now() + milliseconds(30), [&] { cancelled.Set(); });
  clock.Cancel(id);
  // Timers run in due order on one thread: once a later one has fired, the cancelled one would
  // have fired before it.
  clock.ScheduleAt(clock.Now() + milliseconds(60), [&] { marker.Set(); });
  ASSERT_TRUE(marker.WaitFor(seconds(10)));
  EXPECT_FALSE(cancelled.IsSet());
}

TEST(RealClock, DestroyingWithPendingTimersDoesNotFireThem) {
  Latch latch;
  {
    RealClock clock;
    clock.ScheduleAt(clock.Now() + hours(1), [&] { latch.Set(); });
  }
  EXPECT_FALSE(latch.IsSet());
}

TEST(SleepFor, WaitsUntilTheFakeClockIsAdvanced) {
  FakeClock clock;
  Mutex mu;
  bool woke = false;
  std::thread sleeper([&] {
    SleepFor(clock, seconds(5));
    MutexLock lock(&mu);
    woke = true;
  });
  while (clock.PendingTimers() == 0) std::this_thread::yield();
  clock.Advance(seconds(4));
  {
    MutexLock lock(&mu);
    EXPECT_FALSE(woke);
  }
  clock.Advance(seconds(1));
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(SleepFor, ReturnsAtOnceForNothingToWait) {
  FakeClock clock;
  SleepFor(clock, Duration(0));
  SleepFor(clock, Duration(-5));
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(SleepFor, WaitsOnARealClock) {
  RealClock clock;
  MonoTime start = clock.MonoNow();
  SleepFor(clock, milliseconds(20));
  EXPECT_GE(clock.MonoNow() - start, milliseconds(15));
}

}  // namespace
}  // namespace jit
