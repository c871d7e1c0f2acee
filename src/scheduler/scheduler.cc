#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/mutex.h"
#include "core/result.h"
#include "core/retry.h"

namespace jit::scheduler {
namespace {

// Jobs claimed at a time by RunDueJobs (workers == 0). With workers, a claim takes one job per
// free worker (ClaimForWorkers), so that every claimed job starts at once and a revocation due
// later is never stuck behind a batch waiting for a busy worker.
constexpr int kInlineBatch = 16;
// After the store failed, or when the index says a job is due but the store will not hand it
// out, look again no sooner than this: a store outage must not become a busy loop.
constexpr Duration kRecheckDelay = Duration(1000);
// A job rescheduled "now" would be claimable again in the same pass; the smallest delay.
constexpr Duration kMinDelay = Duration(1);
// Jobs one re-scan reads at most (the earliest due); a backlog beyond is read as it drains.
constexpr int kRescanLimit = 1000;
// Jobs RecheckStale reads at most.
constexpr int kRecheckLimit = 10000;

std::string_view OutcomeName(JobOutcome::Kind k) {
  switch (k) {
    case JobOutcome::Kind::kDone:
      return "done";
    case JobOutcome::Kind::kRetry:
      return "retry";
    case JobOutcome::Kind::kCheckAgain:
      return "check_again";
  }
  return "unknown";
}

}  // namespace

Status SchedulerOptions::Validate() const {
  if (workers < 0 || workers > 256) return InvalidArgumentError("workers must be in 0..256");
  if (lease <= Duration(0)) return InvalidArgumentError("lease must be positive");
  if (base_backoff <= Duration(0)) return InvalidArgumentError("base_backoff must be positive");
  if (max_backoff < base_backoff) {
    return InvalidArgumentError("max_backoff must be at least base_backoff");
  }
  if (max_revoke_backoff < base_backoff) {
    return InvalidArgumentError("max_revoke_backoff must be at least base_backoff");
  }
  if (overdue_after < Duration(0))
    return InvalidArgumentError("overdue_after must not be negative");
  if (owner.empty()) return InvalidArgumentError("owner must not be empty");
  if (lease_renewal < Duration(0) || lease_renewal >= lease) {
    return InvalidArgumentError("lease_renewal must be 0 (lease / 3) or less than the lease");
  }
  if (rescan_interval < Duration(0)) {
    return InvalidArgumentError("rescan_interval must not be negative");
  }
  if (rescan_interval > Duration(0) && rescan_horizon < rescan_interval) {
    return InvalidArgumentError("rescan_horizon must be at least rescan_interval");
  }
  if (full_rescan_every < 1) return InvalidArgumentError("full_rescan_every must be at least 1");
  return OkStatus();
}

class Scheduler::Impl {
 public:
  Impl(store::Store& store, JobRunner& runner, Clock& clock, SchedulerOptions options)
      : store_(store),
        runner_(runner),
        clock_(clock),
        options_(std::move(options)),
        rng_(std::random_device{}()) {}

  ~Impl() { Stop(); }

  Status Start(store::JobListener* listener);
  void Stop();
  int RunDueJobs() { return RunPass(kInlineBatch); }
  SchedulerStats Stats() const;
  void OnJobsCommitted(const std::vector<model::Job>& jobs);

 private:
  using DueIndex = std::multimap<Time, std::string>;
  struct Entry {
    model::JobKind kind = model::JobKind::kGrant;
    Time first_due_at;
    Time due_at;             // the job's due time as last seen
    std::uint64_t seq = 0;   // index_seq_ when last changed
    DueIndex::iterator pos;  // into by_due_; its key is when to look at the job next
  };

  // Lets a timer callback that the clock has already taken off its queue find out that the
  // scheduler has stopped (and may be gone) and keeps Stop waiting while one is running. Shared
  // with the callbacks so that it outlives the Impl.
  struct TimerGate {
    explicit TimerGate(Impl* i) : impl(i) {}
    Mutex mu;
    CondVar cv;
    Impl* impl GUARDED_BY(mu) = nullptr;  // nullptr once stopped
    int active GUARDED_BY(mu) = 0;        // callbacks inside impl
  };

  // When to look at a job next: its due time, or the end of a lease someone else holds.
  static Time NextLook(const model::Job& j) {
    Time next = j.due_at;
    if (!j.lease_owner.empty() && j.lease_until.has_value() && *j.lease_until > next) {
      next = *j.lease_until;
    }
    return next;
  }

