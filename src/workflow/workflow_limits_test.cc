// The per-user limits on new requests (policy::Limits; issue #15 finding 2, issue #16
// "Limits"): the open-request cap, the rate of submissions, the refusal of duplicates, and what
// they spare approvers: their notifications and their list of pending requests.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
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
#include "workflow/rate_limiter.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using fixtures::Count;
using fixtures::DevConfig;
using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kDave;

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using model::RequestState;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// An engineer who may also break glass (the dev policy's break-glass rule is for sre).
const model::Identity kErin{"erin", {"engineers", "sre"}, "e1110000-0000-4000-8000-000000000005"};

// The dev policy with `limits` set.
policy::Config LimitedConfig(int open_cap, int per_minute, bool refuse_duplicates) {
  policy::Config c = DevConfig();
  c.limits.open_requests_per_user = open_cap;
  c.limits.requests_per_minute_per_user = per_minute;
  c.limits.refuse_duplicates = refuse_duplicates;
  return c;
}

// The dev policy's workflow, notifying one channel that hears every audience (a webhook, as in
// the finding).
class LimitsTest : public fixtures::InlineWorkflowTest {
 protected:
  explicit LimitsTest(policy::Config config = DevConfig())
      : InlineWorkflowTest(std::move(config)) {}

  void SetLimits(int open_cap, int per_minute, bool refuse_duplicates) {
    config_.Set(LimitedConfig(open_cap, per_minute, refuse_duplicates));
  }

  Result<model::Request> Ask(const model::Identity& who, const std::string& account,
                             const std::string& ps, Duration d = minutes(30),
                             Duration* retry_after = nullptr) {
    return workflow_.Submit(who, {account, ps, d, "work", ""}, retry_after);
  }
  Result<model::Request> AskAt(const model::Identity& who, const std::string& account,
                               const std::string& ps, Time start, Duration d) {
    return workflow_.Submit(who, {account, ps, d, "work", "", start});
  }
  // The requests the store holds for `who`.
  int Filed(const model::Identity& who) {
    store::RequestFilter f;
    f.requester = who.username;
    f.limit = 500;
    return static_cast<int>(store_.ListRequests(f)->items.size());
  }
};

// ---- Duplicates ---------------------------------------------------------------------------

// Issue #16: alice could open six identical pending requests for prod Admin in a row.
TEST_F(LimitsTest, Issue16SecondIdenticalPendingRequestIsRefusedNamingTheFirst) {
  auto first = Ask(kAlice, "prod", "Admin");
  ASSERT_OK(first);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(Ask(kAlice, "prod", "Admin"),
                StatusIs(StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr("you already have request " + first->id),
                               HasSubstr("prod / Admin (pending)"), HasSubstr("cancel it"))));
  }
  EXPECT_EQ(Filed(kAlice), 1);  // nothing half-made
  // Another target, and another user's same target, are not duplicates.
  EXPECT_OK(Ask(kAlice, "prod", "ReadOnly"));
  EXPECT_OK(Ask(kDave, "prod", "Admin"));
  // Once the first is closed, the same request may be made again.
  ASSERT_OK(workflow_.Cancel(kAlice, first->id));
  EXPECT_OK(Ask(kAlice, "prod", "Admin"));
}

TEST_F(LimitsTest, DuplicateOfAnActiveGrantSaysExtendItAndEndsWithIt) {
  auto r = Ask(kAlice, "sandbox", "ReadOnly", minutes(30));
  ASSERT_OK(r);
  EXPECT_THAT(Ask(kAlice, "sandbox", "ReadOnly"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("(approved): revoke it")));
  Settle();
  ASSERT_EQ(store_.GetRequest(r->id)->state, RequestState::kActive);
  EXPECT_THAT(Ask(kAlice, "sandbox", "ReadOnly"),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(r->id), HasSubstr("(active): extend it instead"))));
  clock_.Advance(minutes(30));
  ASSERT_EQ(store_.GetRequest(r->id)->state, RequestState::kEnded);
  EXPECT_OK(Ask(kAlice, "sandbox", "ReadOnly"));
}

TEST_F(LimitsTest, ScheduledRequestsForOneTargetAreDuplicatesOnlyWhenTheirTimesOverlap) {
  Time nine = clock_.Now() + hours(9);
  ASSERT_OK(AskAt(kAlice, "sandbox", "ReadOnly", nine, hours(1)));
  // Tomorrow's window, and one right after, do not overlap it; one at 09:30 does.
  EXPECT_OK(AskAt(kAlice, "sandbox", "ReadOnly", nine + hours(24), hours(1)));
  EXPECT_OK(AskAt(kAlice, "sandbox", "ReadOnly", nine + hours(1), hours(1)));
  EXPECT_THAT(AskAt(kAlice, "sandbox", "ReadOnly", nine + minutes(30), hours(1)),
              StatusIs(StatusCode::kFailedPrecondition));
  // Access now, for less than nine hours, fits before the first.
  EXPECT_OK(Ask(kAlice, "sandbox", "ReadOnly", hours(8)));
  EXPECT_EQ(Filed(kAlice), 4);
}

