#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace jit::scheduler {

// What became of one run of a job.
struct JobOutcome {
  enum class Kind {
    kDone,        // finished (or gave up for good, having recorded why): delete the job
    kRetry,       // failed: run again after a jittered exponential back-off; attempts + 1
    kCheckAgain,  // waiting on something (an asynchronous operation): run again after `delay`
  };
  Kind kind = Kind::kDone;
  std::string error;  // for kRetry: why (kept as the job's last_error)
  Duration delay{0};  // for kCheckAgain
  // For kDone: the runner deleted the job in the transaction that finished its work, so the
  // scheduler has nothing to delete (one store transaction fewer per job). A job said deleted
  // that is still stored runs again once its lease runs out.
  bool deleted = false;

  static JobOutcome Done() { return {}; }
  static JobOutcome DoneAndDeleted() {
    JobOutcome o;
    o.deleted = true;
    return o;
  }
  static JobOutcome Retry(std::string why) { return {Kind::kRetry, std::move(why), Duration(0)}; }
  static JobOutcome CheckAgain(Duration d) { return {Kind::kCheckAgain, {}, d}; }
};

// Runs jobs of every kind; workflow/ implements it. Thread-safe: several jobs run at once,
// never two runs of one job.
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  virtual JobOutcome Run(const model::Job& job) = 0;
};

struct SchedulerOptions {
  // Worker threads. 0: jobs run on the thread that fires the clock's timer (with a FakeClock,
  // inside FakeClock::Advance) or that calls RunDueJobs: tests use this.
  int workers = 4;
  // Lease on a claimed job; another owner may run it once the lease has run out.
  Duration lease = Duration(5 * 60 * 1000);
  // Back-off after the n-th failure: min(max_backoff, base_backoff * 2^(n-1)), then a random
  // factor in [0.5, 1.0] (jitter).
  Duration base_backoff = Duration(1000);
  Duration max_backoff = Duration(5 * 60 * 1000);
  // Revocations back off to at most this: they are the one job that must not lag, and a long
  // back-off earned while the store or Identity Center was down would delay them that long
  // after it is back. At least base_backoff.
  Duration max_revoke_backoff = Duration(30 * 1000);
  // A revocation whose first due time is further past than this counts as overdue.
  Duration overdue_after = Duration(5000);
  // Name of this process in leases. With several processes on one store it must be unique
  // to each (main.cc: host, pid and a random part).
  std::string owner = "jit";
  // While a job runs, its lease is renewed this often, so that a long run keeps its job even
  // under a short lease. 0: lease / 3.
  Duration lease_renewal = Duration(0);
  // Several processes on one store (PostgreSQL). The JobListener hears only this process's
  // commits: every `rescan_interval` the scheduler also asks the store for the jobs due within
  // `rescan_horizon` (Store::ListJobsDueBefore, an indexed query) and indexes them, so that
  // jobs other processes put or moved, and jobs a dead process held when its lease ran out,
  // run on time here. Every `full_rescan_every`-th re-scan lists every job instead (pending
  // counts, jobs deleted far ahead). 0 (the default): off, for a store this process owns alone
  // (SQLite).
  Duration rescan_interval = Duration(0);
  Duration rescan_horizon = Duration(10'000);
  int full_rescan_every = 60;

  Status Validate() const;
};

struct SchedulerStats {
  std::map<model::JobKind, std::int64_t> pending;  // jobs waiting, by kind
  std::int64_t overdue_revocations = 0;
  std::int64_t runs = 0;         // job runs so far
  std::int64_t claims = 0;       // Store::ClaimDueJobs calls that succeeded
  std::int64_t claimed = 0;      // jobs they returned (claimed / claims: the batch size)
  std::int64_t retries = 0;      // runs that ended in kRetry
  std::int64_t rescans = 0;      // re-scans of the store that succeeded
  std::int64_t renewals = 0;     // leases renewed while their job ran
  std::int64_t lost_leases = 0;  // running jobs whose lease another owner had taken
};

// Runs due jobs on time. Keeps an in-memory index of due times that mirrors the store's jobs
// (filled at Start, updated through JobListener after every commit and, with several
// processes, by the periodic re-scan) and arms one clock timer for the earliest; when it
// fires, due jobs are claimed from the store (revocations first, oldest first) and run: with
// workers, one claim takes a job for each free worker, and claims follow each other while
// they come back full. Jobs that are overdue at Start run at once. While a job runs its lease
// is renewed. Retries never give up on their own: the runner decides when a job is done for
// good. Store I/O never runs on the
// clock's timer thread when workers > 0 (re-scans and renewals have a thread of their own).
// Thread-safe.
class Scheduler final : public store::JobListener {
 public:
  Scheduler(store::Store& store, JobRunner& runner, Clock& clock, SchedulerOptions options);
  ~Scheduler() override;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Loads every job from the store, registers as the store's JobListener, starts the workers
  // and arms the timer. Errors from the store.
  Status Start();
  // Stops the workers after the jobs they are running; jobs not run stay in the store.
  void Stop();

  // Claims and runs every job due now on the calling thread; returns how many ran.
  int RunDueJobs();

  SchedulerStats Stats() const;

  void OnJobsCommitted(const std::vector<model::Job>& jobs) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::scheduler
