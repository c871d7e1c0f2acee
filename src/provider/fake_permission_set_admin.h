#pragma once
// An in-memory PermissionSetAdmin for unit tests: keeps permission sets, their policies,
// boundary, tags and provisioned accounts, and records every call by operation name (AWS's),
// so that tests can say which calls were made and that a second apply writes nothing.

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/mutex.h"
#include "provider/permission_set_admin.h"

namespace jit::provider {

// Thread-safe: every method may be called from any thread.
class FakePermissionSetAdmin final : public PermissionSetAdmin {
 public:
  // Everything the fake holds about one permission set.
  struct Set {
    PermissionSetAttributes attributes;
    std::string inline_policy;  // "" when none
    std::vector<std::string> managed_policies;
    std::vector<CustomerManagedPolicyReference> customer_managed_policies;
    std::optional<PermissionsBoundary> boundary;
    std::map<std::string, std::string> tags;
    std::vector<std::string> accounts;  // provisioned to
    int provisioned = 0;                // ProvisionPermissionSet calls that targeted it
  };

  // Adds a permission set as it stands in Identity Center; its arn must be set.
  void Add(Set set) {
    MutexLock lock(&mu_);
    sets_.push_back(std::move(set));
  }
  // A copy of the set with that ARN, or nullopt.
  std::optional<Set> Get(const std::string& arn) const {
    MutexLock lock(&mu_);
    for (const Set& s : sets_) {
      if (s.attributes.arn == arn) return s;
    }
    return std::nullopt;
  }
  std::optional<Set> GetByName(const std::string& name) const {
    MutexLock lock(&mu_);
    for (const Set& s : sets_) {
      if (s.attributes.name == name) return s;
    }
    return std::nullopt;
  }
  // Replaces the inline policy as someone else would (between a plan and an apply, say).
  void SetInlinePolicy(const std::string& arn, std::string policy) {
    MutexLock lock(&mu_);
    if (Set* s = Find(arn)) s->inline_policy = std::move(policy);
  }

