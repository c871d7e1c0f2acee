#include "aws/retry.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace jit::aws {
namespace {

TEST(SplitEndpoint, CutsAuthorityAndPath) {
  std::string authority;
  std::string path;
  SplitEndpoint("https://user@sso.us-east-1.amazonaws.com:443/base/", authority, path);
  EXPECT_EQ(authority, "sso.us-east-1.amazonaws.com:443");
  EXPECT_EQ(path, "/base");
  SplitEndpoint("http://127.0.0.1:8080", authority, path);
  EXPECT_EQ(authority, "127.0.0.1:8080");
  EXPECT_EQ(path, "");
  SplitEndpoint("localhost//", authority, path);
  EXPECT_EQ(authority, "localhost");
  EXPECT_EQ(path, "");
}

TEST(FullJitter, StaysUnderTheCap) {
  RetryPolicy retry{.base = Duration(100), .max = Duration(300)};
  for (int i = 0; i < 200; ++i) {
    EXPECT_LE(FullJitter(retry, 0), Duration(100));
    EXPECT_LE(FullJitter(retry, 1), Duration(200));
    EXPECT_LE(FullJitter(retry, 10), Duration(300));
    EXPECT_GE(FullJitter(retry, 10), Duration(0));
  }
  EXPECT_EQ(FullJitter(RetryPolicy{.base = Duration(0)}, 3), Duration(0));
}

TEST(WaitBeforeRetry, UsesTheGivenSleepOrElseTheClock) {
  FakeClock clock;
  std::vector<Duration> slept;
  RetryPolicy fake{.sleep = [&](Duration d) { slept.push_back(d); }};
  WaitBeforeRetry(fake, clock, Duration(70));
  EXPECT_EQ(slept, std::vector<Duration>{Duration(70)});
  EXPECT_EQ(clock.PendingTimers(), 0u);

  std::thread waiter([&] { WaitBeforeRetry(RetryPolicy{}, clock, Duration(500)); });
  while (clock.PendingTimers() == 0) std::this_thread::yield();
  clock.Advance(Duration(500));  // no real time passes: the wait ends when the clock says
  waiter.join();
}

}  // namespace
}  // namespace jit::aws
