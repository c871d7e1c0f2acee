#include "workflow/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ids.h"
#include "core/testing.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using ::jit::testing::StatusIs;
using model::RequestState;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

// 2026-03-01T00:00:00Z, the start of every hand-made window.
const Time kT0 = Time(std::chrono::seconds(1772323200));

// One request of the hand-made set, created `at` after kT0.
model::Request Req(std::string requester, std::string account, std::string set, Duration at,
                   RequestState state, int approvals_required = 0) {
  model::Request r;
  r.created_at = kT0 + at;
  r.id = NewId("req_", r.created_at);
  r.requester = std::move(requester);
  r.account_name = std::move(account);
  r.account_id = r.account_name == "prod" ? "222222222222" : "111111111111";
  r.permission_set_name = std::move(set);
  r.permission_set_arn =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/" + r.permission_set_name;
  r.state = state;
  r.approvals_required = approvals_required;
  return r;
}

// A grant activated `to_active` after its approval at `decided`, lasting an hour.
void Granted(model::Request& r, Duration decided, Duration to_active) {
  r.decided_at = r.created_at + decided;
  r.activated_at = *r.decided_at + to_active;
  r.expires_at = *r.activated_at + hours(1);
}

// The hand-made set: approvals, an auto-approval, a scheduled start, denials, a time-out, a
// cancellation, break-glass with open and closed reviews, a late and an overdue revocation,
// and one request from before the window.
std::vector<model::Request> HandMade() {
  std::vector<model::Request> out;
  // r1: auto-approved, active 2 s later, removed 1 s after its expiry.
  model::Request r1 = Req("alice", "sandbox", "ReadOnly", seconds(0), RequestState::kEnded);
  Granted(r1, seconds(0), seconds(2));
  r1.end_reason = "expired";
  r1.ended_at = *r1.expires_at + seconds(1);
  out.push_back(r1);
  // r2: approved after 60 s, active 3 s later, removed 120 s late (over the objective).
  model::Request r2 = Req("alice", "prod", "Admin", seconds(10), RequestState::kEnded, 1);
  Granted(r2, seconds(60), seconds(3));
  r2.end_reason = "expired";
  r2.ended_at = *r2.expires_at + seconds(120);
  out.push_back(r2);
  // r3: approved after 300 s, active 5 s later, still active.
  model::Request r3 = Req("bob", "prod", "Admin", seconds(20), RequestState::kActive, 1);
  Granted(r3, seconds(300), seconds(5));
  out.push_back(r3);
  // r4..r6: denied, timed out, pending.
  model::Request r4 = Req("dave", "prod", "Admin", seconds(30), RequestState::kDenied, 1);
  r4.decided_at = r4.created_at + seconds(40);
  r4.ended_at = r4.decided_at;
  out.push_back(r4);
  model::Request r5 = Req("dave", "prod", "Admin", seconds(40), RequestState::kTimedOut, 1);
  r5.decided_at = r5.created_at + hours(1);
  r5.ended_at = r5.decided_at;
  out.push_back(r5);
  out.push_back(Req("dave", "prod", "Admin", hours(240) - minutes(1), RequestState::kPending, 1));
  // r7: break-glass, active 1 s after submission, revoked early; its review is open.
  model::Request r7 = Req("alice", "prod", "BreakGlass", seconds(50), RequestState::kEnded);
  r7.break_glass = true;
  r7.review_state = "open";
  Granted(r7, seconds(0), seconds(1));
  r7.end_reason = "revoked by carol: done";
  r7.ended_at = *r7.activated_at + minutes(5);
  out.push_back(r7);
  // r8: break-glass, review closed, expired 120 s before the report and still being revoked.
  model::Request r8 =
      Req("erin", "sandbox", "BreakGlass", hours(240) - hours(2), RequestState::kRevoking);
  r8.break_glass = true;
  r8.review_state = "closed";
  r8.decided_at = r8.created_at;
  r8.activated_at = r8.created_at + seconds(4);
  r8.expires_at = kT0 + hours(240) - seconds(120);
  r8.end_reason = "expired";
  out.push_back(r8);
  // r9: before the window.
  model::Request r9 = Req("mallory", "prod", "Admin", -seconds(1), RequestState::kEnded, 1);
  Granted(r9, seconds(1), seconds(1));
  r9.end_reason = "expired";
  r9.ended_at = *r9.expires_at + hours(5);
  out.push_back(r9);
  // r10: auto-approved with a start an hour later; active 2 s after the start.
  model::Request r10 = Req("bob", "sandbox", "ReadOnly", seconds(60), RequestState::kActive);
  r10.decided_at = r10.created_at;
  r10.start_at = r10.created_at + hours(1);
  r10.activated_at = *r10.start_at + seconds(2);
  r10.expires_at = *r10.activated_at + hours(1);
  out.push_back(r10);
  // r11: cancelled while pending: not decided.
  model::Request r11 = Req("erin", "prod", "Admin", seconds(70), RequestState::kCancelled, 1);
  r11.decided_at = r11.created_at + seconds(5);
  r11.ended_at = r11.decided_at;
  out.push_back(r11);
  return out;
}