TEST_F(LimitsTest, DuplicatesAreAllowedWhenTheConfigSaysSo) {
  SetLimits(20, 10, /*refuse_duplicates=*/false);
  for (int i = 0; i < 6; ++i) EXPECT_OK(Ask(kAlice, "prod", "Admin"));
  EXPECT_EQ(Filed(kAlice), 6);
}

// ---- The open-request cap -----------------------------------------------------------------

TEST_F(LimitsTest, OpenRequestCapRefusesTheNextUntilOneCloses) {
  SetLimits(3, 0, /*refuse_duplicates=*/false);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = Ask(kAlice, "prod", "Admin");
    ASSERT_OK(r);
    ids.push_back(r->id);
    clock_.Advance(minutes(1));
  }
  Duration retry_after{0};
  EXPECT_THAT(Ask(kAlice, "prod", "Admin", minutes(30), &retry_after),
              StatusIs(StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("you have 3 open requests"), HasSubstr("cancel one"))));
  // The first times out 15 minutes after it was filed, three minutes ago.
  EXPECT_EQ(retry_after, minutes(12));
  EXPECT_EQ(Filed(kAlice), 3);
  EXPECT_OK(Ask(kDave, "prod", "Admin"));  // the cap is per user

  ASSERT_OK(workflow_.Cancel(kAlice, ids[1]));
  EXPECT_OK(Ask(kAlice, "prod", "Admin"));
  EXPECT_THAT(Ask(kAlice, "prod", "Admin"), StatusIs(StatusCode::kResourceExhausted));
  // Pending, approved and active all count; ended ones do not.
  clock_.Advance(minutes(12));
  EXPECT_EQ(store_.GetRequest(ids[0])->state, RequestState::kTimedOut);
  EXPECT_OK(Ask(kAlice, "sandbox", "ReadOnly"));  // approved, then active
  Settle();
  EXPECT_THAT(Ask(kAlice, "prod", "Admin"), StatusIs(StatusCode::kResourceExhausted));
}

// Issue 16 "Limits": a rule's own cap (max_active_per_user) counts the requester's open
// requests under that rule only, beside the global cap.
TEST_F(LimitsTest, RuleCapCountsOpenRequestsUnderThatRuleOnly) {
  policy::Config c = LimitedConfig(0, 0, /*refuse_duplicates=*/false);
  for (policy::Rule& rule : c.rules) {
    if (rule.name == "prod-admin") rule.max_active_per_user = 2;
  }
  config_.Set(c);
  ASSERT_OK(Ask(kAlice, "prod", "Admin"));
  clock_.Advance(minutes(1));
  ASSERT_OK(Ask(kAlice, "prod", "Admin"));
  Duration retry_after{0};
  EXPECT_THAT(Ask(kAlice, "prod", "Admin", minutes(30), &retry_after),
              StatusIs(StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("2 open requests under rule 'prod-admin'"),
                             HasSubstr("max_active_per_user"))));
  EXPECT_EQ(retry_after, minutes(14));  // the first times out 15 minutes after it was filed
  // Other rules, and other people, are not held by it.
  EXPECT_OK(Ask(kAlice, "sandbox", "ReadOnly"));
  EXPECT_OK(Ask(kAlice, "prod", "ReadOnly"));
  EXPECT_OK(Ask(kDave, "prod", "Admin"));
}

