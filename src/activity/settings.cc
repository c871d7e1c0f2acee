#include "activity/settings.h"

#include <optional>
#include <regex>

namespace jit::activity {

Settings ParseSettings(const config::Field& f, config::Reader& r) {
  Settings s;
  if (f.value.IsNull()) return s;
  std::optional<config::Fields> fields = r.Map(
      f, {"role_name", "session_name", "calls_per_second", "live_cache", "settle", "max_events"});
  if (!fields) return s;
  s.line = f.line;
  static const std::regex kRoleName("[\\w+=,.@-]{1,64}");
  static const std::regex kSessionName("[\\w+=,.@-]{2,64}");
  if (std::optional<std::string> role =
          r.RequiredString(*fields, "role_name", f.line, "'activity'")) {
    if (!std::regex_match(*role, kRoleName)) {
      r.Error(fields->Get("role_name")->line,
              "'role_name' must be an IAM role name: 1 to 64 of letters, digits and +=,.@_-");
    } else {
      s.role_name = *role;
    }
  }
  if (const config::Field* session = fields->Get("session_name")) {
    if (std::optional<std::string> name = r.String(*session)) {
      if (!std::regex_match(*name, kSessionName)) {
        r.Error(session->line,
                "'session_name' must be 2 to 64 of letters, digits and +=,.@_- (STS's "
                "RoleSessionName)");
      } else {
        s.session_name = *name;
      }
    }
  }
  if (const config::Field* rate = fields->Get("calls_per_second")) {
    if (std::optional<int> n = r.Int(*rate, 1, 10)) s.calls_per_second = *n;
  }
  if (const config::Field* cache = fields->Get("live_cache")) {
    if (std::optional<Duration> d =
            r.DurationIn(*cache, std::chrono::seconds(1), std::chrono::hours(1),
                         "'live_cache' must be from 1s to 1h")) {
      s.live_cache = *d;
    }
  }
  if (const config::Field* settle = fields->Get("settle")) {
    if (std::optional<Duration> d = r.DurationIn(*settle, Duration(0), std::chrono::hours(2),
                                                 "'settle' must be from 0s to 2h")) {
      s.settle = *d;
    }
  }
  if (const config::Field* max = fields->Get("max_events")) {
    if (std::optional<int> n = r.Int(*max, 50, 50000)) s.max_events = *n;
  }
  return s;
}

}  // namespace jit::activity
