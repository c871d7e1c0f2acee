#include "workflow/workflow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/mutex.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/test_fixtures.h"

namespace jit::workflow {
namespace {

using fixtures::DevConfig;
using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kCarol;
using fixtures::kDave;
using fixtures::kReadOnly;

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using model::RequestState;
using provider::FakeProvider;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The workflow over the in-memory store and the fake provider, with the scheduler running jobs
// inline whenever the fake clock is advanced.
class WorkflowTest : public ::testing::Test {
 protected:
  explicit WorkflowTest(policy::Config config = DevConfig(), WorkflowOptions options = {})
      : config_(std::move(config)),
        store_(store::NewMemoryStore(clock_)),
        workflow_(*store_, config_, provider_, clock_, options),
        scheduler_(*store_, workflow_, clock_, SchedulerOptions()) {}

  static scheduler::SchedulerOptions SchedulerOptions() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }

  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }

  // Runs whatever is due now.
  void Settle() { clock_.Advance(Duration(0)); }

  model::Request Submit(const model::Identity& who, const std::string& account,
                        const std::string& ps, Duration d, const std::string& reason = "work") {
    auto r = workflow_.Submit(who, {account, ps, d, reason, ""});
    EXPECT_OK(r);
    return r.value_or(model::Request{});
  }

  RequestState StateOf(const std::string& id) {
    auto r = store_->GetRequest(id);
    JIT_CHECK(r.has_value());
    return r->state;
  }

  std::vector<std::string> Actions(const std::string& id) {
    std::vector<std::string> out;
    auto v = workflow_.Get(kCarol, id);
    if (!v.has_value()) return out;
    for (const auto& e : v->history) out.push_back(e.action);
    return out;
  }