  void IndexLocked(const model::Job& j, Time next) REQUIRES(mu_);
  void EraseLocked(const std::string& id) REQUIRES(mu_);
  // Arms the clock timer for the earliest entry unless one is armed at or before it.
  void ArmLocked() REQUIRES(mu_);
  // Calls fn(impl) at `at` unless the scheduler has stopped by then.
  TimerId ScheduleLocked(Time at, std::function<void(Impl&)> fn) REQUIRES(mu_);
  void OnTimer(std::uint64_t generation);
  void WorkerLoop();
  // The re-scan (several processes on one store) and lease renewal, on their own thread when
  // workers > 0, else on the thread that fires the timer.
  void ArmRescanLocked() REQUIRES(mu_);
  void ArmRenewLocked() REQUIRES(mu_);
  void OnMaintenanceTimer(bool rescan);
  void MaintenanceLoop();
  void Rescan();
  void RenewRunning();
  Duration RenewInterval() const {
    return options_.lease_renewal > Duration(0) ? options_.lease_renewal
                                                : std::max(Duration(1), options_.lease / 3);
  }
  // store_.Transact, again when it loses a race (several processes on one store).
  Status Transact(const std::function<Status(store::Tx&)>& fn);
  // Claims and runs due jobs until none is left; returns how many ran. Re-arms the timer.
  // Without workers (RunDueJobs, and the timer's thread when workers == 0).
  int RunPass(int batch);
  // With workers: one claim of up to `want` jobs (one per free worker) into ready_, for the
  // workers to take. Called by the worker that set claiming_; clears it. Re-arms the timer.
  void ClaimForWorkers(int want);
  // Gives up the leases of jobs claimed but never run (ready_ when the workers stopped).
  void ReleaseReady();
  void RunOne(const model::Job& job);
  // Gives up the store's leases of unreleased_ (see there). False when the store refused.
  bool ReleaseUnreleased(Time now);
  // After a run whose bookkeeping failed: remember the job and look at it again soon.
  void BookkeepingFailed(const model::Job& job);
  // Index entries that were due but not claimed: deleted behind our back, or leased by
  // someone else. Looks them up in the store and drops or moves them.
  void RecheckStale(Time now, const std::set<std::string>& claimed);
  Duration Backoff(model::JobKind kind, int attempts);

  store::Store& store_;
  JobRunner& runner_;
  Clock& clock_;
  const SchedulerOptions options_;

  mutable Mutex mu_;
  CondVar work_cv_;  // signalled with mu_ when work_gen_ moves
  DueIndex by_due_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Entry> jobs_ GUARDED_BY(mu_);
  bool running_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool timer_armed_ GUARDED_BY(mu_) = false;
  TimerId timer_id_ GUARDED_BY(mu_) = 0;
  Time timer_at_ GUARDED_BY(mu_);
  std::uint64_t timer_gen_ GUARDED_BY(mu_) = 0;
  std::optional<Time> not_before_ GUARDED_BY(mu_);  // set while the store fails
  // Workers (workers > 0). The timer bumps work_gen_; an idle worker then claims for every
  // idle worker (itself included) unless another one is claiming, and hands what it claimed
  // out through ready_. A claim that came back full (more_due_) is followed by another.
  std::uint64_t work_gen_ GUARDED_BY(mu_) = 0;
  std::uint64_t claimed_gen_ GUARDED_BY(mu_) = 0;  // work_gen_ when the last claim began
  bool more_due_ GUARDED_BY(mu_) = false;
  bool claiming_ GUARDED_BY(mu_) = false;
  int idle_workers_ GUARDED_BY(mu_) = 0;          // waiting in WorkerLoop
  std::deque<model::Job> ready_ GUARDED_BY(mu_);  // claimed, leased, in running_jobs_, not run
  std::shared_ptr<TimerGate> gate_ GUARDED_BY(mu_);
  std::vector<std::thread> workers_;                    // touched by Start/Stop only
  std::uint64_t index_seq_ GUARDED_BY(mu_) = 0;         // bumped by IndexLocked
  std::set<std::string> running_jobs_ GUARDED_BY(mu_);  // jobs being run here now
  // Jobs run here whose bookkeeping (delete or reschedule) the store refused: their lease is
  // still ours in the store. The next pass gives it up (RenewLeases to `now`) so that they are
  // claimed and run again at once instead of when the lease ends (5 minutes with SQLite).
  std::set<std::string> unreleased_ GUARDED_BY(mu_);
  bool rescan_armed_ GUARDED_BY(mu_) = false;
  TimerId rescan_timer_ GUARDED_BY(mu_) = 0;
  bool renew_armed_ GUARDED_BY(mu_) = false;
  TimerId renew_timer_ GUARDED_BY(mu_) = 0;
  bool rescan_due_ GUARDED_BY(mu_) = false;        // for MaintenanceLoop
  bool renew_due_ GUARDED_BY(mu_) = false;         // for MaintenanceLoop
  std::int64_t rescan_count_ GUARDED_BY(mu_) = 0;  // started re-scans
  bool rescan_failing_ GUARDED_BY(mu_) = false;    // to log outages once
  CondVar maintenance_cv_;                         // signalled with mu_
  std::thread maintenance_;                        // touched by Start/Stop only

