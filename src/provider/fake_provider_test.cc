#include "provider/fake_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/testing.h"

namespace jit::provider {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Op = FakeProvider::Op;

const Assignment kAlice{"u-alice", "111111111111", "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"};
const Assignment kBob{"u-bob", "111111111111", "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"};
const Assignment kAliceOther{"u-alice", "222222222222",
                             "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"};

TEST(FakeProvider, GrantSucceedsAtOnceAndAddsTheAssignment) {
  FakeProvider p;
  auto op = p.Grant(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_FALSE(op->id.empty());
  EXPECT_TRUE(p.Has(kAlice));
  EXPECT_THAT(p.Assignments(), ElementsAre(kAlice));
  EXPECT_EQ(p.Calls(Op::kGrant), 1);
}

TEST(FakeProvider, GrantOfAnExistingAssignmentSucceedsWithoutADuplicate) {
  FakeProvider p;
  p.AddStanding(kAlice);
  auto op = p.Grant(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_THAT(p.Assignments(), ElementsAre(kAlice));
}

TEST(FakeProvider, RevokeRemovesTheAssignmentAndRevokingAnAbsentOneSucceeds) {
  FakeProvider p;
  ASSERT_THAT(p.Grant(kAlice), IsOk());
  ASSERT_THAT(p.Grant(kBob), IsOk());
  auto op = p.Revoke(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_FALSE(p.Has(kAlice));
  EXPECT_THAT(p.Assignments(), ElementsAre(kBob));

  auto again = p.Revoke(kAlice);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->state, OperationState::kSucceeded);
  EXPECT_EQ(p.Calls(Op::kRevoke), 2);
}

TEST(FakeProvider, StandingAssignmentIsPresentBeforeAnyGrant) {
  FakeProvider p;
  p.AddStanding(kAlice);
  EXPECT_TRUE(p.Has(kAlice));
  EXPECT_EQ(p.Calls(Op::kGrant), 0);
}

TEST(FakeProvider, OperationIdsAreUnique) {
  FakeProvider p;
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto g = p.Grant(kAlice);
    auto r = p.Revoke(kAlice);
    ASSERT_THAT(g, IsOk());
    ASSERT_THAT(r, IsOk());
    ids.insert(g->id);
    ids.insert(r->id);
  }
  EXPECT_EQ(ids.size(), 40u);
}

TEST(FakeProvider, AsyncGrantIsInProgressForNPollsThenSucceeds) {
  FakeProvider p;
  p.SetAsyncPolls(2);
  auto op = p.Grant(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kInProgress);
  EXPECT_FALSE(p.Has(kAlice));

  for (int i = 0; i < 2; ++i) {
    auto st = p.GrantStatus(op->id);
    ASSERT_THAT(st, IsOk());
    EXPECT_EQ(st->state, OperationState::kInProgress) << "poll " << i;
    EXPECT_FALSE(p.Has(kAlice));
  }
  auto done = p.GrantStatus(op->id);
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->state, OperationState::kSucceeded);
  EXPECT_EQ(done->id, op->id);
  EXPECT_TRUE(p.Has(kAlice));
  // Polling a finished operation keeps reporting its end state.
  auto later = p.GrantStatus(op->id);
  ASSERT_THAT(later, IsOk());
  EXPECT_EQ(later->state, OperationState::kSucceeded);
  EXPECT_EQ(p.Calls(Op::kGrantStatus), 4);
}

TEST(FakeProvider, AsyncRevokeRemovesOnlyWhenItSucceeds) {
  FakeProvider p;
  p.AddStanding(kAlice);
  p.SetAsyncPolls(1);
  auto op = p.Revoke(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kInProgress);
  EXPECT_TRUE(p.Has(kAlice));
  auto st = p.RevokeStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  EXPECT_TRUE(p.Has(kAlice));
  st = p.RevokeStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);
  EXPECT_FALSE(p.Has(kAlice));
}

