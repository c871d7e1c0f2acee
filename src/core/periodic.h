#pragma once
// Runs a function on a thread of its own: at start, then every `interval` of a Clock. The
// function may block (store reads, provider calls); the clock's timer only wakes the thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/status.h"

namespace jit {

class PeriodicTask {
 public:
  // `clock` must outlive the task. REQUIRES: interval > 0.
  PeriodicTask(Clock& clock, Duration interval, std::function<void()> fn);
  // Stops it if running.
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Runs `fn` now on the task's thread, then `interval` after each run ends.
  // FailedPrecondition when started already.
  Status Start();
  // Waits for a run under way to finish; no run starts after. Idempotent.
  void Stop();
  // Asks for a run as soon as the thread is free (one more after a run under way), instead of
  // at the armed time; the next run is then armed `interval` after it. Nothing before Start
  // or after Stop. Thread-safe.
  void RunSoon();
  // Runs completed so far (for tests: a test that saw the count may move the clock on and rely
  // on the next timer being armed).
  std::int64_t runs() const;

 private:
  void Loop();
  void Arm();

  Clock& clock_;
  const Duration interval_;
  const std::function<void()> fn_;

  // What the thread waits on, shared with the clock's timers (one may fire while the task is
  // being destroyed).
  struct Signal {
    Mutex mu;
    CondVar cv;
    bool started GUARDED_BY(mu) = false;
    bool stop GUARDED_BY(mu) = false;
    bool due GUARDED_BY(mu) = false;
    TimerId timer GUARDED_BY(mu) = 0;
    std::int64_t runs GUARDED_BY(mu) = 0;
  };
  std::shared_ptr<Signal> signal_;
  std::thread thread_;
};

}  // namespace jit
