#include "policy/timezone.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

namespace jit::policy {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr std::size_t kMaxZoneFileBytes = 1 << 20;
constexpr std::int64_t kSecondsPerDay = 86400;

// Reads big-endian integers from a TZif buffer; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool Has(std::size_t n) const { return data_.size() - pos_ >= n; }
  std::size_t pos() const { return pos_; }
  std::string_view Bytes(std::size_t n) {
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint64_t Unsigned(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    }
    pos_ += n;
    return v;
  }
  std::int64_t Signed32() {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(Unsigned(4)));
  }
  std::int64_t Signed64() { return static_cast<std::int64_t>(Unsigned(8)); }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::optional<Header> ReadHeader(Reader& r) {
  if (!r.Has(44) || r.Bytes(4) != "TZif") return std::nullopt;
  Header h;
  h.version = r.Bytes(1)[0];
  r.Bytes(15);
  h.isutcnt = r.Unsigned(4);
  h.isstdcnt = r.Unsigned(4);
  h.leapcnt = r.Unsigned(4);
  h.timecnt = r.Unsigned(4);
  h.typecnt = r.Unsigned(4);
  h.charcnt = r.Unsigned(4);
  return h;
}

// Bytes of the data block that follows a header; `time_size` is 4 (v1) or 8 (v2+).
std::uint64_t BlockSize(const Header& h, std::uint64_t time_size) {
  return h.timecnt * time_size + h.timecnt + h.typecnt * 6 + h.charcnt +
         h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt;
}

// --- POSIX TZ strings ---------------------------------------------------------------------

class TzParser {
 public:
  explicit TzParser(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool PeekDigit() const { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

  // A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'.
  bool Name() {
    std::size_t start = pos_;
    if (Eat('<')) {
      while (pos_ < s_.size() && s_[pos_] != '>') {
        char c = s_[pos_];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '-';
        if (!ok) return false;
        ++pos_;
      }
      if (!Eat('>')) return false;
      return pos_ - start >= 5;  // <> and at least three characters
    }
    while (pos_ < s_.size() &&
           ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) {
      ++pos_;
    }
    return pos_ - start >= 3;
  }

  // A whole number of at most `max_digits` digits.
  std::optional<int> Number(int max_digits) {
    if (!PeekDigit()) return std::nullopt;
    int n = 0;
    int digits = 0;
    while (PeekDigit()) {
      if (++digits > max_digits) return std::nullopt;
      n = n * 10 + (s_[pos_++] - '0');
    }
    return n;
  }

  // [+-]hh[:mm[:ss]], hours up to `max_hours`; the value in seconds, signed as written.
  std::optional<std::int64_t> Time(int max_hours) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    std::optional<int> h = Number(3);
    if (!h || *h > max_hours) return std::nullopt;
    std::int64_t secs = static_cast<std::int64_t>(*h) * 3600;
    if (Eat(':')) {
      std::optional<int> m = Number(2);
      if (!m || *m > 59) return std::nullopt;
      secs += *m * 60;
      if (Eat(':')) {
        std::optional<int> sec = Number(2);
        if (!sec || *sec > 59) return std::nullopt;
        secs += *sec;
      }
    }
    return sign * secs;
  }

  std::optional<TimeZone::PosixRule> Rule() {
    TimeZone::PosixRule r;
    if (Eat('M')) {
      r.kind = TimeZone::PosixRule::Kind::kMonthWeekDay;
      std::optional<int> m = Number(2);
      if (!m || *m < 1 || *m > 12 || !Eat('.')) return std::nullopt;
      std::optional<int> w = Number(1);
      if (!w || *w < 1 || *w > 5 || !Eat('.')) return std::nullopt;
      std::optional<int> d = Number(1);
      if (!d || *d > 6) return std::nullopt;
      r.month = *m;
      r.week = *w;
      r.weekday = *d;
    } else if (Eat('J')) {
      r.kind = TimeZone::PosixRule::Kind::kJulianNoLeap;
      std::optional<int> d = Number(3);
      if (!d || *d < 1 || *d > 365) return std::nullopt;
      r.day = *d;
    } else {
      r.kind = TimeZone::PosixRule::Kind::kZeroBasedDay;
      std::optional<int> d = Number(3);
      if (!d || *d > 365) return std::nullopt;
      r.day = *d;
    }
    if (Eat('/')) {
      std::optional<std::int64_t> t = Time(167);  // RFC 8536 section 3.3.1 (version 3)
      if (!t) return std::nullopt;
      r.time = *t;
    }
    return r;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// The first instant (local seconds since the epoch, in the clock the rule is written in) of
// `rule` in `year`.
std::int64_t RuleLocalSeconds(const TimeZone::PosixRule& rule, int year) {
  using std::chrono::January;
  using std::chrono::month;
  using std::chrono::weekday;
  using std::chrono::year_month_day;
  std::chrono::year y{year};
  sys_days day;
  switch (rule.kind) {
    case TimeZone::PosixRule::Kind::kMonthWeekDay: {
      month m{static_cast<unsigned>(rule.month)};
      weekday wd{static_cast<unsigned>(rule.weekday)};
      if (rule.week == 5) {
        day = sys_days{y / m / wd[std::chrono::last]};
      } else {
        day = sys_days{y / m / wd[static_cast<unsigned>(rule.week)]};
      }
      break;
    }
    case TimeZone::PosixRule::Kind::kJulianNoLeap: {
      // Day 1..365, February 29 never counted: day 60 is always March 1.
      int d = rule.day;
      if (y.is_leap() && d >= 60) ++d;
      day = sys_days{y / January / 1} + days{d - 1};
      break;
    }
    case TimeZone::PosixRule::Kind::kZeroBasedDay:
      day = sys_days{y / January / 1} + days{rule.day};
      break;
  }
  return static_cast<std::int64_t>(day.time_since_epoch().count()) * kSecondsPerDay + rule.time;
}

int YearOf(std::int64_t local_seconds) {
  std::int64_t day = local_seconds / kSecondsPerDay;
  if (local_seconds % kSecondsPerDay < 0) --day;  // floor, not truncation
  sys_days d{days{day}};
  return static_cast<int>(std::chrono::year_month_day{d}.year());
}

std::int64_t FooterOffset(const TimeZone::PosixTz& tz, std::int64_t unix_seconds) {
  if (!tz.has_dst) return tz.std_offset;
  int year = YearOf(unix_seconds + tz.std_offset);
  // The year is taken in standard time; both rules of one year fall inside it for every zone
  // the tz database describes.
  std::int64_t start = RuleLocalSeconds(tz.start, year) - tz.std_offset;
  std::int64_t end = RuleLocalSeconds(tz.end, year) - tz.dst_offset;
  bool dst = start < end ? (unix_seconds >= start && unix_seconds < end)
                         : (unix_seconds < end || unix_seconds >= start);  // southern hemisphere
  return dst ? tz.dst_offset : tz.std_offset;
}

}  // namespace

bool IsValidZoneName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (name.front() == '/' || name.back() == '/' || name.front() == '-') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '-' || c == '/';
  });
}

