#include "activity/activity.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/time_format.h"

namespace jit::activity {
namespace {

using nlohmann::json;

// CloudTrail's events are not ours: every field read from them is checked and bounded.
constexpr std::size_t kMaxField = 2048;

std::optional<std::string> Text(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxField) return std::nullopt;
  return s;
}

}  // namespace

Result<Window> WindowOf(const model::Request& r, const std::vector<model::AuditEvent>& history,
                        Duration session_duration, Time now, Duration settle) {
  if (model::IsGroupAccount(r.account_id)) {
    return FailedPreconditionError("request " + r.id +
                                   " is a group membership: it has no account to read activity in");
  }
  if (!r.activated_at) {
    return FailedPreconditionError("request " + r.id + " was never active: it has no activity");
  }
  Window w;
  w.start = *r.activated_at;
  std::optional<Time> end;
  if (r.ended_at &&
      (r.state == model::RequestState::kEnded || r.state == model::RequestState::kFailed)) {
    end = *r.ended_at + session_duration;
    w.ends_by = "session_duration";
    for (const model::AuditEvent& e : history) {
      if (e.action == "session.cutoff.applied" && e.at >= w.start && e.at < *end) {
        end = e.at;
        w.ends_by = "session_cutoff";
      }
    }
  }
  if (end && now >= *end) {
    w.end = *end;
    w.closed = now >= *end + settle;
  } else {
    w.end = std::max(now, w.start);
    w.ends_by = "open";
  }
  return w;
}

std::string ReservedRolePrefix(std::string_view permission_set_name) {
  return "AWSReservedSSO_" + std::string(permission_set_name) + "_";
}

std::optional<Event> Accept(const json& e, const model::Request& r, const Window& window) {
  if (!e.is_object()) return std::nullopt;
  auto raw = e.find("CloudTrailEvent");
  if (raw == e.end() || !raw->is_string() ||
      raw->get_ref<const std::string&>().size() > 256 * 1024) {
    return std::nullopt;
  }
  json record = json::parse(raw->get_ref<const std::string&>(), nullptr, false);
  if (record.is_discarded() || !record.is_object()) return std::nullopt;
  auto identity = record.find("userIdentity");
  if (identity == record.end() || !identity->is_object()) return std::nullopt;
  if (Text(*identity, "type") != "AssumedRole") return std::nullopt;
  std::optional<std::string> arn = Text(*identity, "arn");
  if (!arn) return std::nullopt;
  // arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<name>_<suffix>/<session>
  const std::string head = "arn:aws:sts::" + r.account_id + ":assumed-role/";
  if (arn->rfind(head, 0) != 0) return std::nullopt;
  std::string rest = arn->substr(head.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string role = rest.substr(0, slash);
  std::string session = rest.substr(slash + 1);
  std::string prefix = ReservedRolePrefix(r.permission_set_name);
  if (role.rfind(prefix, 0) != 0 || role.size() == prefix.size()) return std::nullopt;
  // The suffix is AWS's (hex): another permission set whose name extends this one's
  // (Admin_Extra) does not match.
  std::string suffix = role.substr(prefix.size());
  if (!std::all_of(suffix.begin(), suffix.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      })) {
    return std::nullopt;
  }
  if (session != r.requester) return std::nullopt;
  if (auto recipient = Text(record, "recipientAccountId");
      recipient && *recipient != r.account_id) {
    return std::nullopt;
  }
  auto time = e.find("EventTime");
  if (time == e.end() || !time->is_number() || !std::isfinite(time->get<double>())) {
    return std::nullopt;
  }
  Event out;
  out.time = FromUnixMillis(static_cast<std::int64_t>(std::llround(time->get<double>() * 1000.0)));
  if (out.time < window.start || out.time > window.end) return std::nullopt;
  out.event_id = Text(e, "EventId").value_or("");
  out.event_name = Text(e, "EventName").value_or(Text(record, "eventName").value_or(""));
  out.event_source = Text(e, "EventSource").value_or(Text(record, "eventSource").value_or(""));
  if (out.event_id.empty() || out.event_name.empty()) return std::nullopt;
  if (auto ro = record.find("readOnly"); ro != record.end() && ro->is_boolean()) {
    out.read_only = ro->get<bool>();
  } else {
    out.read_only = Text(e, "ReadOnly") != "false";
  }
  out.error_code = Text(record, "errorCode").value_or("");
  out.region = Text(record, "awsRegion").value_or("");
  out.access_key_id = Text(e, "AccessKeyId").value_or("");
  if (auto res = e.find("Resources"); res != e.end() && res->is_array()) {
    for (const json& x : *res) {
      if (out.resources.size() >= 50) break;
      if (std::optional<std::string> name = Text(x, "ResourceName")) out.resources.push_back(*name);
    }
  }
  return out;
}

