#include "core/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "core/result.h"
#include "core/testing.h"

namespace jit {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_THAT(s, IsOk());
  EXPECT_EQ(s, OkStatus());
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = NotFoundError("no request req_1");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no request req_1");
  EXPECT_EQ(s.ToString(), "NotFound: no request req_1");
  EXPECT_THAT(s, Not(IsOk()));
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound, HasSubstr("req_1")));
}

TEST(Status, HelpersMakeTheirCodes) {
  EXPECT_EQ(InvalidArgumentError("x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NotFoundError("x").code(), StatusCode::kNotFound);
  EXPECT_EQ(AlreadyExistsError("x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(PermissionDeniedError("x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(UnauthenticatedError("x").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(FailedPreconditionError("x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AbortedError("x").code(), StatusCode::kAborted);
  EXPECT_EQ(UnavailableError("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ResourceExhaustedError("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(InternalError("x").code(), StatusCode::kInternal);
}

TEST(Status, CodeNames) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "InvalidArgument");
  EXPECT_EQ(StatusCodeName(StatusCode::kPermissionDenied), "PermissionDenied");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "Unavailable");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "Internal");
}

TEST(Status, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(NotFoundError("a"), NotFoundError("a"));
  EXPECT_FALSE(NotFoundError("a") == NotFoundError("b"));
  EXPECT_FALSE(NotFoundError("a") == InternalError("a"));
}

TEST(Status, WithContextPrefixesMessageAndKeepsCode) {
  Status s = UnavailableError("throttled").WithContext("DeleteAccountAssignment");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "DeleteAccountAssignment: throttled");
  EXPECT_THAT(OkStatus().WithContext("ignored"), IsOk());
  EXPECT_EQ(OkStatus().WithContext("ignored").message(), "");
}

TEST(Status, StreamsAsToString) {
  std::ostringstream os;
  os << AbortedError("lost the race");
  EXPECT_EQ(os.str(), "Aborted: lost the race");
}

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_OK(r);
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value_or(7), 42);
  EXPECT_THAT(r.error(), IsOk());
  EXPECT_THAT(r.status(), IsOk());
}

TEST(Result, HoldsAnError) {
  Result<int> r = NotFoundError("gone");
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.value_or(7), 7);
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound, "gone"));
  EXPECT_EQ(r.error(), NotFoundError("gone"));
}

TEST(Result, ConvertsFromConstructibleValues) {
  Result<std::string> r = "text";
  ASSERT_OK(r);
  EXPECT_EQ(*r, "text");
  EXPECT_EQ(r->size(), 4u);
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_OK(r);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InternalError("boom");
  EXPECT_DEATH((void)r.value(), "JIT_CHECK failed");
}

TEST(ResultDeathTest, OkStatusWithoutValueAborts) {
  EXPECT_DEATH({ Result<int> r = OkStatus(); }, "JIT_CHECK failed");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  JIT_ASSIGN_OR_RETURN(int half, Half(x));
  JIT_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckQuarter(int x, int* out) {
  JIT_ASSIGN_OR_RETURN(*out, Quarter(x));
  return OkStatus();
}

Status FailIfNegative(int x) {
  if (x < 0) return InvalidArgumentError("negative");
  return OkStatus();
}

Status BothNonNegative(int a, int b, int* calls) {
  ++*calls;
  JIT_RETURN_IF_ERROR(FailIfNegative(a));
  ++*calls;
  JIT_RETURN_IF_ERROR(FailIfNegative(b));
  ++*calls;
  return OkStatus();
}

TEST(Macros, AssignOrReturnAssignsOnSuccess) {
  Result<int> r = Quarter(20);
  ASSERT_OK(r);
  EXPECT_EQ(*r, 5);
  int out = 0;
  ASSERT_OK(CheckQuarter(8, &out));
  EXPECT_EQ(out, 2);
}

TEST(Macros, AssignOrReturnReturnsTheFirstError) {
  EXPECT_THAT(Quarter(7), StatusIs(StatusCode::kInvalidArgument, "7 is odd"));
  EXPECT_THAT(Quarter(10), StatusIs(StatusCode::kInvalidArgument, "5 is odd"));
  int out = -1;
  EXPECT_THAT(CheckQuarter(6, &out), StatusIs(StatusCode::kInvalidArgument, "3 is odd"));
  EXPECT_EQ(out, -1);
}

TEST(Macros, ReturnIfErrorStopsAtTheFirstError) {
  int calls = 0;
  EXPECT_OK(BothNonNegative(1, 2, &calls));
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_THAT(BothNonNegative(-1, 2, &calls), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_THAT(BothNonNegative(1, -2, &calls), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace jit
