#include "cutoff/plan.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time_format.h"

namespace jit::cutoff {
namespace {

Time When(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

Change Apply(std::string user, std::string account, Time at) {
  return {Change::Kind::kApply, std::move(user), std::move(account), at};
}

RoundInput Input(std::vector<Change> changes, Time now) {
  RoundInput in;
  in.changes = std::move(changes);
  in.now = now;
  in.session_duration = std::chrono::hours(1);
  in.max_size = provider::kMaxProvisionedPolicySize;
  return in;
}

std::string UserId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08d-0000-4000-8000-%012d", i, i);
  return buf;
}

TEST(CutoffPlanTest, CutOffsOfOneSecondAndAccountShareAStatementAndEachAccountIsProvisioned) {
  Time t = When("2026-12-05T00:15:00.200Z");
  RoundInput in = Input({Apply("alice", "222222222222", t), Apply("bob", "222222222222", t),
                         Apply("alice", "111111111111", t)},
                        t + Duration(500));
  Result<RoundPlan> plan = PlanRound(in);
  ASSERT_TRUE(plan.has_value()) << plan.error();
  EXPECT_TRUE(plan->changed);
  ASSERT_EQ(plan->next.cutoffs.size(), 2u);
  EXPECT_EQ(plan->provision, (std::set<std::string>{"111111111111", "222222222222"}));
  for (const CutoffStatement& s : plan->next.cutoffs) {
    EXPECT_EQ(s.before, When("2026-12-05T00:15:01Z"));
    EXPECT_TRUE(s.Covers("alice", t));
  }
  for (ChangeOutcome o : plan->outcomes) EXPECT_EQ(o, ChangeOutcome::kDone);
}

TEST(CutoffPlanTest, AnAppliedCutOffIsNotWrittenTwiceButIsProvisionedAgain) {
  Time t = When("2026-12-05T00:15:00Z");
  RoundInput in = Input({Apply("alice", "222222222222", t)}, t);
  RoundPlan first = PlanRound(in).value();
  in.current = first.next;
  RoundPlan again = PlanRound(in).value();
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.provision, std::set<std::string>{"222222222222"});
}

TEST(CutoffPlanTest, StatementsGoOnceTheirSessionsHaveExpiredAndLiftsWaitUntilThen) {
  Time t = When("2026-12-05T00:15:00Z");
  RoundInput in = Input({Apply("alice", "222222222222", t)}, t);
  in.current = PlanRound(in).value().next;

  in.changes = {{Change::Kind::kLift, "alice", "222222222222", t}};
  in.now = t + std::chrono::minutes(30);
  RoundPlan early = PlanRound(in).value();
  EXPECT_FALSE(early.changed);
  EXPECT_EQ(early.outcomes[0], ChangeOutcome::kNotYet);
  EXPECT_EQ(early.until[0], t + std::chrono::hours(1));

  in.now = t + std::chrono::hours(1);
  RoundPlan late = PlanRound(in).value();
  EXPECT_TRUE(late.changed);
  EXPECT_TRUE(late.next.cutoffs.empty());
  EXPECT_EQ(late.outcomes[0], ChangeOutcome::kDone);
  EXPECT_EQ(late.provision, std::set<std::string>{"222222222222"});
}

TEST(CutoffPlanTest, OverTheBudgetAnAccountIsCompactedSparingWhoStillHoldsTheSet) {
  Time t = When("2026-12-05T00:15:00Z");
  std::vector<Change> changes;
  for (int i = 0; i < 1000; ++i) {
    changes.push_back(Apply(UserId(i), "222222222222", t + Duration(i * 50)));
  }
  RoundInput in = Input(changes, t + std::chrono::minutes(1));
  int asked = 0;
  in.holders = [&](const std::string& account) -> Result<std::set<std::string>> {
    ++asked;
    EXPECT_EQ(account, "222222222222");
    return std::set<std::string>{UserId(7), "someone-else"};  // user 7 was granted again
  };
  RoundPlan plan = PlanRound(in).value();
  EXPECT_EQ(asked, 1);
  EXPECT_LE(plan.size, provider::kMaxProvisionedPolicySize);
  EXPECT_EQ(plan.compacted_accounts, 1);
  for (ChangeOutcome o : plan.outcomes) EXPECT_EQ(o, ChangeOutcome::kDone);
  // Everyone's sessions from before their end are denied; user 7's later session is not.
  for (int i = 0; i < 1000; ++i) {
    Time issued = t + Duration(i * 50) - Duration(1);
    bool denied = false;
    for (const CutoffStatement& s : plan.next.cutoffs) denied |= s.Covers(UserId(i), issued);
    EXPECT_TRUE(denied) << i;
  }
  for (const CutoffStatement& s : plan.next.cutoffs) {
    EXPECT_FALSE(s.Covers("someone-else", t));
    EXPECT_FALSE(s.Covers(UserId(7), t + Duration(7 * 50) + std::chrono::seconds(1)));
  }
}

TEST(CutoffPlanTest, WhatCannotFitIsRefusedNewestFirst) {
  Time t = When("2026-12-05T00:15:00Z");
  std::vector<Change> changes;
  for (int i = 0; i < 50; ++i) changes.push_back(Apply(UserId(i), "222222222222", t));
  RoundInput in = Input(changes, t);
  in.max_size = 1200;
  in.holders = [&](const std::string&) -> Result<std::set<std::string>> {
    std::set<std::string> all;  // everyone holds it again: nothing can be compacted
    for (int i = 0; i < 50; ++i) all.insert(UserId(i));
    return all;
  };
  RoundPlan plan = PlanRound(in).value();
  EXPECT_LE(plan.size, 1200u);
  EXPECT_EQ(plan.outcomes.front(), ChangeOutcome::kDone);
  EXPECT_EQ(plan.outcomes.back(), ChangeOutcome::kNoRoom);
}

TEST(CutoffPlanTest, HoldersErrorsFailTheRound) {
  Time t = When("2026-12-05T00:15:00Z");
  RoundInput in = Input({Apply(UserId(1), "222222222222", t)}, t);
  in.max_size = 10;
  in.holders = [](const std::string&) -> Result<std::set<std::string>> {
    return UnavailableError("throttled");
  };
  EXPECT_FALSE(PlanRound(in).has_value());
}

}  // namespace
}  // namespace jit::cutoff
