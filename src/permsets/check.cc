#include "permsets/check.h"

#include <functional>
#include <utility>

#include "core/status.h"

namespace jit::permsets {

std::vector<std::string> PermissionWarnings(provider::PermissionSetAdmin& admin,
                                            const std::string& instance_arn,
                                            const std::vector<Definition>& definitions) {
  std::vector<std::string> out;
  if (definitions.empty()) return out;
  // arn:aws:sso:::instance/ssoins-X -> arn:aws:sso:::permissionSet/ssoins-X/ps-0000000000000000
  std::string instance = instance_arn.substr(instance_arn.rfind('/') + 1);
  const std::string probe = "arn:aws:sso:::permissionSet/" + instance + "/ps-0000000000000000";
  const std::string managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  const provider::CustomerManagedPolicyReference ref{"JitPermissionProbe", "/"};
  provider::PermissionsBoundary boundary;
  boundary.managed_policy_arn = managed;
  provider::PermissionSetAttributes attributes;
  attributes.arn = probe;
  attributes.description = "jit permission probe";

  const std::vector<std::pair<const char*, std::function<Status()>>> probes = {
      {"sso:ListPermissionSets", [&] { return admin.ListPermissionSets().error(); }},
      {"sso:UpdatePermissionSet", [&] { return admin.UpdatePermissionSet(attributes); }},
      {"sso:ListManagedPoliciesInPermissionSet",
       [&] { return admin.ListManagedPolicies(probe).error(); }},
      {"sso:AttachManagedPolicyToPermissionSet",
       [&] { return admin.AttachManagedPolicy(probe, managed); }},
      {"sso:DetachManagedPolicyFromPermissionSet",
       [&] { return admin.DetachManagedPolicy(probe, managed); }},
      {"sso:AttachCustomerManagedPolicyReferenceToPermissionSet",
       [&] { return admin.AttachCustomerManagedPolicyReference(probe, ref); }},
      {"sso:DetachCustomerManagedPolicyReferenceFromPermissionSet",
       [&] { return admin.DetachCustomerManagedPolicyReference(probe, ref); }},
      {"sso:PutPermissionsBoundaryToPermissionSet",
       [&] { return admin.PutPermissionsBoundary(probe, boundary); }},
      {"sso:DeletePermissionsBoundaryFromPermissionSet",
       [&] { return admin.DeletePermissionsBoundary(probe); }},
      {"sso:TagResource",
       [&] {
         return admin.TagResource(probe, {{"jit-probe", "1"}});
       }},
      {"sso:UntagResource", [&] { return admin.UntagResource(probe, {"jit-probe"}); }},
      {"sso:PutInlinePolicyToPermissionSet",
       [&] { return admin.PutInlinePolicy(probe, R"({"Version":"2012-10-17","Statement":[]})"); }},
      {"sso:ProvisionPermissionSet",
       [&] {
         return admin.ProvisionPermissionSet(probe, provider::kAllProvisionedAccounts).error();
       }},
  };
  for (const auto& [action, call] : probes) {
    Status s = call();
    if (s.ok() || s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
      continue;
    }
    if (s.code() == StatusCode::kPermissionDenied) {
      out.push_back("permission sets as code: the credentials may not call " + std::string(action) +
                    "; grant deploy/iam-policy-permission-sets.json before `permission-sets "
                    "apply`");
    } else {
      out.push_back("permission sets as code: could not check " + std::string(action) + ": " +
                    s.ToString());
    }
  }
  return out;
}

}  // namespace jit::permsets
