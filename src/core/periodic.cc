#include "core/periodic.h"

#include <utility>

#include "core/check.h"
#include "core/mutex.h"

namespace jit {

PeriodicTask::PeriodicTask(Clock& clock, Duration interval, std::function<void()> fn)
    : clock_(clock), interval_(interval), fn_(std::move(fn)), signal_(std::make_shared<Signal>()) {
  JIT_CHECK(interval_.count() > 0);
}

PeriodicTask::~PeriodicTask() { Stop(); }

Status PeriodicTask::Start() {
  MutexLock lock(&signal_->mu);
  if (signal_->started) return FailedPreconditionError("started already");
  signal_->started = true;
  signal_->due = true;  // once at start
  thread_ = std::thread([this] { Loop(); });
  return OkStatus();
}

void PeriodicTask::Stop() {
  {
    MutexLock lock(&signal_->mu);
    signal_->stop = true;
    if (signal_->timer != 0) clock_.Cancel(signal_->timer);
    signal_->timer = 0;
  }
  signal_->cv.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::RunSoon() {
  {
    MutexLock lock(&signal_->mu);
    if (!signal_->started || signal_->stop) return;
    if (signal_->timer != 0) clock_.Cancel(signal_->timer);
    signal_->timer = 0;
    signal_->due = true;
  }
  signal_->cv.SignalAll();
}

std::int64_t PeriodicTask::runs() const {
  MutexLock lock(&signal_->mu);
  return signal_->runs;
}

void PeriodicTask::Arm() {
  std::weak_ptr<Signal> weak = signal_;
  TimerId timer = clock_.ScheduleAt(clock_.Now() + interval_, [weak] {
    if (auto sig = weak.lock()) {
      {
        MutexLock lock(&sig->mu);
        sig->due = true;
        sig->timer = 0;
      }
      sig->cv.SignalAll();
    }
  });
  MutexLock lock(&signal_->mu);
  if (signal_->stop || signal_->due) {  // stopping, or RunSoon asked during the run: the next
    clock_.Cancel(timer);               // run arms its own timer
    return;
  }
  signal_->timer = timer;
}

void PeriodicTask::Loop() {
  for (;;) {
    {
      MutexLock lock(&signal_->mu);
      while (!signal_->due && !signal_->stop) signal_->cv.Wait(signal_->mu);
      if (signal_->stop) return;
      signal_->due = false;
    }
    fn_();
    // Arm the next run before counting this one, so that a test that saw the count can move
    // the clock on and rely on the timer being there.
    Arm();
    {
      MutexLock lock(&signal_->mu);
      ++signal_->runs;
    }
    signal_->cv.SignalAll();
  }
}

}  // namespace jit
