#include "model/request_json.h"

#include <algorithm>
#include <chrono>

#include "core/duration.h"
#include "core/time_format.h"

namespace jit::model {
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

json ApprovalsJson(const std::vector<Approval>& list) {
  json approvals = json::array();
  for (const Approval& a : list) {
    approvals.push_back(
        json{{"approver", a.approver}, {"comment", a.comment}, {"at", FormatRfc3339(a.at)}});
  }
  return approvals;
}

json ExtensionJson(const std::optional<PendingExtension>& e, int approvals_required) {
  if (!e.has_value()) return nullptr;
  return json{{"duration_seconds", e->seconds},
              {"duration", FormatDuration(std::chrono::seconds(e->seconds))},
              {"requested_at", FormatRfc3339(e->requested_at)},
              {"deadline", FormatRfc3339(e->deadline)},
              {"approvals_required", std::max(1, approvals_required)},
              {"approvals", ApprovalsJson(e->approvals)}};
}

}  // namespace

json RequestToJson(const Request& r) {
  return json{
      {"id", r.id},
      {"requester", r.requester},
      {"account", json{{"id", r.account_id}, {"name", r.account_name}}},
      {"permission_set", json{{"name", r.permission_set_name}, {"arn", r.permission_set_arn}}},
      // Group elevation: the group whose membership is granted; null for an account assignment
      // (whose account and permission set are the two members above).
      {"group", IsGroupAccount(r.account_id)
                    ? json{{"id", r.permission_set_arn}, {"name", r.permission_set_name}}
                    : json(nullptr)},
      {"duration_seconds", r.duration_seconds},
      {"duration", FormatDuration(std::chrono::seconds(r.duration_seconds))},
      {"reason", r.reason},
      {"ticket", StringOrNull(r.ticket)},
      {"rule", r.rule},
      {"batch", r.batch},
      {"break_glass", r.break_glass},
      {"state", std::string(RequestStateName(r.state))},
      {"approvals_required", r.approvals_required},
      {"approvals", ApprovalsJson(r.approvals)},
      {"created_at", FormatRfc3339(r.created_at)},
      {"approval_deadline", TimeOrNull(r.approval_deadline)},
      {"start_at", TimeOrNull(r.start_at)},
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
      {"extension", ExtensionJson(r.extension, r.approvals_required)},
  };
}

}  // namespace jit::model