  provider::Assignment AssignmentFor(const model::Identity& who, const std::string& account,
                                     const std::string& arn) {
    return {who.principal_id, account, arn};
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  FakeProvider provider_;
  std::unique_ptr<store::Store> store_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

TEST_F(WorkflowTest, AutoApprovedGrantIsActiveThenEndsAtExpiry) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  EXPECT_EQ(r.state, RequestState::kApproved);
  Settle();
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_TRUE(provider_.Has(a));
  auto active = store_->GetRequest(r.id);
  ASSERT_OK(active);
  ASSERT_TRUE(active->expires_at.has_value());
  EXPECT_EQ(*active->expires_at, *active->activated_at + minutes(30));

  clock_.Advance(minutes(30) - seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_TRUE(provider_.Has(a));
  clock_.Advance(seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
  auto ended = store_->GetRequest(r.id);
  EXPECT_EQ(*ended->ended_at, *ended->expires_at);  // on time, to the millisecond
  EXPECT_EQ(ended->end_reason, "expired");
  EXPECT_THAT(Actions(r.id),
              ::testing::ElementsAre("request.created", "request.approved", "grant.succeeded",
                                     "request.activated", "request.expired", "revoke.succeeded",
                                     "request.ended"));
}

TEST_F(WorkflowTest, ApprovalFlowNeedsAnotherPerson) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "incident 42");
  EXPECT_EQ(r.state, RequestState::kPending);
  EXPECT_THAT(workflow_.Approve(kAlice, r.id, ""), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(workflow_.Approve(kDave, r.id, ""), StatusIs(StatusCode::kNotFound));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);

  auto approved = workflow_.Approve(kBob, r.id, "ok");
  ASSERT_OK(approved);
  EXPECT_EQ(approved->state, RequestState::kApproved);
  ASSERT_EQ(approved->approvals.size(), 1u);
  EXPECT_EQ(approved->approvals[0].approver, "bob");
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  // A second decision on a decided request is a conflict.
  EXPECT_THAT(workflow_.Approve(kCarol, r.id, ""), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(workflow_.Deny(kCarol, r.id, "no"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, AdminCannotApproveOwnRequest) {
  const model::Identity carol_engineer{
      "carol", {"engineers", "approvers", "admins"}, kCarol.principal_id};
  auto r = Submit(carol_engineer, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(workflow_.Approve(carol_engineer, r.id, "me"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("your own request")));
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
}

TEST_F(WorkflowTest, BreakGlassIsSelfActivatedWithAHighSeverityEvent) {
  auto r = Submit(kCarol, "prod", "BreakGlass", minutes(10), "outage");
  // Break-glass is self-activated: no approval, a high-severity event.
  EXPECT_EQ(r.state, RequestState::kApproved);
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  auto v = workflow_.Get(kCarol, r.id);
  ASSERT_OK(v);
  bool high = false;
  for (const auto& e : v->history)
    high = high || (e.action == "breakglass.activated" && e.severity == "high");
  EXPECT_TRUE(high);
}

TEST_F(WorkflowTest, PendingRequestTimesOut) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  clock_.Advance(minutes(15) - seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
  clock_.Advance(seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kTimedOut);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, ""), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, DenyAndCancel) {
  auto r1 = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(workflow_.Deny(kBob, r1.id, ""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(workflow_.Deny(kAlice, r1.id, "no"), StatusIs(StatusCode::kPermissionDenied));
  auto denied = workflow_.Deny(kBob, r1.id, "not now");
  ASSERT_OK(denied);
  EXPECT_EQ(denied->state, RequestState::kDenied);
  EXPECT_EQ(denied->decided_by, "bob");

  auto r2 = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(workflow_.Cancel(kBob, r2.id), StatusIs(StatusCode::kPermissionDenied));
  ASSERT_OK(workflow_.Cancel(kAlice, r2.id));
  EXPECT_EQ(StateOf(r2.id), RequestState::kCancelled);
  EXPECT_THAT(workflow_.Cancel(kAlice, r2.id), StatusIs(StatusCode::kFailedPrecondition));
  // Nothing left to time out.
  clock_.Advance(hours(1));
  EXPECT_EQ(StateOf(r1.id), RequestState::kDenied);
  EXPECT_EQ(StateOf(r2.id), RequestState::kCancelled);
}

// Comments and reasons of decisions are bounded like a request's reason (1,000 characters, not
// bytes), with the same wording, and a refused one changes nothing.
TEST_F(WorkflowTest, DecisionTextIsBoundedLikeTheReason) {
  const std::string too_long(1001, 'x');
  const std::string longest(1000, 'x');
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(
      workflow_.Approve(kBob, r.id, too_long),
      StatusIs(StatusCode::kInvalidArgument, "the comment is too long (at most 1000 characters)"));
  EXPECT_THAT(
      workflow_.Deny(kBob, r.id, too_long),
      StatusIs(StatusCode::kInvalidArgument, "the reason is too long (at most 1000 characters)"));
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
  // 1,000 characters of two bytes each are within the bound.
  std::string accents;
  for (int i = 0; i < 1000; ++i) accents += "\xc3\xa9";
  ASSERT_OK(workflow_.Approve(kBob, r.id, accents));
  Settle();
  EXPECT_THAT(workflow_.Revoke(kAlice, r.id, too_long),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("reason is too long")));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  ASSERT_OK(workflow_.Revoke(kAlice, r.id, longest));
  EXPECT_THAT(workflow_.Review(kCarol, r.id, too_long),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("comment is too long")));
}

// An admin the rule does not name as an approver may deny (refusing grants nothing) but not
// approve: docs/UI.md "Approvals" says the same.
TEST_F(WorkflowTest, AnAdminWhoIsNotAnApproverMayDenyButNotApprove) {
  const model::Identity erin{"erin", {"admins"}, "e0000000-0000-4000-8000-000000000005"};
  auto first = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(workflow_.Approve(erin, first.id, ""), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(StateOf(first.id), RequestState::kPending);
  auto denied = workflow_.Deny(erin, first.id, "not during the freeze");
  ASSERT_OK(denied);
  EXPECT_EQ(denied->state, RequestState::kDenied);
  EXPECT_EQ(denied->decided_by, "erin");
}

TEST_F(WorkflowTest, EarlyRevokeByRequesterOrAdminOnly) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", hours(1));
  Settle();
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  ASSERT_TRUE(provider_.Has(a));
  EXPECT_THAT(workflow_.Revoke(kBob, r.id, ""), StatusIs(StatusCode::kNotFound));  // not his
  auto revoked = workflow_.Revoke(kCarol, r.id, "suspicious");
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->state, RequestState::kRevoking);
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
  EXPECT_THAT(store_->GetRequest(r.id)->end_reason, HasSubstr("revoked by carol: suspicious"));
  EXPECT_THAT(workflow_.Revoke(kAlice, r.id, ""), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, StandingAssignmentIsNeverDeleted) {
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  provider_.AddStanding(a);
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);
  clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_TRUE(provider_.Has(a));
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kRevoke), 0);
}

TEST_F(WorkflowTest, OverlappingGrantsShareOneAssignment) {
  // A second request for an open grant's target is refused by default (policy::Limits); with
  // duplicates allowed (or through break-glass) two grants of one assignment overlap.
  config_.Set(fixtures::WithoutLimits(DevConfig()));
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  auto r1 = Submit(kAlice, "sandbox", "ReadOnly", minutes(10));
  Settle();
  auto r2 = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();
  EXPECT_EQ(StateOf(r2.id), RequestState::kActive);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 1);
  clock_.Advance(minutes(10));
  EXPECT_EQ(StateOf(r1.id), RequestState::kEnded);
  EXPECT_TRUE(provider_.Has(a)) << "still held by the second grant";
  clock_.Advance(minutes(20));
  EXPECT_EQ(StateOf(r2.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kRevoke), 1);
}

TEST_F(WorkflowTest, RevocationIsRetriedUntilItSucceeds) {
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  provider_.FailNext(FakeProvider::Op::kRevoke, 20, UnavailableError("ThrottlingException"));
  clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kRevoking);
  EXPECT_TRUE(provider_.Has(a));
  clock_.Advance(seconds(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kRevoking);
  EXPECT_EQ(scheduler_.Stats().overdue_revocations, 1);
  for (int i = 0; i < 40 && StateOf(r.id) != RequestState::kEnded; ++i) clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kRevoke), 21);
  EXPECT_EQ(scheduler_.Stats().overdue_revocations, 0);
}

