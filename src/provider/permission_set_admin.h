#pragma once
// Administering permission sets themselves (`jit permission-sets plan|apply`, docs/AWS.md
// "Permission sets as code"): their attributes, policies, boundary and tags, and provisioning
// them to the accounts they are assigned in. The broker never uses this; only the
// permission-sets command does.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_client.h"
#include "core/result.h"
#include "core/status.h"
#include "provider/provider.h"

namespace jit::provider {

// A permission set's own attributes, as DescribePermissionSet reports them. An empty string is
// an attribute the set does not have (AWS omits it).
struct PermissionSetAttributes {
  std::string arn;
  std::string name;
  std::string description;
  std::string session_duration;  // ISO-8601 as on the wire ("PT8H"); "" means AWS's PT1H
  std::string relay_state;

  friend bool operator==(const PermissionSetAttributes&, const PermissionSetAttributes&) = default;
};

// A customer managed policy, by name and path, that each account must hold itself
// (CustomerManagedPolicyReference).
struct CustomerManagedPolicyReference {
  std::string name;
  std::string path = "/";

  friend auto operator<=>(const CustomerManagedPolicyReference&,
                          const CustomerManagedPolicyReference&) = default;
};

// A permissions boundary: an AWS managed policy (managed_policy_arn) or, when that is empty, a
// customer managed policy reference.
struct PermissionsBoundary {
  std::string managed_policy_arn;
  CustomerManagedPolicyReference customer_managed_policy;

  friend bool operator==(const PermissionsBoundary&, const PermissionsBoundary&) = default;
};

// The sso-admin calls that define permission sets. The inline policy and provisioning calls
// are PermissionSetPolicies' (provider.h); ProvisionPermissionSet with account_id
// kAllProvisionedAccounts targets every provisioned account.
//
// Implementations are thread-safe. Errors as for Provider (provider.h): Unavailable
// (throttled, 5xx, time-out: retry with back-off), Aborted (ConflictException: a change of
// the same permission set is under way, retry), InvalidArgument / NotFound / PermissionDenied
// / ResourceExhausted (a quota; retrying will not help).
class PermissionSetAdmin : public PermissionSetPolicies {
 public:
  // Every permission set of the instance (ListPermissionSets, every page, then
  // DescribePermissionSet for each), in the order AWS lists them.
  virtual Result<std::vector<PermissionSetAttributes>> ListPermissionSets() = 0;
  // Creates a permission set (CreatePermissionSet) with `attributes` (arn ignored; empty
  // fields are not sent) and `tags`. Returns its ARN.
  virtual Result<std::string> CreatePermissionSet(
      const PermissionSetAttributes& attributes,
      const std::map<std::string, std::string>& tags) = 0;
  // Sets description, session duration and relay state (UpdatePermissionSet); empty fields
  // are not sent (AWS leaves them as they are).
  virtual Status UpdatePermissionSet(const PermissionSetAttributes& attributes) = 0;

  // AWS managed policy ARNs attached (ListManagedPoliciesInPermissionSet, every page).
  virtual Result<std::vector<std::string>> ListManagedPolicies(const std::string& arn) = 0;
  virtual Status AttachManagedPolicy(const std::string& arn, const std::string& policy_arn) = 0;
  virtual Status DetachManagedPolicy(const std::string& arn, const std::string& policy_arn) = 0;

  // Customer managed policy references (ListCustomerManagedPolicyReferencesInPermissionSet).
  virtual Result<std::vector<CustomerManagedPolicyReference>> ListCustomerManagedPolicyReferences(
      const std::string& arn) = 0;
  virtual Status AttachCustomerManagedPolicyReference(
      const std::string& arn, const CustomerManagedPolicyReference& ref) = 0;
  virtual Status DetachCustomerManagedPolicyReference(
      const std::string& arn, const CustomerManagedPolicyReference& ref) = 0;

