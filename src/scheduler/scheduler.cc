#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/result.h"

namespace jit::scheduler {
namespace {

// Jobs claimed at a time by RunDueJobs (workers == 0) and by each worker. A worker takes one
// at a time so that a revocation due later is not stuck behind a slow batch.
constexpr int kInlineBatch = 16;
constexpr int kWorkerBatch = 1;
// After the store failed, or when the index says a job is due but the store will not hand it
// out, look again no sooner than this: a store outage must not become a busy loop.
constexpr Duration kRecheckDelay = Duration(1000);
// A job rescheduled "now" would be claimable again in the same pass; the smallest delay.
constexpr Duration kMinDelay = Duration(1);

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
  if (overdue_after < Duration(0))
    return InvalidArgumentError("overdue_after must not be negative");
  if (owner.empty()) return InvalidArgumentError("owner must not be empty");
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
  int RunDueJobs() { return RunPass(kInlineBatch, /*stop_aware=*/false); }
  SchedulerStats Stats() const;
  void OnJobsCommitted(const std::vector<store::Job>& jobs);

 private:
  using DueIndex = std::multimap<Time, std::string>;
  struct Entry {
    store::JobKind kind = store::JobKind::kGrant;
    Time first_due_at;
    DueIndex::iterator pos;  // into by_due_; its key is when to look at the job next
  };

  // Lets a timer callback that the clock has already taken off its queue find out that the
  // scheduler has stopped (and may be gone) and keeps Stop waiting while one is running. Shared
  // with the callbacks so that it outlives the Impl.
  struct TimerGate {
    std::mutex mu;
    std::condition_variable cv;
    Impl* impl = nullptr;  // GUARDED_BY(mu); nullptr once stopped
    int active = 0;        // GUARDED_BY(mu); callbacks inside impl
  };

  // When to look at a job next: its due time, or the end of a lease someone else holds.
  static Time NextLook(const store::Job& j) {
    Time next = j.due_at;
    if (!j.lease_owner.empty() && j.lease_until.has_value() && *j.lease_until > next) {
      next = *j.lease_until;
    }
    return next;
  }

  void IndexLocked(const std::string& id, store::JobKind kind, Time first_due_at, Time next);
  void EraseLocked(const std::string& id);
  // Arms the clock timer for the earliest entry unless one is armed at or before it.
  void ArmLocked();
  void OnTimer(std::uint64_t generation);
  void WorkerLoop();
  // Claims and runs due jobs until none is left; returns how many ran. Re-arms the timer.
  int RunPass(int batch, bool stop_aware);
  void RunOne(const store::Job& job);
  // Index entries that were due but not claimed: deleted behind our back, or leased by
  // someone else. Looks them up in the store and drops or moves them.
  void RecheckStale(Time now, const std::set<std::string>& claimed);
  Duration Backoff(int attempts);
  bool Stopping() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

  store::Store& store_;
  JobRunner& runner_;
  Clock& clock_;
  const SchedulerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;              // signalled with mu_ when work_gen_ moves
  DueIndex by_due_;                              // GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry> jobs_;  // GUARDED_BY(mu_)
  bool running_ = false;                         // GUARDED_BY(mu_)
  bool stopping_ = false;                        // GUARDED_BY(mu_)
  bool timer_armed_ = false;                     // GUARDED_BY(mu_)
  TimerId timer_id_ = 0;                         // GUARDED_BY(mu_)
  Time timer_at_;                                // GUARDED_BY(mu_)
  std::uint64_t timer_gen_ = 0;                  // GUARDED_BY(mu_)
  std::optional<Time> not_before_;               // GUARDED_BY(mu_); set while the store fails
  std::uint64_t work_gen_ = 0;                   // GUARDED_BY(mu_)
  std::shared_ptr<TimerGate> gate_;              // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;             // touched by Start/Stop only