TEST_F(WorkflowTest, GrantFailingForGoodFailsTheRequest) {
  provider_.FailGrantsWithReason("the account's IAM role quota is full");
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  auto got = store_->GetRequest(r.id);
  EXPECT_EQ(got->state, RequestState::kFailed);
  EXPECT_THAT(got->failure_reason, HasSubstr("quota is full"));
  EXPECT_TRUE(provider_.Assignments().empty());
}

TEST_F(WorkflowTest, GrantGivesUpAfterRetriesAndLeavesNothingBehind) {
  provider_.FailNext(FakeProvider::Op::kGrant, 1000, UnavailableError("InternalServerException"));
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  for (int i = 0; i < 20; ++i) clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kFailed);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), WorkflowOptions().max_grant_attempts);
  EXPECT_TRUE(provider_.Assignments().empty());
  auto jobs = store_->ListJobs();
  ASSERT_OK(jobs);
  EXPECT_TRUE(jobs->empty());
}

TEST_F(WorkflowTest, AsynchronousCreateIsPolledUntilItSucceeds) {
  provider_.SetAsyncPolls(3);
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kApproved);
  clock_.Advance(seconds(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  clock_.Advance(minutes(5) + seconds(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_TRUE(provider_.Assignments().empty());
}

TEST_F(WorkflowTest, RevokeWhileCreateIsInFlightDeletesTheAssignment) {
  provider_.SetAsyncPolls(3);
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();  // create started, not finished
  ASSERT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 1);
  ASSERT_OK(workflow_.Revoke(kAlice, r.id, "changed my mind"));
  clock_.Advance(seconds(30));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_TRUE(provider_.Assignments().empty());
}

TEST_F(WorkflowTest, RevokeBeforeGrantStartsCreatesNothing) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  ASSERT_OK(workflow_.Revoke(kAlice, r.id, ""));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);
}

TEST_F(WorkflowTest, ReplayedJobsDoNoHarm) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  model::Job grant;
  grant.id = "grant:" + r.id;
  grant.kind = model::JobKind::kGrant;
  grant.request_id = r.id;
  Settle();
  // The grant job runs again after it is done (as after a crash before its deletion).
  EXPECT_EQ(workflow_.Run(grant).kind, scheduler::JobOutcome::Kind::kDone);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 1);
  clock_.Advance(minutes(5));
  model::Job revoke = grant;
  revoke.id = "revoke:" + r.id;
  revoke.kind = model::JobKind::kRevoke;
  EXPECT_EQ(workflow_.Run(revoke).kind, scheduler::JobOutcome::Kind::kDone);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kRevoke), 1);
  auto actions = Actions(r.id);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "request.ended"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "request.activated"), 1);
}

