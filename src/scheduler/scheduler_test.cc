#include "scheduler/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "store/fault_injecting_store.h"
#include "store/memory_store.h"

namespace jit::scheduler {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using model::Job;
using model::JobKind;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr Duration kSecond = Duration(1000);
constexpr Duration kMinute = Duration(60 * 1000);

// Records every run and answers from a per-job script (Done when the script is empty).
class ScriptedRunner final : public JobRunner {
 public:
  struct Call {
    Job job;
    Time at;
  };

  explicit ScriptedRunner(Clock& clock) : clock_(clock) {}

  JobOutcome Run(const Job& job) override {
    std::function<void(const Job&)> hook;
    JobOutcome out = JobOutcome::Done();
    {
      MutexLock lock(&mu_);
      calls_.push_back({job, clock_.Now()});
      auto& script = scripts_[job.id];
      if (!script.empty()) {
        out = script.front();
        script.pop_front();
      }
      hook = hook_;
    }
    if (hook) hook(job);  // outside mu_: a hook may use the store or the scheduler
    cv_.SignalAll();
    return out;
  }

  void Script(const std::string& id, std::vector<JobOutcome> outcomes) {
    MutexLock lock(&mu_);
    scripts_[id].assign(outcomes.begin(), outcomes.end());
  }
  // Runs during every Run, after the call is recorded.
  void SetHook(std::function<void(const Job&)> hook) {
    MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }
  std::vector<Call> calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }
  std::size_t count() const {
    MutexLock lock(&mu_);
    return calls_.size();
  }
  std::vector<std::string> ids() const {
    MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const Call& c : calls_) out.push_back(c.job.id);
    return out;
  }
  // Waits (bounded) until at least n runs happened.
  bool WaitForCalls(std::size_t n, Duration timeout) {
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (calls_.size() < n && cv_.WaitUntil(mu_, deadline)) {
    }
    return calls_.size() >= n;
  }

 private:
  Clock& clock_;
  mutable Mutex mu_;
  CondVar cv_;
  std::vector<Call> calls_ GUARDED_BY(mu_);
  std::map<std::string, std::deque<JobOutcome>> scripts_ GUARDED_BY(mu_);
  std::function<void(const Job&)> hook_ GUARDED_BY(mu_);
};

SchedulerOptions TestOptions() {
  SchedulerOptions o;
  o.workers = 0;
  o.owner = "test";
  o.lease = Duration(5 * kMinute);
  o.base_backoff = kSecond;
  o.max_backoff = Duration(5 * kMinute);
  o.overdue_after = Duration(5 * kSecond);
  return o;
}

Job PutJob(store::Store& st, Clock& clock, JobKind kind, Time due) {
  Job j;
  j.id = NewId("job_", clock.Now());
  j.kind = kind;
  j.request_id = NewId("req_", clock.Now());
  j.due_at = due;
  j.first_due_at = due;
  j.payload = "{}";
  j.created_at = clock.Now();
  EXPECT_OK(st.Transact([&](store::Tx& tx) { return tx.PutJob(j); }));
  return j;
}

class SchedulerTest : public ::testing::Test {
 protected:
  Job Put(JobKind kind, Duration from_now) {
    return PutJob(store_, clock_, kind, clock_.Now() + from_now);
  }
  std::vector<Job> Stored() {
    auto jobs = store_.ListJobs();
    EXPECT_OK(jobs);
    return jobs.value_or(std::vector<Job>{});
  }
  std::optional<Job> Stored(const std::string& id) {
    for (const Job& j : Stored()) {
      if (j.id == id) return j;
    }
    return std::nullopt;
  }

  FakeClock clock_;
  store::MemoryStore store_{clock_};
  ScriptedRunner runner_{clock_};
};

TEST_F(SchedulerTest, JobDoesNotRunBeforeItsDueTimeAndRunsWhenTheClockReachesIt) {
  Job job = Put(JobKind::kRevoke, 10 * kSecond);
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());

  clock_.Advance(Duration(0));
  clock_.Advance(10 * kSecond - Duration(1));
  EXPECT_EQ(runner_.count(), 0u);
  EXPECT_EQ(s.Stats().pending[JobKind::kRevoke], 1);

  clock_.Advance(Duration(1));
  ASSERT_EQ(runner_.count(), 1u);
  EXPECT_EQ(runner_.calls()[0].job.id, job.id);
  EXPECT_EQ(runner_.calls()[0].at, job.due_at);
  EXPECT_EQ(runner_.calls()[0].job.lease_owner, "test");
  EXPECT_THAT(Stored(), IsEmpty());
  EXPECT_EQ(s.Stats().pending[JobKind::kRevoke], 0);
  EXPECT_EQ(s.Stats().runs, 1);
  // Nothing left to wait for: no timer, and time passing runs nothing more.
  EXPECT_EQ(clock_.PendingTimers(), 0u);
  clock_.Advance(kMinute);
  EXPECT_EQ(runner_.count(), 1u);
}