  // The permissions boundary (GetPermissionsBoundaryForPermissionSet); nullopt when the set
  // has none.
  virtual Result<std::optional<PermissionsBoundary>> GetPermissionsBoundary(
      const std::string& arn) = 0;
  virtual Status PutPermissionsBoundary(const std::string& arn,
                                        const PermissionsBoundary& boundary) = 0;
  // Removing none succeeds.
  virtual Status DeletePermissionsBoundary(const std::string& arn) = 0;

  // The set's tags (ListTagsForResource, every page), TagResource and UntagResource.
  virtual Result<std::map<std::string, std::string>> ListTags(const std::string& arn) = 0;
  virtual Status TagResource(const std::string& arn,
                             const std::map<std::string, std::string>& tags) = 0;
  virtual Status UntagResource(const std::string& arn, const std::vector<std::string>& keys) = 0;

  // The accounts the set is provisioned to (ListAccountsForProvisionedPermissionSet, every
  // page), whatever version they hold.
  virtual Result<std::vector<std::string>> ListProvisionedAccounts(const std::string& arn) = 0;
};

// PermissionSetAdmin over the real wire (sso-admin). The client is paced by the shared
// aws::Limiter like every other call. The inline policy, provisioning and session duration
// calls are those of `policies` (the IdentityCenterProvider of the same instance), passed on.
// Thread-safe; `sso_admin` and `policies` must outlive this object.
class IdentityCenterPermissionSetAdmin final : public PermissionSetAdmin {
 public:
  IdentityCenterPermissionSetAdmin(std::string instance_arn, aws::JsonClient& sso_admin,
                                   PermissionSetPolicies& policies, int page_size = 100);

  // PermissionSetPolicies: `policies`'.
  Result<std::string> GetInlinePolicy(const std::string& permission_set_arn) override;
  Status PutInlinePolicy(const std::string& permission_set_arn,
                         const std::string& policy_json) override;
  Status DeleteInlinePolicy(const std::string& permission_set_arn) override;
  Result<Operation> ProvisionPermissionSet(const std::string& permission_set_arn,
                                           const std::string& account_id) override;
  Result<Operation> ProvisionStatus(const std::string& request_id) override;
  Result<Duration> SessionDuration(const std::string& permission_set_arn) override;

  Result<std::vector<PermissionSetAttributes>> ListPermissionSets() override;
  Result<std::string> CreatePermissionSet(const PermissionSetAttributes& attributes,
                                          const std::map<std::string, std::string>& tags) override;
  Status UpdatePermissionSet(const PermissionSetAttributes& attributes) override;
  Result<std::vector<std::string>> ListManagedPolicies(const std::string& arn) override;
  Status AttachManagedPolicy(const std::string& arn, const std::string& policy_arn) override;
  Status DetachManagedPolicy(const std::string& arn, const std::string& policy_arn) override;
  Result<std::vector<CustomerManagedPolicyReference>> ListCustomerManagedPolicyReferences(
      const std::string& arn) override;
  Status AttachCustomerManagedPolicyReference(const std::string& arn,
                                              const CustomerManagedPolicyReference& ref) override;
  Status DetachCustomerManagedPolicyReference(const std::string& arn,
                                              const CustomerManagedPolicyReference& ref) override;
  Result<std::optional<PermissionsBoundary>> GetPermissionsBoundary(
      const std::string& arn) override;
  Status PutPermissionsBoundary(const std::string& arn,
                                const PermissionsBoundary& boundary) override;
  Status DeletePermissionsBoundary(const std::string& arn) override;
  Result<std::map<std::string, std::string>> ListTags(const std::string& arn) override;
  Status TagResource(const std::string& arn,
                     const std::map<std::string, std::string>& tags) override;
  Status UntagResource(const std::string& arn, const std::vector<std::string>& keys) override;
  Result<std::vector<std::string>> ListProvisionedAccounts(const std::string& arn) override;

 private:
  // One call whose answer only matters for its errors.
  Status Send(const std::string& operation, nlohmann::json body);

  const std::string instance_arn_;
  aws::JsonClient& sso_admin_;
  PermissionSetPolicies& policies_;
  const int page_size_;
};

}  // namespace jit::provider
