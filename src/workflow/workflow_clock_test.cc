// A stepped wall clock while grants are active (issue 6, "Fault suite"), over the workflow and
// the scheduler with a FakeClock: SetTime steps the wall clock forward (firing what is due) or
// back (firing nothing). Deadlines (expiry, approval timeout, scheduled start) are wall times,
// so that they survive a restart; what follows from that is pinned here and written up in
// docs/RELIABILITY.md ("A stepped wall clock"):
//   - a step forward that stays before a deadline changes nothing, and stepping back again
//     neither ends nor grants anything early;
//   - a step back delays every deadline by the step while the clock is wrong, and once the
//     clock reads the deadline again the job runs at once (nothing waits for the step twice);
//   - a job that fires and then finds the clock before its deadline (stepped back meanwhile)
//     waits again instead of acting early;
//   - a step forward past a deadline acts on it at once: the broker cannot tell a step from
//     time passing (the safe side for expiry: access ends early, never late).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/fault_injecting_store.h"
#include "store/memory_store.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using fixtures::DevConfig;
using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kReadOnly;

using model::RequestState;
using provider::FakeProvider;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class SteppedClockTest : public ::testing::Test {
 protected:
  SteppedClockTest()
      : config_(DevConfig()),
        memory_(store::NewMemoryStore(clock_)),
        store_(*memory_),
        workflow_(store_, config_, provider_, clock_),
        scheduler_(store_, workflow_, clock_, Options()) {}

  static scheduler::SchedulerOptions Options() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }

  model::Request Get(const std::string& id) {
    auto r = memory_->GetRequest(id);
    JIT_CHECK(r.has_value());
    return *r;
  }
  RequestState StateOf(const std::string& id) { return Get(id).state; }
  provider::Assignment Sandbox() const {
    return {kAlice.principal_id, "111111111111", std::string(kReadOnly)};
  }
  // An auto-approved grant of `d`, active now.
  model::Request ActiveGrant(Duration d) {
    auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", d, "work", ""});
    JIT_CHECK(r.has_value());
    clock_.Advance(Duration(0));
    model::Request active = Get(r->id);
    JIT_CHECK(active.state == RequestState::kActive);
    return active;
  }
  // Moves the wall clock forward a second at a time until `until`, checking that the request is
  // in `state` all the while.
  void WalkTo(Time until, const std::string& id, RequestState state) {
    while (clock_.Now() + seconds(1) < until) {
      clock_.Advance(seconds(1));
      ASSERT_EQ(StateOf(id), state) << "at " << ToUnixMillis(clock_.Now());
    }
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  FakeProvider provider_;
  std::unique_ptr<store::Store> memory_;
  store::FaultInjectingStore store_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

TEST_F(SteppedClockTest, AnHourForwardAndBackInsideAGrantNeitherEndsItEarlyNorLate) {
  model::Request r = ActiveGrant(hours(3));
  const Time t0 = clock_.Now();
  clock_.SetTime(t0 + hours(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  clock_.SetTime(t0);
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  EXPECT_TRUE(provider_.Has(Sandbox()));
  clock_.SetTime(t0 + hours(1));
  clock_.SetTime(t0 + minutes(30));
  WalkTo(*r.expires_at, r.id, RequestState::kActive);
  clock_.SetTime(*r.expires_at);
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_EQ(*Get(r.id).ended_at, *r.expires_at);
  EXPECT_FALSE(provider_.Has(Sandbox()));
}

TEST_F(SteppedClockTest, AnHourBackDelaysTheEndWhileTheClockIsWrongAndItEndsAtOnceWhenRight) {
  model::Request r = ActiveGrant(minutes(30));
  const Time t0 = clock_.Now();
  clock_.Advance(minutes(20));
  // The clock falls an hour behind for an hour of real time: it reads t0-40m .. t0+20m, all
  // before the expiry; nothing ends early (nor at all: by this clock the grant has time left).
  clock_.SetTime(clock_.Now() - hours(1));
  WalkTo(t0 + minutes(20), r.id, RequestState::kActive);
  EXPECT_TRUE(provider_.Has(Sandbox()));
  // NTP steps it right: the real time is t0+80m, fifty minutes past the expiry. The revocation
  // runs at once, not an hour later. (FakeClock fires what a forward step passes with Now() at
  // each due time, so the end is stamped at the expiry itself; RealClock would stamp the moment
  // after the step.)
  clock_.SetTime(t0 + minutes(80));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_EQ(*Get(r.id).ended_at, *r.expires_at);
  EXPECT_FALSE(provider_.Has(Sandbox()));
}

TEST_F(SteppedClockTest, ARevocationThatFiresAsTheClockStepsBackWaitsForTheExpiry) {
  model::Request r = ActiveGrant(minutes(30));
  // The revoke job is claimed at its due time; before it runs, the clock steps back an hour.
  bool stepped = false;
  store::StoreFaults faults;
  faults.claim = [&](std::int64_t) {
    if (!stepped && clock_.Now() >= *r.expires_at) {
      stepped = true;
      clock_.SetTime(clock_.Now() - hours(1));
    }
    return OkStatus();
  };
  store_.SetFaults(faults);
  clock_.SetTime(*r.expires_at - seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);
  clock_.SetTime(*r.expires_at);  // fires the revocation; it finds the clock an hour early
  ASSERT_TRUE(stepped);
  // FakeClock puts the clock back where this call was told to go; the job came back for its
  // expiry and ended the grant then, not an hour before it.
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_GE(*Get(r.id).ended_at, *r.expires_at);
  EXPECT_EQ(provider_.Calls(FakeProvider::Op::kRevoke), 1);
  EXPECT_FALSE(provider_.Has(Sandbox()));
}

TEST_F(SteppedClockTest, AStepForwardPastTheExpiryEndsTheGrantAtOnce) {
  model::Request r = ActiveGrant(minutes(30));
  const Time stepped = clock_.Now() + hours(1);
  clock_.SetTime(stepped);
  model::Request ended = Get(r.id);
  EXPECT_EQ(ended.state, RequestState::kEnded);
  EXPECT_EQ(ended.end_reason, "expired");
  EXPECT_LE(*ended.ended_at, stepped);
  EXPECT_FALSE(provider_.Has(Sandbox()));
  // Stepping back afterwards brings nothing back.
  clock_.SetTime(stepped - hours(1));
  clock_.Advance(minutes(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_FALSE(provider_.Has(Sandbox()));
}

TEST_F(SteppedClockTest, AGrantActivatedWhileTheClockIsBehindLastsItsDurationByThatClock) {
  const Time real = clock_.Now();
  clock_.SetTime(real - hours(1));
  model::Request r = ActiveGrant(minutes(30));
  EXPECT_EQ(*r.activated_at, real - hours(1));
  EXPECT_EQ(*r.expires_at, real - minutes(30));
  // Corrected, the clock is past that expiry: the grant ends at once (early by the step).
  clock_.SetTime(real + seconds(1));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
}

TEST_F(SteppedClockTest, AnApprovalDeadlineIsNotCutShortByAStepBack) {
  auto r = workflow_.Submit(kAlice, {"prod", "Admin", minutes(30), "incident", ""});
  ASSERT_OK(r);
  ASSERT_EQ(r->state, RequestState::kPending);
  const Time deadline = *r->approval_deadline;
  clock_.SetTime(deadline - minutes(1));
  clock_.SetTime(deadline - hours(1));  // back an hour: the deadline is an hour further away
  WalkTo(deadline - minutes(30), r->id, RequestState::kPending);
  ASSERT_OK(workflow_.Approve(kBob, r->id, "ok"));  // still in time by the clock
  clock_.Advance(Duration(0));
  EXPECT_EQ(StateOf(r->id), RequestState::kActive);
}

TEST_F(SteppedClockTest, AnApprovalTimeoutThatFiresAsTheClockStepsBackWaitsForTheDeadline) {
  auto r = workflow_.Submit(kAlice, {"prod", "Admin", minutes(30), "incident", ""});
  ASSERT_OK(r);
  const Time deadline = *r->approval_deadline;
  bool stepped = false;
  store::StoreFaults faults;
  faults.claim = [&](std::int64_t) {
    if (!stepped && clock_.Now() >= deadline) {
      stepped = true;
      clock_.SetTime(clock_.Now() - hours(1));
    }
    return OkStatus();
  };
  store_.SetFaults(faults);
  clock_.SetTime(deadline);
  ASSERT_TRUE(stepped);
  model::Request after = Get(r->id);
  EXPECT_EQ(after.state, RequestState::kTimedOut);
  EXPECT_GE(*after.ended_at, deadline);  // not an hour early
}

TEST_F(SteppedClockTest, AScheduledStartIsNotGrantedEarlyWhenTheClockStepsBack) {
  const Time start = clock_.Now() + hours(2);
  model::Identity alice = kAlice;
  auto r = workflow_.Submit(alice, {"sandbox", "ReadOnly", minutes(30), "later", "", start});
  ASSERT_OK(r);
  ASSERT_EQ(r->state, RequestState::kApproved);
  bool stepped = false;
  store::StoreFaults faults;
  faults.claim = [&](std::int64_t) {
    if (!stepped && clock_.Now() >= start) {
      stepped = true;
      clock_.SetTime(clock_.Now() - hours(1));
    }
    return OkStatus();
  };
  store_.SetFaults(faults);
  clock_.SetTime(start - hours(1));
  EXPECT_EQ(StateOf(r->id), RequestState::kApproved);
  EXPECT_FALSE(provider_.Has(Sandbox()));
  clock_.SetTime(start);  // the grant job fires; the clock reads an hour before the start
  ASSERT_TRUE(stepped);
  model::Request granted = Get(r->id);
  EXPECT_EQ(granted.state, RequestState::kActive);
  EXPECT_GE(*granted.activated_at, start);
  EXPECT_EQ(*granted.expires_at, *granted.activated_at + minutes(30));
}

}  // namespace
}  // namespace jit::workflow
