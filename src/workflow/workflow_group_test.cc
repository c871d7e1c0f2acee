// Group elevation (issue 16, docs/POLICY.md "Group elevation"): a rule that grants membership in
// an Identity Center group instead of an account assignment, with the ledger's guarantees:
// standing membership is never removed, overlapping grants do not cut each other, revocation is
// retried until it holds, and drift is reconciled.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/testing.h"
#include "model/identity.h"
#include "model/request.h"
#include "policy/config.h"
#include "workflow/reconciler.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

// A namespace of this file's own: the unity build compiles it with the other workflow tests.
namespace jit::workflow::group_test {
namespace {

using fixtures::kAlice;
using fixtures::kBob;

using ::jit::testing::StatusIs;
using model::RequestState;
using std::chrono::minutes;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kResponders[] = "9a000000-0000-4000-8000-000000000021";

constexpr char kYaml[] = R"yaml(
admins: {groups: [admins]}
accounts:
  - {id: "111111111111", name: sandbox}
permission_sets:
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
identity_center_groups:
  - {name: responders, id: "9a000000-0000-4000-8000-000000000021", max_duration: 2h}
rules:
  - name: respond
    requesters: {groups: [engineers]}
    identity_center_groups: [responders]
    max_duration: 4h
    approval: {approvers: {groups: [approvers]}, required: 1}
  - name: sandbox-admin
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [Admin]
    max_duration: 1h
    approval: auto
)yaml";

policy::Config Config() {
  auto c = policy::ParseConfig(kYaml, "groups.yaml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return fixtures::WithoutLimits(c.value_or(policy::Config{}));
}

class GroupElevationTest : public fixtures::InlineWorkflowTest {
 protected:
  GroupElevationTest() : InlineWorkflowTest(Config()) {
    groups_.AddGroup(kResponders, "responders");
    groups_.AddUser(kAlice.principal_id);
  }
  void SettleAll() {
    for (int i = 0; i < 4; ++i) Settle();
  }
  Result<model::Request> Ask(Duration d) {
    return workflow_.Submit(kAlice,
                            {std::string(model::kGroupAccount), "responders", d, "incident 7", ""});
  }
  // Asks, approves and settles: the request's id once active.
  std::string Granted(Duration d) {
    auto r = Ask(d);
    EXPECT_OK(r);
    if (!r.has_value()) return "";
    EXPECT_OK(workflow_.Approve(kBob, r->id, "ok"));
    SettleAll();
    EXPECT_EQ(State(r->id), RequestState::kActive);
    return r->id;
  }
  RequestState State(const std::string& id) { return store_.GetRequest(id)->state; }
  std::optional<std::string> Membership() {
    return groups_.MembershipId(kResponders, kAlice.principal_id).value();
  }
  std::vector<std::string> Actions(const std::string& id) {
    std::vector<std::string> out;
    std::vector<model::AuditEvent> events = store_.ListAudit(0, 1000, id).value();
    for (const model::AuditEvent& e : events) {
      out.push_back(e.action);
    }
    return out;
  }
};

TEST_F(GroupElevationTest, ARuleAddsTheMembershipAndRemovesItOnTime) {
  auto r = Ask(minutes(30));
  ASSERT_OK(r);
  EXPECT_EQ(r->account_id, model::kGroupAccount);
  EXPECT_EQ(r->permission_set_name, "responders");
  EXPECT_EQ(r->permission_set_arn, kResponders);
  EXPECT_EQ(r->state, RequestState::kPending);
  EXPECT_FALSE(Membership().has_value());

  ASSERT_OK(workflow_.Approve(kBob, r->id, "ok"));
  SettleAll();
  EXPECT_EQ(State(r->id), RequestState::kActive);
  EXPECT_TRUE(Membership().has_value());
  EXPECT_THAT(provider_.Assignments(), IsEmpty());  // no account assignment was made

  clock_.Advance(minutes(30));
  SettleAll();
  EXPECT_EQ(State(r->id), RequestState::kEnded);
  EXPECT_FALSE(Membership().has_value());
  EXPECT_THAT(store_.ListLedger().value(), IsEmpty());
}

TEST_F(GroupElevationTest, AStandingMembershipIsNeverRemoved) {
  auto standing = groups_.AddMember(kResponders, kAlice.principal_id);
  ASSERT_OK(standing);
  std::string id = Granted(minutes(30));
  EXPECT_THAT(Actions(id), Contains("grant.standing"));
  EXPECT_EQ(groups_.calls("AddMember"), 1);  // the test's own

  ASSERT_OK(workflow_.Revoke(kAlice, id, "done"));
  SettleAll();
  EXPECT_EQ(State(id), RequestState::kEnded);
  EXPECT_EQ(Membership(), *standing);
  EXPECT_EQ(groups_.calls("RemoveMember"), 0);
}

TEST_F(GroupElevationTest, OverlappingGrantsDoNotCutEachOther) {
  std::string shorter = Granted(minutes(30));
  std::string longer = Granted(minutes(60));
  EXPECT_EQ(groups_.calls("AddMember"), 1);  // the second shares the first's membership

  clock_.Advance(minutes(30));
  SettleAll();
  EXPECT_EQ(State(shorter), RequestState::kEnded);
  EXPECT_EQ(State(longer), RequestState::kActive);
  EXPECT_TRUE(Membership().has_value());

  clock_.Advance(minutes(30));
  SettleAll();
  EXPECT_EQ(State(longer), RequestState::kEnded);
  EXPECT_FALSE(Membership().has_value());
}

TEST_F(GroupElevationTest, ARevocationIsRetriedUntilItHolds) {
  std::string id = Granted(minutes(30));
  groups_.FailWith(UnavailableError("identitystore throttled"));
  clock_.Advance(minutes(30));
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(1));
    SettleAll();
  }
  EXPECT_EQ(State(id), RequestState::kRevoking);
  EXPECT_EQ(groups_.calls("RemoveMember"), 0);