TEST_F(LimitsTest, CapRetryAfterIsTheFirstEndOfAnActiveGrant) {
  SetLimits(1, 0, true);
  ASSERT_OK(Ask(kAlice, "sandbox", "ReadOnly", minutes(45)));
  Settle();
  clock_.Advance(minutes(5));
  Duration retry_after{0};
  EXPECT_THAT(Ask(kAlice, "prod", "ReadOnly", minutes(30), &retry_after),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(retry_after, minutes(40));
}

TEST_F(LimitsTest, RacingSubmissionsCannotPassTheCapTogether) {
  SetLimits(5, 0, false);
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (Ask(kAlice, "prod", "Admin").has_value()) ++created;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(Filed(kAlice), 5);
}

// ---- The rate ------------------------------------------------------------------------------

TEST_F(LimitsTest, RateLimitRefusesTheEleventhInAMinuteWithTheWaitLeft) {
  SetLimits(0, 10, false);
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(Ask(kAlice, "prod", "Admin"));
    clock_.Advance(seconds(1));
  }
  Duration retry_after{0};
  EXPECT_THAT(
      Ask(kAlice, "prod", "Admin", minutes(30), &retry_after),
      StatusIs(StatusCode::kResourceExhausted,
               AllOf(HasSubstr("10 times in the last minute"), HasSubstr("try again in 50s"))));
  EXPECT_EQ(retry_after, seconds(50));
  EXPECT_OK(Ask(kDave, "prod", "Admin"));  // per user
  clock_.Advance(seconds(49));
  EXPECT_THAT(Ask(kAlice, "prod", "Admin", minutes(30), &retry_after),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(retry_after, seconds(1));
  clock_.Advance(seconds(1));
  EXPECT_OK(Ask(kAlice, "prod", "Admin"));  // the first left the window
  EXPECT_THAT(Ask(kAlice, "prod", "Admin"), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(Filed(kAlice), 11);
}

TEST_F(LimitsTest, RefusedSubmissionsDoNotCountAgainstTheRate) {
  SetLimits(0, 2, true);
  ASSERT_OK(Ask(kAlice, "prod", "Admin"));
  // A duplicate and a policy refusal (no reason) are not filed, so they take no slot.
  EXPECT_THAT(Ask(kAlice, "prod", "Admin"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(workflow_.Submit(kAlice, {"prod", "Admin", minutes(30), "", ""}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(Ask(kAlice, "prod", "ReadOnly"));
  EXPECT_THAT(Ask(kAlice, "sandbox", "ReadOnly"), StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(LimitsTest, AReloadedLimitAppliesToTheNextSubmission) {
  SetLimits(0, 0, false);
  for (int i = 0; i < 30; ++i) ASSERT_OK(Ask(kAlice, "prod", "Admin"));
  SetLimits(20, 0, false);
  EXPECT_THAT(Ask(kAlice, "prod", "Admin"), StatusIs(StatusCode::kResourceExhausted));
}

// ---- Break-glass ---------------------------------------------------------------------------

TEST_F(LimitsTest, BreakGlassIsNeverRefusedByALimitButCountsAsOpen) {
  SetLimits(1, 1, true);
  // An emergency while a request waits for approval, twice for one target, over every limit.
  ASSERT_OK(Ask(kErin, "prod", "Admin"));
  for (int i = 0; i < 3; ++i) {
    auto bg = Ask(kErin, "prod", "BreakGlass");
    ASSERT_OK(bg);
    EXPECT_TRUE(bg->break_glass);
  }
  Settle();
  // Erin's four open requests hold the cap for her other requests.
  clock_.Advance(minutes(2));
  EXPECT_THAT(Ask(kErin, "sandbox", "ReadOnly"),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("you have 4 open requests")));
}

// ---- What the limits spare approvers ------------------------------------------------------

// Issue #15 finding 2: a client filed 10,000 pending prod Admin requests in 132 s and the
// approvers got 10,004 messages, then 10,001 more when they timed out. Here a flood of 1,000
// in 100 s, with duplicates allowed so that only the cap and the rate stand in its way.
TEST_F(LimitsTest, Issue15FloodOfSubmissionsSendsAtMostTheCapsWorthOfMessages) {
  SetLimits(20, 10, /*refuse_duplicates=*/false);
  int created = 0;
  int exhausted = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = Ask(kAlice, "prod", "Admin");
    if (r.has_value()) {
      ++created;
    } else if (r.error().code() == StatusCode::kResourceExhausted) {
      ++exhausted;
    }
    clock_.Advance(milliseconds(100));
  }
  EXPECT_EQ(created, 20);  // ten in the first minute, ten in the next, then the cap
  EXPECT_EQ(exhausted, 980);
  EXPECT_EQ(Count(*webhook_, notify::Event::kRequestCreated), 20);
  clock_.Advance(minutes(16));  // all time out
  EXPECT_EQ(Count(*webhook_, notify::Event::kRequestTimedOut), 20);
  EXPECT_THAT(webhook_->sent(), SizeIs(40));
}

TEST_F(LimitsTest, Issue15FloodOfIdenticalRequestsUnderTheDefaultsSendsOneMessage) {
  const policy::Limits defaults;
  ASSERT_TRUE(defaults.refuse_duplicates);
  for (int i = 0; i < 1000; ++i) {
    (void)Ask(kAlice, "prod", "Admin");
    clock_.Advance(milliseconds(132));
  }
  EXPECT_EQ(Filed(kAlice), 1);
  EXPECT_EQ(Count(*webhook_, notify::Event::kRequestCreated), 1);
}

// The Approvals page lists the first 200 pending requests, newest first. Nine users flooding at
// once, each held to the cap, cannot push an earlier real request off it; without the cap they
// do.
class ApprovalsListTest : public LimitsTest {
 protected:
  // Whether dave's request, filed before the flood, is among the first 200 pending that bob
  // sees, when each of nine flooders tries 100 requests under an open-request cap of `cap`.
  bool RealRequestSurvivesFlood(int cap) {
    SetLimits(cap, 0, /*refuse_duplicates=*/false);
    auto real = Ask(kDave, "prod", "Admin");
    EXPECT_OK(real);
    for (int u = 0; u < 9; ++u) {
      std::string n = std::to_string(u);
      model::Identity flooder{
          "flooder" + n, {"engineers"}, "f1000000-0000-4000-8000-00000000000" + n};
      for (int i = 0; i < 100; ++i) {
        (void)Ask(flooder, "prod", "Admin");
        clock_.Advance(milliseconds(1));
      }
    }
    ListInput in;
    in.state = RequestState::kPending;
    in.limit = 200;
    auto page = workflow_.List(kBob, in);
    EXPECT_OK(page);
    if (!page.has_value()) return false;
    return std::any_of(page->items.begin(), page->items.end(),
                       [&](const model::Request& r) { return r.id == real->id; });
  }
};

TEST_F(ApprovalsListTest, Issue15FloodByCappedUsersCannotHideAnotherUsersPendingRequest) {
  EXPECT_TRUE(RealRequestSurvivesFlood(20));
  EXPECT_EQ(Filed(model::Identity{"flooder0", {}, ""}), 20);
}

TEST_F(ApprovalsListTest, WithoutTheCapTheFloodHidesIt) {
  EXPECT_FALSE(RealRequestSurvivesFlood(0));
}

// ---- The sliding window ------------------------------------------------------------------

TEST(SlidingWindowLimiter, AllowsLimitPerWindowPerKeyAndSaysWhenTheNextFits) {
  SlidingWindowLimiter limiter(minutes(1));
  MonoTime t0{};
  EXPECT_TRUE(limiter.TryAcquire("a", 2, t0).allowed);
  EXPECT_TRUE(limiter.TryAcquire("a", 2, t0 + seconds(10)).allowed);
  Admission no = limiter.TryAcquire("a", 2, t0 + seconds(20));
  EXPECT_FALSE(no.allowed);
  EXPECT_EQ(no.retry_after, seconds(40));
  EXPECT_TRUE(limiter.TryAcquire("b", 2, t0 + seconds(20)).allowed);
  EXPECT_TRUE(limiter.TryAcquire("a", 2, t0 + seconds(60)).allowed);  // t0 left the window
  EXPECT_FALSE(limiter.TryAcquire("a", 2, t0 + seconds(60)).allowed);
  // No limit: always allowed, nothing kept.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.TryAcquire("c", 0, t0).allowed);
  EXPECT_TRUE(limiter.TryAcquire("c", 1, t0).allowed);
}

TEST(SlidingWindowLimiter, ReleaseGivesASlotBack) {
  SlidingWindowLimiter limiter(minutes(1));
  MonoTime t0{};
  EXPECT_TRUE(limiter.TryAcquire("a", 1, t0).allowed);
  EXPECT_FALSE(limiter.TryAcquire("a", 1, t0).allowed);
  limiter.Release("a", t0);
  EXPECT_TRUE(limiter.TryAcquire("a", 1, t0).allowed);
  limiter.Release("nobody", t0);  // nothing to give back: no harm
}

TEST(SlidingWindowLimiter, ALoweredLimitWaitsForEnoughToLeave) {
  SlidingWindowLimiter limiter(minutes(1));
  MonoTime t0{};
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(limiter.TryAcquire("a", 5, t0 + seconds(i)).allowed);
  }
  // Limit 2 now: four of the five must leave first; the fourth leaves at 63 s.
  Admission no = limiter.TryAcquire("a", 2, t0 + seconds(10));
  EXPECT_FALSE(no.allowed);
  EXPECT_EQ(no.retry_after, seconds(53));
}

TEST(SlidingWindowLimiter, IdleKeysAreDroppedFromTimeToTime) {
  SlidingWindowLimiter limiter(minutes(1));
  MonoTime t0{};
  for (int i = 0; i < 500; ++i) limiter.TryAcquire("user" + std::to_string(i), 1, t0);
  EXPECT_EQ(limiter.KeysForTesting(), 500u);
  MonoTime later = t0 + minutes(2);
  for (int i = 0; i < 1024; ++i) limiter.TryAcquire("active", 100000, later);
  EXPECT_EQ(limiter.KeysForTesting(), 1u);
}

}  // namespace
}  // namespace jit::workflow