TEST_F(WorkflowTest, OutsidePolicyIsRefused) {
  EXPECT_THAT(workflow_.Submit(kAlice, {"sandbox", "ReadOnly", hours(9), "x", ""}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(workflow_.Submit(kAlice, {"nope", "ReadOnly", hours(1), "x", ""}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(workflow_.Submit(kAlice, {"prod", "Admin", hours(1), "", ""}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(workflow_.Submit(kBob, {"prod", "Admin", hours(1), "x", ""}),
              StatusIs(StatusCode::kPermissionDenied));
  model::Identity no_principal{"bot", {"engineers"}, ""};
  EXPECT_THAT(workflow_.Submit(no_principal, {"sandbox", "ReadOnly", hours(1), "x", ""}),
              StatusIs(StatusCode::kInvalidArgument));
  auto all = store_->ListRequests({});
  EXPECT_TRUE(all->items.empty());
}

TEST_F(WorkflowTest, VisibilityFollowsRoles) {
  auto mine = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  auto other = Submit(kDave, "prod", "Admin", minutes(5), "y");
  auto carols = Submit(kCarol, "sandbox", "BreakGlass", minutes(5), "z");
  EXPECT_OK(workflow_.Get(kAlice, mine.id));
  EXPECT_THAT(workflow_.Get(kAlice, other.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Get(kAlice, carols.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Get(kAlice, "req_bogus"), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(workflow_.Get(kBob, other.id));  // he may approve it
  EXPECT_THAT(workflow_.Get(kBob, mine.id), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(workflow_.Get(kCarol, mine.id));  // admin

  auto alice_list = workflow_.List(kAlice, {});
  ASSERT_OK(alice_list);
  ASSERT_EQ(alice_list->items.size(), 1u);
  EXPECT_EQ(alice_list->items[0].id, mine.id);
  auto carol_list = workflow_.List(kCarol, {});
  EXPECT_EQ(carol_list->items.size(), 3u);
  ListInput only_mine;
  only_mine.mine = true;
  EXPECT_EQ(workflow_.List(kCarol, only_mine)->items.size(), 1u);

  EXPECT_THAT(workflow_.Audit(kAlice, 0, 100), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_OK(workflow_.Audit(kCarol, 0, 100));
}

// ---- Extension ----

TEST_F(WorkflowTest, ExtendedGrantEndsAtTheNewTimeNotBefore) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  ASSERT_TRUE(provider_.Has(a));
  Time activated = *store_->GetRequest(r.id)->activated_at;
  clock_.Advance(minutes(10));

  auto extended = workflow_.Extend(kAlice, r.id, minutes(20));
  ASSERT_OK(extended);
  EXPECT_EQ(extended->state, RequestState::kActive);
  EXPECT_EQ(extended->duration_seconds, 50 * 60);
  EXPECT_EQ(*extended->expires_at, activated + minutes(50));
  auto jobs = store_->ListJobs();
  ASSERT_OK(jobs);
  bool moved = false;
  for (const auto& j : *jobs) {
    if (j.id == "revoke:" + r.id) moved = j.due_at == activated + minutes(50);
  }
  EXPECT_TRUE(moved) << "the revoke job still fires at the old expiry";

  // Past the old expiry: still there.
  clock_.Advance(minutes(20) + seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_TRUE(provider_.Has(a));
  clock_.Advance(minutes(20) - seconds(2));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  clock_.Advance(seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
  auto ended = store_->GetRequest(r.id);
  EXPECT_EQ(*ended->ended_at, activated + minutes(50));

  auto v = workflow_.Get(kAlice, r.id);
  ASSERT_OK(v);
  bool audited = false;
  for (const auto& e : v->history) {
    if (e.action != "request.extended") continue;
    audited = e.actor == "alice" && e.details.find("\"extra\":\"20m\"") != std::string::npos &&
              e.details.find("\"by\":\"alice\"") != std::string::npos &&
              e.details.find("expires_at") != std::string::npos;
  }
  EXPECT_TRUE(audited);
}

TEST_F(WorkflowTest, ExtensionPastTheRulesMaximumIsInvalidArgument) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", hours(7));
  Settle();
  auto before = store_->GetRequest(r.id);
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, hours(1) + seconds(1)),
              StatusIs(StatusCode::kInvalidArgument));
  auto after = store_->GetRequest(r.id);
  EXPECT_EQ(after->expires_at, before->expires_at);
  EXPECT_EQ(after->duration_seconds, 7 * 3600);
  // Up to the maximum total is fine.
  EXPECT_OK(workflow_.Extend(kAlice, r.id, hours(1)));
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, seconds(1)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, Duration(0)), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(WorkflowTest, ExtendNeedsAnActiveRequest) {
  auto pending = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  EXPECT_THAT(workflow_.Extend(kAlice, pending.id, minutes(5)),
              StatusIs(StatusCode::kFailedPrecondition));
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  clock_.Advance(minutes(5));
  ASSERT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, minutes(5)),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, OnlyTheRequesterExtends) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();
  EXPECT_THAT(workflow_.Extend(kDave, r.id, minutes(5)), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Extend(kBob, r.id, minutes(5)), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Extend(kCarol, r.id, minutes(5)),  // an admin sees it, may not extend
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(store_->GetRequest(r.id)->duration_seconds, 30 * 60);
}

TEST_F(WorkflowTest, ExtensionOfARuleWithApproversWaitsForAnApprover) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  ASSERT_EQ(StateOf(r.id), RequestState::kActive);
  Time expires = *store_->GetRequest(r.id)->expires_at;

  auto asked = workflow_.Extend(kAlice, r.id, minutes(10));
  ASSERT_OK(asked);
  ASSERT_TRUE(asked->extension.has_value());
  EXPECT_EQ(asked->extension->seconds, 600);
  EXPECT_EQ(asked->expires_at, expires);  // nothing changes before an approval
  EXPECT_EQ(asked->extension->deadline, clock_.Now() + minutes(15));  // the rule's timeout
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, minutes(5)),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already has an extension")));
  // The requester never approves, not even an extension; others may not see it.
  EXPECT_THAT(workflow_.Approve(kAlice, r.id, ""), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(workflow_.Approve(kDave, r.id, ""), StatusIs(StatusCode::kNotFound));

  clock_.Advance(minutes(1));
  auto approved = workflow_.Approve(kBob, r.id, "fine");
  ASSERT_OK(approved);
  EXPECT_EQ(approved->state, RequestState::kActive);
  EXPECT_FALSE(approved->extension.has_value());
  EXPECT_EQ(approved->expires_at, expires + minutes(10));
  EXPECT_EQ(approved->duration_seconds, 40 * 60);
  EXPECT_EQ(approved->approvals.size(), 1u);  // the request's own approvals are untouched

  // It ends at the new time, not the old one.
  clock_.Advance(std::chrono::duration_cast<Duration>(expires - clock_.Now()) + seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  clock_.Advance(minutes(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_THAT(Actions(r.id), ::testing::IsSupersetOf({"extension.requested", "extension.approval",
                                                      "request.extended"}));
}

TEST_F(WorkflowTest, ExtensionTheReloadedConfigNoLongerAllowsCannotBeApproved) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  Time expires = *store_->GetRequest(r.id)->expires_at;
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(10)));

  // The config is reloaded with a shorter maximum before an approver says yes.
  policy::Config original = *config_.Get();
  policy::Config shorter = original;
  for (policy::Rule& rule : shorter.rules) {
    if (rule.name == store_->GetRequest(r.id)->rule) rule.max_duration = minutes(35);
  }
  config_.Set(shorter);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "fine"),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("can no longer be approved"), HasSubstr("35m"))));
  auto after = store_->GetRequest(r.id);
  EXPECT_EQ(after->expires_at, expires);
  EXPECT_EQ(after->duration_seconds, 30 * 60);
  ASSERT_TRUE(after->extension.has_value());  // it lapses at its deadline
  EXPECT_TRUE(after->extension->approvals.empty());
  EXPECT_THAT(Actions(r.id), ::testing::Not(::testing::Contains("extension.approval")));

  // A rule removed by the reload: the same.
  policy::Config without = original;
  std::erase_if(without.rules, [&](const policy::Rule& rule) { return rule.name == after->rule; });
  config_.Set(without);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "fine"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no longer in the config")));

  // Back to the original config, the approval goes through.
  config_.Set(original);
  auto approved = workflow_.Approve(kBob, r.id, "fine");
  ASSERT_OK(approved);
  EXPECT_EQ(approved->expires_at, expires + minutes(10));
}

TEST_F(WorkflowTest, DeniedExtensionLeavesTheGrantAsItWas) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  Time expires = *store_->GetRequest(r.id)->expires_at;
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(10)));
  EXPECT_THAT(workflow_.Deny(kAlice, r.id, "no"), StatusIs(StatusCode::kPermissionDenied));
  auto denied = workflow_.Deny(kBob, r.id, "not needed");
  ASSERT_OK(denied);
  EXPECT_EQ(denied->state, RequestState::kActive);
  EXPECT_FALSE(denied->extension.has_value());
  EXPECT_EQ(denied->expires_at, expires);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, ""), StatusIs(StatusCode::kFailedPrecondition));
  // Asking again is allowed once the first is settled.
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(5)));
  EXPECT_THAT(Actions(r.id), ::testing::Contains("extension.denied"));
}

