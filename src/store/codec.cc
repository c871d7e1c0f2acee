#include "store/codec.h"

#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace jit::store {
namespace {

using Json = nlohmann::json;

Json TimeJson(const std::optional<Time>& t) {
  return t.has_value() ? Json(ToUnixMillis(*t)) : Json(nullptr);
}

std::optional<Time> OptionalTime(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return FromUnixMillis(it->get<std::int64_t>());
}

Json ApprovalsJson(const std::vector<model::Approval>& approvals) {
  Json out = Json::array();
  for (const model::Approval& a : approvals) {
    out.push_back({{"approver", a.approver}, {"comment", a.comment}, {"at", ToUnixMillis(a.at)}});
  }
  return out;
}

std::vector<model::Approval> ApprovalsFrom(const Json& j, const char* key) {
  std::vector<model::Approval> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  for (const Json& a : *it) {
    out.push_back({a.at("approver").get<std::string>(), a.at("comment").get<std::string>(),
                   FromUnixMillis(a.at("at").get<std::int64_t>())});
  }
  return out;
}

}  // namespace

Result<std::string> EncodeRequestData(const model::Request& r) {
  try {
    Json extension = nullptr;
    if (r.extension.has_value()) {
      extension = {{"seconds", r.extension->seconds},
                   {"requested_at", ToUnixMillis(r.extension->requested_at)},
                   {"deadline", ToUnixMillis(r.extension->deadline)},
                   {"approvals", ApprovalsJson(r.extension->approvals)}};
    }
    Json j = {
        {"id", r.id},
        {"requester", r.requester},
        {"principal_id", r.principal_id},
        {"account_id", r.account_id},
        {"account_name", r.account_name},
        {"permission_set_name", r.permission_set_name},
        {"permission_set_arn", r.permission_set_arn},
        {"duration_seconds", r.duration_seconds},
        {"reason", r.reason},
        {"ticket", r.ticket},
        {"rule", r.rule},
        {"break_glass", r.break_glass},
        {"approvals_required", r.approvals_required},
        {"approver_users", r.approver_users},
        {"approver_groups", r.approver_groups},
        {"approvals", ApprovalsJson(r.approvals)},
        {"state", model::RequestStateName(r.state)},
        {"created_at", ToUnixMillis(r.created_at)},
        {"approval_deadline", TimeJson(r.approval_deadline)},
        {"start_at", TimeJson(r.start_at)},
        {"decided_at", TimeJson(r.decided_at)},
        {"activated_at", TimeJson(r.activated_at)},
        {"expires_at", TimeJson(r.expires_at)},
        {"ended_at", TimeJson(r.ended_at)},
        {"decided_by", r.decided_by},
        {"end_reason", r.end_reason},
        {"failure_reason", r.failure_reason},
        {"grant_operation_id", r.grant_operation_id},
        {"revoke_operation_id", r.revoke_operation_id},
        {"review_state", r.review_state},
        {"reviewed_by", r.reviewed_by},
        {"review_comment", r.review_comment},
        {"reviewed_at", TimeJson(r.reviewed_at)},
        {"extension", std::move(extension)},
        {"revoke_overdue_at", TimeJson(r.revoke_overdue_at)},
    };
    return j.dump();
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("request " + r.id + " cannot be stored: ") + e.what());
  }
}

Status DecodeRequestData(std::string_view data, model::Request& r) {
  try {
    Json j = Json::parse(data);
    r.principal_id = j.value("principal_id", "");
    r.account_id = j.value("account_id", "");
    r.account_name = j.value("account_name", "");
    r.permission_set_name = j.value("permission_set_name", "");
    r.permission_set_arn = j.value("permission_set_arn", "");
    r.duration_seconds = j.value("duration_seconds", std::int64_t{0});
    r.reason = j.value("reason", "");
    r.ticket = j.value("ticket", "");
    r.rule = j.value("rule", "");
    r.break_glass = j.value("break_glass", false);
    r.approvals_required = j.value("approvals_required", 0);
    r.approver_users = j.value("approver_users", std::vector<std::string>{});
    r.approver_groups = j.value("approver_groups", std::vector<std::string>{});
    r.approvals = ApprovalsFrom(j, "approvals");
    r.created_at = FromUnixMillis(j.value("created_at", std::int64_t{0}));
    r.approval_deadline = OptionalTime(j, "approval_deadline");
    r.start_at = OptionalTime(j, "start_at");
    r.decided_at = OptionalTime(j, "decided_at");
    r.activated_at = OptionalTime(j, "activated_at");
    r.expires_at = OptionalTime(j, "expires_at");
    r.ended_at = OptionalTime(j, "ended_at");
    r.decided_by = j.value("decided_by", "");
    r.end_reason = j.value("end_reason", "");
    r.failure_reason = j.value("failure_reason", "");
    r.grant_operation_id = j.value("grant_operation_id", "");
    r.revoke_operation_id = j.value("revoke_operation_id", "");
    r.review_state = j.value("review_state", "");
    r.reviewed_by = j.value("reviewed_by", "");
    r.review_comment = j.value("review_comment", "");
    r.reviewed_at = OptionalTime(j, "reviewed_at");
    r.revoke_overdue_at = OptionalTime(j, "revoke_overdue_at");
    r.extension.reset();
    if (auto it = j.find("extension"); it != j.end() && !it->is_null()) {
      model::PendingExtension e;
      e.seconds = it->at("seconds").get<std::int64_t>();
      e.requested_at = FromUnixMillis(it->at("requested_at").get<std::int64_t>());
      e.deadline = FromUnixMillis(it->at("deadline").get<std::int64_t>());
      e.approvals = ApprovalsFrom(*it, "approvals");
      r.extension = std::move(e);
    }
  } catch (const std::exception& e) {
    return InternalError("request " + r.id + " is damaged: " + e.what());
  }
  return OkStatus();
}

}  // namespace jit::store