TEST_F(SchedulerTest, JobsOverdueAtStartRunOnTheFirstRunDueJobs) {
  Put(JobKind::kGrant, -kMinute);
  Put(JobKind::kNotify, -kSecond);
  Put(JobKind::kGrant, kMinute);  // not due yet
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  EXPECT_EQ(s.RunDueJobs(), 2);
  EXPECT_EQ(runner_.count(), 2u);
  EXPECT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(s.RunDueJobs(), 0);
}

TEST_F(SchedulerTest, JobsOverdueAtStartRunOnAdvanceZero) {
  Job job = Put(JobKind::kApprovalTimeout, -Duration(3 * kMinute));
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  EXPECT_THAT(runner_.ids(), ElementsAre(job.id));
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, JobCommittedAfterStartIsPickedUp) {
  Job later = Put(JobKind::kGrant, Duration(60 * kMinute));
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());

  // An earlier job arriving through the listener re-arms the timer for itself.
  Job soon = Put(JobKind::kNotify, 5 * kSecond);
  EXPECT_EQ(s.Stats().pending[JobKind::kNotify], 1);
  clock_.Advance(5 * kSecond);
  EXPECT_THAT(runner_.ids(), ElementsAre(soon.id));

  // So does one due at once.
  Job now = Put(JobKind::kRevoke, Duration(0));
  clock_.Advance(Duration(0));
  EXPECT_THAT(runner_.ids(), ElementsAre(soon.id, now.id));

  clock_.Advance(Duration(60 * kMinute));
  EXPECT_THAT(runner_.ids(), ElementsAre(soon.id, now.id, later.id));
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, RetryBackOffGrowsWithinJitterBoundsAndKeepsTheError) {
  SchedulerOptions o = TestOptions();
  o.base_backoff = kSecond;
  o.max_backoff = Duration(20 * kSecond);
  Job job = Put(JobKind::kGrant, Duration(0));
  constexpr int kFailures = 8;
  std::vector<JobOutcome> script;
  for (int i = 0; i < kFailures; ++i)
    script.push_back(JobOutcome::Retry("boom " + std::to_string(i)));
  runner_.Script(job.id, script);
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());

  for (int i = 0; i < kFailures; ++i) {
    if (i == 0) {
      clock_.Advance(Duration(0));
    } else {
      std::optional<Job> stored = Stored(job.id);
      ASSERT_TRUE(stored.has_value());
      clock_.SetTime(stored->due_at - Duration(1));
      ASSERT_EQ(runner_.count(), static_cast<std::size_t>(i)) << "ran early, failure " << i;
      clock_.Advance(Duration(1));
    }
    ASSERT_EQ(runner_.count(), static_cast<std::size_t>(i + 1));
    ScriptedRunner::Call call = runner_.calls().back();
    EXPECT_EQ(call.job.attempts, i);

    std::optional<Job> stored = Stored(job.id);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->attempts, i + 1);
    EXPECT_EQ(stored->last_error, "boom " + std::to_string(i));
    EXPECT_EQ(stored->lease_owner, "");
    EXPECT_FALSE(stored->lease_until.has_value());
    EXPECT_EQ(stored->first_due_at, job.first_due_at);
    // After the n-th failure: min(max, base * 2^(n-1)) times a factor in [0.5, 1].
    std::int64_t full = std::min<std::int64_t>(o.max_backoff.count(),
                                               o.base_backoff.count() * (std::int64_t{1} << i));
    std::int64_t delay = std::chrono::duration_cast<Duration>(stored->due_at - call.at).count();
    EXPECT_GE(delay, full / 2) << "failure " << i;
    EXPECT_LE(delay, full) << "failure " << i;
  }
  // The script is spent: the next run succeeds and the job is gone.
  clock_.Advance(o.max_backoff);
  EXPECT_EQ(runner_.count(), static_cast<std::size_t>(kFailures + 1));
  EXPECT_THAT(Stored(), IsEmpty());
  SchedulerStats stats = s.Stats();
  EXPECT_EQ(stats.runs, kFailures + 1);
  EXPECT_EQ(stats.retries, kFailures);
}

TEST_F(SchedulerTest, CheckAgainKeepsAttemptsAndComesBackAfterTheDelay) {
  Job job = Put(JobKind::kGrant, Duration(0));
  runner_.Script(job.id, {JobOutcome::Retry("throttled"), JobOutcome::CheckAgain(30 * kSecond),
                          JobOutcome::CheckAgain(30 * kSecond)});
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  ASSERT_EQ(runner_.count(), 1u);
  std::optional<Job> stored = Stored(job.id);
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->attempts, 1);

  clock_.SetTime(stored->due_at);  // the retry: answers CheckAgain
  ASSERT_EQ(runner_.count(), 2u);
  Time asked_at = clock_.Now();
  stored = Stored(job.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->attempts, 1);
  EXPECT_EQ(stored->last_error, "throttled");
  EXPECT_EQ(stored->due_at, asked_at + 30 * kSecond);

  clock_.Advance(30 * kSecond - Duration(1));
  EXPECT_EQ(runner_.count(), 2u);
  clock_.Advance(Duration(1));
  EXPECT_EQ(runner_.count(), 3u);
  EXPECT_EQ(runner_.calls().back().job.attempts, 1);
  clock_.Advance(30 * kSecond);
  EXPECT_EQ(runner_.count(), 4u);
  EXPECT_THAT(Stored(), IsEmpty());
  EXPECT_EQ(s.Stats().retries, 1);
}

