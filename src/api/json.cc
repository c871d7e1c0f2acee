#include "api/json.h"

#include <algorithm>
#include <chrono>
#include <optional>
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

json CatalogEntryToJson(const policy::CatalogEntry& e) {
  json account = json::object();
  if (e.account != nullptr) {
    account = json{{"id", e.account->id}, {"name", e.account->name}, {"tags", e.account->tags}};
  }
  json permission_set = json::object();
  if (e.permission_set != nullptr) {
    permission_set = json{{"name", e.permission_set->name}, {"arn", e.permission_set->arn}};
  }
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
      {"hours", StringOrNull(e.hours)},
      {"schedule_window_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(e.schedule_window).count()},
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
