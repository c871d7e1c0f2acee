#pragma once
// Time zones for allowed hours: UTC offsets over time, read from the system's compiled zone
// files (TZif, RFC 8536; Debian's tzdata package installs them under /usr/share/zoneinfo).
//
// What is supported:
// - TZif versions 1, 2 and 3. For version 2 and later only the 64-bit data block is used.
// - Instants before the first transition take time type 0 (RFC 8536 section 3.2).
// - Instants after the last transition take the footer's POSIX TZ string when there is one
//   ("CET-1CEST,M3.5.0,M10.5.0/3"), else the last transition's type. The TZ string may carry
//   quoted names ("<+0530>-5:30"), a DST offset, and rules in the forms Mm.w.d, Jn and n, each
//   with an optional /time (version 3's -167..167 hours included). A TZ string that cannot be
//   read makes the file invalid rather than silently wrong.
// - Leap-second records are skipped: the files under zoneinfo/ (not right/) have none, and
//   UTC offsets for allowed hours do not need them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace jit::policy {

// Where Debian's tzdata puts the compiled zone files.
inline constexpr std::string_view kSystemZoneInfoDir = "/usr/share/zoneinfo";

// True for a zone name that may be looked up under a zoneinfo folder: 1 to 128 characters of
// [A-Za-z0-9_+-/], no leading, trailing or doubled '/', and not starting with '-'. ('.' is not
// allowed at all, so "..", "." and hidden files are refused.)
bool IsValidZoneName(std::string_view name);

// One time zone. Immutable after construction, so safe to share between threads.
class TimeZone {
 public:
  // Offset from UTC (seconds east of Greenwich) of one local time type.
  using Offset = std::chrono::seconds;

  // The UTC zone, built in (no file needed).
  static std::shared_ptr<const TimeZone> Utc();

  // Reads a zone from the bytes of a TZif file. `name` is kept for messages.
  // Errors: InvalidArgument when the data is not a well-formed TZif file (the message says
  // what is wrong).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(std::string_view name,
                                                          std::string_view data);

  // The zone's name as given ("Europe/Berlin").
  const std::string& name() const { return name_; }

  // The offset of local time from UTC at `t`.
  Offset OffsetAt(Time t) const;

  // The local wall time at `t`, as seconds since 1970-01-01T00:00 local.
  std::chrono::sys_seconds LocalTime(Time t) const;

  // Rules from the footer; public only so that the .cc's parser can fill it in.
  struct PosixRule {
    enum class Kind { kMonthWeekDay, kJulianNoLeap, kZeroBasedDay };
    Kind kind = Kind::kMonthWeekDay;
    int month = 0;                 // 1..12 (kMonthWeekDay)
    int week = 0;                  // 1..5, 5 meaning the last (kMonthWeekDay)
    int weekday = 0;               // 0 = Sunday (kMonthWeekDay)
    int day = 0;                   // 1..365 (kJulianNoLeap) or 0..365 (kZeroBasedDay)
    std::int64_t time = 2 * 3600;  // seconds after local midnight; may be negative or > 24h
  };
  struct PosixTz {
    std::int64_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int64_t dst_offset = 0;
    PosixRule start;  // DST starts (in local standard time)
    PosixRule end;    // DST ends (in local daylight time)
  };

 private:
  TimeZone() = default;
  std::int64_t OffsetAtUnix(std::int64_t unix_seconds) const;

  std::string name_;
  std::vector<std::int64_t> transitions_;   // ascending unix seconds
  std::vector<std::uint8_t> type_of_;       // time type after each transition
  std::vector<std::int64_t> type_offsets_;  // UTC offset of each time type; never empty
  bool has_footer_ = false;
  PosixTz footer_;
};

// Parses a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+0530>-5:30".
// Errors: InvalidArgument saying what is wrong. Exposed for tests.
Result<TimeZone::PosixTz> ParsePosixTz(std::string_view tz);

// Loads `name` from `zoneinfo_dir` ("UTC" is built in and needs no file).
// Errors: InvalidArgument for a name IsValidZoneName refuses or a file that is not TZif;
// NotFound when there is no such zone. Reads one file of at most 1 MiB. Thread-compatible.
Result<std::shared_ptr<const TimeZone>> LoadTimeZone(
    std::string_view name, std::string_view zoneinfo_dir = kSystemZoneInfoDir);

}  // namespace jit::policy
