#include "core/periodic.h"

#include <utility>

#include "core/check.h"

namespace jit {

PeriodicTask::PeriodicTask(Clock& clock, Duration interval, std::function<void()> fn)
    : clock_(clock), interval_(interval), fn_(std::move(fn)), signal_(std::make_shared<Signal>()) {
  JIT_CHECK(interval_.count() > 0);
}

PeriodicTask::~PeriodicTask() { Stop(); }

Status PeriodicTask::Start() {
  std::lock_guard<std::mutex> lock(signal_->mu);
  if (signal_->started) return FailedPreconditionError("started already");
  signal_->started = true;
  signal_->due = true;  // once at start
  thread_ = std::thread([this] { Loop(); });
  return OkStatus();
}

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(signal_->mu);
    signal_->stop = true;
    if (signal_->timer != 0) clock_.Cancel(signal_->timer);
    signal_->timer = 0;
  }
  signal_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::int64_t PeriodicTask::runs() const {
  std::lock_guard<std::mutex> lock(signal_->mu);
  return signal_->runs;
}

void PeriodicTask::Arm() {
  std::weak_ptr<Signal> weak = signal_;
  TimerId timer = clock_.ScheduleAt(clock_.Now() + interval_, [weak] {
    if (auto sig = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock(sig->mu);
        sig->due = true;
        sig->timer = 0;
      }
      sig->cv.notify_all();
    }
  });
  std::lock_guard<std::mutex> lock(signal_->mu);
  if (signal_->stop) {
    clock_.Cancel(timer);
    return;
  }
  signal_->timer = timer;
}

void PeriodicTask::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(signal_->mu);
      signal_->cv.wait(lock, [&] { return signal_->due || signal_->stop; });
      if (signal_->stop) return;
      signal_->due = false;
    }
    fn_();
    // Arm the next run before counting this one, so that a test that saw the count can move
    // the clock on and rely on the timer being there.
    Arm();
    {
      std::lock_guard<std::mutex> lock(signal_->mu);
      ++signal_->runs;
    }
    signal_->cv.notify_all();
  }
}

}  // namespace jit
