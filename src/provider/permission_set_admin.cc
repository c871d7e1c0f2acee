#include "provider/permission_set_admin.h"

#include <chrono>
#include <functional>
#include <set>
#include <utility>

#include "core/duration.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;

// Names distinct from identity_center.cc's helpers: both files share a unity build unit.
constexpr int kAdminMaxPages = 10000;

std::string AdminString(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Status AdminMalformed(const std::string& operation, const std::string& what) {
  return InternalError(operation + ": unexpected answer from Identity Center: " + what);
}

// Follows NextToken through every page of `operation`.
Status AdminPaginate(aws::JsonClient& client, const std::string& operation, json body,
                     const std::function<Status(const json&)>& page) {
  std::set<std::string> seen;
  for (int i = 0; i < kAdminMaxPages; ++i) {
    Result<json> answer = client.Call(operation, body);
    if (!answer.has_value()) return answer.error();
    JIT_RETURN_IF_ERROR(page(*answer));
    std::string next = AdminString(*answer, "NextToken");
    if (next.empty()) return OkStatus();
    if (!seen.insert(next).second) return AdminMalformed(operation, "a NextToken came back twice");
    body["NextToken"] = next;
  }
  return AdminMalformed(operation, "more than " + std::to_string(kAdminMaxPages) + " pages");
}

// The array `key` of a page (null or absent: none); Internal when it is something else.
Result<const json*> AdminArray(const json& page, const char* key, const std::string& operation) {
  static const json kEmpty = json::array();
  auto it = page.find(key);
  if (it == page.end() || it->is_null()) return &kEmpty;
  if (!it->is_array()) return AdminMalformed(operation, key);
  return &*it;
}

Result<Operation> ParseProvisioning(const json& answer) {
  const char* field = "PermissionSetProvisioningStatus";
  if (!answer.is_object() || !answer.contains(field) || !answer[field].is_object()) {
    return AdminMalformed(field, std::string("no ") + field);
  }
  const json& st = answer[field];
  Operation op;
  op.id = AdminString(st, "RequestId");
  std::string status = AdminString(st, "Status");
  if (status == "IN_PROGRESS") {
    op.state = OperationState::kInProgress;
  } else if (status == "SUCCEEDED") {
    op.state = OperationState::kSucceeded;
  } else if (status == "FAILED") {
    op.state = OperationState::kFailed;
    op.failure_reason = AdminString(st, "FailureReason");
    if (op.failure_reason.empty()) op.failure_reason = "no reason given";
  } else {
    return AdminMalformed(field, "Status '" + status + "'");
  }
  if (op.state == OperationState::kInProgress && op.id.empty()) {
    return AdminMalformed(field, "an IN_PROGRESS status without a RequestId");
  }
  return op;
}

json RefJson(const CustomerManagedPolicyReference& ref) {
  json j = {{"Name", ref.name}};
  if (!ref.path.empty()) j["Path"] = ref.path;
  return j;
}

CustomerManagedPolicyReference RefFrom(const json& j) {
  CustomerManagedPolicyReference ref;
  ref.name = AdminString(j, "Name");
  ref.path = AdminString(j, "Path");
  if (ref.path.empty()) ref.path = "/";
  return ref;
}

}  // namespace

IdentityCenterPermissionSetAdmin::IdentityCenterPermissionSetAdmin(std::string instance_arn,
                                                                   aws::JsonClient& sso_admin,
                                                                   int page_size)
    : instance_arn_(std::move(instance_arn)), sso_admin_(sso_admin), page_size_(page_size) {}

Status IdentityCenterPermissionSetAdmin::Send(const std::string& operation, json body) {
  body["InstanceArn"] = instance_arn_;
  Result<json> answer = sso_admin_.Call(operation, body);
  if (!answer.has_value()) return answer.error();
  return OkStatus();
}

