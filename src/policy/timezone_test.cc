#include "policy/timezone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/testing.h"
#include "core/time_format.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::policy::timezone_test {
namespace {

using ::jit::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Copies of Debian tzdata 2025b's files (public domain), so that the tests do not depend on
// what the machine has installed.
constexpr std::string_view kDir = JIT_ZONEINFO_TESTDATA;

Time At(const std::string& rfc3339) {
  Result<Time> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.value_or(Time());
}

std::shared_ptr<const TimeZone> MustLoad(std::string_view name) {
  Result<std::shared_ptr<const TimeZone>> z = LoadTimeZone(name, kDir);
  EXPECT_TRUE(z.ok()) << z.error();
  return z.ok() ? *z : TimeZone::Utc();
}

// Big-endian helpers for hand-made TZif files.
void Put32(std::string& out, std::int64_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}
void Put64(std::string& out, std::int64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

// One TZif data block: header plus transitions to the given types (offsets in seconds).
std::string Block(char version, int time_size, const std::vector<std::int64_t>& times,
                  const std::vector<std::uint8_t>& idx, const std::vector<std::int32_t>& offsets) {
  std::string out = "TZif";
  out += version;
  out += std::string(15, '\0');
  Put32(out, 0);  // isutcnt
  Put32(out, 0);  // isstdcnt
  Put32(out, 0);  // leapcnt
  Put32(out, static_cast<std::int64_t>(times.size()));
  Put32(out, static_cast<std::int64_t>(offsets.size()));
  Put32(out, 4);  // charcnt
  for (std::int64_t t : times) time_size == 8 ? Put64(out, t) : Put32(out, t);
  for (std::uint8_t i : idx) out += static_cast<char>(i);
  for (std::int32_t o : offsets) {
    Put32(out, o);
    out += '\0';  // isdst
    out += '\0';  // desigidx
  }
  out += std::string("XXX\0", 4);
  return out;
}

TEST(ZoneName, AcceptsTzDatabaseNames) {
  for (std::string_view name : {"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires",
                                "Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince"}) {
    EXPECT_TRUE(IsValidZoneName(name)) << name;
  }
}

TEST(ZoneName, RefusesPathsAndOddCharacters) {
  for (std::string_view name :
       {"", "../../etc/passwd", "Europe/../../../etc/shadow", "/etc/localtime", "Europe/",
        "Europe//Berlin", ".hidden", "Europe/./Berlin", "Europe\\Berlin", "Europe/Berlin\n", "-rf",
        "Europe/Berlin%00", "Europe Berlin"}) {
    EXPECT_FALSE(IsValidZoneName(name)) << name;
  }
  EXPECT_FALSE(IsValidZoneName(std::string(129, 'a')));
}

TEST(LoadTimeZone, UtcIsBuiltInAndNeedsNoFile) {
  Result<std::shared_ptr<const TimeZone>> z = LoadTimeZone("UTC", "/nonexistent");
  ASSERT_OK(z);
  EXPECT_EQ((*z)->name(), "UTC");
  EXPECT_EQ((*z)->OffsetAt(At("2026-07-01T12:00:00Z")), seconds(0));
}

TEST(LoadTimeZone, EtcUtcFromAFile) {
  auto z = MustLoad("Etc/UTC");
  EXPECT_EQ(z->OffsetAt(At("1950-01-01T00:00:00Z")), seconds(0));
  EXPECT_EQ(z->OffsetAt(At("2026-07-01T12:00:00Z")), seconds(0));
  EXPECT_EQ(z->OffsetAt(At("2250-07-01T12:00:00Z")), seconds(0));
}

TEST(LoadTimeZone, BogusNameIsNotFound) {
  EXPECT_THAT(LoadTimeZone("Mars/Olympus_Mons", kDir),
              StatusIs(StatusCode::kNotFound, "unknown time zone 'Mars/Olympus_Mons'"));
}

TEST(LoadTimeZone, AFolderIsNotAZone) {
  EXPECT_THAT(LoadTimeZone("Europe", kDir), StatusIs(StatusCode::kNotFound));
}

TEST(LoadTimeZone, PathTraversalIsRefusedBeforeAnyFileIsOpened) {
  EXPECT_THAT(LoadTimeZone("../../../../etc/passwd", kDir),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is not a time zone name")));
  EXPECT_THAT(LoadTimeZone("/etc/passwd", kDir), StatusIs(StatusCode::kInvalidArgument));
}

TEST(LoadTimeZone, AFileThatIsNotTzifIsInvalid) {
  ::jit::testing::TempDir dir;
  std::ofstream(dir.path() / "Bad") << "#!/bin/sh\necho not a zone\n";
  EXPECT_THAT(LoadTimeZone("Bad", dir.path().string()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not valid TZif")));
}

TEST(TimeZone, BerlinAcrossBothSwitchesOf2026) {
  auto z = MustLoad("Europe/Berlin");
  // Summer time starts on Sunday 29 March 2026 at 01:00 UTC (02:00 CET -> 03:00 CEST).
  EXPECT_EQ(z->OffsetAt(At("2026-03-29T00:59:59Z")), hours(1));
  EXPECT_EQ(z->OffsetAt(At("2026-03-29T01:00:00Z")), hours(2));
  // And ends on Sunday 25 October 2026 at 01:00 UTC (03:00 CEST -> 02:00 CET).
  EXPECT_EQ(z->OffsetAt(At("2026-10-25T00:59:59Z")), hours(2));
  EXPECT_EQ(z->OffsetAt(At("2026-10-25T01:00:00Z")), hours(1));
  EXPECT_EQ(z->LocalTime(At("2026-07-01T06:30:00Z")),
            std::chrono::sys_seconds(At("2026-07-01T08:30:00Z").time_since_epoch() / seconds(1) *
                                     seconds(1)));
}

TEST(TimeZone, BerlinPastTheLastTransitionUsesTheFooterRule) {
  auto z = MustLoad("Europe/Berlin");
  // (system_clock ends in 2262.) 2100 lies beyond the file's explicit transitions:
  // CET-1CEST,M3.5.0,M10.5.0/3.
  EXPECT_EQ(z->OffsetAt(At("2100-03-28T00:59:59Z")), hours(1));
  EXPECT_EQ(z->OffsetAt(At("2100-03-28T01:00:00Z")), hours(2));
  EXPECT_EQ(z->OffsetAt(At("2100-10-31T00:59:59Z")), hours(2));
  EXPECT_EQ(z->OffsetAt(At("2100-10-31T01:00:00Z")), hours(1));
  EXPECT_EQ(z->OffsetAt(At("2100-12-31T23:30:00Z")), hours(1));
}

TEST(TimeZone, NewYork) {
  auto z = MustLoad("America/New_York");
  EXPECT_EQ(z->OffsetAt(At("2026-01-15T12:00:00Z")), -hours(5));
  EXPECT_EQ(z->OffsetAt(At("2026-03-08T06:59:59Z")), -hours(5));
  EXPECT_EQ(z->OffsetAt(At("2026-03-08T07:00:00Z")), -hours(4));
  EXPECT_EQ(z->OffsetAt(At("2026-11-01T05:59:59Z")), -hours(4));
  EXPECT_EQ(z->OffsetAt(At("2026-11-01T06:00:00Z")), -hours(5));
  EXPECT_EQ(z->OffsetAt(At("2100-03-14T06:59:59Z")), -hours(5));
  EXPECT_EQ(z->OffsetAt(At("2100-03-14T07:00:00Z")), -hours(4));
  // Before the first transition (1883 and earlier): local mean time, type 0.
  EXPECT_EQ(z->OffsetAt(At("1800-01-01T00:00:00Z")), -(hours(4) + minutes(56) + seconds(2)));
}

TEST(TimeZone, KolkataIsHalfAnHourOff) {
  auto z = MustLoad("Asia/Kolkata");
  EXPECT_EQ(z->OffsetAt(At("2026-06-01T00:00:00Z")), hours(5) + minutes(30));
  EXPECT_EQ(z->OffsetAt(At("2250-06-01T00:00:00Z")), hours(5) + minutes(30));
}

TEST(TimeZone, VersionOneFileUsesThe32BitData) {
  std::string data = Block('\0', 4, {1000}, {1}, {3600, 7200});
  auto z = TimeZone::FromTzif("Test/V1", data);
  ASSERT_OK(z);
  EXPECT_EQ((*z)->OffsetAt(FromUnixMillis(999'000)), hours(1));
  EXPECT_EQ((*z)->OffsetAt(FromUnixMillis(1'000'000)), hours(2));
  EXPECT_EQ((*z)->OffsetAt(FromUnixMillis(5'000'000'000'000)), hours(2));
}

TEST(TimeZone, VersionTwoIgnoresTheFirstBlockAndReadsTheFooter) {
  // The 32-bit block says +9h everywhere; the 64-bit one and its footer are what count.
  std::string data = Block('2', 4, {}, {}, {9 * 3600});
  data += Block('2', 8, {0}, {0}, {-3 * 3600});
  data += "\n<-03>3<-02>,M3.2.0,M11.1.0\n";
  auto z = TimeZone::FromTzif("Test/V2", data);
  ASSERT_OK(z);
  EXPECT_EQ((*z)->OffsetAt(At("2026-01-10T00:00:00Z")), -hours(3));
  EXPECT_EQ((*z)->OffsetAt(At("2026-07-10T00:00:00Z")), -hours(2));
}

TEST(TimeZone, TruncatedOrCorruptFilesAreRefused) {
  std::string good = Block('2', 4, {}, {}, {0}) + Block('2', 8, {0}, {0}, {0}) + "\nUTC0\n";
  ASSERT_OK(TimeZone::FromTzif("Good", good));
  for (std::size_t n : {0UL, 3UL, 44UL, 60UL, good.size() - 1}) {
    EXPECT_THAT(TimeZone::FromTzif("Cut", good.substr(0, n)),
                StatusIs(StatusCode::kInvalidArgument))
        << n;
  }
  // A transition to a type that does not exist.
  EXPECT_THAT(TimeZone::FromTzif("Bad", Block('\0', 4, {5}, {3}, {0})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown time type")));
  // Transitions out of order.
  EXPECT_THAT(TimeZone::FromTzif("Bad", Block('\0', 4, {5, 4}, {0, 0}, {0})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("ascending")));
  // A footer that cannot be read.
  EXPECT_THAT(
      TimeZone::FromTzif("Bad", Block('2', 4, {}, {}, {0}) + Block('2', 8, {}, {}, {0}) + "\n?\n"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("TZ string")));
  // Huge counts must not be trusted.
  std::string huge = Block('\0', 4, {}, {}, {0});
  huge[32] = '\x7f';  // timecnt
  EXPECT_THAT(TimeZone::FromTzif("Bad", huge), StatusIs(StatusCode::kInvalidArgument));
}

TEST(PosixTz, CommonForms) {
  Result<TimeZone::PosixTz> cet = ParsePosixTz("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_OK(cet);
  EXPECT_EQ(cet->std_offset, 3600);
  EXPECT_TRUE(cet->has_dst);
  EXPECT_EQ(cet->dst_offset, 7200);
  EXPECT_EQ(cet->start.month, 3);
  EXPECT_EQ(cet->start.week, 5);
  EXPECT_EQ(cet->start.weekday, 0);
  EXPECT_EQ(cet->start.time, 7200);
  EXPECT_EQ(cet->end.time, 3 * 3600);

  Result<TimeZone::PosixTz> ist = ParsePosixTz("IST-5:30");
  ASSERT_OK(ist);
  EXPECT_EQ(ist->std_offset, 5 * 3600 + 30 * 60);
  EXPECT_FALSE(ist->has_dst);

  Result<TimeZone::PosixTz> quoted = ParsePosixTz("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  ASSERT_OK(quoted);
  EXPECT_EQ(quoted->dst_offset, 11 * 3600);

  Result<TimeZone::PosixTz> julian = ParsePosixTz("XXX3YYY,J60/-1,300/167");
  ASSERT_OK(julian);
  EXPECT_EQ(julian->start.kind, TimeZone::PosixRule::Kind::kJulianNoLeap);
  EXPECT_EQ(julian->start.time, -3600);
  EXPECT_EQ(julian->end.kind, TimeZone::PosixRule::Kind::kZeroBasedDay);
  EXPECT_EQ(julian->end.time, 167 * 3600);

  for (std::string_view bad :
       {"", "C", "CET", "CET-1CEST", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.0", "CET-1CEST,J0,J1", "CET-1CEST,M3.5.0,M10.5.0/168", "<ab>1"}) {
    EXPECT_THAT(ParsePosixTz(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(TimeZone, SouthernHemisphereFooter) {
  // Sydney: AEST-10AEDT,M10.1.0,M4.1.0/3. DST from the first Sunday of October to the first
  // Sunday of April.
  std::string data = Block('2', 4, {}, {}, {0}) + Block('2', 8, {}, {}, {36000}) +
                     "\nAEST-10AEDT,M10.1.0,M4.1.0/3\n";
  auto z = TimeZone::FromTzif("Australia/Sydney", data);
  ASSERT_OK(z);
  EXPECT_EQ((*z)->OffsetAt(At("2026-01-15T00:00:00Z")), hours(11));
  EXPECT_EQ((*z)->OffsetAt(At("2026-07-15T00:00:00Z")), hours(10));
  // 5 April 2026 03:00 AEDT = 4 April 16:00 UTC.
  EXPECT_EQ((*z)->OffsetAt(At("2026-04-04T15:59:59Z")), hours(11));
  EXPECT_EQ((*z)->OffsetAt(At("2026-04-04T16:00:00Z")), hours(10));
  // 4 October 2026 02:00 AEST = 3 October 16:00 UTC.
  EXPECT_EQ((*z)->OffsetAt(At("2026-10-03T15:59:59Z")), hours(10));
  EXPECT_EQ((*z)->OffsetAt(At("2026-10-03T16:00:00Z")), hours(11));
}

}  // namespace
}  // namespace jit::policy::timezone_test