TEST(FakeProvider, StatusOfAnUnknownOperationIsNotFound) {
  FakeProvider p;
  EXPECT_THAT(p.GrantStatus("nope"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.RevokeStatus("nope"), StatusIs(StatusCode::kNotFound));
  // A grant's id is not a revoke's.
  auto g = p.Grant(kAlice);
  ASSERT_THAT(g, IsOk());
  EXPECT_THAT(p.RevokeStatus(g->id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.GrantStatus(g->id), IsOk());
}

TEST(FakeProvider, FailNextFailsExactlyThatManyCallsAndChangesNothing) {
  FakeProvider p;
  p.FailNext(Op::kGrant, 2, UnavailableError("throttled"));
  EXPECT_THAT(p.Grant(kAlice), StatusIs(StatusCode::kUnavailable, "throttled"));
  EXPECT_FALSE(p.Has(kAlice));
  EXPECT_THAT(p.Grant(kAlice), StatusIs(StatusCode::kUnavailable));
  EXPECT_FALSE(p.Has(kAlice));
  EXPECT_THAT(p.Grant(kAlice), IsOk());
  EXPECT_TRUE(p.Has(kAlice));
  EXPECT_EQ(p.Calls(Op::kGrant), 3);
}

TEST(FakeProvider, FailNextAppliesToEachOperationSeparately) {
  FakeProvider p;
  p.SetAsyncPolls(1);
  p.FailNext(Op::kRevoke, 1, AbortedError("conflict"));
  p.FailNext(Op::kGrantStatus, 1, UnavailableError("5xx"));
  p.FailNext(Op::kRevokeStatus, 1, UnavailableError("timeout"));
  p.FailNext(Op::kList, 1, PermissionDeniedError("denied"));

  auto g = p.Grant(kAlice);
  ASSERT_THAT(g, IsOk());
  EXPECT_THAT(p.GrantStatus(g->id), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(p.Revoke(kAlice), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(p.ListAssignments(kAlice.account_id, kAlice.permission_set_arn),
              StatusIs(StatusCode::kPermissionDenied));
  // A failed poll does not count as one of the polls before success.
  auto st = p.GrantStatus(g->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  st = p.GrantStatus(g->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);

  auto r = p.Revoke(kAlice);
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(p.RevokeStatus(r->id), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(p.RevokeStatus(r->id), IsOk());
  EXPECT_THAT(p.ListAssignments(kAlice.account_id, kAlice.permission_set_arn), IsOk());
  EXPECT_EQ(p.Calls(Op::kList), 2);
  EXPECT_EQ(p.Calls(Op::kRevokeStatus), 2);
}

TEST(FakeProvider, FailGrantsWithReasonEndsGrantsFailedUntilTurnedOff) {
  FakeProvider p;
  p.FailGrantsWithReason("permission set not provisioned");
  auto op = p.Grant(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kFailed);
  EXPECT_EQ(op->failure_reason, "permission set not provisioned");
  EXPECT_FALSE(p.Has(kAlice));
  auto st = p.GrantStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kFailed);

  // Revocations are not affected.
  p.AddStanding(kBob);
  auto r = p.Revoke(kBob);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->state, OperationState::kSucceeded);

  p.FailGrantsWithReason("");
  auto ok = p.Grant(kAlice);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->state, OperationState::kSucceeded);
  EXPECT_TRUE(p.Has(kAlice));
}

TEST(FakeProvider, AsyncGrantFailureIsReportedAfterThePolls) {
  FakeProvider p;
  p.SetAsyncPolls(1);
  p.FailGrantsWithReason("conflict");
  auto op = p.Grant(kAlice);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kInProgress);
  auto st = p.GrantStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  st = p.GrantStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kFailed);
  EXPECT_EQ(st->failure_reason, "conflict");
  EXPECT_FALSE(p.Has(kAlice));
}

TEST(FakeProvider, ListAssignmentsFiltersByAccountAndPermissionSet) {
  FakeProvider p;
  p.AddStanding(kAlice);
  p.AddStanding(kAliceOther);
  ASSERT_THAT(p.Grant(kBob), IsOk());
  auto list = p.ListAssignments(kAlice.account_id, kAlice.permission_set_arn);
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(*list, ElementsAre(kAlice, kBob));
  auto none = p.ListAssignments("333333333333", kAlice.permission_set_arn);
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(*none, IsEmpty());
}

constexpr char kPolicy[] = R"({"Version":"2012-10-17","Statement":[]})";

TEST(FakeProvider, InlinePolicyIsPutReadAndDeleted) {
  FakeProvider p;
  const std::string& ps = kAlice.permission_set_arn;
  EXPECT_THAT(p.GetInlinePolicy(ps), IsOk());
  EXPECT_EQ(*p.GetInlinePolicy(ps), "");
  ASSERT_OK(p.PutInlinePolicy(ps, kPolicy));
  EXPECT_EQ(*p.GetInlinePolicy(ps), kPolicy);
  ASSERT_OK(p.DeleteInlinePolicy(ps));
  EXPECT_EQ(*p.GetInlinePolicy(ps), "");
  EXPECT_OK(p.DeleteInlinePolicy(ps));  // deleting none succeeds
  EXPECT_EQ(p.Calls(Op::kGetInlinePolicy), 4);
  EXPECT_EQ(p.Calls(Op::kPutInlinePolicy), 1);
  EXPECT_EQ(p.Calls(Op::kDeleteInlinePolicy), 2);
}

TEST(FakeProvider, PutRefusesWhatAwsRefusesAndKeepsThePolicy) {
  FakeProvider p;
  const std::string& ps = kAlice.permission_set_arn;
  ASSERT_OK(p.PutInlinePolicy(ps, kPolicy));
  for (const std::string& bad :
       {std::string(""), std::string("[1]"), std::string("{nope"), std::string("{\"a\":\"\x01\"}"),
        "{\"a\":\"" + std::string(kMaxInlinePolicyLength, 'x') + "\"}"}) {
    EXPECT_THAT(p.PutInlinePolicy(ps, bad), StatusIs(StatusCode::kInvalidArgument))
        << bad.substr(0, 40);
  }
  EXPECT_EQ(*p.GetInlinePolicy(ps), kPolicy);
}

TEST(FakeProvider, ProvisioningCopiesThePolicyAsItWasWhenItSucceeds) {
  FakeProvider p;
  const std::string& ps = kAlice.permission_set_arn;
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), std::nullopt);
  ASSERT_OK(p.PutInlinePolicy(ps, kPolicy));
  p.SetAsyncPolls(1);
  auto op = p.ProvisionPermissionSet(ps, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kInProgress);
  ASSERT_OK(p.DeleteInlinePolicy(ps));  // after the call: not part of this provisioning
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), std::nullopt);
  auto st = p.ProvisionStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  st = p.ProvisionStatus(op->id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);
  EXPECT_EQ(st->id, op->id);
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), kPolicy);
  EXPECT_EQ(p.ProvisionedPolicy(ps, "222222222222"), std::nullopt);

  // Provisioning again now copies "no inline policy".
  p.SetAsyncPolls(0);
  auto again = p.ProvisionPermissionSet(ps, "111111111111");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->state, OperationState::kSucceeded);
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), "");
}