Result<TimeZone::PosixTz> ParsePosixTz(std::string_view tz) {
  auto bad = [&](std::string_view what) {
    return InvalidArgumentError("TZ string '" + std::string(tz.substr(0, 64)) +
                                "': " + std::string(what));
  };
  TzParser p(tz);
  TimeZone::PosixTz out;
  if (!p.Name()) return bad("expected a zone abbreviation");
  std::optional<std::int64_t> std_offset = p.Time(24);
  if (!std_offset) return bad("expected a UTC offset after the abbreviation");
  out.std_offset = -*std_offset;  // POSIX offsets count west of Greenwich
  if (p.AtEnd()) return out;
  if (!p.Name()) return bad("expected a daylight-saving abbreviation");
  out.has_dst = true;
  out.dst_offset = out.std_offset + 3600;
  if (!p.Peek(',') && !p.AtEnd()) {
    std::optional<std::int64_t> dst_offset = p.Time(24);
    if (!dst_offset) return bad("bad daylight-saving offset");
    out.dst_offset = -*dst_offset;
  }
  if (!p.Eat(',')) {
    // No rules: POSIX leaves the default to the implementation; a zone file never does this.
    return bad("daylight saving without rules is not supported");
  }
  std::optional<TimeZone::PosixRule> start = p.Rule();
  if (!start || !p.Eat(',')) return bad("bad daylight-saving start rule");
  std::optional<TimeZone::PosixRule> end = p.Rule();
  if (!end || !p.AtEnd()) return bad("bad daylight-saving end rule");
  out.start = *start;
  out.end = *end;
  return out;
}

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> kUtc = [] {
    std::shared_ptr<TimeZone> z(new TimeZone());
    z->name_ = "UTC";
    z->type_offsets_ = {0};
    return std::shared_ptr<const TimeZone>(std::move(z));
  }();
  return kUtc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string_view name,
                                                           std::string_view data) {
  auto bad = [&](std::string_view what) {
    return InvalidArgumentError("time zone file for '" + std::string(name) +
                                "' is not valid TZif: " + std::string(what));
  };
  Reader r(data);
  std::optional<Header> h = ReadHeader(r);
  if (!h) return bad("no TZif header");
  if (h->version != '\0' && h->version != '2' && h->version != '3' && h->version != '4') {
    return bad("unknown version");
  }
  std::uint64_t time_size = 4;
  if (h->version != '\0') {
    // Skip the 32-bit block; the 64-bit one after the second header covers all of time.
    std::uint64_t skip = BlockSize(*h, 4);
    if (h->timecnt > data.size() || h->typecnt > data.size() || h->charcnt > data.size() ||
        h->leapcnt > data.size() || h->isstdcnt > data.size() || h->isutcnt > data.size() ||
        !r.Has(skip)) {
      return bad("truncated");
    }
    r.Bytes(skip);
    h = ReadHeader(r);
    if (!h) return bad("no second header");
    time_size = 8;
  }
  if (h->timecnt > data.size() || h->typecnt > data.size() || h->charcnt > data.size() ||
      h->leapcnt > data.size() || h->isstdcnt > data.size() || h->isutcnt > data.size() ||
      !r.Has(BlockSize(*h, time_size))) {
    return bad("truncated");
  }
  if (h->typecnt == 0 || h->typecnt > 256) return bad("bad number of time types");
  if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
      (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
    return bad("bad indicator counts");
  }

  std::shared_ptr<TimeZone> z(new TimeZone());
  z->name_ = std::string(name);
  z->transitions_.reserve(h->timecnt);
  for (std::uint64_t i = 0; i < h->timecnt; ++i) {
    std::int64_t t = time_size == 8 ? r.Signed64() : r.Signed32();
    if (!z->transitions_.empty() && t <= z->transitions_.back()) {
      return bad("transition times are not ascending");
    }
    z->transitions_.push_back(t);
  }
  z->type_of_.reserve(h->timecnt);
  for (std::uint64_t i = 0; i < h->timecnt; ++i) {
    auto idx = static_cast<std::uint8_t>(r.Unsigned(1));
    if (idx >= h->typecnt) return bad("transition to an unknown time type");
    z->type_of_.push_back(idx);
  }
  for (std::uint64_t i = 0; i < h->typecnt; ++i) {
    std::int64_t utoff = r.Signed32();
    std::uint64_t isdst = r.Unsigned(1);
    std::uint64_t desigidx = r.Unsigned(1);
    // RFC 8536: -2^31 is not allowed; real offsets are within a day.
    if (utoff <= -kSecondsPerDay || utoff >= kSecondsPerDay) return bad("UTC offset out of range");
    if (isdst > 1 || (desigidx >= h->charcnt && h->charcnt > 0)) return bad("bad time type");
    z->type_offsets_.push_back(utoff);
  }
  // Designations, leap seconds and indicators are not needed for offsets.
  r.Bytes(h->charcnt + h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt);

  if (time_size == 8) {
    std::string_view rest = r.Rest();
    if (rest.empty() || rest.front() != '\n') return bad("no footer");
    std::size_t close = rest.find('\n', 1);
    if (close == std::string_view::npos) return bad("footer not terminated");
    std::string_view tz = rest.substr(1, close - 1);
    if (!tz.empty()) {
      Result<PosixTz> footer = ParsePosixTz(tz);
      if (!footer.ok()) return bad(footer.error().message());
      z->has_footer_ = true;
      z->footer_ = *footer;
    }
  }
  return std::shared_ptr<const TimeZone>(std::move(z));
}

