#include "core/duration.h"

#include <cctype>
#include <cstdint>

namespace jit {
namespace {

constexpr std::int64_t kMaxMillis = 366LL * 24 * 3600 * 1000;

struct Unit {
  std::string_view name;
  std::int64_t millis;
};
constexpr Unit kUnits[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};

Status Bad(std::string_view text, std::string_view why) {
  std::string m = "invalid duration '";
  m += text;
  m += "': ";
  m += why;
  m += " (use forms like 90s, 15m, 1h30m)";
  return InvalidArgumentError(std::move(m));
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) return Bad(text, "it is empty");
  if (s.front() == '-') return Bad(text, "it is negative");

  std::int64_t total = 0;
  std::size_t i = 0;
  int last_unit = -1;
  bool any = false;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return Bad(text, std::string("expected a number at '") + std::string(s.substr(i)) + "'");
    }
    std::int64_t n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > kMaxMillis) return Bad(text, "it is too long (at most 366d)");
      ++i;
    }
    std::size_t unit_start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (any || i != s.size()) return Bad(text, "a number has no unit");
      total = n * 1000;  // a bare number is seconds
      if (total > kMaxMillis) return Bad(text, "it is too long (at most 366d)");
      any = true;
      break;
    }
    int found = -1;
    for (int u = 0; u < static_cast<int>(std::size(kUnits)); ++u) {
      if (kUnits[u].name == unit) found = u;
    }
    if (found < 0) return Bad(text, "unknown unit '" + std::string(unit) + "'");
    if (found <= last_unit) return Bad(text, "units must go from largest to smallest, once each");
    last_unit = found;
    total += n * kUnits[found].millis;
    if (total > kMaxMillis) return Bad(text, "it is too long (at most 366d)");
    any = true;
  }
  if (!any) return Bad(text, "it has no number");
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kUnits) {
    if (ms >= u.millis) {
      out += std::to_string(ms / u.millis);
      out += u.name;
      ms %= u.millis;
    }
  }
  return out;
}

Result<Duration> ParseIsoDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(text) +
                                "' is not an ISO-8601 duration such as PT8H or PT1H30M");
  };
  if (text.size() < 3 || text.size() > 40 || text[0] != 'P') return bad();
  std::int64_t seconds = 0;
  bool in_time = false;
  bool any = false;
  std::string order;  // the units seen, to refuse repeats
  std::size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return bad();
      in_time = true;
      ++i;
      if (i == text.size()) return bad();
      continue;
    }
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (i - start >= 9) return bad();
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i == text.size()) return bad();
    char unit = text[i++];
    std::int64_t scale = 0;
    if (!in_time && unit == 'D') scale = 86400;
    if (in_time && unit == 'H') scale = 3600;
    if (in_time && unit == 'M') scale = 60;
    if (in_time && unit == 'S') scale = 1;
    if (scale == 0) return bad();
    std::string key = std::string(in_time ? "T" : "") + unit;
    if (order.find(key) != std::string::npos) return bad();
    order += key;
    seconds += n * scale;
    any = true;
  }
  if (!any) return bad();
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(seconds));
}

}  // namespace jit
