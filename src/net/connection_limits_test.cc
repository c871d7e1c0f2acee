#include "net/connection_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <limits>

#include "core/testing.h"

namespace jit::net {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

TEST(ChooseMaxConnections, LeavesAQuarterOfTheFileLimitToTheProcess) {
  // systemd's default soft limit: 256 descriptors stay free for outbound calls, store and logs.
  ConnectionCap cap = ChooseMaxConnections(std::nullopt, 1024);
  EXPECT_EQ(cap.max_connections, 768);
  EXPECT_EQ(cap.warning, "");
  EXPECT_EQ(ChooseMaxConnections(0, 1024).max_connections, 768);
  // At least 64 are kept, and the cap is never below one connection.
  EXPECT_EQ(ReservedDescriptors(100), 64u);
  EXPECT_EQ(ChooseMaxConnections(std::nullopt, 100).max_connections, 36);
  EXPECT_EQ(ChooseMaxConnections(std::nullopt, 50).max_connections, 1);
}

TEST(ChooseMaxConnections, DefaultStopsAtTheCeilingForLargeLimits) {
  EXPECT_EQ(ChooseMaxConnections(std::nullopt, 524288).max_connections,
            kDefaultMaxConnectionsCeiling);
  EXPECT_EQ(
      ChooseMaxConnections(std::nullopt, std::numeric_limits<std::uint64_t>::max()).max_connections,
      kDefaultMaxConnectionsCeiling);
  // A configured value may go past the ceiling when the limit allows it.
  EXPECT_EQ(ChooseMaxConnections(50'000, 524288).max_connections, 50'000);
}

TEST(ChooseMaxConnections, LowersAConfiguredValueTheLimitCannotHoldWithAWarning) {
  EXPECT_EQ(ChooseMaxConnections(500, 1024).max_connections, 500);
  EXPECT_EQ(ChooseMaxConnections(768, 1024).warning, "");
  ConnectionCap cap = ChooseMaxConnections(2000, 1024);
  EXPECT_EQ(cap.max_connections, 768);
  EXPECT_THAT(cap.warning, HasSubstr("server.max_connections 2000 is more than"));
  EXPECT_THAT(cap.warning, HasSubstr("lowered to 768"));
}

TEST(RaiseSoftFileLimit, RaisesTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max < 256) GTEST_SKIP() << "hard open-file limit below 256";
  rlimit lowered = saved;
  lowered.rlim_cur = 200;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  Result<RaisedFileLimit> raised = RaiseSoftFileLimit();
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_OK(raised);
  EXPECT_EQ(raised->before.soft, 200u);
  EXPECT_EQ(raised->after.soft, raised->after.hard);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  Result<FileLimit> current = CurrentFileLimit();
  ASSERT_OK(current);
  EXPECT_EQ(current->soft, static_cast<std::uint64_t>(saved.rlim_cur));
}

TEST(LogThrottle, LetsOneLineThroughPerIntervalWithTheCountHeldBack) {
  LogThrottle log(Duration(10'000));
  MonoTime t0{};
  EXPECT_THAT(log.Hit(t0), Optional(1u));
  for (int i = 1; i <= 99; ++i) EXPECT_EQ(log.Hit(t0 + Duration(i * 50)), std::nullopt);
  EXPECT_EQ(log.Flush(t0 + Duration(9'999)), std::nullopt);
  // The 100th event, 10 s after the first line, reports itself and the 99 held back.
  EXPECT_THAT(log.Hit(t0 + Duration(10'000)), Optional(100u));
  EXPECT_EQ(log.Flush(t0 + Duration(30'000)), std::nullopt);  // nothing held back
  EXPECT_THAT(log.Hit(t0 + Duration(30'001)), Optional(1u));
  EXPECT_EQ(log.Hit(t0 + Duration(30'002)), std::nullopt);
  EXPECT_THAT(log.Flush(t0 + Duration(40'001)), Optional(1u));
}

TEST(AcceptBackoff, WaitsLongerWhileAcceptsFailAndLogsOnceInTenSeconds) {
  AcceptBackoff backoff;
  const MonoTime t0{};
  MonoTime t = t0;
  std::vector<long long> waits;
  int lines = 0;
  // Ten seconds of failures, as with every descriptor taken (issue 15: ten log lines a second).
  while (t - t0 < Duration(10'000)) {
    AcceptBackoff::Step step = backoff.OnFailure(t);
    waits.push_back(step.wait.count());
    if (step.log_failures) {
      ++lines;
      EXPECT_EQ(*step.log_failures, 1u) << "only the first failure is logged at once";
    }
    t += step.wait;
  }
  EXPECT_EQ(waits, (std::vector<long long>{50, 100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000,
                                           1000, 1000, 1000, 1000}));
  EXPECT_EQ(lines, 1);
  // The 15th failure, 10.55 s after the first, reports itself and the 13 held back.
  AcceptBackoff::Step step = backoff.OnFailure(t);
  EXPECT_EQ(step.wait, Duration(1000));
  EXPECT_THAT(step.log_failures, Optional(14u));
  // A success starts over at 50 ms; failures held back are reported once a line is due.
  EXPECT_EQ(backoff.OnSuccess(t), std::nullopt);  // none held back
  EXPECT_EQ(backoff.OnFailure(t + Duration(1)).wait, Duration(50));
  EXPECT_EQ(backoff.OnSuccess(t + Duration(2)), std::nullopt);  // held back, not due yet
  EXPECT_THAT(backoff.OnSuccess(t + Duration(10'000)), Optional(1u));
}

}  // namespace
}  // namespace jit::net
