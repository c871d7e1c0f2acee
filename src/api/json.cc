#include "api/json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/duration.h"
#include "core/time_format.h"
#include "model/request_json.h"

namespace jit::api {
namespace {

using nlohmann::json;

json StringOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

// The stored details are a JSON object as text; show it parsed, or as text if it is not JSON.
json ParseDetails(const std::string& details) {
  if (details.empty()) return json::object();
  json parsed = json::parse(details, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return details;
  return parsed;
}

json HistoryEntry(const model::AuditEvent& e) {
  return json{{"seq", e.seq},           {"at", FormatRfc3339(e.at)},
              {"actor", e.actor},       {"action", e.action},
              {"severity", e.severity}, {"details", ParseDetails(e.details)}};
}

}  // namespace

json RequestViewToJson(const workflow::RequestView& v) {
  json j = model::RequestToJson(v.request);
  json history = json::array();
  for (const model::AuditEvent& e : v.history) history.push_back(HistoryEntry(e));
  j["history"] = std::move(history);
  if (!v.batch.empty()) {
    // One request for several accounts: each target's own state.
    json targets = json::array();
    for (const model::Request& t : v.batch) {
      targets.push_back(
          {{"id", t.id},
           {"account", json{{"id", t.account_id}, {"name", t.account_name}}},
           {"state", std::string(model::RequestStateName(t.state))},
           {"expires_at", t.expires_at ? json(FormatRfc3339(*t.expires_at)) : json(nullptr)},
           {"end_reason", t.end_reason.empty() ? json(nullptr) : json(t.end_reason)},
           {"failure_reason", t.failure_reason.empty() ? json(nullptr) : json(t.failure_reason)}});
    }
    j["targets"] = std::move(targets);
  }
  return j;
}

json AuditEventToJson(const model::AuditEvent& e) {
  return json{{"seq", e.seq},
              {"at", FormatRfc3339(e.at)},
              {"actor", e.actor},
              {"action", e.action},
              {"request_id", StringOrNull(e.request_id)},
              {"severity", e.severity},
              {"details", ParseDetails(e.details)},
              {"prev_hash", e.prev_hash},
              {"hash", e.hash}};
}

namespace {

// A catalog entry's "account" and "permission_set" (CatalogEntryToJson and CatalogJsonText).
json CatalogAccountJson(const policy::Account* a) {
  if (a == nullptr) return json::object();
  return json{{"id", a->id},
              {"name", a->name},
              {"tags", a->tags},
              // The OU the account is directly in, when jit read the organization.
              {"ou", a->ous.empty() ? json(nullptr) : json(a->ous.front())}};
}

json CatalogPermissionSetJson(const policy::PermissionSet* ps) {
  if (ps == nullptr) return json::object();
  return json{{"name", ps->name}, {"arn", ps->arn}};
}

}  // namespace

json CatalogEntryToJson(const policy::CatalogEntry& e) {
  json account = CatalogAccountJson(e.account);
  json permission_set = CatalogPermissionSetJson(e.permission_set);
  const char* approval = e.break_glass ? "break_glass" : e.auto_approve ? "auto" : "approvers";
  return json{
      {"account", std::move(account)},
      {"permission_set", std::move(permission_set)},
      {"rule", e.rule != nullptr ? json(e.rule->name) : json(nullptr)},
      {"max_duration", FormatDuration(e.max_duration)},
      {"max_duration_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(e.max_duration).count()},
      {"min_duration_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(e.min_duration).count()},
      {"approval", approval},
      {"approvals_required", e.approvals_required},
      {"reason_required", e.reason_required},
      {"reason_min_length", e.reason_min_length},
      {"ticket_pattern", StringOrNull(e.ticket_pattern)},
      {"ticket_check", StringOrNull(e.ticket_check)},
      {"hours", StringOrNull(e.hours)},
      {"schedule_window_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(e.schedule_window).count()},
  };
}

std::string CatalogJsonText(const std::vector<policy::CatalogEntry>& entries) {
  // The texts made so far: of accounts and permission sets by address (they are const for the
  // call), of strings by value. Dump() makes each, so escapes and invalid UTF-8 are handled as
  // Dump handles them.
  std::unordered_map<const void*, std::string> accounts, sets;
  std::unordered_map<std::string, std::string> strings;
  auto object = [](std::unordered_map<const void*, std::string>& made, const void* key,
                   const auto& make) -> const std::string& {
    auto [it, fresh] = made.try_emplace(key);
    if (fresh) it->second = Dump(make());
    return it->second;
  };
  auto text = [&strings](const std::string& s) -> const std::string& {
    auto [it, fresh] = strings.try_emplace(s);
    if (fresh) it->second = Dump(json(s));
    return it->second;
  };
  auto seconds = [](Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  };
  std::string out = "{\"items\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const policy::CatalogEntry& e = entries[i];
    // Keys in the order Dump writes them (nlohmann::json keeps object keys sorted).
    out += i == 0 ? "{\"account\":" : ",{\"account\":";
    out += object(accounts, e.account, [&e] { return CatalogAccountJson(e.account); });
    out += ",\"approval\":";
    out += e.break_glass ? "\"break_glass\"" : e.auto_approve ? "\"auto\"" : "\"approvers\"";
    out += ",\"approvals_required\":" + std::to_string(e.approvals_required);
    out += ",\"hours\":";
    out += e.hours.empty() ? "null" : text(e.hours);
    out += ",\"max_duration\":" + text(FormatDuration(e.max_duration));
    out += ",\"max_duration_seconds\":" + seconds(e.max_duration);
    out += ",\"min_duration_seconds\":" + seconds(e.min_duration);
    out += ",\"permission_set\":";
    out +=
        object(sets, e.permission_set, [&e] { return CatalogPermissionSetJson(e.permission_set); });
    out += ",\"reason_min_length\":" + std::to_string(e.reason_min_length);
    out += e.reason_required ? ",\"reason_required\":true" : ",\"reason_required\":false";
    out += ",\"rule\":";
    out += e.rule == nullptr ? "null" : text(e.rule->name);
    out += ",\"schedule_window_seconds\":" + seconds(e.schedule_window);
    out += ",\"ticket_check\":";
    out += e.ticket_check.empty() ? "null" : text(e.ticket_check);
    out += ",\"ticket_pattern\":";
    out += e.ticket_pattern.empty() ? "null" : text(e.ticket_pattern);
    out += "}";
  }
  return out + "]}";
}

namespace {

// What a compact catalog's terms object is made of: every member of an entry but its account
// and permission set. The strings point into the entries.
struct TermsKey {
  const policy::Rule* rule;
  Duration::rep max, min, window;
  int approvals, reason_min_length;
  bool automatic, break_glass, reason_required;
  std::string_view ticket_pattern, hours;

  bool operator==(const TermsKey&) const = default;
};

struct TermsKeyHash {
  std::size_t operator()(const TermsKey& k) const {
    std::size_t h = std::hash<const void*>()(k.rule);
    auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    mix(std::hash<Duration::rep>()(k.max));
    mix(std::hash<Duration::rep>()(k.min));
    mix(std::hash<Duration::rep>()(k.window));
    mix(static_cast<std::size_t>(k.approvals) * 31 + static_cast<std::size_t>(k.reason_min_length));
    mix((k.automatic ? 1 : 0) | (k.break_glass ? 2 : 0) | (k.reason_required ? 4 : 0));
    mix(std::hash<std::string_view>()(k.ticket_pattern));
    mix(std::hash<std::string_view>()(k.hours));
    return h;
  }
};

}  // namespace

std::string CatalogCompactJsonText(const std::vector<policy::CatalogEntry>& entries) {
  std::unordered_map<const void*, std::size_t> account_index, set_index;
  std::unordered_map<TermsKey, std::size_t, TermsKeyHash> terms_index;
  std::string accounts = "[", sets = "[", terms = "[", items = "[";
  auto index_of = [](std::unordered_map<const void*, std::size_t>& seen, std::string& list,
                     const void* key, const auto& make) {
    auto [it, fresh] = seen.try_emplace(key, seen.size());
    if (fresh) list += (it->second == 0 ? "" : ",") + Dump(make());
    return it->second;
  };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const policy::CatalogEntry& e = entries[i];
    std::size_t a = index_of(account_index, accounts, e.account,
                             [&e] { return CatalogAccountJson(e.account); });
    std::size_t p = index_of(set_index, sets, e.permission_set,
                             [&e] { return CatalogPermissionSetJson(e.permission_set); });
    // A JSON value is built only for terms not seen before.
    TermsKey key{e.rule,
                 e.max_duration.count(),
                 e.min_duration.count(),
                 e.schedule_window.count(),
                 e.approvals_required,
                 e.reason_min_length,
                 e.auto_approve,
                 e.break_glass,
                 e.reason_required,
                 e.ticket_pattern,
                 e.hours};
    auto [it, fresh] = terms_index.try_emplace(key, terms_index.size());
    if (fresh) {
      json t = CatalogEntryToJson(e);
      t.erase("account");
      t.erase("permission_set");
      terms += (it->second == 0 ? "" : ",") + Dump(t);
    }
    items += i == 0 ? "[" : ",[";
    items += std::to_string(a);
    items += ',';
    items += std::to_string(p);
    items += ',';
    items += std::to_string(it->second);
    items += ']';
  }
  // Keys in the order Dump writes them.
  return "{\"accounts\":" + accounts + "],\"items\":" + items + "],\"permission_sets\":" + sets +
         "],\"terms\":" + terms + "]}";
}

namespace {

json RoundedSeconds(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

json SpreadJson(const workflow::Spread& s, bool p95, bool p99) {
  json out = {{"count", s.count}};
  auto figure = [&](double v) { return s.count == 0 ? json(nullptr) : RoundedSeconds(v); };
  out["p50_seconds"] = figure(s.p50);
  if (p95) out["p95_seconds"] = figure(s.p95);
  if (p99) out["p99_seconds"] = figure(s.p99);
  return out;
}

json TopJson(const std::vector<workflow::TopEntry>& entries, std::string_view id_key) {
  json out = json::array();
  for (const workflow::TopEntry& e : entries) {
    json item = {{"name", e.name}, {"requests", e.requests}};
    if (!id_key.empty()) item[std::string(id_key)] = e.id;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

json ReportSummaryToJson(const workflow::ReportSummary& s, Duration window) {
  json by_state = json::object();
  for (const auto& [state, n] : s.by_state)
    by_state[std::string(model::RequestStateName(state))] = n;
  json lag = SpreadJson(s.revoke_lag, false, true);
  lag["max_seconds"] = s.revoke_lag.count == 0 ? json(nullptr) : RoundedSeconds(s.revoke_lag.max);
  lag["objective_seconds"] = std::chrono::duration<double>(s.objective).count();
  lag["ended_late"] = s.ended_late;
  lag["overdue_now"] = s.overdue_now;
  auto rate = [&](double r) { return s.decided == 0 ? json(nullptr) : json(r); };
  return json{
      {"since", FormatRfc3339(s.since)},
      {"until", FormatRfc3339(s.until)},
      {"window", FormatDuration(window)},
      {"requests", {{"total", s.total}, {"open", s.open}, {"by_state", std::move(by_state)}}},
      {"time_to_approve", SpreadJson(s.time_to_approve, true, false)},
      {"approval_to_active", SpreadJson(s.approval_to_active, true, false)},
      {"revoke_lag", std::move(lag)},
      {"break_glass", {{"uses", s.break_glass}, {"open_reviews", s.open_reviews}}},
      {"decisions",
       {{"decided", s.decided},
        {"denial_rate", rate(s.denial_rate)},
        {"timeout_rate", rate(s.timeout_rate)}}},
      {"top",
       {{"requesters", TopJson(s.top_requesters, "")},
        {"accounts", TopJson(s.top_accounts, "id")},
        {"permission_sets", TopJson(s.top_permission_sets, "arn")}}},
  };
}

json TrailReportToJson(const audit::TrailReport& r) {
  json latest = nullptr;
  if (r.latest_checkpoint) {
    latest = {{"seq", r.latest_checkpoint->seq},
              {"hash", r.latest_checkpoint->hash},
              {"at", FormatRfc3339(r.latest_checkpoint->at)},
              {"key_id", r.latest_checkpoint->key_id}};
  }
  return json{{"ok", r.ok},
              {"events", r.events},
              {"last_seq", r.last_seq},
              {"last_hash", StringOrNull(r.last_hash)},
              {"checkpoints", r.checkpoints},
              {"latest_checkpoint", std::move(latest)},
              {"first_bad_seq", r.ok ? json(nullptr) : json(r.first_bad_seq)},
              {"problem", StringOrNull(r.problem)},
              {"why", StringOrNull(r.why)},
              {"warnings", r.warnings}};
}

json ErrorJson(std::string_view code, std::string_view message) {
  return json{{"error", json{{"code", code}, {"message", message}}}};
}

Result<json> ParseJsonObject(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return InvalidArgumentError("request body is not valid JSON");
  if (!parsed.is_object()) return InvalidArgumentError("request body must be a JSON object");
  return parsed;
}

std::string Dump(const json& j) {
  return j.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

}  // namespace jit::api