TEST_F(WorkflowTest, UnapprovedExtensionLapsesAtItsDeadline) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  Time expires = *store_->GetRequest(r.id)->expires_at;
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(10)));
  clock_.Advance(minutes(15));
  auto now = store_->GetRequest(r.id);
  ASSERT_OK(now);
  EXPECT_FALSE(now->extension.has_value());
  EXPECT_EQ(now->expires_at, expires);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "late"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Actions(r.id), ::testing::Contains("extension.timed_out"));
  clock_.Advance(minutes(15));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
}

TEST_F(WorkflowTest, ExtensionAskedNearTheEndLapsesWithTheGrant) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  clock_.Advance(minutes(25));
  auto asked = workflow_.Extend(kAlice, r.id, minutes(10));
  ASSERT_OK(asked);
  EXPECT_EQ(asked->extension->deadline, *asked->expires_at);  // never past the expiry
  clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(store_->GetRequest(r.id)->extension.has_value());
  EXPECT_THAT(workflow_.Approve(kBob, r.id, ""), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, RevokeDropsAPendingExtension) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(10)));
  ASSERT_OK(workflow_.Revoke(kAlice, r.id, "done early"));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(store_->GetRequest(r.id)->extension.has_value());
  EXPECT_THAT(Actions(r.id), ::testing::Contains("extension.cancelled"));
}

// --- scheduled starts ---------------------------------------------------------------------------

TEST_F(WorkflowTest, ScheduledGrantStartsAtItsTimeAndLastsItsDuration) {
  Time start = clock_.Now() + hours(2);
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "later", "", start});
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kApproved);
  EXPECT_EQ(r->start_at, start);
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  clock_.Advance(hours(2) - seconds(1));
  EXPECT_EQ(StateOf(r->id), RequestState::kApproved);
  EXPECT_FALSE(provider_.Has(a));
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);
  clock_.Advance(seconds(1));
  EXPECT_EQ(StateOf(r->id), RequestState::kActive);
  EXPECT_TRUE(provider_.Has(a));
  auto active = store_->GetRequest(r->id);
  EXPECT_EQ(*active->activated_at, start);
  EXPECT_EQ(*active->expires_at, start + minutes(30));
  clock_.Advance(minutes(30));
  EXPECT_EQ(StateOf(r->id), RequestState::kEnded);
}

TEST_F(WorkflowTest, ScheduledRequestIsApprovedBeforeItsStartAndGrantedAtIt) {
  Time start = clock_.Now() + minutes(10);
  auto r = workflow_.Submit(kAlice, {"prod", "Admin", minutes(30), "change", "", start});
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kPending);
  ASSERT_OK(workflow_.Approve(kBob, r->id, "ok"));
  Settle();
  EXPECT_EQ(StateOf(r->id), RequestState::kApproved);
  clock_.Advance(minutes(10));
  EXPECT_EQ(StateOf(r->id), RequestState::kActive);
}

TEST_F(WorkflowTest, RevokingAScheduledGrantBeforeItsStartEndsItWithoutAGrant) {
  Time start = clock_.Now() + hours(1);
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "later", "", start});
  ASSERT_OK(r);
  ASSERT_OK(workflow_.Revoke(kAlice, r->id, "not needed"));
  Settle();
  EXPECT_EQ(StateOf(r->id), RequestState::kEnded);
  clock_.Advance(hours(2));
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);
}