TEST(FakeProvider, ProvisionStatusKnowsOnlyProvisioningIds) {
  FakeProvider p;
  auto g = p.Grant(kAlice);
  ASSERT_THAT(g, IsOk());
  EXPECT_THAT(p.ProvisionStatus(g->id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.ProvisionStatus("nope"), StatusIs(StatusCode::kNotFound));
  auto op = p.ProvisionPermissionSet(kAlice.permission_set_arn, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_THAT(p.GrantStatus(op->id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.RevokeStatus(op->id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.ProvisionStatus(op->id), IsOk());
}

TEST(FakeProvider, PolicyCallsFailOnDemandAndChangeNothing) {
  FakeProvider p;
  const std::string& ps = kAlice.permission_set_arn;
  p.FailNext(Op::kPutInlinePolicy, 1, AbortedError("conflict"));
  p.FailNext(Op::kGetInlinePolicy, 1, UnavailableError("throttled"));
  p.FailNext(Op::kDeleteInlinePolicy, 1, UnavailableError("5xx"));
  p.FailNext(Op::kProvision, 1, UnavailableError("timeout"));
  p.FailNext(Op::kProvisionStatus, 1, UnavailableError("throttled"));
  EXPECT_THAT(p.PutInlinePolicy(ps, kPolicy), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(p.GetInlinePolicy(ps), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(*p.GetInlinePolicy(ps), "");
  ASSERT_OK(p.PutInlinePolicy(ps, kPolicy));
  EXPECT_THAT(p.DeleteInlinePolicy(ps), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(*p.GetInlinePolicy(ps), kPolicy);
  EXPECT_THAT(p.ProvisionPermissionSet(ps, "111111111111"), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), std::nullopt);
  p.SetAsyncPolls(1);
  auto op = p.ProvisionPermissionSet(ps, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_THAT(p.ProvisionStatus(op->id), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(p.ProvisionStatus(op->id)->state, OperationState::kInProgress);
  EXPECT_EQ(p.ProvisionStatus(op->id)->state, OperationState::kSucceeded);
  EXPECT_EQ(p.Calls(Op::kProvision), 2);
  EXPECT_EQ(p.Calls(Op::kProvisionStatus), 3);
}

TEST(FakeProvider, FailProvisionsWithReasonEndsProvisioningFailed) {
  FakeProvider p;
  const std::string& ps = kAlice.permission_set_arn;
  ASSERT_OK(p.PutInlinePolicy(ps, kPolicy));
  p.FailProvisionsWithReason("the account's policy quota is full");
  auto op = p.ProvisionPermissionSet(ps, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kFailed);
  EXPECT_EQ(op->failure_reason, "the account's policy quota is full");
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), std::nullopt);
  p.FailProvisionsWithReason("");
  EXPECT_EQ(p.ProvisionPermissionSet(ps, "111111111111")->state, OperationState::kSucceeded);
  EXPECT_EQ(p.ProvisionedPolicy(ps, "111111111111"), kPolicy);
}

TEST(ValidateInlinePolicy, AcceptsAwsShapedDocumentsOnly) {
  EXPECT_OK(ValidateInlinePolicy(kPolicy));
  EXPECT_OK(ValidateInlinePolicy("{\"Sid\":\"caf\xc3\xa9\"}\n"));  // U+00E9, a newline
  EXPECT_OK(
      ValidateInlinePolicy("{\"a\":\"" + std::string(kMaxInlinePolicyLength - 8, 'x') + "\"}"));
  EXPECT_THAT(
      ValidateInlinePolicy("{\"a\":\"" + std::string(kMaxInlinePolicyLength - 7, 'x') + "\"}"),
      StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("32768")));
  // Characters, not bytes: 16,384 two-byte characters fit.
  std::string wide;
  for (std::size_t i = 0; i < kMaxInlinePolicyLength - 8; ++i) wide += "\xc3\xa9";
  EXPECT_OK(ValidateInlinePolicy("{\"a\":\"" + wide + "\"}"));
  EXPECT_THAT(ValidateInlinePolicy(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateInlinePolicy("\"a string\""),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("not a JSON object")));
  EXPECT_THAT(ValidateInlinePolicy("{\"a\":"),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("not valid JSON")));
  EXPECT_THAT(ValidateInlinePolicy("{\"a\":\"\xe2\x82\xac\"}"),  // U+20AC is beyond U+00FF
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("character")));
  EXPECT_THAT(ValidateInlinePolicy(std::string("{\"a\":\"\0\"}", 9)),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(FakeProvider, ConcurrentGrantsAndRevokesAreSafe) {
  FakeProvider p;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p, t] {
      Assignment a{"u-" + std::to_string(t), "111111111111", "arn:ps"};
      for (int i = 0; i < 200; ++i) {
        (void)p.Grant(a);
        (void)p.Revoke(a);
      }
      (void)p.Grant(a);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(p.Assignments().size(), 4u);
  EXPECT_EQ(p.Calls(Op::kGrant), 4 * 201);
  EXPECT_EQ(p.Calls(Op::kRevoke), 4 * 200);
}

}  // namespace
}  // namespace jit::provider