TEST_F(SchedulerTest, RevocationIsRetriedForEverAndCountsAsOverdueMeanwhile) {
  SchedulerOptions o = TestOptions();
  Job job = Put(JobKind::kRevoke, kMinute);
  constexpr int kFailures = 50;
  std::vector<JobOutcome> script(kFailures, JobOutcome::Retry("ThrottlingException"));
  runner_.Script(job.id, script);
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());

  EXPECT_EQ(s.Stats().overdue_revocations, 0);
  clock_.Advance(kMinute);
  ASSERT_EQ(runner_.count(), 1u);
  EXPECT_EQ(s.Stats().overdue_revocations, 0);  // due just now: not overdue yet

  for (int step = 0; step < 500 && runner_.count() < kFailures + 1; ++step) {
    clock_.Advance(o.max_backoff / 10);
    if (runner_.count() < kFailures + 1) {
      EXPECT_EQ(s.Stats().overdue_revocations, 1) << "after " << runner_.count() << " runs";
      EXPECT_EQ(s.Stats().pending[JobKind::kRevoke], 1);
    }
  }
  ASSERT_EQ(runner_.count(), static_cast<std::size_t>(kFailures + 1));
  EXPECT_EQ(runner_.calls().back().job.attempts, kFailures);
  EXPECT_EQ(runner_.calls().back().job.last_error, "ThrottlingException");
  SchedulerStats stats = s.Stats();
  EXPECT_EQ(stats.overdue_revocations, 0);
  EXPECT_EQ(stats.pending[JobKind::kRevoke], 0);
  EXPECT_EQ(stats.retries, kFailures);
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, RevocationsRunBeforeGrantsWhenBothAreDue) {
  Job grant = Put(JobKind::kGrant, -Duration(3 * kMinute));
  Job notify = Put(JobKind::kNotify, -Duration(2 * kMinute));
  Job revoke_late = Put(JobKind::kRevoke, -kMinute);
  Job revoke_early = Put(JobKind::kRevoke, -Duration(2 * kMinute));
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  EXPECT_THAT(runner_.ids(), ElementsAre(revoke_early.id, revoke_late.id, grant.id, notify.id));
}

TEST_F(SchedulerTest, StopLeavesUnrunJobsInTheStore) {
  Job job = Put(JobKind::kRevoke, 10 * kSecond);
  {
    Scheduler s(store_, runner_, clock_, TestOptions());
    ASSERT_OK(s.Start());
    s.Stop();
    EXPECT_EQ(clock_.PendingTimers(), 0u);
    clock_.Advance(kMinute);
    // Committed after Stop: not heard of.
    Put(JobKind::kGrant, Duration(0));
    clock_.Advance(kMinute);
  }
  EXPECT_EQ(runner_.count(), 0u);
  std::vector<Job> stored = Stored();
  ASSERT_THAT(stored, SizeIs(2));
  EXPECT_EQ(stored[0].id, job.id);
  EXPECT_EQ(stored[0].lease_owner, "");

  // A new scheduler picks them up.
  Scheduler again(store_, runner_, clock_, TestOptions());
  ASSERT_OK(again.Start());
  EXPECT_EQ(again.RunDueJobs(), 2);
}

TEST_F(SchedulerTest, JobLeasedByAnotherOwnerAtStartWaitsForTheLease) {
  Job job = Put(JobKind::kRevoke, Duration(0));
  auto theirs = store_.ClaimDueJobs(clock_.Now(), "replica-b", clock_.Now() + 2 * kMinute, 10);
  ASSERT_OK(theirs);
  ASSERT_THAT(*theirs, SizeIs(1));

  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  EXPECT_EQ(s.RunDueJobs(), 0);
  clock_.Advance(Duration(0));
  clock_.Advance(2 * kMinute - Duration(1));
  EXPECT_EQ(runner_.count(), 0u);
  clock_.Advance(Duration(1));
  EXPECT_THAT(runner_.ids(), ElementsAre(job.id));
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, JobLeasedByAnotherOwnerAfterStartWaitsForTheLeaseWithoutSpinning) {
  Job job = Put(JobKind::kGrant, 10 * kSecond);
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  // Another replica, its clock a little ahead, takes the job before our timer fires.
  Time their_now = clock_.Now() + 10 * kSecond;
  auto theirs = store_.ClaimDueJobs(their_now, "replica-b", their_now + 2 * kMinute, 10);
  ASSERT_OK(theirs);
  ASSERT_THAT(*theirs, SizeIs(1));

  clock_.Advance(10 * kSecond);
  EXPECT_EQ(runner_.count(), 0u);
  EXPECT_EQ(clock_.PendingTimers(), 1u);  // one timer, for the end of their lease
  clock_.Advance(2 * kMinute - Duration(1));
  EXPECT_EQ(runner_.count(), 0u);
  clock_.Advance(Duration(1));
  EXPECT_THAT(runner_.ids(), ElementsAre(job.id));
}

