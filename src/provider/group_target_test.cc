// GroupTargetProvider: group targets go to GroupMemberships with the Provider's contract
// (creating what exists and deleting what is gone succeed), everything else to the inner
// provider unchanged.

#include "provider/group_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/testing.h"
#include "model/request.h"
#include "provider/fake_group_memberships.h"
#include "provider/fake_provider.h"

namespace jit::provider::group_target_test {
namespace {

using provider::Assignment;
using provider::FakeGroupMemberships;
using provider::FakeProvider;
using provider::GroupTargetProvider;
using provider::OperationState;

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kGroup[] = "9a000000-0000-4000-8000-000000000021";
constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";
constexpr char kAdmin[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";

class GroupTargetTest : public ::testing::Test {
 protected:
  GroupTargetTest() {
    groups_.AddGroup(kGroup, "responders");
    groups_.AddUser(kAlice);
    groups_.AddUser(kBob);
  }
  static Assignment InGroup(const std::string& user) {
    return {user, std::string(model::kGroupAccount), kGroup};
  }
  std::optional<std::string> Membership(const std::string& user) {
    return groups_.MembershipId(kGroup, user).value();
  }

  FakeProvider assignments_;
  FakeGroupMemberships groups_;
  GroupTargetProvider targets_{assignments_, groups_};
};

TEST_F(GroupTargetTest, AccountAssignmentsGoToTheInnerProviderUnchanged) {
  Assignment a{kAlice, "222222222222", kAdmin};
  ASSERT_OK(targets_.Grant(a));
  EXPECT_THAT(assignments_.Assignments(), ElementsAre(a));
  EXPECT_THAT(targets_.ListAssignments("222222222222", kAdmin).value(), ElementsAre(a));
  EXPECT_EQ(groups_.calls(), 0);
  ASSERT_OK(targets_.Revoke(a));
  EXPECT_THAT(assignments_.Assignments(), IsEmpty());
  EXPECT_THAT(targets_.GrantStatus("op-unknown"), StatusIs(StatusCode::kNotFound));
}

TEST_F(GroupTargetTest, GrantAddsTheMemberAndFinishesAtOnce) {
  auto op = targets_.Grant(InGroup(kAlice));
  ASSERT_OK(op);
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_THAT(op->id, StartsWith(GroupTargetProvider::kGroupOperationPrefix));
  EXPECT_TRUE(Membership(kAlice).has_value());
  EXPECT_THAT(assignments_.Assignments(), IsEmpty());
  // Its id is a finished operation too (a grant resumed after a crash may ask).
  auto status = targets_.GrantStatus(op->id);
  ASSERT_OK(status);
  EXPECT_EQ(status->state, OperationState::kSucceeded);
}

TEST_F(GroupTargetTest, AddingAnExistingMemberSucceedsWithoutASecondMembership) {
  auto first = groups_.AddMember(kGroup, kAlice);
  ASSERT_OK(first);
  auto op = targets_.Grant(InGroup(kAlice));
  ASSERT_OK(op);
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_EQ(Membership(kAlice), *first);
  EXPECT_EQ(groups_.ListMembers(kGroup)->size(), 1u);
}

TEST_F(GroupTargetTest, ListingTheGroupListsItsMembersAsAssignments) {
  ASSERT_OK(groups_.AddMember(kGroup, kBob));
  ASSERT_OK(targets_.Grant(InGroup(kAlice)));
  EXPECT_THAT(targets_.ListAssignments(std::string(model::kGroupAccount), kGroup).value(),
              ElementsAre(InGroup(kBob), InGroup(kAlice)));
  EXPECT_THAT(targets_.ListAssignments(std::string(model::kGroupAccount), "9a000000-dead"),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(GroupTargetTest, RevokeRemovesOnlyThatMembershipAndAMissingOneIsDone) {
  ASSERT_OK(groups_.AddMember(kGroup, kBob));
  ASSERT_OK(targets_.Grant(InGroup(kAlice)));
  auto op = targets_.Revoke(InGroup(kAlice));
  ASSERT_OK(op);
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_FALSE(Membership(kAlice).has_value());
  EXPECT_TRUE(Membership(kBob).has_value());
  // Removing it again (a retry whose answer was lost) succeeds and changes nothing.
  auto again = targets_.Revoke(InGroup(kAlice));
  ASSERT_OK(again);
  EXPECT_EQ(again->state, OperationState::kSucceeded);
  EXPECT_TRUE(Membership(kBob).has_value());
  ASSERT_OK(targets_.RevokeStatus(again->id));
}

TEST_F(GroupTargetTest, FailuresKeepTheirCodesSoThatTheWorkflowRetries) {
  groups_.FailWith(UnavailableError("throttled"));
  EXPECT_THAT(targets_.Grant(InGroup(kAlice)), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(targets_.Revoke(InGroup(kAlice)), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(targets_.ListAssignments(std::string(model::kGroupAccount), kGroup),
              StatusIs(StatusCode::kUnavailable));
  groups_.FailWith(OkStatus());
  EXPECT_THAT(targets_.Grant({"5e000000-0000-4000-8000-00000000dead",
                              std::string(model::kGroupAccount), kGroup}),
              StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace jit::provider::group_target_test
