#pragma once
// Membership of identity store users in Identity Center groups: what group elevation (issue 16,
// docs/POLICY.md "Group elevation") stands on, where a grant adds a user to a group for a while
// instead of creating an account assignment. GroupTargetProvider (group_target.h) puts it under
// the workflow's provider.

#include <optional>
#include <string>
#include <vector>

#include "aws/json_client.h"
#include "core/result.h"
#include "core/status.h"

namespace jit::provider {

// One member of a group.
struct GroupMember {
  std::string membership_id;  // identitystore MembershipId
  std::string user_id;        // identitystore UserId

  friend bool operator==(const GroupMember&, const GroupMember&) = default;
};

// Adds users to and removes them from identity store groups. The rules of group elevation
// (standing membership is never removed, overlapping grants share one membership) are the
// workflow's; this only does what it is told. Implementations are thread-safe.
//
// Error codes, as for Provider (provider.h): Unavailable (throttled, 5xx, time-out: retry with
// back-off), Aborted (a concurrent change of the same membership: retry), InvalidArgument /
// NotFound / PermissionDenied (retrying will not help), plus AlreadyExists from AddMember.
class GroupMemberships {
 public:
  virtual ~GroupMemberships() = default;

  // Makes the user a member of the group (CreateGroupMembership) and returns the new
  // membership id. AlreadyExists when the user is a member already: nothing changes, and
  // MembershipId(group_id, user_id) finds the existing membership's id (the message names it
  // too). AlreadyExists does not say who made the membership: a retry of an add whose answer
  // was lost (Unavailable after AWS had acted) gets it too. A caller that must tell a standing
  // membership from its own asks MembershipId and records its intent before it adds.
  // NotFound for an unknown group or user.
  virtual Result<std::string> AddMember(const std::string& group_id,
                                        const std::string& user_id) = 0;
  // Ends one membership (DeleteGroupMembership). NotFound when it does not exist (removed
  // already, or never made): a caller retrying a removal may take that as done.
  virtual Status RemoveMember(const std::string& membership_id) = 0;
  // The id of the user's membership in the group (GetGroupMembershipId); nullopt when the user
  // is not a member. NotFound for an unknown group.
  virtual Result<std::optional<std::string>> MembershipId(const std::string& group_id,
                                                          const std::string& user_id) = 0;
  // Every member of the group (ListGroupMemberships, every page), in the order the store lists
  // them. NotFound for an unknown group.
  virtual Result<std::vector<GroupMember>> ListMembers(const std::string& group_id) = 0;
  // The id of the group with this display name (GetGroupId on displayName). NotFound when
  // there is none.
  virtual Result<std::string> GroupId(const std::string& display_name) = 0;
};

struct IdentityStoreGroupsOptions {
  // The identity store: d-<10 hex> (or a UUID for some regions).
  std::string identity_store_id;
  // ListGroupMemberships page size (AWS allows 1..100).
  int page_size = 100;

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

// GroupMemberships over the real wire: identitystore through `identity_store`
// (IdentityStoreSpec), whose client paces, retries and signs every call. Thread-safe (it keeps
// no state of its own).
//
// AddMember on a ConflictException asks GetGroupMembershipId: when the user is a member the
// answer is AlreadyExists naming that id; otherwise the conflict was a concurrent change and the
// answer is Aborted. MembershipId's nullopt comes from a ResourceNotFoundException of
// GetGroupMembershipId, which AWS also gives for an unknown group; so that the two differ,
// MembershipId then checks the group with DescribeGroup (one more call, only when there is no
// membership).
class IdentityStoreGroupMemberships final : public GroupMemberships {
 public:
  // `identity_store` must outlive this object. REQUIRES: options.Validate().ok().
  IdentityStoreGroupMemberships(IdentityStoreGroupsOptions options,
                                aws::JsonClient& identity_store);

  Result<std::string> AddMember(const std::string& group_id, const std::string& user_id) override;
  Status RemoveMember(const std::string& membership_id) override;
  Result<std::optional<std::string>> MembershipId(const std::string& group_id,
                                                  const std::string& user_id) override;
  Result<std::vector<GroupMember>> ListMembers(const std::string& group_id) override;
  Result<std::string> GroupId(const std::string& display_name) override;

 private:
  const IdentityStoreGroupsOptions options_;
  aws::JsonClient& identity_store_;
};

}  // namespace jit::provider