TEST_F(SchedulerTest, JobDeletedByAnotherTransactionIsDroppedFromTheIndex) {
  Job job = Put(JobKind::kApprovalTimeout, 10 * kSecond);
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  // Approved meanwhile: the workflow deletes the timeout; the listener hears only of puts.
  ASSERT_OK(store_.Transact([&](store::Tx& tx) { return tx.DeleteJob(job.id); }));
  EXPECT_EQ(s.Stats().pending[JobKind::kApprovalTimeout], 1);
  clock_.Advance(10 * kSecond);
  EXPECT_EQ(runner_.count(), 0u);
  EXPECT_EQ(s.Stats().pending[JobKind::kApprovalTimeout], 0);
  EXPECT_EQ(clock_.PendingTimers(), 0u);
}

TEST_F(SchedulerTest, JobTheRunnerDeletedItselfEndsCleanly) {
  Job job = Put(JobKind::kGrant, Duration(0));
  runner_.SetHook([&](const Job& j) {
    EXPECT_OK(store_.Transact([&](store::Tx& tx) { return tx.DeleteJob(j.id); }));
  });
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  EXPECT_EQ(s.RunDueJobs(), 1);
  EXPECT_THAT(Stored(), IsEmpty());
  EXPECT_EQ(s.Stats().pending[JobKind::kGrant], 0);
  (void)job;
}

TEST_F(SchedulerTest, AJobTheRunnerSaysItDeletedIsNotDeletedAgain) {
  // The runner says so without doing it, so that the scheduler's own delete would show: the job
  // stays stored (and runs again once its lease runs out).
  Job job = Put(JobKind::kGrant, Duration(0));
  runner_.Script(job.id, {JobOutcome::DoneAndDeleted()});
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  EXPECT_EQ(s.RunDueJobs(), 1);
  EXPECT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(s.Stats().pending[JobKind::kGrant], 0);  // no longer the scheduler's to run
}

TEST_F(SchedulerTest, StoreDownAfterARunRunsTheJobAgainOnceTheStoreIsBackNotWhenItsLeaseEnds) {
  // Issue 6 (fault suite): the run's bookkeeping failed, so the store still says the job is
  // leased to us; waiting for that lease (5 minutes with SQLite) delayed a revocation by as much
  // after the store came back. The scheduler now gives its own lease up once the store takes
  // writes again.
  SchedulerOptions o = TestOptions();
  o.lease = Duration(5 * kMinute);
  Job job = Put(JobKind::kRevoke, Duration(0));
  runner_.SetHook([&](const Job&) { store_.FailTransactionsWith(UnavailableError("disk full")); });
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  ASSERT_EQ(runner_.count(), 1u);
  runner_.SetHook(nullptr);

  // Still down for a while: claims fail, nothing spins, nothing is lost.
  for (int i = 0; i < 60; ++i) clock_.Advance(kSecond);
  EXPECT_EQ(runner_.count(), 1u);
  store_.FailTransactionsWith(OkStatus());
  std::optional<Job> stored = Stored(job.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->lease_owner, "test");

  clock_.Advance(kSecond);  // well before the lease ends
  EXPECT_EQ(runner_.count(), 2u);
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, JobWhoseRescheduleFailedIsGivenUpAndRunsAgainOnceTheStoreIsBack) {
  SchedulerOptions o = TestOptions();
  Job job = Put(JobKind::kGrant, Duration(0));
  runner_.Script(job.id, {JobOutcome::CheckAgain(kSecond)});
  runner_.SetHook([&](const Job&) { store_.FailTransactionsWith(UnavailableError("disk full")); });
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  ASSERT_EQ(runner_.count(), 1u);
  runner_.SetHook(nullptr);
  store_.FailTransactionsWith(OkStatus());
  clock_.Advance(kSecond);
  EXPECT_EQ(runner_.count(), 2u);
  EXPECT_THAT(Stored(), IsEmpty());
}

