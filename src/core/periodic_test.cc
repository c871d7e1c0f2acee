#include "core/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/clock.h"

namespace jit {
namespace {

// Waits (real time, bounded) until `done` holds.
template <typename Fn>
bool Eventually(Fn done) {
  for (int i = 0; i < 5000 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return done();
}

TEST(PeriodicTask, RunsAtStartThenEveryIntervalUntilStopped) {
  FakeClock clock;
  std::atomic<int> calls{0};
  PeriodicTask task(clock, std::chrono::minutes(1), [&calls] { ++calls; });
  ASSERT_TRUE(task.Start().ok());
  EXPECT_FALSE(task.Start().ok());  // once
  ASSERT_TRUE(Eventually([&] { return task.runs() == 1; }));
  EXPECT_EQ(calls, 1);
  clock.Advance(std::chrono::seconds(59));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(task.runs(), 1);
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(Eventually([&] { return task.runs() == 2; }));
  task.Stop();
  clock.Advance(std::chrono::minutes(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(PeriodicTask, RunSoonRunsNowAndRearmsFromThere) {
  FakeClock clock;
  std::atomic<int> calls{0};
  PeriodicTask task(clock, std::chrono::minutes(1), [&calls] { ++calls; });
  task.RunSoon();  // before Start: nothing
  ASSERT_TRUE(task.Start().ok());
  ASSERT_TRUE(Eventually([&] { return task.runs() == 1; }));
  clock.Advance(std::chrono::seconds(30));
  task.RunSoon();
  ASSERT_TRUE(Eventually([&] { return task.runs() == 2; }));
  EXPECT_EQ(clock.PendingTimers(), 1u);     // the old timer was cancelled, one new one armed
  clock.Advance(std::chrono::seconds(59));  // 89 s: the old schedule's 60 s has passed
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(task.runs(), 2);
  clock.Advance(std::chrono::seconds(1));  // a minute after the RunSoon run
  ASSERT_TRUE(Eventually([&] { return task.runs() == 3; }));
  task.Stop();
  task.RunSoon();  // after Stop: nothing
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

TEST(PeriodicTask, StopBeforeStartIsHarmless) {
  FakeClock clock;
  PeriodicTask task(clock, std::chrono::seconds(1), [] {});
  task.Stop();
  task.Stop();
}

}  // namespace
}  // namespace jit
