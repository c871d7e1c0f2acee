#pragma once
// An in-process Provider for unit tests and `jit serve --dev`: keeps assignments in memory,
// with switches to make calls slow (asynchronous), fail, or fail grants for good.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "provider/provider.h"

namespace jit::provider {

// Thread-safe: every method may be called from any thread.
class FakeProvider final : public Provider,
                           public AssignmentInventory,
                           public PermissionSetPolicies {
 public:
  // The calls that can be counted and made to fail.
  enum class Op {
    kGrant,
    kGrantStatus,
    kRevoke,
    kRevokeStatus,
    kList,
    kListAll,
    kName,
    kGetInlinePolicy,
    kPutInlinePolicy,
    kDeleteInlinePolicy,
    kProvision,
    kProvisionStatus,
  };

  FakeProvider() = default;
  FakeProvider(const FakeProvider&) = delete;
  FakeProvider& operator=(const FakeProvider&) = delete;

  // Provider. Grant adds the assignment once the operation succeeds (at once unless
  // SetAsyncPolls says otherwise); Revoke removes it likewise. Both are idempotent.
  Result<Operation> Grant(const Assignment& a) override;
  Result<Operation> GrantStatus(const std::string& operation_id) override;
  Result<Operation> Revoke(const Assignment& a) override;
  Result<Operation> RevokeStatus(const std::string& operation_id) override;
  Result<std::vector<Assignment>> ListAssignments(const std::string& account_id,
                                                  const std::string& permission_set_arn) override;

  // AssignmentInventory: the user assignments above and the group assignments added by
  // AddGroupAssignment (users first); names set by SetPrincipalName, NotFound for others.
  Result<std::vector<PrincipalAssignment>> ListAllAssignments(
      const std::string& account_id, const std::string& permission_set_arn) override;
  Result<std::string> PrincipalName(PrincipalType type, const std::string& id) override;

  // PermissionSetPolicies, in memory: any permission set ARN and account id are known;
  // kAllProvisionedAccounts provisions to every account the set was provisioned to before.
  // PutInlinePolicy refuses what ValidateInlinePolicy refuses. ProvisionPermissionSet copies
  // the inline policy as it is at the call to the account once the operation succeeds (at once
  // unless SetAsyncPolls says otherwise); ProvisionStatus is NotFound for an unknown id and for
  // a grant's or revoke's id.
  Result<std::string> GetInlinePolicy(const std::string& permission_set_arn) override;
  Status PutInlinePolicy(const std::string& permission_set_arn,
                         const std::string& policy_json) override;
  Status DeleteInlinePolicy(const std::string& permission_set_arn) override;
  Result<Operation> ProvisionPermissionSet(const std::string& permission_set_arn,
                                           const std::string& account_id) override;
  Result<Operation> ProvisionStatus(const std::string& request_id) override;
  // What SetSessionDuration set for the permission set; one hour otherwise.
  Result<Duration> SessionDuration(const std::string& permission_set_arn) override;
  void SetSessionDuration(const std::string& permission_set_arn, Duration d);
  // Called after every GetInlinePolicy that succeeded, outside the fake's lock, with the
  // permission set's ARN: a test changes the policy there as another writer would.
  void SetAfterGetInlinePolicy(std::function<void(const std::string&)> hook);

  // The inline policy the account has of the permission set: what the last successful
  // provisioning copied ("" for none); std::nullopt when it was never provisioned there.
  std::optional<std::string> ProvisionedPolicy(const std::string& permission_set_arn,
                                               const std::string& account_id) const;
  // Provisionings started from now on end kFailed with this reason and copy nothing.
  // Empty: off.
  void FailProvisionsWithReason(std::string reason);

  // Adds an assignment that exists before anyone grants it (standing access).
  void AddStanding(const Assignment& a);
  // Adds a group's assignment (jit never makes those; ListAssignments does not show them).
  void AddGroupAssignment(const std::string& group_id, const std::string& account_id,
                          const std::string& permission_set_arn);
  // The name PrincipalName answers for a user or group id.
  void SetPrincipalName(PrincipalType type, const std::string& id, const std::string& name);

  // Operations started from now on report kInProgress for their first `n` status polls, then
  // kSucceeded (the assignment changes only then). 0 (default): Grant and Revoke return
  // kSucceeded at once. REQUIRES: n >= 0.
  void SetAsyncPolls(int n);

  // The next `times` calls of `op` return `s` (not OK) and change nothing. Calls so failed
  // still count in Calls(). REQUIRES: times >= 0, !s.ok().
  void FailNext(Op op, int times, Status s);

  // Grant operations started from now on end kFailed with this reason and add nothing.
  // Empty: off.
  void FailGrantsWithReason(std::string reason);

  // How many times `op` was called (including calls made to fail).
  std::int64_t Calls(Op op) const;

  // Whether the assignment exists now.
  bool Has(const Assignment& a) const;
  // Every assignment, in the order they were made.
  std::vector<Assignment> Assignments() const;

 private:
  struct PendingOp {
    bool grant = true;
    bool provision = false;  // a provisioning (then `grant` is unused)
    Assignment assignment;   // for a provisioning: its account and permission set
    std::string policy;      // for a provisioning: the inline policy it copies
    int polls_left = 0;
    std::string failure_reason;  // non-empty: ends kFailed
    bool finished = false;
  };

  // Counts the call and consumes one injected failure, if any. REQUIRES: mu_ held.
  Status BeginCallLocked(Op op) REQUIRES(mu_);
  // Starts a grant or revoke. REQUIRES: mu_ held.
  Operation StartLocked(bool grant, const Assignment& a) REQUIRES(mu_);
  // Files `op` under a new id and settles it at once when no polls are asked for.
  Operation StartOpLocked(PendingOp op) REQUIRES(mu_);
  // Applies a finished operation and reports its state. REQUIRES: mu_ held.
  Operation FinishLocked(const std::string& id, PendingOp& op) REQUIRES(mu_);
  // GrantStatus / RevokeStatus.
  Result<Operation> Poll(Op op, bool grant, const std::string& operation_id);
  void AddLocked(const Assignment& a) REQUIRES(mu_);
  void RemoveLocked(const Assignment& a) REQUIRES(mu_);

  struct Failure {
    int times = 0;
    Status status;
  };

  mutable Mutex mu_;
  // The assignments, by (account, permission set, principal) and in the order they were made:
  // each call costs O(log n) (a listing O(k log k) for the k of its target) whatever the number
  // of assignments, so that benchmarks of 100,000 grants measure the engine, not the fake.
  using Key = std::tuple<std::string, std::string, std::string>;
  static Key KeyOf(const Assignment& a);
  // The sequence numbers of one target's assignments, oldest first.
  std::vector<std::uint64_t> TargetLocked(const std::string& account_id,
                                          const std::string& permission_set_arn) const
      REQUIRES(mu_);
  std::map<Key, std::uint64_t> index_ GUARDED_BY(mu_);               // -> sequence number
  std::map<std::uint64_t, Assignment> assignments_ GUARDED_BY(mu_);  // sequence number ->
  std::uint64_t next_seq_ GUARDED_BY(mu_) = 1;
  std::vector<PrincipalAssignment> group_assignments_ GUARDED_BY(mu_);
  std::map<std::pair<PrincipalType, std::string>, std::string> names_ GUARDED_BY(mu_);
  std::map<std::string, PendingOp> operations_ GUARDED_BY(mu_);
  std::map<Op, Failure> failures_ GUARDED_BY(mu_);
  std::map<Op, std::int64_t> calls_ GUARDED_BY(mu_);
  int async_polls_ GUARDED_BY(mu_) = 0;
  std::string grant_failure_reason_ GUARDED_BY(mu_);
  std::string provision_failure_reason_ GUARDED_BY(mu_);
  // Permission set ARN -> its inline policy (none: absent).
  std::map<std::string, std::string> inline_policies_ GUARDED_BY(mu_);
  // (permission set ARN, account id) -> the inline policy provisioned there.
  std::map<std::pair<std::string, std::string>, std::string> provisioned_ GUARDED_BY(mu_);
  std::uint64_t next_operation_ GUARDED_BY(mu_) = 1;
  std::map<std::string, Duration> session_durations_ GUARDED_BY(mu_);
  std::function<void(const std::string&)> after_get_ GUARDED_BY(mu_);
};

}  // namespace jit::provider