TEST_F(SchedulerTest, RevocationBackOffIsCappedByMaxRevokeBackoff) {
  SchedulerOptions o = TestOptions();
  o.max_backoff = Duration(5 * kMinute);
  o.max_revoke_backoff = Duration(30 * kSecond);
  Job revoke = Put(JobKind::kRevoke, Duration(0));
  Job grant = Put(JobKind::kGrant, Duration(0));
  std::vector<JobOutcome> script(12, JobOutcome::Retry("store full"));
  runner_.Script(revoke.id, script);
  runner_.Script(grant.id, script);
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());
  Duration longest_revoke{0};
  Duration longest_grant{0};
  for (int i = 0; i < 40; ++i) {
    clock_.Advance(Duration(0));
    for (const Job& j : {revoke, grant}) {
      std::optional<Job> stored = Stored(j.id);
      if (!stored) continue;
      Duration wait = std::chrono::duration_cast<Duration>(stored->due_at - clock_.Now());
      Duration& longest = j.id == revoke.id ? longest_revoke : longest_grant;
      longest = std::max(longest, wait);
    }
    std::optional<Job> a = Stored(revoke.id);
    std::optional<Job> b = Stored(grant.id);
    Time next = std::min(a ? a->due_at : Time::max(), b ? b->due_at : Time::max());
    if (next == Time::max()) break;
    clock_.SetTime(next);
  }
  EXPECT_LE(longest_revoke, 30 * kSecond);
  EXPECT_GE(longest_revoke, 15 * kSecond);  // it did reach the cap (jitter: half to all of it)
  EXPECT_GT(longest_grant, 30 * kSecond);   // other jobs keep the long back-off
  o.max_revoke_backoff = Duration(1);
  EXPECT_THAT(Scheduler(store_, runner_, clock_, o).Start(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(SchedulerTest, AJobRunningHereIsNotRunAgainWhenTheClockStepsPastItsLease) {
  // Issue 6 (fault suite): the wall clock stepped forward past a running job's lease before
  // the renewal could move it (here the renewal fails); the next pass found the lease run out
  // and started a second run of the job in this very process.
  store::FaultInjectingStore faulty(store_);
  store::StoreFaults faults;
  faults.renew = [](std::int64_t) { return UnavailableError("renewal lost"); };
  faulty.SetFaults(faults);
  SchedulerOptions o = TestOptions();
  o.lease = Duration(5 * kMinute);
  Job job = PutJob(faulty, clock_, JobKind::kRevoke, clock_.Now());
  int depth = 0;
  int deepest = 0;
  runner_.SetHook([&](const Job& j) {
    if (j.id != job.id) return;
    ++depth;
    deepest = std::max(deepest, depth);
    if (depth == 1) {
      // Something commits a job meanwhile (arming the timer), then the clock jumps an hour.
      PutJob(faulty, clock_, JobKind::kGrant, clock_.Now() + kMinute);
      clock_.SetTime(clock_.Now() + std::chrono::hours(1));
    }
    --depth;
  });
  Scheduler s(faulty, runner_, clock_, o);
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  EXPECT_EQ(deepest, 1) << "a job ran twice at once";
  EXPECT_FALSE(Stored(job.id).has_value());
}

TEST_F(SchedulerTest, StartRejectsBadOptions) {
  SchedulerOptions o = TestOptions();
  o.max_backoff = Duration(10);
  o.base_backoff = Duration(100);
  Scheduler s(store_, runner_, clock_, o);
  EXPECT_THAT(s.Start(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(TestOptions().Validate(), IsOk());
}

TEST_F(SchedulerTest, StartTwiceIsAnError) {
  Scheduler s(store_, runner_, clock_, TestOptions());
  ASSERT_OK(s.Start());
  EXPECT_THAT(s.Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(SchedulerTest, StartFailsWhenTheStoreCannotBeRead) {
  store_.FailReadsWith(UnavailableError("locked"));
  Scheduler s(store_, runner_, clock_, TestOptions());
  EXPECT_THAT(s.Start(), StatusIs(StatusCode::kUnavailable));
  store_.FailReadsWith(OkStatus());
  ASSERT_OK(s.Start());
}

// Several processes on one store (PostgreSQL). The JobListener hears only this process's
// commits; these tests detach it after Start, so that every write of the test is one that
// "another process" made, which only the re-scan can find.
SchedulerOptions ReplicaOptions() {
  SchedulerOptions o = TestOptions();
  o.lease = 5 * kSecond;
  o.rescan_interval = kSecond;
  o.rescan_horizon = 10 * kSecond;
  return o;
}

TEST_F(SchedulerTest, JobPutByAnotherProcessIsFoundByTheRescanAndRunsOnTime) {
  Scheduler s(store_, runner_, clock_, ReplicaOptions());
  ASSERT_OK(s.Start());
  store_.SetJobListener(nullptr);  // from here on, commits are another process's
  Job job = Put(JobKind::kRevoke, 30 * kSecond);

  clock_.Advance(19 * kSecond);  // due beyond the horizon: not looked for yet
  EXPECT_EQ(s.Stats().pending[JobKind::kRevoke], 0);
  clock_.Advance(kSecond);  // now within it
  EXPECT_EQ(s.Stats().pending[JobKind::kRevoke], 1);
  clock_.Advance(10 * kSecond - Duration(1));
  EXPECT_EQ(runner_.count(), 0u);
  clock_.Advance(Duration(1));
  ASSERT_EQ(runner_.count(), 1u);
  EXPECT_EQ(runner_.calls()[0].job.id, job.id);
  EXPECT_EQ(runner_.calls()[0].at, job.due_at);  // on time, not a re-scan later
  EXPECT_EQ(runner_.calls()[0].job.lease_owner, "test");
  EXPECT_THAT(Stored(), IsEmpty());
  EXPECT_GE(s.Stats().rescans, 30);
}

TEST_F(SchedulerTest, JobDueAtOnceThatAnotherProcessPutRunsWithinOneRescan) {
  Scheduler s(store_, runner_, clock_, ReplicaOptions());
  ASSERT_OK(s.Start());
  store_.SetJobListener(nullptr);
  clock_.Advance(Duration(500));
  Job job = Put(JobKind::kGrant, Duration(0));
  clock_.Advance(Duration(499));
  EXPECT_EQ(runner_.count(), 0u);
  clock_.Advance(Duration(1));  // the re-scan at 1s
  ASSERT_EQ(runner_.count(), 1u);
  EXPECT_EQ(runner_.calls()[0].job.id, job.id);
  EXPECT_EQ(runner_.calls()[0].at - job.due_at, Duration(500));
}

TEST_F(SchedulerTest, JobWhoseLeaseRanOutIsTakenOverFromADeadProcess) {
  Scheduler s(store_, runner_, clock_, ReplicaOptions());
  ASSERT_OK(s.Start());
  store_.SetJobListener(nullptr);
  Job job = Put(JobKind::kRevoke, 2 * kSecond);
  clock_.Advance(kSecond);
  ASSERT_EQ(s.Stats().pending[JobKind::kRevoke], 1);
  // Another replica, its clock a second ahead, claims the revocation and dies at once.
  Time their_now = clock_.Now() + kSecond;
  auto theirs = store_.ClaimDueJobs(their_now, "dead-replica", their_now + 5 * kSecond, 10);
  ASSERT_OK(theirs);
  ASSERT_THAT(*theirs, SizeIs(1));

  clock_.Advance(kSecond);  // due: but leased
  EXPECT_EQ(runner_.count(), 0u);
  clock_.SetTime(their_now + 5 * kSecond - Duration(1));
  EXPECT_EQ(runner_.count(), 0u);
  clock_.Advance(Duration(1));  // the dead replica's lease runs out
  ASSERT_EQ(runner_.count(), 1u);
  EXPECT_EQ(runner_.calls()[0].at, their_now + 5 * kSecond);
  EXPECT_EQ(runner_.calls()[0].job.lease_owner, "test");
  EXPECT_THAT(Stored(), IsEmpty());
  (void)job;
}

TEST_F(SchedulerTest, JobDeletedByAnotherProcessLeavesTheIndex) {
  Scheduler s(store_, runner_, clock_, ReplicaOptions());
  ASSERT_OK(s.Start());
  store_.SetJobListener(nullptr);
  Job job = Put(JobKind::kApprovalTimeout, 5 * kSecond);
  clock_.Advance(kSecond);
  ASSERT_EQ(s.Stats().pending[JobKind::kApprovalTimeout], 1);
  ASSERT_OK(store_.Transact([&](store::Tx& tx) { return tx.DeleteJob(job.id); }));
  clock_.Advance(kSecond);
  EXPECT_EQ(s.Stats().pending[JobKind::kApprovalTimeout], 0);
  clock_.Advance(10 * kSecond);
  EXPECT_EQ(runner_.count(), 0u);
}

TEST_F(SchedulerTest, RescanThatCannotReadTheStoreRecoversAndFindsTheJob) {
  Scheduler s(store_, runner_, clock_, ReplicaOptions());
  ASSERT_OK(s.Start());
  store_.SetJobListener(nullptr);
  Job job = Put(JobKind::kRevoke, 3 * kSecond);
  store_.FailReadsWith(UnavailableError("connection lost"));
  clock_.Advance(5 * kSecond);
  EXPECT_EQ(runner_.count(), 0u);
  EXPECT_EQ(s.Stats().rescans, 0);
  store_.FailReadsWith(OkStatus());
  clock_.Advance(kSecond);
  ASSERT_EQ(runner_.count(), 1u);  // overdue: at once
  EXPECT_EQ(runner_.calls()[0].job.id, job.id);
  EXPECT_EQ(s.Stats().rescans, 1);
}

TEST_F(SchedulerTest, LongRunKeepsItsLeaseByRenewingIt) {
  SchedulerOptions o = ReplicaOptions();
  o.lease = 3 * kSecond;  // renewed every second
  Job job = Put(JobKind::kRevoke, Duration(0));
  bool first = true;
  std::size_t taken_by_others = 0;
  runner_.SetHook([&](const Job&) {
    if (!first) return;
    first = false;
    // The run takes ten seconds, three leases' worth. Meanwhile another replica keeps trying.
    for (int i = 0; i < 10; ++i) {
      clock_.Advance(kSecond);
      auto theirs = store_.ClaimDueJobs(clock_.Now(), "other", clock_.Now() + kMinute, 10);
      ASSERT_OK(theirs);
      taken_by_others += theirs->size();
    }
  });
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  EXPECT_EQ(taken_by_others, 0u);
  EXPECT_GE(s.Stats().renewals, 9);
  EXPECT_EQ(s.Stats().lost_leases, 0);
  EXPECT_EQ(runner_.count(), 1u);
  EXPECT_THAT(Stored(), IsEmpty());
  (void)job;
}

TEST_F(SchedulerTest, RunWhoseLeaseWasTakenIsCountedAsLost) {
  SchedulerOptions o = ReplicaOptions();
  o.lease = 3 * kSecond;
  o.lease_renewal = kSecond;
  Job job = Put(JobKind::kGrant, Duration(0));
  runner_.Script(job.id, {JobOutcome::Retry("throttled")});
  bool first = true;
  runner_.SetHook([&](const Job& j) {
    if (!first) return;
    first = false;
    // Someone takes the job over meanwhile (say this process was frozen past its lease).
    ASSERT_OK(store_.Transact([&](store::Tx& tx) {
      Job taken = j;
      taken.lease_owner = "other";
      taken.lease_until = clock_.Now() + kMinute;
      return tx.PutJob(taken);
    }));
    clock_.Advance(kSecond);
  });
  Scheduler s(store_, runner_, clock_, o);
  ASSERT_OK(s.Start());
  clock_.Advance(Duration(0));
  EXPECT_EQ(s.Stats().lost_leases, 1);
  // Its retry leaves the other owner's job alone.
  ASSERT_THAT(Stored(), SizeIs(1));
  EXPECT_EQ(Stored()[0].lease_owner, "other");
}

TEST_F(SchedulerTest, ReplicaOptionsAreValidated) {
  SchedulerOptions o = ReplicaOptions();
  o.rescan_horizon = Duration(10);
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
  o = ReplicaOptions();
  o.lease_renewal = o.lease;
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
  o = ReplicaOptions();
  o.full_rescan_every = 0;
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(ReplicaOptions().Validate());
}

TEST(SchedulerRealClock, TwoSchedulersOnOneStoreRunEveryJobExactlyOnce) {
  // Two "replicas": the store has one listener slot, so the second Start takes it and the
  // first hears nothing; it learns of jobs through its re-scans, as across processes.
  RealClock clock;
  store::MemoryStore st(clock);
  ScriptedRunner runner(clock);
  SchedulerOptions o = TestOptions();
  o.workers = 2;
  o.rescan_interval = Duration(50);
  o.rescan_horizon = Duration(500);
  SchedulerOptions a_opts = o;
  a_opts.owner = "replica-a";
  SchedulerOptions b_opts = o;
  b_opts.owner = "replica-b";
  Scheduler a(st, runner, clock, a_opts);
  Scheduler b(st, runner, clock, b_opts);
  ASSERT_OK(a.Start());
  ASSERT_OK(b.Start());
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    PutJob(st, clock, i % 2 == 0 ? JobKind::kGrant : JobKind::kRevoke,
           clock.Now() + Duration(20 + i % 7));
  }
  ASSERT_TRUE(runner.WaitForCalls(kJobs, Duration(10000)));
  // Let a re-scan or two pass: nothing runs again.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  a.Stop();
  b.Stop();
  std::map<std::string, int> runs;
  std::set<std::string> owners;
  for (const ScriptedRunner::Call& c : runner.calls()) {
    ++runs[c.job.id];
    owners.insert(c.job.lease_owner);
  }
  EXPECT_THAT(runs, SizeIs(kJobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  EXPECT_THAT(*st.ListJobs(), IsEmpty());
  EXPECT_GE(a.Stats().rescans, 1);
}

TEST(SchedulerRealClock, WorkersRunAJobDueShortlyAfterStart) {
  RealClock clock;
  store::MemoryStore st(clock);
  ScriptedRunner runner(clock);
  SchedulerOptions o = TestOptions();
  o.workers = 2;
  Scheduler s(st, runner, clock, o);
  ASSERT_OK(s.Start());
  Job job = PutJob(st, clock, JobKind::kRevoke, clock.Now() + Duration(50));
  ASSERT_TRUE(runner.WaitForCalls(1, Duration(5000)));
  ScriptedRunner::Call call = runner.calls()[0];
  EXPECT_EQ(call.job.id, job.id);
  EXPECT_GE(call.at, call.job.due_at);  // the stored due time, kept to the millisecond
  s.Stop();
  EXPECT_EQ(runner.count(), 1u);
  auto left = st.ListJobs();
  ASSERT_OK(left);
  EXPECT_THAT(*left, IsEmpty());
}

// Passes every call to `inner` and records each ClaimDueJobs: its limit and what it returned.
class ClaimRecordingStore final : public store::Store {
 public:
  struct Claim {
    int limit = 0;
    std::vector<std::string> ids;
  };
  explicit ClaimRecordingStore(store::Store& inner) : inner_(inner) {}

  std::vector<Claim> claims() const {
    MutexLock lock(&mu_);
    return claims_;
  }

  Status Transact(const std::function<Status(store::Tx&)>& fn) override {
    return inner_.Transact(fn);
  }
  Result<model::Request> GetRequest(std::string_view id) override { return inner_.GetRequest(id); }
  Result<store::RequestPage> ListRequests(const store::RequestFilter& filter) override {
    return inner_.ListRequests(filter);
  }
  Result<std::vector<model::AuditEvent>> ListAudit(std::int64_t after_seq, int limit,
                                                   std::string_view request_id = {}) override {
    return inner_.ListAudit(after_seq, limit, request_id);
  }
  Result<std::vector<Job>> ListJobs() override { return inner_.ListJobs(); }
  Result<std::vector<Job>> ClaimDueJobs(Time now, std::string_view owner, Time lease_until,
                                        int limit) override {
    Result<std::vector<Job>> got = inner_.ClaimDueJobs(now, owner, lease_until, limit);
    if (got.ok()) {
      Claim c{limit, {}};
      for (const Job& j : *got) c.ids.push_back(j.id);
      MutexLock lock(&mu_);
      claims_.push_back(std::move(c));
    }
    return got;
  }
  Result<std::vector<Job>> ListJobsDueBefore(Time before, int limit) override {
    return inner_.ListJobsDueBefore(before, limit);
  }
  Result<std::vector<std::string>> RenewLeases(std::string_view owner,
                                               const std::vector<std::string>& ids,
                                               Time lease_until) override {
    return inner_.RenewLeases(owner, ids, lease_until);
  }
  Status ReleaseAllLeases() override { return inner_.ReleaseAllLeases(); }
  Result<std::vector<model::LedgerEntry>> ListLedger() override { return inner_.ListLedger(); }
  Status Ping() override { return inner_.Ping(); }
  void SetJobListener(store::JobListener* listener) override { inner_.SetJobListener(listener); }

 private:
  store::Store& inner_;
  mutable Mutex mu_;
  std::vector<Claim> claims_ GUARDED_BY(mu_);
};

TEST(SchedulerRealClock, WorkersClaimOneJobPerFreeWorkerRevocationsFirstOldestFirst) {
  RealClock clock;
  store::MemoryStore mem(clock);
  ClaimRecordingStore st(mem);
  ScriptedRunner runner(clock);
  // Each run takes a moment, so that claims meet busy workers too.
  runner.SetHook([](const Job&) { std::this_thread::sleep_for(std::chrono::milliseconds(5)); });
  SchedulerOptions o = TestOptions();
  o.workers = 4;
  Scheduler s(st, runner, clock, o);
  ASSERT_OK(s.Start());
  // Every worker is idle and waiting by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // 30 jobs, committed together, all overdue: revocations and grants with due times in no
  // order. The commit wakes the scheduler at once.
  const Time base = clock.Now() - Duration(100);
  std::vector<Job> jobs;
  for (int i = 0; i < 30; ++i) {
    Job j;
    j.id = "job_" + std::to_string(100 + i);
    j.kind = i % 3 == 0 ? JobKind::kGrant : JobKind::kRevoke;
    j.request_id = "req_" + std::to_string(i);
    j.due_at = j.first_due_at = base - Duration((i * 7) % 30);
    j.payload = "{}";
    j.created_at = clock.Now();
    jobs.push_back(j);
  }
  ASSERT_OK(st.Transact([&](store::Tx& tx) -> Status {
    for (const Job& j : jobs) JIT_RETURN_IF_ERROR(tx.PutJob(j));
    return OkStatus();
  }));
  ASSERT_TRUE(runner.WaitForCalls(jobs.size(), Duration(10000)));
  s.Stop();

  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
    bool ar = a.kind == JobKind::kRevoke;
    bool br = b.kind == JobKind::kRevoke;
    if (ar != br) return ar;
    if (a.due_at != b.due_at) return a.due_at < b.due_at;
    return a.id < b.id;
  });
  std::vector<std::string> want;
  for (const Job& j : jobs) want.push_back(j.id);
  std::vector<ClaimRecordingStore::Claim> claims = st.claims();
  ASSERT_FALSE(claims.empty());
  // The first claim is for the four idle workers, and takes the four oldest revocations.
  EXPECT_EQ(claims[0].limit, 4);
  EXPECT_THAT(claims[0].ids, ElementsAre(want[0], want[1], want[2], want[3]));
  // Never more than the workers; claimed in claim order, each job once.
  std::vector<std::string> claimed;
  for (const ClaimRecordingStore::Claim& c : claims) {
    EXPECT_GE(c.limit, 1);
    EXPECT_LE(c.limit, 4);
    EXPECT_LE(static_cast<int>(c.ids.size()), c.limit);
    claimed.insert(claimed.end(), c.ids.begin(), c.ids.end());
  }
  EXPECT_EQ(claimed, want);
  EXPECT_LT(claims.size(), jobs.size());  // batches, not one claim per job
  SchedulerStats stats = s.Stats();
  EXPECT_EQ(stats.claims, static_cast<std::int64_t>(claims.size()));
  EXPECT_EQ(stats.claimed, static_cast<std::int64_t>(jobs.size()));
  std::map<std::string, int> runs;
  for (const std::string& id : runner.ids()) ++runs[id];
  EXPECT_THAT(runs, SizeIs(jobs.size()));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
  EXPECT_THAT(*mem.ListJobs(), IsEmpty());
}

TEST(SchedulerRealClock, WorkersRunManyJobsEachOnce) {
  RealClock clock;
  store::MemoryStore st(clock);
  ScriptedRunner runner(clock);
  SchedulerOptions o = TestOptions();
  o.workers = 2;
  Scheduler s(st, runner, clock, o);
  ASSERT_OK(s.Start());
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    PutJob(st, clock, i % 2 == 0 ? JobKind::kGrant : JobKind::kRevoke,
           clock.Now() + Duration(i % 5));
  }
  ASSERT_TRUE(runner.WaitForCalls(kJobs, Duration(5000)));
  s.Stop();
  std::map<std::string, int> runs;
  for (const std::string& id : runner.ids()) ++runs[id];
  EXPECT_THAT(runs, SizeIs(kJobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace jit::scheduler
