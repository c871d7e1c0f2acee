#include "audit/export.h"

#include <string>

#include "core/time_format.h"

namespace jit::audit {
namespace {

using nlohmann::json;

constexpr int kClassUserAccessManagement = 3005;
constexpr int kCategoryIdentityAndAccess = 3;

struct Activity {
  int id;
  const char* name;
};

Activity ActivityOf(const std::string& action) {
  if (action == "request.activated") return {1, "Assign Privileges"};
  if (action == "request.ended") return {2, "Revoke Privileges"};
  return {99, "Other"};
}

struct Severity {
  int id;
  const char* name;
};

Severity SeverityOf(const std::string& s) {
  if (s == "high") return {4, "High"};
  if (s == "warning") return {3, "Medium"};
  return {1, "Informational"};
}

// Text that may not be UTF-8, made safe for json::dump (bad bytes become U+FFFD).
std::string Safe(const std::string& s) {
  std::string dumped = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  return json::parse(dumped).get<std::string>();
}

}  // namespace

json ToOcsf(const model::AuditEvent& e) {
  Activity activity = ActivityOf(e.action);
  Severity severity = SeverityOf(e.severity);
  json details = json::parse(e.details, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = Safe(e.details);
  bool failed = e.action == "request.failed" || e.action == "grant.failed";

  json out = {
      {"class_uid", kClassUserAccessManagement},
      {"class_name", "User Access Management"},
      {"category_uid", kCategoryIdentityAndAccess},
      {"category_name", "Identity & Access Management"},
      {"activity_id", activity.id},
      {"activity_name", activity.name},
      {"type_uid", kClassUserAccessManagement * 100 + activity.id},
      {"time", ToUnixMillis(e.at)},
      {"time_dt", FormatRfc3339(e.at)},
      {"severity_id", severity.id},
      {"severity", severity.name},
      {"status_id", failed ? 2 : 1},
      {"status", failed ? "Failure" : "Success"},
      {"message", Safe(e.action)},
      {"metadata",
       {{"version", "1.1.0"},
        {"uid", std::to_string(e.seq)},
        {"log_name", "jit-audit"},
        {"product", {{"name", "jit"}, {"vendor_name", "jit"}}}}},
      {"actor",
       e.actor == "jit" ? json{{"app_name", "jit"}} : json{{"user", {{"name", Safe(e.actor)}}}}},
      {"unmapped",
       {{"seq", e.seq},
        {"action", Safe(e.action)},
        {"request_id", Safe(e.request_id)},
        {"details", details},
        {"prev_hash", e.prev_hash},
        {"hash", e.hash}}},
  };
  if (details.is_object()) {
    if (auto it = details.find("account"); it != details.end() && it->is_string()) {
      json resource = {{"uid", *it}, {"type", "AWS Account"}};
      if (auto name = details.find("account_name"); name != details.end() && name->is_string()) {
        resource["name"] = *name;
      }
      out["resources"] = json::array({resource});
    }
    if (auto it = details.find("permission_set"); it != details.end() && it->is_string()) {
      out["privileges"] = json::array({*it});
    }
  }
  return out;
}

}  // namespace jit::audit