std::int64_t TimeZone::OffsetAtUnix(std::int64_t unix_seconds) const {
  if (transitions_.empty() || unix_seconds < transitions_.front()) {
    if (transitions_.empty() && has_footer_) return FooterOffset(footer_, unix_seconds);
    return type_offsets_[0];
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds);
  std::size_t i = static_cast<std::size_t>(std::distance(transitions_.begin(), it)) - 1;
  if (i + 1 == transitions_.size() && has_footer_) return FooterOffset(footer_, unix_seconds);
  return type_offsets_[type_of_[i]];
}

TimeZone::Offset TimeZone::OffsetAt(Time t) const {
  auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return Offset(OffsetAtUnix(secs));
}

std::chrono::sys_seconds TimeZone::LocalTime(Time t) const {
  auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  return std::chrono::sys_seconds(secs + Offset(OffsetAtUnix(secs.count())));
}

Result<std::shared_ptr<const TimeZone>> LoadTimeZone(std::string_view name,
                                                     std::string_view zoneinfo_dir) {
  if (!IsValidZoneName(name)) {
    return InvalidArgumentError("'" + std::string(name.substr(0, 64)) +
                                "' is not a time zone name (like Europe/Berlin)");
  }
  if (name == "UTC") return TimeZone::Utc();
  std::string path = std::string(zoneinfo_dir) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("unknown time zone '" + std::string(name) + "'");
  std::string data;
  data.resize(kMaxZoneFileBytes + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return NotFoundError("unknown time zone '" + std::string(name) + "'");
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (data.size() > kMaxZoneFileBytes) {
    return InvalidArgumentError("time zone file for '" + std::string(name) + "' is too large");
  }
  return TimeZone::FromTzif(name, data);
}

}  // namespace jit::policy
