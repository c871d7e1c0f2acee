#include "core/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <string>

#include "core/testing.h"

namespace jit {
namespace {

using ::jit::testing::StatusIs;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

Duration Days(int n) { return hours(24 * n); }

struct GoodCase {
  const char* text;
  Duration want;
};

class ParseDurationGood : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParseDurationGood, Parses) {
  Result<Duration> d = ParseDuration(GetParam().text);
  ASSERT_OK(d);
  EXPECT_EQ(*d, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseDurationGood,
    ::testing::Values(GoodCase{"90s", seconds(90)}, GoodCase{"15m", minutes(15)},
                      GoodCase{"1h30m", minutes(90)}, GoodCase{"2d", Days(2)},
                      GoodCase{"300", seconds(300)}, GoodCase{"0", seconds(0)},
                      GoodCase{"0s", seconds(0)}, GoodCase{"1h 30m", minutes(90)},
                      GoodCase{"  8h  ", hours(8)}, GoodCase{"250ms", milliseconds(250)},
                      GoodCase{"1d2h3m4s5ms",
                               Days(1) + hours(2) + minutes(3) + seconds(4) + milliseconds(5)},
                      GoodCase{"366d", Days(366)}, GoodCase{"90m", minutes(90)}));

struct BadCase {
  const char* text;
  const char* why;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }
void PrintTo(const GoodCase& c, std::ostream* os) { *os << "'" << c.text << "'"; }

class ParseDurationBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseDurationBad, IsInvalidArgumentSayingWhy) {
  EXPECT_THAT(ParseDuration(GetParam().text),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'" + std::string(GetParam().text) + "'"),
                             HasSubstr(GetParam().why))));
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseDurationBad,
    ::testing::Values(BadCase{"", "empty"}, BadCase{"   ", "empty"}, BadCase{"-5m", "negative"},
                      BadCase{"5x", "unknown unit 'x'"}, BadCase{"5mx", "unknown unit 'mx'"},
                      BadCase{"m", "expected a number"}, BadCase{"1.5h", "no unit"},
                      BadCase{"30m1h", "largest to smallest"}, BadCase{"1h1h", "once each"},
                      BadCase{"1h 30", "no unit"}, BadCase{"367d", "too long"},
                      BadCase{"366d1s", "too long"}, BadCase{"9000h", "too long"},
                      BadCase{"31622401", "too long"},
                      BadCase{"99999999999999999999999s", "too long"},
                      BadCase{"99999999999999999999999", "too long"}));

TEST(FormatDuration, WritesLargestUnitsFirst) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(seconds(45)), "45s");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(Days(2)), "2d");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(Days(1) + seconds(1)), "1d1s");
}

TEST(FormatDuration, RoundTripsThroughParseDuration) {
  for (Duration d : {Duration(0), Duration(1), Duration(999), Duration(seconds(5)),
                     Duration(minutes(15)), Duration(hours(8)), Duration(minutes(61)),
                     Duration(Days(366)), Duration(Days(3) + hours(4) + milliseconds(7))}) {
    std::string text = FormatDuration(d);
    Result<Duration> back = ParseDuration(text);
    ASSERT_OK(back) << text;
    EXPECT_EQ(*back, d) << text;
  }
}

TEST(ParseIsoDuration, ReadsSessionDurations) {
  EXPECT_EQ(*ParseIsoDuration("PT8H"), hours(8));
  EXPECT_EQ(*ParseIsoDuration("PT1H"), hours(1));
  EXPECT_EQ(*ParseIsoDuration("PT1H30M"), minutes(90));
  EXPECT_EQ(*ParseIsoDuration("PT45M"), minutes(45));
  EXPECT_EQ(*ParseIsoDuration("PT3600S"), hours(1));
  EXPECT_EQ(*ParseIsoDuration("PT12H"), hours(12));
  EXPECT_EQ(*ParseIsoDuration("P1DT2H"), hours(26));
  EXPECT_EQ(*ParseIsoDuration("PT1H0M30S"), seconds(3630));
  for (const char* bad : {"", "P", "PT", "8H", "PT8", "PTH", "PT8X", "P8H", "PT1H1H", "PT-1H",
                          "PT1.5H", "pt8h", "PT8H ", "P1DT", "PT1M1H1M"}) {
    EXPECT_THAT(ParseIsoDuration(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace jit
