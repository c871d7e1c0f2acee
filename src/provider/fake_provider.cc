#include "provider/fake_provider.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/check.h"
#include "core/mutex.h"

namespace jit::provider {

Result<Operation> FakeProvider::Grant(const Assignment& a) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kGrant); !s.ok()) return s;
  return StartLocked(/*grant=*/true, a);
}

Result<Operation> FakeProvider::GrantStatus(const std::string& operation_id) {
  return Poll(Op::kGrantStatus, /*grant=*/true, operation_id);
}

Result<Operation> FakeProvider::Revoke(const Assignment& a) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kRevoke); !s.ok()) return s;
  return StartLocked(/*grant=*/false, a);
}

Result<Operation> FakeProvider::RevokeStatus(const std::string& operation_id) {
  return Poll(Op::kRevokeStatus, /*grant=*/false, operation_id);
}

Result<std::vector<Assignment>> FakeProvider::ListAssignments(
    const std::string& account_id, const std::string& permission_set_arn) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kList); !s.ok()) return s;
  std::vector<Assignment> out;
  for (std::uint64_t seq : TargetLocked(account_id, permission_set_arn)) {
    out.push_back(assignments_.at(seq));
  }
  return out;
}

Result<std::vector<PrincipalAssignment>> FakeProvider::ListAllAssignments(
    const std::string& account_id, const std::string& permission_set_arn) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kListAll); !s.ok()) return s;
  std::vector<PrincipalAssignment> out;
  for (std::uint64_t seq : TargetLocked(account_id, permission_set_arn)) {
    const Assignment& a = assignments_.at(seq);
    out.push_back({PrincipalType::kUser, a.principal_id, a.account_id, a.permission_set_arn});
  }
  for (const PrincipalAssignment& g : group_assignments_) {
    if (g.account_id == account_id && g.permission_set_arn == permission_set_arn) {
      out.push_back(g);
    }
  }
  return out;
}

Result<std::string> FakeProvider::PrincipalName(PrincipalType type, const std::string& id) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kName); !s.ok()) return s;
  auto it = names_.find({type, id});
  if (it == names_.end()) {
    return NotFoundError(std::string(type == PrincipalType::kGroup ? "group " : "user ") + id +
                         " is not in the identity store");
  }
  return it->second;
}

Result<std::string> FakeProvider::GetInlinePolicy(const std::string& permission_set_arn) {
  std::string policy;
  std::function<void(const std::string&)> hook;
  {
    MutexLock lock(&mu_);
    if (Status s = BeginCallLocked(Op::kGetInlinePolicy); !s.ok()) return s;
    auto it = inline_policies_.find(permission_set_arn);
    if (it != inline_policies_.end()) policy = it->second;
    hook = after_get_;
  }
  if (hook) hook(permission_set_arn);
  return policy;
}

Result<Duration> FakeProvider::SessionDuration(const std::string& permission_set_arn) {
  MutexLock lock(&mu_);
  auto it = session_durations_.find(permission_set_arn);
  return it == session_durations_.end() ? Duration(std::chrono::hours(1)) : it->second;
}

void FakeProvider::SetSessionDuration(const std::string& permission_set_arn, Duration d) {
  MutexLock lock(&mu_);
  session_durations_[permission_set_arn] = d;
}

void FakeProvider::SetAfterGetInlinePolicy(std::function<void(const std::string&)> hook) {
  MutexLock lock(&mu_);
  after_get_ = std::move(hook);
}

Status FakeProvider::PutInlinePolicy(const std::string& permission_set_arn,
                                     const std::string& policy_json) {
  MutexLock lock(&mu_);
  JIT_RETURN_IF_ERROR(BeginCallLocked(Op::kPutInlinePolicy));
  JIT_RETURN_IF_ERROR(ValidateInlinePolicy(policy_json));
  inline_policies_[permission_set_arn] = policy_json;
  return OkStatus();
}

Status FakeProvider::DeleteInlinePolicy(const std::string& permission_set_arn) {
  MutexLock lock(&mu_);
  JIT_RETURN_IF_ERROR(BeginCallLocked(Op::kDeleteInlinePolicy));
  inline_policies_.erase(permission_set_arn);
  return OkStatus();
}

Result<Operation> FakeProvider::ProvisionPermissionSet(const std::string& permission_set_arn,
                                                       const std::string& account_id) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kProvision); !s.ok()) return s;
  PendingOp op;
  op.provision = true;
  op.assignment = {"", account_id, permission_set_arn};
  auto it = inline_policies_.find(permission_set_arn);
  if (it != inline_policies_.end()) op.policy = it->second;
  op.failure_reason = provision_failure_reason_;
  return StartOpLocked(std::move(op));
}

Result<Operation> FakeProvider::ProvisionStatus(const std::string& request_id) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(Op::kProvisionStatus); !s.ok()) return s;
  auto it = operations_.find(request_id);
  if (it == operations_.end() || !it->second.provision) {
    return NotFoundError("no such provisioning request: " + request_id);
  }
  PendingOp& op = it->second;
  if (op.polls_left > 0) {
    --op.polls_left;
    return Operation{request_id, OperationState::kInProgress, {}};
  }
  return FinishLocked(request_id, op);
}

std::optional<std::string> FakeProvider::ProvisionedPolicy(const std::string& permission_set_arn,
                                                           const std::string& account_id) const {
  MutexLock lock(&mu_);
  auto it = provisioned_.find({permission_set_arn, account_id});
  if (it == provisioned_.end()) return std::nullopt;
  return it->second;
}

