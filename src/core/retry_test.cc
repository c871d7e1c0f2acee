#include "core/retry.h"

#include <gtest/gtest.h>

namespace jit {
namespace {

TEST(Retry, FollowsTheMeaningOfEachCode) {
  EXPECT_TRUE(ShouldRetryCall(UnavailableError("throttled")));
  EXPECT_FALSE(ShouldRetryCall(AbortedError("lost a race")));
  EXPECT_TRUE(ShouldRetryTransaction(AbortedError("lost a race")));
  EXPECT_FALSE(ShouldRetryTransaction(UnavailableError("throttled")));
  EXPECT_TRUE(IsRetryable(UnavailableError("x")));
  EXPECT_TRUE(IsRetryable(AbortedError("x")));
  for (const Status& s :
       {OkStatus(), InvalidArgumentError("x"), NotFoundError("x"), AlreadyExistsError("x"),
        PermissionDeniedError("x"), UnauthenticatedError("x"), FailedPreconditionError("x"),
        ResourceExhaustedError("x"), InternalError("x")}) {
    EXPECT_FALSE(IsRetryable(s)) << s;
    EXPECT_FALSE(ShouldRetryCall(s)) << s;
    EXPECT_FALSE(ShouldRetryTransaction(s)) << s;
  }
}

TEST(RetryAborted, RunsAgainOnlyWhileAborted) {
  int runs = 0;
  Status s = RetryAborted([&] { return ++runs < 3 ? AbortedError("race") : OkStatus(); });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(runs, 3);

  runs = 0;
  s = RetryAborted([&] {
    ++runs;
    return UnavailableError("busy");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(runs, 1);
}

TEST(RetryAborted, GivesUpAfterTheAttempts) {
  int runs = 0;
  Status s = RetryAborted([&] {
    ++runs;
    return AbortedError("race");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(runs, kTransactionAttempts);
  runs = 0;
  (void)RetryAborted(
      [&] {
        ++runs;
        return AbortedError("race");
      },
      2);
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace jit