Result<std::string> IdentityCenterPermissionSetAdmin::GetInlinePolicy(
    const std::string& permission_set_arn) {
  Result<json> answer =
      sso_admin_.Call("GetInlinePolicyForPermissionSet",
                      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", permission_set_arn}});
  if (!answer.has_value()) return answer.error();
  if (!answer->is_object()) {
    return AdminMalformed("GetInlinePolicyForPermissionSet", "not an object");
  }
  auto it = answer->find("InlinePolicy");
  if (it == answer->end() || it->is_null()) return std::string();
  if (!it->is_string()) return AdminMalformed("GetInlinePolicyForPermissionSet", "InlinePolicy");
  return it->get<std::string>();
}

Status IdentityCenterPermissionSetAdmin::PutInlinePolicy(const std::string& permission_set_arn,
                                                         const std::string& policy_json) {
  JIT_RETURN_IF_ERROR(ValidateInlinePolicy(policy_json));
  return Send("PutInlinePolicyToPermissionSet",
              {{"PermissionSetArn", permission_set_arn}, {"InlinePolicy", policy_json}});
}

Status IdentityCenterPermissionSetAdmin::DeleteInlinePolicy(const std::string& permission_set_arn) {
  return Send("DeleteInlinePolicyFromPermissionSet", {{"PermissionSetArn", permission_set_arn}});
}

Result<Operation> IdentityCenterPermissionSetAdmin::ProvisionPermissionSet(
    const std::string& permission_set_arn, const std::string& account_id) {
  json body = {{"InstanceArn", instance_arn_}, {"PermissionSetArn", permission_set_arn}};
  if (account_id == kAllProvisionedAccounts) {
    body["TargetType"] = kAllProvisionedAccounts;
  } else {
    body["TargetType"] = "AWS_ACCOUNT";
    body["TargetId"] = account_id;
  }
  Result<json> answer = sso_admin_.Call("ProvisionPermissionSet", body);
  if (!answer.has_value()) return answer.error();
  return ParseProvisioning(*answer);
}

Result<Operation> IdentityCenterPermissionSetAdmin::ProvisionStatus(const std::string& request_id) {
  Result<json> answer = sso_admin_.Call(
      "DescribePermissionSetProvisioningStatus",
      {{"InstanceArn", instance_arn_}, {"ProvisionPermissionSetRequestId", request_id}});
  if (!answer.has_value()) return answer.error();
  Result<Operation> op = ParseProvisioning(*answer);
  if (op.has_value() && op->id.empty()) op->id = request_id;
  return op;
}

Result<std::vector<PermissionSetAttributes>>
IdentityCenterPermissionSetAdmin::ListPermissionSets() {
  std::vector<std::string> arns;
  Status s = AdminPaginate(sso_admin_, "ListPermissionSets",
                           {{"InstanceArn", instance_arn_}, {"MaxResults", page_size_}},
                           [&](const json& page) -> Status {
                             JIT_ASSIGN_OR_RETURN(
                                 const json* list,
                                 AdminArray(page, "PermissionSets", "ListPermissionSets"));
                             for (const json& arn : *list) {
                               if (arn.is_string()) arns.push_back(arn.get<std::string>());
                             }
                             return OkStatus();
                           });
  if (!s.ok()) return s;
  std::vector<PermissionSetAttributes> out;
  for (const std::string& arn : arns) {
    Result<json> answer = sso_admin_.Call(
        "DescribePermissionSet", {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}});
    if (!answer.has_value()) return answer.error();
    auto it = answer->find("PermissionSet");
    if (it == answer->end() || !it->is_object()) {
      return AdminMalformed("DescribePermissionSet", "no PermissionSet");
    }
    PermissionSetAttributes a;
    a.arn = AdminString(*it, "PermissionSetArn");
    if (a.arn.empty()) a.arn = arn;
    a.name = AdminString(*it, "Name");
    a.description = AdminString(*it, "Description");
    a.session_duration = AdminString(*it, "SessionDuration");
    a.relay_state = AdminString(*it, "RelayState");
    out.push_back(std::move(a));
  }
  return out;
}

