#pragma once
// Group elevation (issue 16, docs/POLICY.md "Group elevation"): a Provider that makes group
// memberships as well as account assignments, so that the workflow's ledger rules (standing
// access is never removed, overlapping grants share one, revocation is retried until it
// holds) and the reconciler's drift checks serve both alike.

#include <string>
#include <vector>

#include "provider/group_membership.h"
#include "provider/provider.h"

namespace jit::provider {

// Routes each call by its target. An Assignment whose account_id is model::kGroupAccount
// ("group") stands for membership of `principal_id` in the group whose identity store GroupId is
// its `permission_set_arn`, and goes to `groups`; every other goes to `assignments` unchanged.
//
// For a group target:
// - Grant adds the member (GroupMemberships::AddMember) and answers a finished operation at
//   once. A user who is a member already (AlreadyExists) counts as done, as creating an
//   existing assignment does: the workflow lists the members first (ListAssignments) and
//   records its intent in the ledger before it calls Grant, so that a standing membership is
//   told apart from its own lost answer.
// - Revoke finds the membership (MembershipId) and removes it; none, or NotFound from the
//   removal (removed meanwhile), counts as done, as deleting a missing assignment does.
// - ListAssignments lists the group's members (every page), each as an Assignment of the group.
// - GrantStatus and RevokeStatus answer a finished operation for the ids Grant and Revoke
//   gave (they start with kGroupOperationPrefix).
// Errors are those of GroupMemberships (the same codes as Provider's). Thread-safe: it keeps no
// state of its own.
class GroupTargetProvider final : public Provider {
 public:
  // The prefix of the operation ids of group targets.
  static constexpr const char* kGroupOperationPrefix = "group-membership:";

  // Both must outlive this object.
  GroupTargetProvider(Provider& assignments, GroupMemberships& groups);

  Result<Operation> Grant(const Assignment& a) override;
  Result<Operation> GrantStatus(const std::string& operation_id) override;
  Result<Operation> Revoke(const Assignment& a) override;
  Result<Operation> RevokeStatus(const std::string& operation_id) override;
  Result<std::vector<Assignment>> ListAssignments(const std::string& account_id,
                                                  const std::string& permission_set_arn) override;

 private:
  Provider& assignments_;
  GroupMemberships& groups_;
};

}  // namespace jit::provider