  groups_.FailWith(OkStatus());
  clock_.Advance(minutes(1));
  SettleAll();
  EXPECT_EQ(State(id), RequestState::kEnded);
  EXPECT_FALSE(Membership().has_value());
}

TEST_F(GroupElevationTest, AMembershipRemovedOutsideJitEndsTheGrant) {
  std::string id = Granted(minutes(30));
  ASSERT_OK(groups_.RemoveMember(*Membership()));
  ReconcilerOptions o;
  o.settle_time = Duration(0);
  Reconciler reconciler(store_, targets_, clock_, o);
  auto report = reconciler.RunOnce();
  ASSERT_OK(report);
  EXPECT_EQ(report->missing, 1);
  EXPECT_EQ(State(id), RequestState::kEnded);
  EXPECT_THAT(store_.GetRequest(id)->end_reason, HasSubstr("outside jit"));
}

TEST_F(GroupElevationTest, AGroupIsAskedForAloneNotAmongAccounts) {
  SubmitInput in{"", "responders", minutes(10), "x", ""};
  in.accounts = {std::string(model::kGroupAccount), "sandbox"};
  EXPECT_THAT(workflow_.Submit(kAlice, in),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("asked for alone")));
  EXPECT_FALSE(Membership().has_value());
}

TEST_F(GroupElevationTest, AccountRulesDoNotOfferGroupsNorGroupRulesAccounts) {
  // `accounts: {all: true}` selects real accounts only; the group rule no account.
  EXPECT_THAT(
      workflow_.Submit(kAlice, {std::string(model::kGroupAccount), "Admin", minutes(10), "x", ""}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown Identity Center group")));
  EXPECT_THAT(workflow_.Submit(kAlice, {"sandbox", "responders", minutes(10), "x", ""}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown permission set")));
  // The group's own max_duration (2h) is below the rule's (4h).
  EXPECT_THAT(Ask(minutes(180)), StatusIs(StatusCode::kInvalidArgument, HasSubstr("2h")));
  EXPECT_THAT(Actions(""), Not(Contains("grant.succeeded")));
}

}  // namespace
}  // namespace jit::workflow::group_test