Summary Summarize(const std::vector<Event>& events) {
  Summary s;
  std::set<std::string> services;
  for (const Event& e : events) {
    ++s.events;
    if (!e.event_source.empty()) services.insert(e.event_source);
    if (!e.read_only) ++s.write_calls;
    if (!e.error_code.empty()) ++s.errors;
  }
  s.services.assign(services.begin(), services.end());
  return s;
}

json SummaryJson(const Summary& s) {
  return {{"events", s.events},
          {"services", s.services},
          {"write_calls", s.write_calls},
          {"errors", s.errors}};
}

json ActivityJson(const Activity& a, std::string_view source) {
  json events = json::array();
  for (const Event& e : a.events) {
    events.push_back({{"event_id", e.event_id},
                      {"time", FormatRfc3339(e.time)},
                      {"event_name", e.event_name},
                      {"event_source", e.event_source},
                      {"read_only", e.read_only},
                      {"error_code", e.error_code.empty() ? json(nullptr) : json(e.error_code)},
                      {"region", e.region},
                      {"access_key_id", e.access_key_id},
                      {"resources", e.resources}});
  }
  return {{"request_id", a.request_id},
          {"window",
           {{"start", FormatRfc3339(a.window.start)},
            {"end", FormatRfc3339(a.window.end)},
            {"closed", a.window.closed},
            {"ends_by", a.window.ends_by}}},
          {"read_at", FormatRfc3339(a.read_at)},
          {"source", source},
          {"truncated", a.truncated},
          {"summary", SummaryJson(Summarize(a.events))},
          {"events", std::move(events)}};
}

Result<Activity> ActivityFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [] { return InvalidArgumentError("the cached activity is malformed"); };
  if (j.is_discarded() || !j.is_object()) return bad();
  try {
    Activity a;
    a.request_id = j.at("request_id").get<std::string>();
    const json& w = j.at("window");
    JIT_ASSIGN_OR_RETURN(a.window.start, ParseRfc3339(w.at("start").get<std::string>()));
    JIT_ASSIGN_OR_RETURN(a.window.end, ParseRfc3339(w.at("end").get<std::string>()));
    a.window.closed = w.at("closed").get<bool>();
    a.window.ends_by = w.at("ends_by").get<std::string>();
    JIT_ASSIGN_OR_RETURN(a.read_at, ParseRfc3339(j.at("read_at").get<std::string>()));
    a.truncated = j.at("truncated").get<bool>();
    for (const json& e : j.at("events")) {
      Event ev;
      ev.event_id = e.at("event_id").get<std::string>();
      JIT_ASSIGN_OR_RETURN(ev.time, ParseRfc3339(e.at("time").get<std::string>()));
      ev.event_name = e.at("event_name").get<std::string>();
      ev.event_source = e.at("event_source").get<std::string>();
      ev.read_only = e.at("read_only").get<bool>();
      if (!e.at("error_code").is_null()) ev.error_code = e.at("error_code").get<std::string>();
      ev.region = e.at("region").get<std::string>();
      ev.access_key_id = e.at("access_key_id").get<std::string>();
      ev.resources = e.at("resources").get<std::vector<std::string>>();
      a.events.push_back(std::move(ev));
    }
    return a;
  } catch (const json::exception&) {
    return bad();
  }
}

}  // namespace jit::activity