  std::atomic<std::int64_t> runs_{0};
  std::atomic<std::int64_t> retries_{0};

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(rng_mu_)
};

Status Scheduler::Impl::Start(store::JobListener* listener) {
  if (Status s = options_.Validate(); !s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ || !workers_.empty()) return FailedPreconditionError("scheduler already started");
    by_due_.clear();
    jobs_.clear();
    running_ = true;
    stopping_ = false;
    not_before_.reset();
    gate_ = std::make_shared<TimerGate>();
    gate_->impl = this;
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
    std::lock_guard<std::mutex> lock(mu_);
    for (const store::Job& j : *jobs) {
      if (jobs_.count(j.id) == 0) IndexLocked(j.id, j.kind, j.first_due_at, NextLook(j));
    }
    spdlog::info("scheduler: started with {} jobs, {} workers", jobs_.size(), options_.workers);
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  std::lock_guard<std::mutex> lock(mu_);
  ArmLocked();
  return OkStatus();
}

void Scheduler::Impl::Stop() {
  std::shared_ptr<TimerGate> gate;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ && workers_.empty()) return;
  }
  store_.SetJobListener(nullptr);  // not under mu_: the store holds its lock while calling us
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
    stopping_ = true;
    if (timer_armed_) clock_.Cancel(timer_id_);
    timer_armed_ = false;
    ++timer_gen_;
    gate = std::move(gate_);
  }
  work_cv_.notify_all();
  if (gate != nullptr) {
    // A callback already taken off the clock's queue may still be running (with workers == 0,
    // a whole pass): wait for it, and make any later one a no-op.
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->impl = nullptr;
    gate->cv.wait(lock, [&] { return gate->active == 0; });
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

SchedulerStats Scheduler::Impl::Stats() const {
  SchedulerStats stats;
  for (store::JobKind k : {store::JobKind::kGrant, store::JobKind::kRevoke,
                           store::JobKind::kApprovalTimeout, store::JobKind::kNotify}) {
    stats.pending[k] = 0;
  }
  Time overdue_before = clock_.Now() - options_.overdue_after;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, e] : jobs_) {
      ++stats.pending[e.kind];
      if (e.kind == store::JobKind::kRevoke && e.first_due_at < overdue_before) {
        ++stats.overdue_revocations;
      }
    }
  }
  stats.runs = runs_.load();
  stats.retries = retries_.load();
  return stats;
}

void Scheduler::Impl::OnJobsCommitted(const std::vector<store::Job>& jobs) {
  // Called on the store's committing thread: only the index and the timer, nothing that waits.
  std::lock_guard<std::mutex> lock(mu_);
  for (const store::Job& j : jobs) IndexLocked(j.id, j.kind, j.first_due_at, NextLook(j));
  ArmLocked();
}

void Scheduler::Impl::IndexLocked(const std::string& id, store::JobKind kind, Time first_due_at,
                                  Time next) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    jobs_.emplace(id, Entry{kind, first_due_at, by_due_.emplace(next, id)});
    return;
  }
  by_due_.erase(it->second.pos);
  it->second.kind = kind;
  it->second.first_due_at = first_due_at;
  it->second.pos = by_due_.emplace(next, id);
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
  // The clock takes only its own lock here and never calls back under it, so holding mu_ is
  // safe; a callback that fires at once waits for mu_ and then sees this generation.
  timer_id_ = clock_.ScheduleAt(at, [gate = gate_, generation] {
    Impl* impl = nullptr;
    {
      std::lock_guard<std::mutex> lock(gate->mu);
      if (gate->impl == nullptr) return;
      impl = gate->impl;  // stays valid: Stop waits until active is back to 0
      ++gate->active;
    }
    impl->OnTimer(generation);
    {
      std::lock_guard<std::mutex> lock(gate->mu);
      --gate->active;
    }
    gate->cv.notify_all();
  });
}

void Scheduler::Impl::OnTimer(std::uint64_t generation) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A timer replaced by an earlier one may fire anyway if the clock had already taken it.
    if (generation != timer_gen_ || !running_) return;
    timer_armed_ = false;
    if (options_.workers > 0) {
      ++work_gen_;
      work_cv_.notify_all();
      return;
    }
  }
  RunPass(kInlineBatch, /*stop_aware=*/false);
}

void Scheduler::Impl::WorkerLoop() {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || work_gen_ != seen; });
      if (stopping_) return;
      seen = work_gen_;
    }
    RunPass(kWorkerBatch, /*stop_aware=*/true);
  }
}

