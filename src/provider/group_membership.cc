#include "provider/group_membership.h"

#include <utility>

#include "aws/names.h"
#include "provider/wire.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;

// identitystore's GroupId, UserId and MembershipId are 1..47 characters; anything else is
// refused before a call.
Status CheckStoreId(const std::string& id, const char* what) {
  if (id.empty() || id.size() > 47) {
    return InvalidArgumentError("'" + id + "' is not an identity store " + what + " id");
  }
  return OkStatus();
}

}  // namespace

Status IdentityStoreGroupsOptions::Validate() const {
  if (!aws::IsIdentityStoreId(identity_store_id)) {
    return InvalidArgumentError("identity_store_id '" + identity_store_id +
                                "' is not an identity store id");
  }
  if (page_size < 1 || page_size > 100) return InvalidArgumentError("page_size must be 1..100");
  return OkStatus();
}

IdentityStoreGroupMemberships::IdentityStoreGroupMemberships(IdentityStoreGroupsOptions options,
                                                             aws::JsonClient& identity_store)
    : options_(std::move(options)), identity_store_(identity_store) {}

Result<std::string> IdentityStoreGroupMemberships::AddMember(const std::string& group_id,
                                                             const std::string& user_id) {
  JIT_RETURN_IF_ERROR(CheckStoreId(group_id, "group"));
  JIT_RETURN_IF_ERROR(CheckStoreId(user_id, "user"));
  Result<json> answer = identity_store_.Call("CreateGroupMembership",
                                             {{"IdentityStoreId", options_.identity_store_id},
                                              {"GroupId", group_id},
                                              {"MemberId", {{"UserId", user_id}}}});
  if (!answer.has_value()) {
    if (answer.error().code() != StatusCode::kAborted) return answer.error();
    // ConflictException: a member already (UNIQUENESS_CONSTRAINT_VIOLATION), or a concurrent
    // change (CONCURRENT_MODIFICATION). The membership's id tells them apart.
    Result<std::optional<std::string>> existing = MembershipId(group_id, user_id);
    if (existing.has_value() && existing->has_value()) {
      return AlreadyExistsError("user " + user_id + " is already a member of group " + group_id +
                                " (membership " + **existing + ")");
    }
    return answer.error();
  }
  std::string id = wire::String(*answer, "MembershipId");
  if (id.empty()) return wire::Malformed("CreateGroupMembership", "no MembershipId");
  return id;
}

Status IdentityStoreGroupMemberships::RemoveMember(const std::string& membership_id) {
  JIT_RETURN_IF_ERROR(CheckStoreId(membership_id, "membership"));
  Result<json> answer = identity_store_.Call(
      "DeleteGroupMembership",
      {{"IdentityStoreId", options_.identity_store_id}, {"MembershipId", membership_id}});
  if (!answer.has_value()) {
    if (answer.error().code() == StatusCode::kNotFound) {
      return NotFoundError("group membership " + membership_id + " does not exist");
    }
    return answer.error();
  }
  return OkStatus();
}

Result<std::optional<std::string>> IdentityStoreGroupMemberships::MembershipId(
    const std::string& group_id, const std::string& user_id) {
  JIT_RETURN_IF_ERROR(CheckStoreId(group_id, "group"));
  JIT_RETURN_IF_ERROR(CheckStoreId(user_id, "user"));
  Result<json> answer =
      identity_store_.Call("GetGroupMembershipId", {{"IdentityStoreId", options_.identity_store_id},
                                                    {"GroupId", group_id},
                                                    {"MemberId", {{"UserId", user_id}}}});
  if (!answer.has_value()) {
    if (answer.error().code() != StatusCode::kNotFound) return answer.error();
    // Not a member, or no such group: DescribeGroup says which.
    Result<json> group = identity_store_.Call(
        "DescribeGroup", {{"IdentityStoreId", options_.identity_store_id}, {"GroupId", group_id}});
    if (!group.has_value()) return group.error();
    return std::optional<std::string>();
  }
  std::string id = wire::String(*answer, "MembershipId");
  if (id.empty()) return wire::Malformed("GetGroupMembershipId", "no MembershipId");
  return std::optional<std::string>(std::move(id));
}

Result<std::vector<GroupMember>> IdentityStoreGroupMemberships::ListMembers(
    const std::string& group_id) {
  JIT_RETURN_IF_ERROR(CheckStoreId(group_id, "group"));
  std::vector<GroupMember> members;
  Status s = wire::Paginate(
      identity_store_, "ListGroupMemberships",
      {{"IdentityStoreId", options_.identity_store_id},
       {"GroupId", group_id},
       {"MaxResults", options_.page_size}},
      [&](const json& page) -> Status {
        Result<const json*> list = wire::Array(page, "GroupMemberships", "ListGroupMemberships");
        if (!list.has_value()) return list.error();
        for (const json& m : **list) {
          GroupMember member;
          member.membership_id = wire::String(m, "MembershipId");
          if (member.membership_id.empty()) {
            return wire::Malformed("ListGroupMemberships", "a membership without MembershipId");
          }
          // MemberId is a union of which UserId is the only member today; a kind of member
          // this code does not know is not a user, so it is left out.
          if (m.is_object() && m.contains("MemberId")) {
            member.user_id = wire::String(m["MemberId"], "UserId");
          }
          if (member.user_id.empty()) continue;
          members.push_back(std::move(member));
        }
        return OkStatus();
      });
  if (!s.ok()) return s;
  return members;
}

Result<std::string> IdentityStoreGroupMemberships::GroupId(const std::string& display_name) {
  if (display_name.empty() || display_name.size() > 1024) {
    return InvalidArgumentError("'" + display_name + "' is not a group display name");
  }
  json body = {{"IdentityStoreId", options_.identity_store_id},
               {"AlternateIdentifier",
                {{"UniqueAttribute",
                  {{"AttributePath", "displayName"}, {"AttributeValue", display_name}}}}}};
  Result<json> answer = identity_store_.Call("GetGroupId", body);
  if (!answer.has_value()) {
    if (answer.error().code() == StatusCode::kNotFound) {
      return NotFoundError("group " + display_name + " is not in the identity store");
    }
    return answer.error();
  }
  std::string id = wire::String(*answer, "GroupId");
  if (id.empty()) return wire::Malformed("GetGroupId", "no GroupId");
  return id;
}

}  // namespace jit::provider
