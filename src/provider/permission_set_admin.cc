#include "provider/permission_set_admin.h"

#include <chrono>
#include <functional>
#include <set>
#include <utility>

#include "provider/wire.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;

json RefJson(const CustomerManagedPolicyReference& ref) {
  json j = {{"Name", ref.name}};
  if (!ref.path.empty()) j["Path"] = ref.path;
  return j;
}

CustomerManagedPolicyReference RefFrom(const json& j) {
  CustomerManagedPolicyReference ref;
  ref.name = wire::String(j, "Name");
  ref.path = wire::String(j, "Path");
  if (ref.path.empty()) ref.path = "/";
  return ref;
}

}  // namespace

IdentityCenterPermissionSetAdmin::IdentityCenterPermissionSetAdmin(std::string instance_arn,
                                                                   aws::JsonClient& sso_admin,
                                                                   PermissionSetPolicies& policies,
                                                                   int page_size)
    : instance_arn_(std::move(instance_arn)),
      sso_admin_(sso_admin),
      policies_(policies),
      page_size_(page_size) {}

Status IdentityCenterPermissionSetAdmin::Send(const std::string& operation, json body) {
  body["InstanceArn"] = instance_arn_;
  Result<json> answer = sso_admin_.Call(operation, body);
  if (!answer.has_value()) return answer.error();
  return OkStatus();
}

Result<std::string> IdentityCenterPermissionSetAdmin::GetInlinePolicy(
    const std::string& permission_set_arn) {
  return policies_.GetInlinePolicy(permission_set_arn);
}

Status IdentityCenterPermissionSetAdmin::PutInlinePolicy(const std::string& permission_set_arn,
                                                         const std::string& policy_json) {
  return policies_.PutInlinePolicy(permission_set_arn, policy_json);
}

Status IdentityCenterPermissionSetAdmin::DeleteInlinePolicy(const std::string& permission_set_arn) {
  return policies_.DeleteInlinePolicy(permission_set_arn);
}

Result<Operation> IdentityCenterPermissionSetAdmin::ProvisionPermissionSet(
    const std::string& permission_set_arn, const std::string& account_id) {
  return policies_.ProvisionPermissionSet(permission_set_arn, account_id);
}

Result<Operation> IdentityCenterPermissionSetAdmin::ProvisionStatus(const std::string& request_id) {
  return policies_.ProvisionStatus(request_id);
}

Result<Duration> IdentityCenterPermissionSetAdmin::SessionDuration(
    const std::string& permission_set_arn) {
  return policies_.SessionDuration(permission_set_arn);
}

Result<std::vector<PermissionSetAttributes>>
IdentityCenterPermissionSetAdmin::ListPermissionSets() {
  std::vector<std::string> arns;
  Status s = wire::Paginate(sso_admin_, "ListPermissionSets",
                            {{"InstanceArn", instance_arn_}, {"MaxResults", page_size_}},
                            [&](const json& page) -> Status {
                              JIT_ASSIGN_OR_RETURN(
                                  const json* list,
                                  wire::Array(page, "PermissionSets", "ListPermissionSets"));
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
      return wire::Malformed("DescribePermissionSet", "no PermissionSet");
    }
    PermissionSetAttributes a;
    a.arn = wire::String(*it, "PermissionSetArn");
    if (a.arn.empty()) a.arn = arn;
    a.name = wire::String(*it, "Name");
    a.description = wire::String(*it, "Description");
    a.session_duration = wire::String(*it, "SessionDuration");
    a.relay_state = wire::String(*it, "RelayState");
    out.push_back(std::move(a));
  }
  return out;
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
    return wire::Malformed("CreatePermissionSet", "no PermissionSet");
  }
  std::string arn = wire::String(*it, "PermissionSetArn");
  if (arn.empty()) return wire::Malformed("CreatePermissionSet", "no PermissionSetArn");
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
  Status s = wire::Paginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, wire::Array(page, "AttachedManagedPolicies", op));
        for (const json& p : *list) {
          std::string policy = wire::String(p, "Arn");
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
  Status s = wire::Paginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list,
                             wire::Array(page, "CustomerManagedPolicyReferences", op));
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
  b.managed_policy_arn = wire::String(*it, "ManagedPolicyArn");
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
  Status s = wire::Paginate(
      sso_admin_, "ListTagsForResource", {{"InstanceArn", instance_arn_}, {"ResourceArn", arn}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, wire::Array(page, "Tags", "ListTagsForResource"));
        for (const json& t : *list) {
          std::string key = wire::String(t, "Key");
          if (!key.empty()) out[key] = wire::String(t, "Value");
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
  Status s = wire::Paginate(
      sso_admin_, op,
      {{"InstanceArn", instance_arn_}, {"PermissionSetArn", arn}, {"MaxResults", page_size_}},
      [&](const json& page) -> Status {
        JIT_ASSIGN_OR_RETURN(const json* list, wire::Array(page, "AccountIds", op));
        for (const json& id : *list) {
          if (id.is_string()) out.push_back(id.get<std::string>());
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace jit::provider
