#include "api/json.h"

#include <chrono>
#include <optional>

#include "core/duration.h"
#include "core/time_format.h"

namespace jit::api {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<Time>& t) {
  if (!t.has_value()) return nullptr;
  return FormatRfc3339(*t);
}

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

json HistoryEntry(const store::AuditEvent& e) {
  return json{{"seq", e.seq},           {"at", FormatRfc3339(e.at)},
              {"actor", e.actor},       {"action", e.action},
              {"severity", e.severity}, {"details", ParseDetails(e.details)}};
}

}  // namespace

json RequestToJson(const store::Request& r) {
  json approvals = json::array();
  for (const store::Approval& a : r.approvals) {
    approvals.push_back(
        json{{"approver", a.approver}, {"comment", a.comment}, {"at", FormatRfc3339(a.at)}});
  }
  return json{
      {"id", r.id},
      {"requester", r.requester},
      {"account", json{{"id", r.account_id}, {"name", r.account_name}}},
      {"permission_set", json{{"name", r.permission_set_name}, {"arn", r.permission_set_arn}}},
      {"duration_seconds", r.duration_seconds},
      {"duration", FormatDuration(std::chrono::seconds(r.duration_seconds))},
      {"reason", r.reason},
      {"ticket", StringOrNull(r.ticket)},
      {"rule", r.rule},
      {"break_glass", r.break_glass},
      {"state", std::string(store::RequestStateName(r.state))},
      {"approvals_required", r.approvals_required},
      {"approvals", std::move(approvals)},
      {"created_at", FormatRfc3339(r.created_at)},
      {"approval_deadline", TimeOrNull(r.approval_deadline)},
      {"decided_at", TimeOrNull(r.decided_at)},
      {"activated_at", TimeOrNull(r.activated_at)},
      {"expires_at", TimeOrNull(r.expires_at)},
      {"ended_at", TimeOrNull(r.ended_at)},
      {"decided_by", StringOrNull(r.decided_by)},
      {"end_reason", StringOrNull(r.end_reason)},
      {"failure_reason", StringOrNull(r.failure_reason)},
      {"review_state", StringOrNull(r.review_state)},
      {"reviewed_by", StringOrNull(r.reviewed_by)},
      {"review_comment", StringOrNull(r.review_comment)},
      {"reviewed_at", TimeOrNull(r.reviewed_at)},
  };
}

json RequestViewToJson(const workflow::RequestView& v) {
  json j = RequestToJson(v.request);
  json history = json::array();
  for (const store::AuditEvent& e : v.history) history.push_back(HistoryEntry(e));
  j["history"] = std::move(history);
  return j;
}

json AuditEventToJson(const store::AuditEvent& e) {
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
  };
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