int Scheduler::Impl::RunPass(int batch, bool stop_aware) {
  int ran = 0;
  // One `now` for the whole pass: a job rescheduled during the pass is due after it, so the
  // pass ends even when the clock stands still (FakeClock).
  const Time now = clock_.Now();
  for (;;) {
    if (stop_aware && Stopping()) break;
    auto claimed = store_.ClaimDueJobs(now, options_.owner, clock_.Now() + options_.lease, batch);
    if (!claimed.has_value()) {
      spdlog::error("scheduler: cannot claim due jobs: {}", claimed.error().ToString());
      std::lock_guard<std::mutex> lock(mu_);
      not_before_ = clock_.Now() + kRecheckDelay;
      break;
    }
    std::set<std::string> ids;
    {
      std::lock_guard<std::mutex> lock(mu_);
      not_before_.reset();
      for (const store::Job& j : *claimed) {
        ids.insert(j.id);
        // Ours until the lease ends; if the run's bookkeeping is lost, look again then.
        IndexLocked(j.id, j.kind, j.first_due_at, NextLook(j));
      }
    }
    for (const store::Job& j : *claimed) {
      RunOne(j);
      ++ran;
    }
    if (static_cast<int>(claimed->size()) < batch) {
      RecheckStale(now, ids);
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  ArmLocked();
  return ran;
}

void Scheduler::Impl::RunOne(const store::Job& job) {
  JobOutcome outcome = runner_.Run(job);
  ++runs_;
  const Time now = clock_.Now();
  const std::string_view kind = store::JobKindName(job.kind);

  if (outcome.kind == JobOutcome::Kind::kDone) {
    // The runner may have deleted the job in its own transaction already: that is fine.
    Status s = store_.Transact([&](store::Tx& tx) { return tx.DeleteJob(job.id); });
    if (!s.ok()) {
      spdlog::error(
          "scheduler: {} job {} done but not deleted ({}); it runs again when its lease "
          "ends",
          kind, job.id, s.ToString());
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    EraseLocked(job.id);
    return;
  }

  int attempts = job.attempts;
  Duration delay = std::max(outcome.delay, kMinDelay);
  if (outcome.kind == JobOutcome::Kind::kRetry) {
    ++retries_;
    delay = Backoff(job.attempts);
    attempts = job.attempts + 1;
    bool lagging =
        job.kind == store::JobKind::kRevoke && job.first_due_at < now - options_.overdue_after;
    spdlog::log(lagging ? spdlog::level::err : spdlog::level::warn,
                "scheduler: {} job {} (request {}) failed, attempt {}: {}; retry in {} ms{}", kind,
                job.id, job.request_id, attempts, outcome.error, delay.count(),
                lagging ? " (revocation overdue)" : "");
  }

  bool gone = false;
  std::string other_owner;
  // Start from the stored version: the runner may have changed the job (payload) meanwhile.
  Status s = store_.Transact([&](store::Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::vector<store::Job> current, tx.JobsForRequest(job.request_id));
    auto it = std::find_if(current.begin(), current.end(),
                           [&](const store::Job& c) { return c.id == job.id; });
    if (it == current.end()) {
      gone = true;  // the runner finished it off itself: do not bring it back
      return OkStatus();
    }
    if (!it->lease_owner.empty() && it->lease_owner != options_.owner) {
      other_owner = it->lease_owner;  // our lease ran out and someone else runs it now
      return OkStatus();
    }
    store::Job next = *it;
    next.due_at = now + delay;
    next.attempts = attempts;
    next.lease_owner.clear();
    next.lease_until.reset();
    if (outcome.kind == JobOutcome::Kind::kRetry) next.last_error = outcome.error;
    return tx.PutJob(next);
  });
  if (!s.ok()) {
    spdlog::error(
        "scheduler: cannot reschedule {} job {} after {} ({}); it runs again when its "
        "lease ends",
        kind, job.id, OutcomeName(outcome.kind), s.ToString());
    return;
  }
  if (gone) {
    spdlog::warn("scheduler: {} job {} asked for {} but is no longer stored", kind, job.id,
                 OutcomeName(outcome.kind));
    std::lock_guard<std::mutex> lock(mu_);
    EraseLocked(job.id);
  } else if (!other_owner.empty()) {
    spdlog::warn("scheduler: {} job {} outlived its lease; {} holds it now", kind, job.id,
                 other_owner);
  }
  // Otherwise PutJob's commit reached OnJobsCommitted, which re-indexed the job.
}

void Scheduler::Impl::RecheckStale(Time now, const std::set<std::string>& claimed) {
  std::map<std::string, Time> stale;  // id -> index time seen
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = by_due_.begin(); it != by_due_.end() && it->first <= now; ++it) {
      if (claimed.count(it->second) == 0) stale.emplace(it->second, it->first);
    }
  }
  if (stale.empty()) return;
  auto jobs = store_.ListJobs();
  std::lock_guard<std::mutex> lock(mu_);
  if (!jobs.has_value()) {
    spdlog::error("scheduler: cannot list jobs: {}", jobs.error().ToString());
    not_before_ = clock_.Now() + kRecheckDelay;
    return;
  }
  std::unordered_map<std::string, const store::Job*> by_id;
  for (const store::Job& j : *jobs) by_id.emplace(j.id, &j);
  const Time earliest = clock_.Now() + kRecheckDelay;
  for (const auto& [id, seen] : stale) {
    auto e = jobs_.find(id);
    // Changed since we looked (a commit or another worker): the newer entry stands.
    if (e == jobs_.end() || e->second.pos->first != seen) continue;
    auto j = by_id.find(id);
    if (j == by_id.end()) {
      EraseLocked(id);  // deleted by a transaction of the workflow
      continue;
    }
    IndexLocked(id, j->second->kind, j->second->first_due_at,
                std::max(NextLook(*j->second), earliest));
  }
}

Duration Scheduler::Impl::Backoff(int attempts) {
  // min(max, base * 2^attempts), doubling step by step so that it cannot overflow.
  double ms = static_cast<double>(options_.base_backoff.count());
  const double max_ms = static_cast<double>(options_.max_backoff.count());
  for (int i = 0; i < attempts && ms < max_ms; ++i) ms *= 2;
  ms = std::min(ms, max_ms);
  double factor = 1.0;
  {
    std::lock_guard<std::mutex> lock(rng_mu_);
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

void Scheduler::OnJobsCommitted(const std::vector<store::Job>& jobs) {
  impl_->OnJobsCommitted(jobs);
}

}  // namespace jit::scheduler
