#include "core/time_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

#include "core/testing.h"

namespace jit {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FormatRfc3339, WritesUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1767225600000)), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(1795512600123)), "2026-11-24T09:30:00.123Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(951782400000)), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(ParseRfc3339, ReadsUtc) {
  Result<Time> t = ParseRfc3339("2026-11-24T09:30:00Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600000);
  t = ParseRfc3339("2026-11-24t09:30:00z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600000);
  t = ParseRfc3339("2026-11-24 09:30:00Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600000);
}

TEST(ParseRfc3339, ReadsFractions) {
  Result<Time> t = ParseRfc3339("2026-11-24T09:30:00.5Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600500);
  t = ParseRfc3339("2026-11-24T09:30:00.123Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600123);
  t = ParseRfc3339("2026-11-24T09:30:00.123999999Z");  // below a millisecond is dropped
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600123);
}

TEST(ParseRfc3339, ReadsOffsets) {
  Result<Time> t = ParseRfc3339("2026-11-24T10:30:00.5+01:00");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600500);
  t = ParseRfc3339("2026-11-24T04:00:00-05:30");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600000);
  t = ParseRfc3339("2026-11-24T09:30:00+00:00");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixMillis(*t), 1795512600000);
  t = ParseRfc3339("2026-01-01T00:30:00+01:00");  // crosses a year boundary
  ASSERT_OK(t);
  EXPECT_EQ(FormatRfc3339(*t), "2025-12-31T23:30:00.000Z");
}

TEST(ParseRfc3339, RoundTripsFormat) {
  for (std::int64_t ms :
       {0LL, 1LL, 951782400000LL, 1767225600000LL, 1795512600123LL, 4102444799999LL, -86400001LL}) {
    std::string text = FormatRfc3339(FromUnixMillis(ms));
    Result<Time> back = ParseRfc3339(text);
    ASSERT_OK(back) << text;
    EXPECT_EQ(ToUnixMillis(*back), ms) << text;
  }
}

class ParseRfc3339Bad : public ::testing::TestWithParam<const char*> {};

TEST_P(ParseRfc3339Bad, IsInvalidArgument) {
  EXPECT_THAT(ParseRfc3339(GetParam()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("RFC 3339")));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ParseRfc3339Bad,
    ::testing::Values("", "2026", "2026-11-24", "2026-11-24T09:30:00",  // no zone
                      "2026-11-24T09:30Z", "2026-11-24T09:30:00.Z", "2026-11-24T09:30:00+01",
                      "2026-11-24T09:30:00+0100", "2026-11-24T09:30:00+01:0",
                      "2026-11-24T09:30:00+24:00", "2026-11-24T09:30:00Zjunk",
                      "2026-11-24X09:30:00Z", "2026/11/24T09:30:00Z", "2026-13-01T00:00:00Z",
                      "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-32T00:00:00Z",
                      "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2025-02-29T00:00:00Z",
                      "2026-11-24T24:00:00Z", "2026-11-24T09:60:00Z", "2026-11-24T09:30:61Z",
                      "２026-11-24T09:30:00Z", "20a6-11-24T09:30:00Z", " 2026-11-24T09:30:00Z"));

// Found by fuzz/api_request_fuzzer: "start_at": "4848-01-01T02:00:00Z" overflowed the
// conversion to Time (UB; in a release build a time in the past).
TEST(ParseRfc3339, RefusesTimesThatTimeCannotHold) {
  for (const char* text : {"4848-01-01T02:00:00Z", "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z",
                           "1677-09-21T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_THAT(ParseRfc3339(text), StatusIs(StatusCode::kInvalidArgument, HasSubstr("range")))
        << text;
  }
  EXPECT_OK(ParseRfc3339("2262-04-10T23:59:59Z"));
  EXPECT_OK(ParseRfc3339("1678-01-01T00:00:00Z"));
}

TEST(FromUnixMillis, ClampsToTheRangeTimeHolds) {
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(std::numeric_limits<std::int64_t>::max())), kMaxUnixMillis);
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(std::numeric_limits<std::int64_t>::min())), kMinUnixMillis);
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(1767225600123)), 1767225600123);
}

TEST(ParseRfc3339, AcceptsLeapDay) {
  Result<Time> t = ParseRfc3339("2024-02-29T12:00:00Z");
  ASSERT_OK(t);
  EXPECT_EQ(FormatRfc3339(*t), "2024-02-29T12:00:00.000Z");
}

}  // namespace
}  // namespace jit
