#include "provider/group_target.h"

#include <optional>
#include <string_view>
#include <utility>

#include "model/request.h"

namespace jit::provider {
namespace {

bool IsGroupOperation(const std::string& id) {
  return std::string_view(id).starts_with(GroupTargetProvider::kGroupOperationPrefix);
}

// A finished operation with this id.
Operation Finished(std::string id) {
  Operation op;
  op.id = std::move(id);
  op.state = OperationState::kSucceeded;
  return op;
}

// The finished operation of a group target; `what` names it (a membership id, "existing").
Operation GroupOperation(const std::string& what) {
  return Finished(GroupTargetProvider::kGroupOperationPrefix + what);
}

}  // namespace

GroupTargetProvider::GroupTargetProvider(Provider& assignments, GroupMemberships& groups)
    : assignments_(assignments), groups_(groups) {}

Result<Operation> GroupTargetProvider::Grant(const Assignment& a) {
  if (!model::IsGroupAccount(a.account_id)) return assignments_.Grant(a);
  Result<std::string> added = groups_.AddMember(a.permission_set_arn, a.principal_id);
  if (added.has_value()) return GroupOperation(*added);
  if (added.error().code() == StatusCode::kAlreadyExists) return GroupOperation("existing");
  return added.error();
}

Result<Operation> GroupTargetProvider::GrantStatus(const std::string& operation_id) {
  if (IsGroupOperation(operation_id)) return Finished(operation_id);
  return assignments_.GrantStatus(operation_id);
}

Result<Operation> GroupTargetProvider::Revoke(const Assignment& a) {
  if (!model::IsGroupAccount(a.account_id)) return assignments_.Revoke(a);
  Result<std::optional<std::string>> id =
      groups_.MembershipId(a.permission_set_arn, a.principal_id);
  if (!id.has_value()) return id.error();
  if (!id->has_value()) return GroupOperation("none");
  Status removed = groups_.RemoveMember(**id);
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  return GroupOperation(**id);
}

Result<Operation> GroupTargetProvider::RevokeStatus(const std::string& operation_id) {
  if (IsGroupOperation(operation_id)) return Finished(operation_id);
  return assignments_.RevokeStatus(operation_id);
}

Result<std::vector<Assignment>> GroupTargetProvider::ListAssignments(
    const std::string& account_id, const std::string& permission_set_arn) {
  if (!model::IsGroupAccount(account_id)) {
    return assignments_.ListAssignments(account_id, permission_set_arn);
  }
  Result<std::vector<GroupMember>> members = groups_.ListMembers(permission_set_arn);
  if (!members.has_value()) return members.error();
  std::vector<Assignment> out;
  out.reserve(members->size());
  for (GroupMember& m : *members) {
    out.push_back({std::move(m.user_id), account_id, permission_set_arn});
  }
  return out;
}

}  // namespace jit::provider