  // Every call made, by AWS operation name, in order.
  std::vector<std::string> calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }
  // The calls that change something (not List*, Get*, Describe*).
  std::vector<std::string> writes() const {
    MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const std::string& c : calls_) {
      if (c.rfind("List", 0) == 0 || c.rfind("Get", 0) == 0 || c.rfind("Describe", 0) == 0) {
        continue;
      }
      out.push_back(c);
    }
    return out;
  }
  void ClearCalls() {
    MutexLock lock(&mu_);
    calls_.clear();
  }

  // The next call of `operation` fails with `status` (once).
  void FailNext(const std::string& operation, Status status) {
    MutexLock lock(&mu_);
    fail_next_[operation] = std::move(status);
  }
  // Provisioning answers IN_PROGRESS for this many status polls, then SUCCEEDED, or FAILED
  // with `provision_failure` when it is not empty.
  void SetProvisioning(int polls_in_progress, std::string provision_failure = "") {
    MutexLock lock(&mu_);
    polls_in_progress_ = polls_in_progress;
    provision_failure_ = std::move(provision_failure);
  }

  // ---- PermissionSetPolicies ----
  Result<std::string> GetInlinePolicy(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("GetInlinePolicyForPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->inline_policy;
  }
  Status PutInlinePolicy(const std::string& arn, const std::string& policy_json) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("PutInlinePolicyToPermissionSet"));
    JIT_RETURN_IF_ERROR(ValidateInlinePolicy(policy_json));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    s->inline_policy = policy_json;
    return OkStatus();
  }
  Status DeleteInlinePolicy(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DeleteInlinePolicyFromPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    s->inline_policy.clear();
    return OkStatus();
  }
  Result<Operation> ProvisionPermissionSet(const std::string& arn,
                                           const std::string& account_id) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ProvisionPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    ++s->provisioned;
    if (account_id != kAllProvisionedAccounts &&
        std::find(s->accounts.begin(), s->accounts.end(), account_id) == s->accounts.end()) {
      s->accounts.push_back(account_id);
    }
    Operation op;
    op.id = "req-" + std::to_string(++next_request_);
    pending_[op.id] = polls_in_progress_;
    return op;
  }
  Result<Operation> ProvisionStatus(const std::string& request_id) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DescribePermissionSetProvisioningStatus"));
    auto it = pending_.find(request_id);
    if (it == pending_.end()) return NotFoundError("no provisioning request " + request_id);
    Operation op;
    op.id = request_id;
    if (it->second > 0) {
      --it->second;
      return op;
    }
    if (provision_failure_.empty()) {
      op.state = OperationState::kSucceeded;
    } else {
      op.state = OperationState::kFailed;
      op.failure_reason = provision_failure_;
    }
    return op;
  }

  Result<Duration> SessionDuration(const std::string& permission_set_arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DescribePermissionSet"));
    Set* s = Find(permission_set_arn);
    if (s == nullptr) return Unknown(permission_set_arn);
    if (s->attributes.session_duration.empty()) return Duration(std::chrono::hours(1));
    return ParseIsoDuration(s->attributes.session_duration);
  }

  // ---- PermissionSetAdmin ----
  Result<std::vector<PermissionSetAttributes>> ListPermissionSets() override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ListPermissionSets"));
    std::vector<PermissionSetAttributes> out;
    for (const Set& s : sets_) out.push_back(s.attributes);
    return out;
  }
  Result<std::string> CreatePermissionSet(const PermissionSetAttributes& attributes,
                                          const std::map<std::string, std::string>& tags) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("CreatePermissionSet"));
    for (const Set& s : sets_) {
      if (s.attributes.name == attributes.name) {
        return AbortedError("a permission set named " + attributes.name + " exists");
      }
    }
    Set s;
    s.attributes = attributes;
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016d", ++next_set_);
    s.attributes.arn =
        "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-f" + std::string(suffix).substr(1);
    if (s.attributes.session_duration.empty()) s.attributes.session_duration = "PT1H";
    s.tags = tags;
    sets_.push_back(s);
    return s.attributes.arn;
  }
  Status UpdatePermissionSet(const PermissionSetAttributes& attributes) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("UpdatePermissionSet"));
    Set* s = Find(attributes.arn);
    if (s == nullptr) return Unknown(attributes.arn);
    if (!attributes.description.empty()) s->attributes.description = attributes.description;
    if (!attributes.session_duration.empty()) {
      s->attributes.session_duration = attributes.session_duration;
    }
    if (!attributes.relay_state.empty()) s->attributes.relay_state = attributes.relay_state;
    return OkStatus();
  }
  Result<std::vector<std::string>> ListManagedPolicies(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ListManagedPoliciesInPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->managed_policies;
  }
  Status AttachManagedPolicy(const std::string& arn, const std::string& policy_arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("AttachManagedPolicyToPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    auto& v = s->managed_policies;
    if (std::find(v.begin(), v.end(), policy_arn) != v.end()) {
      return AbortedError("ConflictException: " + policy_arn + " is already attached");
    }
    v.push_back(policy_arn);
    return OkStatus();
  }
  Status DetachManagedPolicy(const std::string& arn, const std::string& policy_arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DetachManagedPolicyFromPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    auto& v = s->managed_policies;
    v.erase(std::remove(v.begin(), v.end(), policy_arn), v.end());
    return OkStatus();
  }
  Result<std::vector<CustomerManagedPolicyReference>> ListCustomerManagedPolicyReferences(
      const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ListCustomerManagedPolicyReferencesInPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->customer_managed_policies;
  }
  Status AttachCustomerManagedPolicyReference(const std::string& arn,
                                              const CustomerManagedPolicyReference& ref) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("AttachCustomerManagedPolicyReferenceToPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    s->customer_managed_policies.push_back(ref);
    return OkStatus();
  }
  Status DetachCustomerManagedPolicyReference(const std::string& arn,
                                              const CustomerManagedPolicyReference& ref) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DetachCustomerManagedPolicyReferenceFromPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    auto& v = s->customer_managed_policies;
    v.erase(std::remove(v.begin(), v.end(), ref), v.end());
    return OkStatus();
  }
  Result<std::optional<PermissionsBoundary>> GetPermissionsBoundary(
      const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("GetPermissionsBoundaryForPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->boundary;
  }
  Status PutPermissionsBoundary(const std::string& arn,
                                const PermissionsBoundary& boundary) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("PutPermissionsBoundaryToPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    s->boundary = boundary;
    return OkStatus();
  }
  Status DeletePermissionsBoundary(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("DeletePermissionsBoundaryFromPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    s->boundary.reset();
    return OkStatus();
  }
  Result<std::map<std::string, std::string>> ListTags(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ListTagsForResource"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->tags;
  }
  Status TagResource(const std::string& arn,
                     const std::map<std::string, std::string>& tags) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("TagResource"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    for (const auto& [k, v] : tags) s->tags[k] = v;
    return OkStatus();
  }
  Status UntagResource(const std::string& arn, const std::vector<std::string>& keys) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("UntagResource"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    for (const std::string& k : keys) s->tags.erase(k);
    return OkStatus();
  }
  Result<std::vector<std::string>> ListProvisionedAccounts(const std::string& arn) override {
    MutexLock lock(&mu_);
    JIT_RETURN_IF_ERROR(Enter("ListAccountsForProvisionedPermissionSet"));
    Set* s = Find(arn);
    if (s == nullptr) return Unknown(arn);
    return s->accounts;
  }

 private:
  // Records the call and returns the failure armed for it, if any.
  Status Enter(const std::string& operation) REQUIRES(mu_) {
    calls_.push_back(operation);
    auto it = fail_next_.find(operation);
    if (it == fail_next_.end()) return OkStatus();
    Status s = std::move(it->second);
    fail_next_.erase(it);
    return s;
  }
  Set* Find(const std::string& arn) REQUIRES(mu_) {
    for (Set& s : sets_) {
      if (s.attributes.arn == arn) return &s;
    }
    return nullptr;
  }
  static Status Unknown(const std::string& arn) {
    return NotFoundError("no permission set " + arn);
  }

  mutable Mutex mu_;
  std::vector<Set> sets_ GUARDED_BY(mu_);
  std::vector<std::string> calls_ GUARDED_BY(mu_);
  std::map<std::string, Status> fail_next_ GUARDED_BY(mu_);
  std::map<std::string, int> pending_ GUARDED_BY(mu_);
  int polls_in_progress_ GUARDED_BY(mu_) = 0;
  std::string provision_failure_ GUARDED_BY(mu_);
  int next_request_ GUARDED_BY(mu_) = 0;
  int next_set_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::provider