  std::atomic<std::int64_t> runs_{0};
  std::atomic<std::int64_t> claims_{0};
  std::atomic<std::int64_t> claimed_{0};
  std::atomic<std::int64_t> retries_{0};
  std::atomic<std::int64_t> rescans_{0};
  std::atomic<std::int64_t> renewals_{0};
  std::atomic<std::int64_t> lost_leases_{0};

  Mutex rng_mu_;
  std::mt19937_64 rng_ GUARDED_BY(rng_mu_);
};

Status Scheduler::Impl::Start(store::JobListener* listener) {
  if (Status s = options_.Validate(); !s.ok()) return s;
  {
    MutexLock lock(&mu_);
    if (running_ || !workers_.empty()) return FailedPreconditionError("scheduler already started");
    by_due_.clear();
    jobs_.clear();
    running_ = true;
    stopping_ = false;
    not_before_.reset();
    claimed_gen_ = work_gen_;
    more_due_ = false;
    claiming_ = false;
    ready_.clear();
    gate_ = std::make_shared<TimerGate>(this);
  }
  // Listen first, then read: a job committed in between is reported, and the listener's
  // version (newer or equal) wins over the snapshot's.
  store_.SetJobListener(listener);
  auto jobs = store_.ListJobs();
  if (!jobs.has_value()) {
    Stop();
    return jobs.error().WithContext("scheduler start");
  }
  {
    MutexLock lock(&mu_);
    for (const model::Job& j : *jobs) {
      if (jobs_.count(j.id) == 0) IndexLocked(j, NextLook(j));
    }
    spdlog::info(
        "scheduler: started with {} jobs, {} workers{}", jobs_.size(), options_.workers,
        options_.rescan_interval > Duration(0)
            ? fmt::format(", re-scanning the store every {} ms", options_.rescan_interval.count())
            : "");
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  if (options_.workers > 0) maintenance_ = std::thread([this] { MaintenanceLoop(); });
  MutexLock lock(&mu_);
  ArmLocked();
  ArmRescanLocked();
  return OkStatus();
}

void Scheduler::Impl::Stop() {
  std::shared_ptr<TimerGate> gate;
  {
    MutexLock lock(&mu_);
    if (!running_ && workers_.empty()) return;
  }
  store_.SetJobListener(nullptr);  // not under mu_: the store holds its lock while calling us
  {
    MutexLock lock(&mu_);
    running_ = false;
    stopping_ = true;
    if (timer_armed_) clock_.Cancel(timer_id_);
    timer_armed_ = false;
    if (rescan_armed_) clock_.Cancel(rescan_timer_);
    rescan_armed_ = false;
    if (renew_armed_) clock_.Cancel(renew_timer_);
    renew_armed_ = false;
    ++timer_gen_;
    gate = std::move(gate_);
  }
  work_cv_.SignalAll();
  maintenance_cv_.SignalAll();
  if (gate != nullptr) {
    // A callback already taken off the clock's queue may still be running (with workers == 0,
    // a whole pass): wait for it, and make any later one a no-op.
    MutexLock lock(&gate->mu);
    gate->impl = nullptr;
    while (gate->active != 0) gate->cv.Wait(gate->mu);
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (maintenance_.joinable()) maintenance_.join();
  ReleaseReady();
}

SchedulerStats Scheduler::Impl::Stats() const {
  SchedulerStats stats;
  for (model::JobKind k :
       {model::JobKind::kGrant, model::JobKind::kRevoke, model::JobKind::kApprovalTimeout,
        model::JobKind::kNotify, model::JobKind::kCutoff, model::JobKind::kCutoffLift,
        model::JobKind::kActivitySummary}) {
    stats.pending[k] = 0;
  }
  Time overdue_before = clock_.Now() - options_.overdue_after;
  {
    MutexLock lock(&mu_);
    for (const auto& [id, e] : jobs_) {
      ++stats.pending[e.kind];
      if (e.kind == model::JobKind::kRevoke && e.first_due_at < overdue_before) {
        ++stats.overdue_revocations;
      }
    }
  }
  stats.runs = runs_.load();
  stats.claims = claims_.load();
  stats.claimed = claimed_.load();
  stats.retries = retries_.load();
  stats.rescans = rescans_.load();
  stats.renewals = renewals_.load();
  stats.lost_leases = lost_leases_.load();
  return stats;
}

void Scheduler::Impl::OnJobsCommitted(const std::vector<model::Job>& jobs) {
  // Called on the store's committing thread: only the index and the timer, nothing that waits.
  MutexLock lock(&mu_);
  for (const model::Job& j : jobs) IndexLocked(j, NextLook(j));
  ArmLocked();
}

void Scheduler::Impl::IndexLocked(const model::Job& j, Time next) {
  const std::uint64_t seq = ++index_seq_;
  auto it = jobs_.find(j.id);
  if (it == jobs_.end()) {
    jobs_.emplace(j.id, Entry{j.kind, j.first_due_at, j.due_at, seq, by_due_.emplace(next, j.id)});
    return;
  }
  by_due_.erase(it->second.pos);
  it->second.kind = j.kind;
  it->second.first_due_at = j.first_due_at;
  it->second.due_at = j.due_at;
  it->second.seq = seq;
  it->second.pos = by_due_.emplace(next, j.id);
}

void Scheduler::Impl::EraseLocked(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  by_due_.erase(it->second.pos);
  jobs_.erase(it);
}

void Scheduler::Impl::ArmLocked() {
  if (!running_ || by_due_.empty()) return;
  Time at = by_due_.begin()->first;
  if (not_before_.has_value() && at < *not_before_) at = *not_before_;
  if (timer_armed_) {
    if (timer_at_ <= at) return;
    clock_.Cancel(timer_id_);
    timer_armed_ = false;
  }
  std::uint64_t generation = ++timer_gen_;
  timer_at_ = at;
  timer_armed_ = true;
  timer_id_ = ScheduleLocked(at, [generation](Impl& impl) { impl.OnTimer(generation); });
}

TimerId Scheduler::Impl::ScheduleLocked(Time at, std::function<void(Impl&)> fn) {
  // The clock takes only its own lock here and never calls back under it, so holding mu_ is
  // safe; a callback that fires at once waits for mu_.
  return clock_.ScheduleAt(at, [gate = gate_, fn = std::move(fn)] {
    Impl* impl = nullptr;
    {
      MutexLock lock(&gate->mu);
      if (gate->impl == nullptr) return;
      impl = gate->impl;  // stays valid: Stop waits until active is back to 0
      ++gate->active;
    }
    fn(*impl);
    {
      MutexLock lock(&gate->mu);
      --gate->active;
    }
    gate->cv.SignalAll();
  });
}

void Scheduler::Impl::ArmRescanLocked() {
  if (!running_ || options_.rescan_interval <= Duration(0) || rescan_armed_) return;
  rescan_armed_ = true;
  rescan_timer_ = ScheduleLocked(clock_.Now() + options_.rescan_interval,
                                 [](Impl& impl) { impl.OnMaintenanceTimer(/*rescan=*/true); });
}

void Scheduler::Impl::ArmRenewLocked() {
  if (!running_ || running_jobs_.empty() || renew_armed_) return;
  renew_armed_ = true;
  renew_timer_ = ScheduleLocked(clock_.Now() + RenewInterval(),
                                [](Impl& impl) { impl.OnMaintenanceTimer(/*rescan=*/false); });
}

void Scheduler::Impl::OnMaintenanceTimer(bool rescan) {
  {
    MutexLock lock(&mu_);
    if (rescan) {
      rescan_armed_ = false;
    } else {
      renew_armed_ = false;
    }
    if (!running_) return;
    if (options_.workers > 0) {
      (rescan ? rescan_due_ : renew_due_) = true;
      maintenance_cv_.SignalAll();
      return;
    }
  }
  if (rescan) {
    Rescan();
  } else {
    RenewRunning();
  }
}

void Scheduler::Impl::MaintenanceLoop() {
  for (;;) {
    bool rescan = false;
    bool renew = false;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && !rescan_due_ && !renew_due_) maintenance_cv_.Wait(mu_);
      if (stopping_) return;
      rescan = rescan_due_;
      renew = renew_due_;
      rescan_due_ = false;
      renew_due_ = false;
    }
    // Renewals first: a lease that runs out lets another process run the job a second time.
    if (renew) RenewRunning();
    if (rescan) Rescan();
  }
}

void Scheduler::Impl::RenewRunning() {
  std::vector<std::string> ids;
  {
    MutexLock lock(&mu_);
    ids.assign(running_jobs_.begin(), running_jobs_.end());
  }
  if (!ids.empty()) {
    auto renewed = store_.RenewLeases(options_.owner, ids, clock_.Now() + options_.lease);
    if (!renewed.has_value()) {
      spdlog::warn("scheduler: cannot renew the leases of {} running jobs: {}", ids.size(),
                   renewed.error().ToString());
    } else {
      renewals_ += static_cast<std::int64_t>(renewed->size());
      std::set<std::string> ok(renewed->begin(), renewed->end());
      MutexLock lock(&mu_);
      for (const std::string& id : ids) {
        if (ok.count(id) != 0 || running_jobs_.count(id) == 0) continue;
        ++lost_leases_;
        spdlog::warn("scheduler: job {} is still running here but its lease is no longer ours", id);
      }
    }
  }
  MutexLock lock(&mu_);
  ArmRenewLocked();
}

void Scheduler::Impl::Rescan() {
  const Time now = clock_.Now();
  std::uint64_t seq = 0;
  bool full = false;
  {
    MutexLock lock(&mu_);
    seq = index_seq_;
    full = ++rescan_count_ % options_.full_rescan_every == 0;
  }
  const Time before = now + options_.rescan_horizon;
  auto jobs = full ? store_.ListJobs() : store_.ListJobsDueBefore(before, kRescanLimit);
  MutexLock lock(&mu_);
  if (!jobs.has_value()) {
    if (!rescan_failing_) {
      spdlog::error("scheduler: cannot re-scan the store: {}", jobs.error().ToString());
    }
    rescan_failing_ = true;
    ArmRescanLocked();
    return;
  }
  if (rescan_failing_) spdlog::info("scheduler: re-scanning the store again");
  rescan_failing_ = false;
  ++rescans_;
  // What the store does not return is gone (or moved beyond the horizon, to be seen again
  // when it comes near), unless the result was cut short before it.
  const bool truncated = !full && static_cast<int>(jobs->size()) == kRescanLimit;
  const Time cutoff = full ? Time::max() : truncated ? jobs->back().due_at : before;
  std::set<std::string> seen;
  for (const model::Job& j : *jobs) {
    seen.insert(j.id);
    // Running here, or changed here since the read began: what this process knows is newer.
    if (running_jobs_.count(j.id) != 0) continue;
    auto e = jobs_.find(j.id);
    if (e != jobs_.end() && e->second.seq > seq) continue;
    const Time next = NextLook(j);
    if (e != jobs_.end() && e->second.pos->first == next && e->second.due_at == j.due_at) {
      continue;
    }
    IndexLocked(j, next);
  }
  std::vector<std::string> gone;
  for (const auto& [id, e] : jobs_) {
    if (seen.count(id) != 0 || running_jobs_.count(id) != 0 || e.seq > seq) continue;
    if (truncated ? e.due_at < cutoff : e.due_at <= cutoff) gone.push_back(id);
  }
  for (const std::string& id : gone) EraseLocked(id);
  ArmLocked();
  ArmRescanLocked();
}

Status Scheduler::Impl::Transact(const std::function<Status(store::Tx&)>& fn) {
  // The scheduler's own bookkeeping transactions are run again when they lose a race.
  return RetryAborted([&] { return store_.Transact(fn); });
}

void Scheduler::Impl::OnTimer(std::uint64_t generation) {
  {
    MutexLock lock(&mu_);
    // A timer replaced by an earlier one may fire anyway if the clock had already taken it.
    if (generation != timer_gen_ || !running_) return;
    timer_armed_ = false;
    if (options_.workers > 0) {
      ++work_gen_;
      work_cv_.SignalAll();
      return;
    }
  }
  RunPass(kInlineBatch);
}

void Scheduler::Impl::WorkerLoop() {
  for (;;) {
    std::optional<model::Job> job;
    int want = 0;
    {
      MutexLock lock(&mu_);
      ++idle_workers_;
      while (!stopping_ && ready_.empty() &&
             (claiming_ || (work_gen_ == claimed_gen_ && !more_due_))) {
        work_cv_.Wait(mu_);
      }
      --idle_workers_;
      if (stopping_) return;
      if (!ready_.empty()) {
        job = std::move(ready_.front());
        ready_.pop_front();
      } else {
        claiming_ = true;
        claimed_gen_ = work_gen_;
        more_due_ = false;
        want = idle_workers_ + 1;  // the idle ones and this one
      }
    }
    if (job.has_value()) {
      RunOne(*job);
    } else {
      ClaimForWorkers(want);
    }
  }
}

void Scheduler::Impl::ClaimForWorkers(int want) {
  // A job rescheduled after its run is due at least kMinDelay after this claim's `now`, so
  // claims end even when the clock stands still (FakeClock).
  const Time now = clock_.Now();
  ReleaseUnreleased(now);
  auto claimed = store_.ClaimDueJobs(now, options_.owner, now + options_.lease, want);
  if (!claimed.has_value()) {
    spdlog::error("scheduler: cannot claim due jobs: {}", claimed.error().ToString());
    MutexLock lock(&mu_);
    not_before_ = clock_.Now() + kRecheckDelay;
    claiming_ = false;
    ArmLocked();
    work_cv_.SignalAll();
    return;
  }
  ++claims_;
  claimed_ += static_cast<std::int64_t>(claimed->size());
  std::set<std::string> ids;
  {
    MutexLock lock(&mu_);
    not_before_.reset();
    for (model::Job& j : *claimed) {
      ids.insert(j.id);
      // A job already running here (its lease looked run out: the wall clock stepped forward
      // past it before a renewal) is left to that run: never two runs of one job.
      if (running_jobs_.count(j.id) != 0) continue;
      // Ours until the lease ends; if the run's bookkeeping is lost, look again then.
      IndexLocked(j, NextLook(j));
      running_jobs_.insert(j.id);  // renewed from now on, and skipped by re-scans
      ready_.push_back(std::move(j));
    }
    if (!ready_.empty()) ArmRenewLocked();
    more_due_ = static_cast<int>(claimed->size()) == want;
    claiming_ = false;
  }
  work_cv_.SignalAll();
  if (static_cast<int>(claimed->size()) < want) RecheckStale(now, ids);
  MutexLock lock(&mu_);
  ArmLocked();
}

void Scheduler::Impl::ReleaseReady() {
  std::vector<std::string> ids;
  {
    MutexLock lock(&mu_);
    for (const model::Job& j : ready_) {
      ids.push_back(j.id);
      running_jobs_.erase(j.id);
    }
    ready_.clear();
  }
  if (ids.empty()) return;
  // A lease that ends now is free to claim now: another process (or the next start) takes
  // the jobs at once instead of when the lease runs out.
  auto released = store_.RenewLeases(options_.owner, ids, clock_.Now());
  if (!released.has_value()) {
    spdlog::warn("scheduler: cannot give up the leases of {} claimed jobs not run: {}", ids.size(),
                 released.error().ToString());
  }
}

int Scheduler::Impl::RunPass(int batch) {
  int ran = 0;
  // One `now` for the whole pass: a job rescheduled during the pass is due after it, so the
  // pass ends even when the clock stands still (FakeClock).
  const Time now = clock_.Now();
  ReleaseUnreleased(now);
  for (;;) {
    auto claimed = store_.ClaimDueJobs(now, options_.owner, clock_.Now() + options_.lease, batch);
    if (!claimed.has_value()) {
      spdlog::error("scheduler: cannot claim due jobs: {}", claimed.error().ToString());
      MutexLock lock(&mu_);
      not_before_ = clock_.Now() + kRecheckDelay;
      break;
    }
    ++claims_;
    claimed_ += static_cast<std::int64_t>(claimed->size());
    std::set<std::string> ids;
    std::vector<const model::Job*> to_run;
    {
      MutexLock lock(&mu_);
      not_before_.reset();
      for (const model::Job& j : *claimed) {
        ids.insert(j.id);
        // A job already running here (its lease looked run out: the wall clock stepped
        // forward past it before a renewal) is left to that run: never two runs of one job.
        if (running_jobs_.count(j.id) != 0) continue;
        // Ours until the lease ends; if the run's bookkeeping is lost, look again then.
        IndexLocked(j, NextLook(j));
        to_run.push_back(&j);
      }
    }
    for (const model::Job* j : to_run) {
      RunOne(*j);
      ++ran;
    }
    if (static_cast<int>(claimed->size()) < batch) {
      RecheckStale(now, ids);
      break;
    }
  }
  MutexLock lock(&mu_);
  ArmLocked();
  return ran;
}

void Scheduler::Impl::RunOne(const model::Job& job) {
  {
    MutexLock lock(&mu_);
    running_jobs_.insert(job.id);
    ArmRenewLocked();
  }
  JobOutcome outcome = runner_.Run(job);
  {
    // The bookkeeping below clears or deletes the lease; it needs no renewal.
    MutexLock lock(&mu_);
    running_jobs_.erase(job.id);
    if (running_jobs_.empty() && renew_armed_) {
      clock_.Cancel(renew_timer_);
      renew_armed_ = false;
    }
  }
  ++runs_;
  const Time now = clock_.Now();
  const std::string_view kind = model::JobKindName(job.kind);

  if (outcome.kind == JobOutcome::Kind::kDone) {
    // The runner may have deleted the job in its own transaction already: that is fine. When it
    // says so, there is nothing to delete.
    Status s = outcome.deleted ? OkStatus()
                               : Transact([&](store::Tx& tx) { return tx.DeleteJob(job.id); });
    if (!s.ok()) {
      spdlog::error(
          "scheduler: {} job {} done but not deleted ({}); it runs again once the store "
          "takes writes",
          kind, job.id, s.ToString());
      BookkeepingFailed(job);
      return;
    }
    // Which process finished which job: with several replicas the operator (and the HA test)
    // can tell who did the work.
    spdlog::info("scheduler: {} job {} (request {}) done by {}", kind, job.id, job.request_id,
                 options_.owner);
    MutexLock lock(&mu_);
    EraseLocked(job.id);
    return;
  }

  int attempts = job.attempts;
  Duration delay = std::max(outcome.delay, kMinDelay);
  if (outcome.kind == JobOutcome::Kind::kRetry) {
    ++retries_;
    delay = Backoff(job.kind, job.attempts);
    attempts = job.attempts + 1;
    bool lagging =
        job.kind == model::JobKind::kRevoke && job.first_due_at < now - options_.overdue_after;
    spdlog::log(lagging ? spdlog::level::err : spdlog::level::warn,
                "scheduler: {} job {} (request {}) failed, attempt {}: {}; retry in {} ms{}", kind,
                job.id, job.request_id, attempts, outcome.error, delay.count(),
                lagging ? " (revocation overdue)" : "");
  }

  bool gone = false;
  std::string other_owner;
  // Start from the stored version: the runner may have changed the job (payload) meanwhile.
  Status s = Transact([&](store::Tx& tx) -> Status {
    gone = false;
    other_owner.clear();
    JIT_ASSIGN_OR_RETURN(std::vector<model::Job> current, tx.JobsForRequest(job.request_id));
    auto it = std::find_if(current.begin(), current.end(),
                           [&](const model::Job& c) { return c.id == job.id; });
    if (it == current.end()) {
      gone = true;  // the runner finished it off itself: do not bring it back
      return OkStatus();
    }
    if (!it->lease_owner.empty() && it->lease_owner != options_.owner) {
      other_owner = it->lease_owner;  // our lease ran out and someone else runs it now
      return OkStatus();
    }
    model::Job next = *it;
    next.due_at = now + delay;
    next.attempts = attempts;
    next.lease_owner.clear();
    next.lease_until.reset();
    if (outcome.kind == JobOutcome::Kind::kRetry) next.last_error = outcome.error;
    return tx.PutJob(next);
  });
  if (!s.ok()) {
    spdlog::error(
        "scheduler: cannot reschedule {} job {} after {} ({}); it runs again once the "
        "store takes writes",
        kind, job.id, OutcomeName(outcome.kind), s.ToString());
    BookkeepingFailed(job);
    return;
  }
  if (gone) {
    spdlog::warn("scheduler: {} job {} asked for {} but is no longer stored", kind, job.id,
                 OutcomeName(outcome.kind));
    MutexLock lock(&mu_);
    EraseLocked(job.id);
  } else if (!other_owner.empty()) {
    spdlog::warn("scheduler: {} job {} outlived its lease; {} holds it now", kind, job.id,
                 other_owner);
  }
  // Otherwise PutJob's commit reached OnJobsCommitted, which re-indexed the job.
}

void Scheduler::Impl::BookkeepingFailed(const model::Job& job) {
  MutexLock lock(&mu_);
  unreleased_.insert(job.id);
  IndexLocked(job, clock_.Now() + kRecheckDelay);
  ArmLocked();
}

bool Scheduler::Impl::ReleaseUnreleased(Time now) {
  std::vector<std::string> ids;
  {
    MutexLock lock(&mu_);
    for (const std::string& id : unreleased_) {
      if (running_jobs_.count(id) == 0) ids.push_back(id);
    }
  }
  if (ids.empty()) return true;
  // A lease that ends `now` is free to claim at `now`: the claim that follows takes the job.
  auto released = store_.RenewLeases(options_.owner, ids, now);
  if (!released.has_value()) {
    spdlog::warn("scheduler: cannot give up the leases of {} jobs yet: {}", ids.size(),
                 released.error().ToString());
    return false;
  }
  MutexLock lock(&mu_);
  // Released, or no longer ours (deleted, or another owner's): either way nothing to give up.
  for (const std::string& id : ids) unreleased_.erase(id);
  return true;
}

void Scheduler::Impl::RecheckStale(Time now, const std::set<std::string>& claimed) {
  std::map<std::string, Time> stale;  // id -> index time seen
  {
    MutexLock lock(&mu_);
    for (auto it = by_due_.begin(); it != by_due_.end() && it->first <= now; ++it) {
      if (claimed.count(it->second) == 0) stale.emplace(it->second, it->first);
    }
  }
  if (stale.empty()) return;
  // Every stale entry's job was due by `now` (an index time is never before the due time):
  // if the store has it still due, this returns it; if not, it was deleted, or moved later by
  // another process (the re-scan brings it back when it comes near).
  auto jobs = store_.ListJobsDueBefore(now, kRecheckLimit);
  MutexLock lock(&mu_);
  if (!jobs.has_value()) {
    spdlog::error("scheduler: cannot list jobs: {}", jobs.error().ToString());
    not_before_ = clock_.Now() + kRecheckDelay;
    return;
  }
  std::unordered_map<std::string, const model::Job*> by_id;
  for (const model::Job& j : *jobs) by_id.emplace(j.id, &j);
  const Time earliest = clock_.Now() + kRecheckDelay;
  for (const auto& [id, seen] : stale) {
    auto e = jobs_.find(id);
    // Changed since we looked (a commit or another worker): the newer entry stands.
    if (e == jobs_.end() || e->second.pos->first != seen) continue;
    auto j = by_id.find(id);
    if (j == by_id.end()) {
      // Deleted by a transaction of the workflow (unless the read was cut short).
      if (static_cast<int>(jobs->size()) < kRecheckLimit) EraseLocked(id);
      continue;
    }
    IndexLocked(*j->second, std::max(NextLook(*j->second), earliest));
  }
}

Duration Scheduler::Impl::Backoff(model::JobKind kind, int attempts) {
  // min(max, base * 2^attempts), doubling step by step so that it cannot overflow.
  double ms = static_cast<double>(options_.base_backoff.count());
  const double max_ms = static_cast<double>(
      (kind == model::JobKind::kRevoke ? std::min(options_.max_backoff, options_.max_revoke_backoff)
                                       : options_.max_backoff)
          .count());
  for (int i = 0; i < attempts && ms < max_ms; ++i) ms *= 2;
  ms = std::min(ms, max_ms);
  double factor = 1.0;
  {
    MutexLock lock(&rng_mu_);
    factor = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  }
  return std::max(Duration(std::llround(ms * factor)), kMinDelay);
}

Scheduler::Scheduler(store::Store& store, JobRunner& runner, Clock& clock, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(store, runner, clock, std::move(options))) {}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Start() { return impl_->Start(this); }

void Scheduler::Stop() { impl_->Stop(); }

int Scheduler::RunDueJobs() { return impl_->RunDueJobs(); }

SchedulerStats Scheduler::Stats() const { return impl_->Stats(); }

void Scheduler::OnJobsCommitted(const std::vector<model::Job>& jobs) {
  impl_->OnJobsCommitted(jobs);
}

}  // namespace jit::scheduler