TEST_F(WorkflowTest, ScheduledStartOutsideTheWindowIsRefused) {
  auto r = workflow_.Submit(
      kAlice, {"sandbox", "ReadOnly", minutes(30), "later", "", clock_.Now() + hours(24 * 8)});
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("7d ahead")));
  EXPECT_THAT(workflow_.Submit(kCarol, {"prod", "BreakGlass", minutes(30), "outage", "",
                                        clock_.Now() + minutes(5)}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot be scheduled")));
}

TEST_F(WorkflowTest, BreakGlassExtendsAtOnce) {
  auto r = Submit(kCarol, "prod", "BreakGlass", minutes(10), "outage");
  Settle();
  auto extended = workflow_.Extend(kCarol, r.id, minutes(10));
  ASSERT_OK(extended);
  EXPECT_EQ(extended->duration_seconds, 20 * 60);
}

// ---- Break-glass review ----

const model::Identity kEve{"eve", {"auditors"}, ""};

TEST_F(WorkflowTest, BreakGlassOpensAReviewThatAnApproverCloses) {
  auto r = Submit(kCarol, "prod", "BreakGlass", minutes(10), "outage");
  EXPECT_EQ(r.review_state, "open");
  EXPECT_EQ(store_->GetRequest(r.id)->review_state, "open");
  EXPECT_THAT(workflow_.Review(kCarol, r.id, "fine"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("your own")));
  // Approvers of any rule see break-glass requests and review them; others do not see them.
  EXPECT_OK(workflow_.Get(kBob, r.id));
  EXPECT_THAT(workflow_.Get(kDave, r.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Review(kDave, r.id, "x"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(workflow_.Review(kEve, r.id, "x"),  // auditors read, do not review
              StatusIs(StatusCode::kPermissionDenied));
  auto bob_list = workflow_.List(kBob, {});
  ASSERT_OK(bob_list);
  ASSERT_EQ(bob_list->items.size(), 1u);

  clock_.Advance(minutes(1));
  auto reviewed = workflow_.Review(kBob, r.id, "rotated the keys afterwards");
  ASSERT_OK(reviewed);
  EXPECT_EQ(reviewed->review_state, "closed");
  EXPECT_EQ(reviewed->reviewed_by, "bob");
  EXPECT_EQ(reviewed->review_comment, "rotated the keys afterwards");
  EXPECT_EQ(reviewed->reviewed_at, clock_.Now());
  EXPECT_EQ(store_->GetRequest(r.id)->review_state, "closed");
  EXPECT_THAT(Actions(r.id), ::testing::Contains("breakglass.reviewed"));
  EXPECT_THAT(workflow_.Review(kBob, r.id, "again"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(WorkflowTest, ListFiltersByReviewState) {
  auto open = Submit(kCarol, "prod", "BreakGlass", minutes(10), "outage");
  auto closed = Submit(kCarol, "sandbox", "BreakGlass", minutes(10), "outage 2");
  Submit(kAlice, "sandbox", "ReadOnly", minutes(10));
  ASSERT_OK(workflow_.Review(kBob, closed.id, "fine"));
  ListInput in;
  in.review = "open";
  for (const auto& who : {kBob, kCarol, kEve}) {
    auto page = workflow_.List(who, in);
    ASSERT_OK(page);
    ASSERT_EQ(page->items.size(), 1u) << who.username;
    EXPECT_EQ(page->items[0].id, open.id);
  }
  in.review = "closed";
  auto page = workflow_.List(kBob, in);
  ASSERT_OK(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, closed.id);
  EXPECT_TRUE(workflow_.List(kAlice, in)->items.empty());
  in.review = "maybe";
  EXPECT_THAT(workflow_.List(kBob, in), StatusIs(StatusCode::kInvalidArgument));
}

// What waits for a person's decision: pending requests and waiting extensions they may approve,
// not their own and not yet approved by them; nothing for a requester or an outsider.
TEST_F(WorkflowTest, AwaitingListsWhatWaitsForTheCallersDecision) {
  auto extended = Submit(kAlice, "prod", "Admin", minutes(30), "x");
  ASSERT_OK(workflow_.Approve(kBob, extended.id, "ok"));
  Settle();
  ASSERT_EQ(StateOf(extended.id), RequestState::kActive);
  ASSERT_OK(workflow_.Extend(kAlice, extended.id, minutes(10)));
  auto decided = Submit(kDave, "prod", "Admin", minutes(30), "y");
  ASSERT_OK(workflow_.Approve(kCarol, decided.id, "ok"));
  const model::Identity frank{"frank", {"engineers"}, "f4a4c000-0000-4000-8000-000000000006"};
  clock_.Advance(minutes(1));  // ids sort by their time: the newest is listed first
  auto pending = Submit(frank, "prod", "Admin", minutes(20), "z");
  Submit(kAlice, "sandbox", "ReadOnly", minutes(10));              // approved automatically
  Submit(kCarol, "sandbox", "BreakGlass", minutes(10), "outage");  // active, reviewed later
  Settle();

  ListInput in;
  in.awaiting = true;
  auto ids = [&](const model::Identity& who) {
    std::vector<std::string> out;
    auto page = workflow_.List(who, in);
    EXPECT_OK(page);
    if (page.ok()) {
      EXPECT_EQ(page->next_cursor, "");
      for (const auto& r : page->items) out.push_back(r.id);
    }
    return out;
  };
  EXPECT_THAT(ids(kBob), ::testing::ElementsAre(pending.id, extended.id));
  EXPECT_THAT(ids(kCarol), ::testing::ElementsAre(pending.id, extended.id));
  EXPECT_THAT(ids(kAlice), ::testing::IsEmpty());
  EXPECT_THAT(ids(kDave), ::testing::IsEmpty());
  EXPECT_THAT(ids(frank), ::testing::IsEmpty());
  EXPECT_THAT(ids(kEve), ::testing::IsEmpty());
  in.limit = 1;
  EXPECT_THAT(ids(kBob), ::testing::ElementsAre(pending.id));
  in.limit = 50;

  // An approval takes the extension off bob's list, and off carol's (it is decided).
  ASSERT_OK(workflow_.Approve(kBob, extended.id, "fine"));
  EXPECT_THAT(ids(kBob), ::testing::ElementsAre(pending.id));
  EXPECT_THAT(ids(kCarol), ::testing::ElementsAre(pending.id));

  in.state = RequestState::kPending;
  EXPECT_THAT(workflow_.List(kBob, in), StatusIs(StatusCode::kInvalidArgument));
  in.state.reset();
  in.cursor = pending.id;
  EXPECT_THAT(workflow_.List(kBob, in), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(WorkflowTest, OnlyBreakGlassRequestsHaveAReview) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(10));
  EXPECT_EQ(r.review_state, "");
  EXPECT_THAT(workflow_.Review(kCarol, r.id, "x"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(workflow_.Review(kAlice, r.id, "x"), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(WorkflowTest, NoAuditEventMeansNoTransition) {
  auto* memory = dynamic_cast<store::MemoryStore*>(store_.get());
  ASSERT_NE(memory, nullptr);
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "incident 42");
  memory->FailAuditAppendsWith(UnavailableError("audit disk full"));
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "ok"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(5), "x", ""}),
              StatusIs(StatusCode::kUnavailable));
  Settle();
  auto still = store_->GetRequest(r.id);
  ASSERT_OK(still);
  EXPECT_EQ(still->state, RequestState::kPending);
  EXPECT_TRUE(still->approvals.empty());
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kGrant), 0);
  memory->FailAuditAppendsWith(OkStatus());
  ASSERT_OK(workflow_.Approve(kBob, r.id, "ok"));
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
}

TEST_F(WorkflowTest, StoreOutageFailsCleanlyAndRevocationFinishesAfter) {
  auto* mem = static_cast<store::MemoryStore*>(store_.get());
  auto a = AssignmentFor(kAlice, "111111111111", kReadOnly);
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5));
  Settle();
  mem->FailTransactionsWith(UnavailableError("disk full"));
  EXPECT_THAT(workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(5), "x", ""}),
              StatusIs(StatusCode::kUnavailable));
  clock_.Advance(minutes(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);  // could not be recorded yet
  mem->FailTransactionsWith(OkStatus());
  for (int i = 0; i < 20 && StateOf(r.id) != RequestState::kEnded; ++i) clock_.Advance(minutes(5));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(a));
}

policy::Config TwoApproverConfig() {
  auto c = policy::ParseConfig(R"(
accounts:
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
admins: {groups: [admins]}
rules:
  - name: two-person
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    approval: {approvers: {groups: [approvers]}, required: 2, timeout: 30m}
)",
                               "two.yaml");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

class TwoApproverTest : public WorkflowTest {
 protected:
  TwoApproverTest() : WorkflowTest(TwoApproverConfig()) {}
};

TEST_F(TwoApproverTest, NeedsTwoDistinctApprovers) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30));
  ASSERT_OK(workflow_.Approve(kBob, r.id, "one"));
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "again"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(StateOf(r.id), RequestState::kPending);
  auto done = workflow_.Approve(kCarol, r.id, "two");
  ASSERT_OK(done);
  EXPECT_EQ(done->state, RequestState::kApproved);
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
}