void ExpectHandMadeFigures(const ReportSummary& s) {
  EXPECT_EQ(s.total, 10);
  EXPECT_EQ(s.open, 4);
  EXPECT_EQ(s.by_state.at(RequestState::kPending), 1);
  EXPECT_EQ(s.by_state.at(RequestState::kApproved), 0);
  EXPECT_EQ(s.by_state.at(RequestState::kActive), 2);
  EXPECT_EQ(s.by_state.at(RequestState::kRevoking), 1);
  EXPECT_EQ(s.by_state.at(RequestState::kEnded), 3);
  EXPECT_EQ(s.by_state.at(RequestState::kDenied), 1);
  EXPECT_EQ(s.by_state.at(RequestState::kCancelled), 1);
  EXPECT_EQ(s.by_state.at(RequestState::kTimedOut), 1);
  EXPECT_EQ(s.by_state.at(RequestState::kFailed), 0);

  EXPECT_EQ(s.time_to_approve.count, 2);
  EXPECT_DOUBLE_EQ(s.time_to_approve.p50, 60);
  EXPECT_DOUBLE_EQ(s.time_to_approve.p95, 300);
  // 1, 2, 2, 3, 4, 5 seconds.
  EXPECT_EQ(s.approval_to_active.count, 6);
  EXPECT_DOUBLE_EQ(s.approval_to_active.p50, 2);
  EXPECT_DOUBLE_EQ(s.approval_to_active.p95, 5);
  EXPECT_EQ(s.revoke_lag.count, 2);
  EXPECT_DOUBLE_EQ(s.revoke_lag.p50, 1);
  EXPECT_DOUBLE_EQ(s.revoke_lag.p99, 120);
  EXPECT_DOUBLE_EQ(s.revoke_lag.max, 120);
  EXPECT_EQ(s.ended_late, 1);
  EXPECT_EQ(s.overdue_now, 1);

  EXPECT_EQ(s.break_glass, 2);
  EXPECT_EQ(s.open_reviews, 1);
  EXPECT_EQ(s.decided, 4);
  EXPECT_DOUBLE_EQ(s.denial_rate, 0.25);
  EXPECT_DOUBLE_EQ(s.timeout_rate, 0.25);

  ASSERT_EQ(s.top_requesters.size(), 4u);
  EXPECT_EQ(s.top_requesters[0].name, "alice");
  EXPECT_EQ(s.top_requesters[0].requests, 3);
  EXPECT_EQ(s.top_requesters[1].name, "dave");
  EXPECT_EQ(s.top_requesters[1].requests, 3);
  EXPECT_EQ(s.top_requesters[2].name, "bob");
  EXPECT_EQ(s.top_requesters[2].requests, 2);
  EXPECT_EQ(s.top_requesters[3].name, "erin");
  ASSERT_EQ(s.top_accounts.size(), 2u);
  EXPECT_EQ(s.top_accounts[0].id, "222222222222");
  EXPECT_EQ(s.top_accounts[0].name, "prod");
  EXPECT_EQ(s.top_accounts[0].requests, 7);
  EXPECT_EQ(s.top_accounts[1].requests, 3);
  ASSERT_EQ(s.top_permission_sets.size(), 3u);
  EXPECT_EQ(s.top_permission_sets[0].name, "Admin");
  EXPECT_EQ(s.top_permission_sets[0].requests, 6);
  EXPECT_EQ(s.top_permission_sets[1].name, "BreakGlass");
  EXPECT_EQ(s.top_permission_sets[2].name, "ReadOnly");
  EXPECT_EQ(s.top_permission_sets[2].requests, 2);
}

TEST(SpreadOf, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  Spread s = SpreadOf(v);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p95, 95);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.max, 100);

  std::vector<double> one = {7.5};
  s = SpreadOf(one);
  EXPECT_EQ(s.count, 1);
  EXPECT_DOUBLE_EQ(s.p50, 7.5);
  EXPECT_DOUBLE_EQ(s.p99, 7.5);

  std::vector<double> none;
  s = SpreadOf(none);
  EXPECT_EQ(s.count, 0);
  EXPECT_DOUBLE_EQ(s.max, 0);
}