void FakeProvider::FailProvisionsWithReason(std::string reason) {
  MutexLock lock(&mu_);
  provision_failure_reason_ = std::move(reason);
}

void FakeProvider::AddGroupAssignment(const std::string& group_id, const std::string& account_id,
                                      const std::string& permission_set_arn) {
  MutexLock lock(&mu_);
  group_assignments_.push_back({PrincipalType::kGroup, group_id, account_id, permission_set_arn});
}

void FakeProvider::SetPrincipalName(PrincipalType type, const std::string& id,
                                    const std::string& name) {
  MutexLock lock(&mu_);
  names_[{type, id}] = name;
}

void FakeProvider::AddStanding(const Assignment& a) {
  MutexLock lock(&mu_);
  AddLocked(a);
}

void FakeProvider::SetAsyncPolls(int n) {
  JIT_CHECK(n >= 0);
  MutexLock lock(&mu_);
  async_polls_ = n;
}

void FakeProvider::FailNext(Op op, int times, Status s) {
  JIT_CHECK(times >= 0);
  JIT_CHECK(!s.ok());
  MutexLock lock(&mu_);
  failures_[op] = Failure{times, std::move(s)};
}

void FakeProvider::FailGrantsWithReason(std::string reason) {
  MutexLock lock(&mu_);
  grant_failure_reason_ = std::move(reason);
}

std::int64_t FakeProvider::Calls(Op op) const {
  MutexLock lock(&mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

bool FakeProvider::Has(const Assignment& a) const {
  MutexLock lock(&mu_);
  return index_.contains(KeyOf(a));
}

std::vector<Assignment> FakeProvider::Assignments() const {
  MutexLock lock(&mu_);
  std::vector<Assignment> out;
  out.reserve(assignments_.size());
  for (const auto& [seq, a] : assignments_) out.push_back(a);
  return out;
}

Status FakeProvider::BeginCallLocked(Op op) {
  ++calls_[op];
  auto it = failures_.find(op);
  if (it == failures_.end() || it->second.times == 0) return OkStatus();
  Status s = it->second.status;
  if (--it->second.times == 0) failures_.erase(it);
  return s;
}

Operation FakeProvider::StartLocked(bool grant, const Assignment& a) {
  PendingOp op;
  op.grant = grant;
  op.assignment = a;
  if (grant) op.failure_reason = grant_failure_reason_;
  return StartOpLocked(std::move(op));
}

Operation FakeProvider::StartOpLocked(PendingOp op) {
  char id[32];
  std::snprintf(id, sizeof(id), "fake-op-%06llu",
                static_cast<unsigned long long>(next_operation_++));
  op.polls_left = async_polls_;
  auto [it, inserted] = operations_.emplace(id, std::move(op));
  JIT_CHECK(inserted);
  if (it->second.polls_left > 0) return Operation{it->first, OperationState::kInProgress, {}};
  return FinishLocked(it->first, it->second);
}

Operation FakeProvider::FinishLocked(const std::string& id, PendingOp& op) {
  if (!op.finished) {
    op.finished = true;
    if (op.failure_reason.empty()) {
      if (op.provision && op.assignment.account_id == kAllProvisionedAccounts) {
        for (auto& [key, policy] : provisioned_) {
          if (key.first == op.assignment.permission_set_arn) policy = op.policy;
        }
      } else if (op.provision) {
        provisioned_[{op.assignment.permission_set_arn, op.assignment.account_id}] = op.policy;
      } else if (op.grant) {
        AddLocked(op.assignment);
      } else {
        RemoveLocked(op.assignment);
      }
    }
  }
  if (!op.failure_reason.empty()) return Operation{id, OperationState::kFailed, op.failure_reason};
  return Operation{id, OperationState::kSucceeded, {}};
}

Result<Operation> FakeProvider::Poll(Op call, bool grant, const std::string& operation_id) {
  MutexLock lock(&mu_);
  if (Status s = BeginCallLocked(call); !s.ok()) return s;
  auto it = operations_.find(operation_id);
  // A create's id is unknown to RevokeStatus and the other way round, as in Identity Center.
  if (it == operations_.end() || it->second.provision || it->second.grant != grant) {
    return NotFoundError("no such operation: " + operation_id);
  }
  PendingOp& op = it->second;
  if (op.polls_left > 0) {
    --op.polls_left;
    return Operation{operation_id, OperationState::kInProgress, {}};
  }
  return FinishLocked(operation_id, op);
}

FakeProvider::Key FakeProvider::KeyOf(const Assignment& a) {
  return {a.account_id, a.permission_set_arn, a.principal_id};
}

std::vector<std::uint64_t> FakeProvider::TargetLocked(const std::string& account_id,
                                                      const std::string& permission_set_arn) const {
  std::vector<std::uint64_t> seqs;
  for (auto it = index_.lower_bound({account_id, permission_set_arn, ""});
       it != index_.end() && std::get<0>(it->first) == account_id &&
       std::get<1>(it->first) == permission_set_arn;
       ++it) {
    seqs.push_back(it->second);
  }
  std::sort(seqs.begin(), seqs.end());  // in the order they were made
  return seqs;
}

void FakeProvider::AddLocked(const Assignment& a) {
  auto [it, added] = index_.emplace(KeyOf(a), next_seq_);
  if (added) assignments_.emplace(next_seq_++, a);
}

void FakeProvider::RemoveLocked(const Assignment& a) {
  auto it = index_.find(KeyOf(a));
  if (it == index_.end()) return;
  assignments_.erase(it->second);
  index_.erase(it);
}

}  // namespace jit::provider
