// One request for several accounts (issue 16, "Several accounts in one request"): asked once,
// decided once under the strictest terms of its targets, then each target granted, revoked and
// audited on its own, a failing one not holding the others back; refused whole or not at all.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/testing.h"
#include "model/identity.h"
#include "notify/fake_channel.h"
#include "notify/notify.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/notifications.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

// A namespace of this file's own: the unity build compiles it with the other workflow tests.
namespace jit::workflow::batch_test {
namespace {

using fixtures::Count;
using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kCarol;

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using model::RequestState;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kYaml[] = R"yaml(
admins: {groups: [admins]}
accounts:
  - {id: "111111111111", name: sandbox}
  - {id: "222222222222", name: prod}
  - {id: "333333333333", name: staging}
  - {id: "444444444444", name: lab}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333"}
limits: {max_targets_per_request: 3}
rules:
  - name: lab-admin
    requesters: {groups: [engineers]}
    accounts: {names: [lab]}
    permission_sets: [Admin]
    max_duration: 1h
    approval: auto
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    approval: {approvers: {users: [bob, carol]}, required: 2, timeout: 10m}
  - name: admin
    requesters: {groups: [engineers]}
    accounts: {names: [sandbox, staging]}
    permission_sets: [Admin]
    max_duration: 1h
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
  - name: break-glass
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    reason: required
    break_glass: true
)yaml";

policy::Config Config() {
  auto c = policy::ParseConfig(kYaml, "batch.yaml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.value_or(policy::Config{});
}

class BatchTest : public fixtures::InlineWorkflowTest {
 protected:
  BatchTest() : InlineWorkflowTest(Config()) {}
  // A grant of several accounts settles in a few steps.
  void SettleAll() {
    for (int i = 0; i < 5; ++i) Settle();
  }

  Result<model::Request> Ask(std::vector<std::string> accounts, std::string ps = "Admin") {
    SubmitInput in{"", ps, minutes(30), "incident 42", ""};
    in.accounts = std::move(accounts);
    return workflow_.Submit(kAlice, in);
  }
  RequestState State(const std::string& id) { return store_.GetRequest(id)->state; }
  std::vector<RequestState> States(const model::Request& lead) {
    std::vector<RequestState> out;
    for (const std::string& id : lead.batch) out.push_back(State(id));
    return out;
  }
  int Filed() {
    store::RequestFilter f;
    f.limit = 500;
    return static_cast<int>(store_.ListRequests(f)->items.size());
  }
};

TEST_F(BatchTest, ThreeAccountsAreAskedOnceApprovedOnceAndEachEndsOnTime) {
  auto lead = Ask({"sandbox", "staging", "lab"});
  ASSERT_OK(lead);
  ASSERT_THAT(lead->batch, SizeIs(3));
  EXPECT_EQ(lead->batch.front(), lead->id);
  // The strictest terms: lab's rule is automatic, but the request waits for one approval.
  EXPECT_THAT(States(*lead),
              ElementsAre(RequestState::kPending, RequestState::kPending, RequestState::kPending));
  SettleAll();
  EXPECT_EQ(Count(*webhook_, notify::Event::kRequestCreated), 1);  // asked once

  ASSERT_OK(workflow_.Approve(kBob, lead->id, "ok"));
  SettleAll();
  EXPECT_THAT(States(*lead),
              ElementsAre(RequestState::kActive, RequestState::kActive, RequestState::kActive));
  EXPECT_THAT(provider_.Assignments(), SizeIs(3));
  // Each target is its own request, with its own history and expiry.
  auto view = workflow_.Get(kAlice, lead->batch[2]);
  ASSERT_OK(view);
  EXPECT_EQ(view->request.account_name, "lab");
  EXPECT_THAT(view->batch, SizeIs(3));
  clock_.Advance(minutes(30));
  SettleAll();
  EXPECT_THAT(States(*lead),
              ElementsAre(RequestState::kEnded, RequestState::kEnded, RequestState::kEnded));
  EXPECT_THAT(provider_.Assignments(), SizeIs(0));
}

TEST_F(BatchTest, ATargetWhoseGrantFailsDoesNotHoldTheOthersBack) {
  provider_.FailNext(provider::FakeProvider::Op::kGrant, 1,
                     PermissionDeniedError("AccessDeniedException: not in this account"));
  auto lead = Ask({"sandbox", "staging"});
  ASSERT_OK(lead);
  ASSERT_OK(workflow_.Approve(kBob, lead->id, ""));
  SettleAll();
  std::vector<RequestState> states = States(*lead);
  EXPECT_EQ(std::count(states.begin(), states.end(), RequestState::kFailed), 1);
  EXPECT_EQ(std::count(states.begin(), states.end(), RequestState::kActive), 1);
  EXPECT_THAT(provider_.Assignments(), SizeIs(1));
}

TEST_F(BatchTest, TheMostDemandingTargetSetsTheApprovalsEachUnderItsOwnApprovers) {
  auto lead = Ask({"prod", "lab"});
  ASSERT_OK(lead);
  auto prod = store_.GetRequest(lead->batch[0]);
  auto lab = store_.GetRequest(lead->batch[1]);
  EXPECT_EQ(prod->approvals_required, 2);
  EXPECT_EQ(lab->approvals_required, 2);
  EXPECT_THAT(prod->approver_users, ElementsAre("bob", "carol"));
  EXPECT_THAT(lab->approver_users, ElementsAre("bob", "carol"));  // the others' approvers
  ASSERT_OK(workflow_.Approve(kBob, lead->batch[1], ""));         // from any of its requests
  SettleAll();
  EXPECT_THAT(States(*lead), ElementsAre(RequestState::kPending, RequestState::kPending));
  EXPECT_THAT(workflow_.Approve(kBob, lead->id, ""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already approved")));
  ASSERT_OK(workflow_.Approve(kCarol, lead->id, ""));
  SettleAll();
  EXPECT_THAT(States(*lead), ElementsAre(RequestState::kActive, RequestState::kActive));
}

TEST_F(BatchTest, DenyAndCancelEndEveryTarget) {
  auto denied = Ask({"sandbox", "staging"});
  ASSERT_OK(denied);
  ASSERT_OK(workflow_.Deny(kBob, denied->batch[1], "not now"));
  EXPECT_THAT(States(*denied), ElementsAre(RequestState::kDenied, RequestState::kDenied));
  auto cancelled = Ask({"sandbox", "staging"});
  ASSERT_OK(cancelled);
  ASSERT_OK(workflow_.Cancel(kAlice, cancelled->id));
  EXPECT_THAT(States(*cancelled), ElementsAre(RequestState::kCancelled, RequestState::kCancelled));
  SettleAll();
  EXPECT_EQ(Count(*webhook_, notify::Event::kRequestDenied), 1);
  EXPECT_THAT(provider_.Assignments(), SizeIs(0));
}

TEST_F(BatchTest, ARefusedTargetRefusesTheWholeRequestAndFilesNothing) {
  EXPECT_THAT(Ask({"sandbox", "nowhere"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("account nowhere: unknown")));
  EXPECT_THAT(Ask({"sandbox", "prod"}, "ReadOnly"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("account sandbox")));
  EXPECT_THAT(Ask({"sandbox", "111111111111"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("named twice")));
  EXPECT_THAT(Ask({"sandbox", "staging", "lab", "prod"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at most 3 accounts")));
  EXPECT_EQ(Filed(), 0);
  // A duplicate of an open request refuses the whole batch: nothing half-made.
  SubmitInput one{"staging", "Admin", minutes(30), "x", ""};
  auto first = workflow_.Submit(kAlice, one);
  ASSERT_OK(first);
  EXPECT_THAT(Ask({"sandbox", "staging"}),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("account 333333333333: you already have request " + first->id)));
  EXPECT_EQ(Filed(), 1);
}

TEST_F(BatchTest, BreakGlassGoesAloneOrAllTogether) {
  auto all = Ask({"sandbox", "prod"}, "BreakGlass");
  ASSERT_OK(all);
  SettleAll();
  EXPECT_THAT(States(*all), ElementsAre(RequestState::kActive, RequestState::kActive));
}

}  // namespace
}  // namespace jit::workflow::batch_test