TEST(SummaryBuilder, HandMadeSetGivesExactFigures) {
  SummaryBuilder b(kT0, kT0 + hours(240));
  for (const model::Request& r : HandMade()) b.Add(r);
  ExpectHandMadeFigures(b.Finish());
}

TEST(SummaryBuilder, EmptyWindowHasZeroRatesAndEmptyLists) {
  ReportSummary s = SummaryBuilder(kT0, kT0 + hours(1)).Finish();
  EXPECT_EQ(s.total, 0);
  EXPECT_EQ(s.decided, 0);
  EXPECT_DOUBLE_EQ(s.denial_rate, 0);
  EXPECT_EQ(s.by_state.size(), 9u);
  EXPECT_TRUE(s.top_requesters.empty());
}

TEST(SummaryBuilder, TopListsKeepTen) {
  SummaryBuilder b(kT0, kT0 + hours(1));
  for (int i = 0; i < 15; ++i) {
    for (int n = 0; n <= i; ++n) {
      b.Add(Req("user" + std::to_string(100 + i), "sandbox", "ReadOnly", seconds(i),
                RequestState::kPending, 1));
    }
  }
  ReportSummary s = b.Finish();
  ASSERT_EQ(s.top_requesters.size(), 10u);
  EXPECT_EQ(s.top_requesters[0].name, "user114");
  EXPECT_EQ(s.top_requesters[0].requests, 15);
  EXPECT_EQ(s.top_requesters[9].name, "user105");
}

TEST(BuildSummary, ReadsTheWindowFromTheStoreAcrossPages) {
  FakeClock clock(kT0 + hours(240));
  store::MemoryStore store(clock);
  std::vector<model::Request> all = HandMade();
  // 1,200 more old requests, so that the read must page and stop at the window's start.
  for (int i = 0; i < 1200; ++i) {
    all.push_back(Req("old", "prod", "Admin", -hours(1) - seconds(i), RequestState::kEnded, 1));
  }
  // And 600 pending ones in the window, so that the window itself spans pages.
  for (int i = 0; i < 600; ++i) {
    all.push_back(
        Req("zed", "sandbox", "ReadOnly", hours(100) + seconds(i), RequestState::kPending, 1));
  }
  ASSERT_OK(store.Transact([&](store::Tx& tx) -> Status {
    for (const model::Request& r : all) JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
    return OkStatus();
  }));
  Result<ReportSummary> s = BuildSummary(store, kT0, clock.Now());
  ASSERT_OK(s);
  EXPECT_EQ(s->total, 610);
  EXPECT_EQ(s->by_state.at(RequestState::kPending), 601);
  EXPECT_EQ(s->top_requesters[0].name, "zed");
  EXPECT_EQ(s->top_requesters[0].requests, 600);
  EXPECT_EQ(s->time_to_approve.count, 2);
  EXPECT_EQ(s->revoke_lag.count, 2);  // the old ones' lags are not read
}

class ReportAccessTest : public ::testing::Test {
 protected:
  ReportAccessTest()
      : clock_(kT0 + hours(240)),
        config_(WithAuditor(fixtures::DevConfig())),
        store_(clock_),
        workflow_(store_, config_, provider_, clock_) {}

  static policy::Config WithAuditor(policy::Config c) {
    c.auditors.users.push_back("erin");
    return c;
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  provider::FakeProvider provider_;
  store::MemoryStore store_;
  Workflow workflow_;
};

TEST_F(ReportAccessTest, AdminsAndAuditorsOnly) {
  ASSERT_OK(store_.Transact([&](store::Tx& tx) -> Status {
    for (const model::Request& r : HandMade()) JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
    return OkStatus();
  }));
  Result<ReportSummary> admin = workflow_.Report(fixtures::kCarol, hours(240));
  ASSERT_OK(admin);
  ExpectHandMadeFigures(*admin);
  const model::Identity erin{"erin", {"engineers"}, ""};
  EXPECT_OK(workflow_.Report(erin, hours(24)));
  EXPECT_THAT(workflow_.Report(fixtures::kAlice, hours(24)),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("admins and auditors")));
  EXPECT_THAT(workflow_.Report(fixtures::kBob, hours(24)), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(ReportAccessTest, WindowMustBePositiveAndAtMostAYear) {
  EXPECT_THAT(workflow_.Report(fixtures::kCarol, Duration(0)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("report window")));
  EXPECT_THAT(workflow_.Report(fixtures::kCarol, kMaxReportWindow + seconds(1)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(workflow_.Report(fixtures::kCarol, kMaxReportWindow));
  // Checked first: even for a caller who may not read reports.
  EXPECT_THAT(workflow_.Report(fixtures::kAlice, Duration(0)),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace jit::workflow