TEST_F(TwoApproverTest, ExtensionNeedsTwoDistinctApproversToo) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30));
  ASSERT_OK(workflow_.Approve(kBob, r.id, "one"));
  ASSERT_OK(workflow_.Approve(kCarol, r.id, "two"));
  Settle();
  Time expires = *store_->GetRequest(r.id)->expires_at;
  ASSERT_OK(workflow_.Extend(kAlice, r.id, minutes(15)));
  auto one = workflow_.Approve(kBob, r.id, "one");
  ASSERT_OK(one);
  EXPECT_EQ(one->expires_at, expires);
  ASSERT_TRUE(one->extension.has_value());
  EXPECT_EQ(one->extension->approvals.size(), 1u);
  EXPECT_THAT(workflow_.Approve(kBob, r.id, "again"), StatusIs(StatusCode::kFailedPrecondition));
  auto two = workflow_.Approve(kCarol, r.id, "two");
  ASSERT_OK(two);
  EXPECT_EQ(two->expires_at, expires + minutes(15));
  // The rule's 1h maximum in all: 45m granted, another 20m is too much.
  EXPECT_THAT(workflow_.Extend(kAlice, r.id, minutes(20)), StatusIs(StatusCode::kInvalidArgument));
}

// Answers usernames from a map; counts the questions.
class MapDirectory final : public provider::Directory {
 public:
  Result<std::string> UserId(const std::string& username) override {
    ++calls;
    if (!fail.ok()) return fail;
    auto it = ids.find(username);
    if (it == ids.end()) return NotFoundError("no user " + username);
    return it->second;
  }
  std::map<std::string, std::string> ids;
  Status fail;
  int calls = 0;
};