Result<Duration> IdentityCenterPermissionSetAdmin::SessionDuration(
    const std::string& permission_set_arn) {
  Result<json> answer =
      sso_admin_.Call("DescribePermissionSet",
                      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", permission_set_arn}});
  if (!answer.has_value()) return answer.error();
  auto it = answer->find("PermissionSet");
  if (it == answer->end() || !it->is_object()) {
    return AdminMalformed("DescribePermissionSet", "no PermissionSet");
  }
  std::string session = AdminString(*it, "SessionDuration");
  if (session.empty()) return Duration(std::chrono::hours(1));
  return ParseIsoDuration(session);
}

Result<std::string> IdentityCenterPermissionSetAdmin::CreatePermissionSet(
    const PermissionSetAttributes& attributes, const std::map<std::string, std::string>& tags) {
  json body = {{"InstanceArn", instance_arn_}, {"Name", attributes.name}};
  if (!attributes.description.empty()) body["Description"] = attributes.description;
  if (!attributes.session_duration.empty()) body["SessionDuration"] = attributes.session_duration;
  if (!attributes.relay_state.empty()) body["RelayState"] = attributes.relay_state;
  if (!tags.empty()) {
    json list = json::array();
    for (const auto& [key, value] : tags) list.push_back({{"Key", key}, {"Value", value}});
    body["Tags"] = std::move(list);
  }
  Result<json> answer = sso_admin_.Call("CreatePermissionSet", body);
  if (!answer.has_value()) return answer.error();
  auto it = answer->find("PermissionSet");
  if (it == answer->end() || !it->is_object()) {
    return AdminMalformed("CreatePermissionSet", "no PermissionSet");
  }
  std::string arn = AdminString(*it, "PermissionSetArn");
  if (arn.empty()) return AdminMalformed("CreatePermissionSet", "no PermissionSetArn");
  return arn;
}

Status IdentityCenterPermissionSetAdmin::UpdatePermissionSet(
    const PermissionSetAttributes& attributes) {
  json body = {{"PermissionSetArn", attributes.arn}};
  if (!attributes.description.empty()) body["Description"] = attributes.description;
  if (!attributes.session_duration.empty()) body["SessionDuration"] = attributes.session_duration;
  if (!attributes.relay_state.empty()) body["RelayState"] = attributes.relay_state;
  return Send("UpdatePermissionSet", std::move(body));
}

Result<std::vector<std::string>> IdentityCenterPermissionSetAdmin::ListManagedPolicies(
    const std::string& arn) {
  std::vector<std::string> out;
  const std::string op = "ListManagedPoliciesInPermissionSet";
  Status s = AdminPaginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, AdminArray(page, "AttachedManagedPolicies", op));
        for (const json& p : *list) {
          std::string policy = AdminString(p, "Arn");
          if (!policy.empty()) out.push_back(std::move(policy));
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

Status IdentityCenterPermissionSetAdmin::AttachManagedPolicy(const std::string& arn,
                                                             const std::string& policy_arn) {
  return Send("AttachManagedPolicyToPermissionSet",
              {{"PermissionSetArn", arn}, {"ManagedPolicyArn", policy_arn}});
}

Status IdentityCenterPermissionSetAdmin::DetachManagedPolicy(const std::string& arn,
                                                             const std::string& policy_arn) {
  return Send("DetachManagedPolicyFromPermissionSet",
              {{"PermissionSetArn", arn}, {"ManagedPolicyArn", policy_arn}});
}

Result<std::vector<CustomerManagedPolicyReference>>
IdentityCenterPermissionSetAdmin::ListCustomerManagedPolicyReferences(const std::string& arn) {
  std::vector<CustomerManagedPolicyReference> out;
  const std::string op = "ListCustomerManagedPolicyReferencesInPermissionSet";
  Status s = AdminPaginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list,
                             AdminArray(page, "CustomerManagedPolicyReferences", op));
        for (const json& p : *list) {
          CustomerManagedPolicyReference ref = RefFrom(p);
          if (!ref.name.empty()) out.push_back(std::move(ref));
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

Status IdentityCenterPermissionSetAdmin::AttachCustomerManagedPolicyReference(
    const std::string& arn, const CustomerManagedPolicyReference& ref) {
  return Send("AttachCustomerManagedPolicyReferenceToPermissionSet",
              {{"PermissionSetArn", arn}, {"CustomerManagedPolicyReference", RefJson(ref)}});
}

Status IdentityCenterPermissionSetAdmin::DetachCustomerManagedPolicyReference(
    const std::string& arn, const CustomerManagedPolicyReference& ref) {
  return Send("DetachCustomerManagedPolicyReferenceFromPermissionSet",
              {{"PermissionSetArn", arn}, {"CustomerManagedPolicyReference", RefJson(ref)}});
}

Result<std::optional<PermissionsBoundary>> IdentityCenterPermissionSetAdmin::GetPermissionsBoundary(
    const std::string& arn) {
  Result<json> answer =
      sso_admin_.Call("GetPermissionsBoundaryForPermissionSet",
                      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}});
  if (!answer.has_value()) {
    // AWS answers ResourceNotFoundException for a set without a boundary.
    if (answer.error().code() == StatusCode::kNotFound) return std::optional<PermissionsBoundary>();
    return answer.error();
  }
  auto it = answer->find("PermissionsBoundary");
  if (it == answer->end() || !it->is_object()) return std::optional<PermissionsBoundary>();
  PermissionsBoundary b;
  b.managed_policy_arn = AdminString(*it, "ManagedPolicyArn");
  if (b.managed_policy_arn.empty()) {
    auto ref = it->find("CustomerManagedPolicyReference");
    if (ref == it->end() || !ref->is_object()) return std::optional<PermissionsBoundary>();
    b.customer_managed_policy = RefFrom(*ref);
  } else {
    b.customer_managed_policy = {"", ""};
  }
  return std::optional<PermissionsBoundary>(std::move(b));
}

Status IdentityCenterPermissionSetAdmin::PutPermissionsBoundary(
    const std::string& arn, const PermissionsBoundary& boundary) {
  json b = json::object();
  if (!boundary.managed_policy_arn.empty()) {
    b["ManagedPolicyArn"] = boundary.managed_policy_arn;
  } else {
    b["CustomerManagedPolicyReference"] = RefJson(boundary.customer_managed_policy);
  }
  return Send("PutPermissionsBoundaryToPermissionSet",
              {{"PermissionSetArn", arn}, {"PermissionsBoundary", std::move(b)}});
}

Status IdentityCenterPermissionSetAdmin::DeletePermissionsBoundary(const std::string& arn) {
  return Send("DeletePermissionsBoundaryFromPermissionSet", {{"PermissionSetArn", arn}});
}

Result<std::map<std::string, std::string>> IdentityCenterPermissionSetAdmin::ListTags(
    const std::string& arn) {
  std::map<std::string, std::string> out;
  // ListTagsForResource takes no MaxResults.
  Status s = AdminPaginate(
      sso_admin_, "ListTagsForResource", {{"InstanceArn", instance_arn_}, {"ResourceArn", arn}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, AdminArray(page, "Tags", "ListTagsForResource"));
        for (const json& t : *list) {
          std::string key = AdminString(t, "Key");
          if (!key.empty()) out[key] = AdminString(t, "Value");
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

Status IdentityCenterPermissionSetAdmin::TagResource(
    const std::string& arn, const std::map<std::string, std::string>& tags) {
  json list = json::array();
  for (const auto& [key, value] : tags) list.push_back({{"Key", key}, {"Value", value}});
  return Send("TagResource", {{"ResourceArn", arn}, {"Tags", std::move(list)}});
}

Status IdentityCenterPermissionSetAdmin::UntagResource(const std::string& arn,
                                                       const std::vector<std::string>& keys) {
  return Send("UntagResource", {{"ResourceArn", arn}, {"TagKeys", keys}});
}

Result<std::vector<std::string>> IdentityCenterPermissionSetAdmin::ListProvisionedAccounts(
    const std::string& arn) {
  std::vector<std::string> out;
  const std::string op = "ListAccountsForProvisionedPermissionSet";
  Status s = AdminPaginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, AdminArray(page, "AccountIds", op));
        for (const json& id : *list) {
          if (id.is_string()) out.push_back(id.get<std::string>());
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace jit::provider