MapDirectory* TestDirectory() {
  static MapDirectory* d = [] {
    auto* dir = new MapDirectory;
    dir->ids["alice"] = "a11ce000-0000-4000-8000-0000000000aa";
    return dir;
  }();
  return d;
}

class DirectoryTest : public WorkflowTest {
 protected:
  DirectoryTest() : WorkflowTest(DevConfig(), WithDirectory()) {}
  static WorkflowOptions WithDirectory() {
    WorkflowOptions o;
    o.directory = TestDirectory();
    return o;
  }
  void SetUp() override {
    WorkflowTest::SetUp();
    TestDirectory()->fail = OkStatus();
    TestDirectory()->calls = 0;
  }
};

TEST_F(DirectoryTest, ResolvesTheCallersPrincipalWhenTheIdentityHasNone) {
  model::Identity alice{"alice", {"engineers"}, ""};
  auto r = workflow_.Submit(alice, {"sandbox", "ReadOnly", minutes(30), "work", ""});
  ASSERT_OK(r);
  EXPECT_EQ(r->principal_id, "a11ce000-0000-4000-8000-0000000000aa");
  Settle();
  EXPECT_TRUE(provider_.Has({"a11ce000-0000-4000-8000-0000000000aa", "111111111111", kReadOnly}));
  // An identity that carries its principal is not looked up (prod: sandbox is open already).
  ASSERT_OK(workflow_.Submit(kAlice, {"prod", "ReadOnly", minutes(30), "work", ""}));
  EXPECT_EQ(TestDirectory()->calls, 1);
}

TEST_F(DirectoryTest, UnknownUserIsInvalidArgument) {
  model::Identity dave{"dave", {"engineers"}, ""};
  EXPECT_THAT(workflow_.Submit(dave, {"sandbox", "ReadOnly", minutes(30), "work", ""}),
              StatusIs(StatusCode::kInvalidArgument, "user dave is not known to Identity Center"));
}

TEST_F(DirectoryTest, DirectoryTroubleIsUnavailable) {
  TestDirectory()->fail = PermissionDeniedError("AccessDeniedException: not allowed");
  model::Identity alice{"alice", {"engineers"}, ""};
  EXPECT_THAT(workflow_.Submit(alice, {"sandbox", "ReadOnly", minutes(30), "work", ""}),
              StatusIs(StatusCode::kUnavailable, HasSubstr("cannot look up user alice")));
}

// Session activity (issue 17): the end of a grant that was active puts its activity summary
// job, and the workflow hands that job to the activity runner.
class RecordingRunner final : public scheduler::JobRunner {
 public:
  scheduler::JobOutcome Run(const model::Job& job) override {
    MutexLock lock(&mu_);
    jobs_.push_back(job);
    return scheduler::JobOutcome::Done();
  }
  std::vector<model::Job> jobs() {
    MutexLock lock(&mu_);
    return jobs_;
  }

 private:
  Mutex mu_;
  std::vector<model::Job> jobs_ GUARDED_BY(mu_);
};

struct RunnerHolder {
  RecordingRunner activity;
};

class ActivityWorkflowTest : protected RunnerHolder, public WorkflowTest {
 protected:
  ActivityWorkflowTest() : WorkflowTest(DevConfig(), WithActivity(&activity)) {}
  static WorkflowOptions WithActivity(scheduler::JobRunner* runner) {
    WorkflowOptions o;
    o.activity = runner;
    return o;
  }
};

TEST_F(ActivityWorkflowTest, TheEndOfAGrantPutsItsActivitySummaryJob) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();
  ASSERT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_TRUE(activity.jobs().empty());
  clock_.Advance(minutes(30));
  ASSERT_EQ(StateOf(r.id), RequestState::kEnded);
  std::vector<model::Job> ran = activity.jobs();
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0].kind, model::JobKind::kActivitySummary);
  EXPECT_EQ(ran[0].request_id, r.id);
  EXPECT_EQ(ran[0].due_at, *store_->GetRequest(r.id)->ended_at);
}

TEST_F(WorkflowTest, WithoutSessionActivityNoSummaryJobIsPut) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30));
  Settle();
  clock_.Advance(minutes(30));
  ASSERT_EQ(StateOf(r.id), RequestState::kEnded);
  // Held in a variable: a range-for over ListJobs().value() would read a destroyed Result.
  std::vector<model::Job> jobs = store_->ListJobs().value();
  for (const model::Job& j : jobs) EXPECT_NE(j.kind, model::JobKind::kActivitySummary) << j.id;
}

}  // namespace
}  // namespace jit::workflow
