#pragma once
// A mutex, its RAII lock and a condition variable that clang's -Wthread-safety can check
// (core/thread_annotations.h), after LevelDB's port::Mutex/port::CondVar and MutexLock.
//
//   mutable Mutex mu_;
//   int count_ GUARDED_BY(mu_) = 0;
//   void Add() EXCLUDES(mu_) { MutexLock lock(&mu_); ++count_; }
//
// Condition variables take the mutex they wait with; the caller holds it and loops on its
// condition, so that the condition is read under the lock in the caller's own code:
//
//   MutexLock lock(&mu_);
//   while (!ready_) cv_.Wait(mu_);

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/thread_annotations.h"

namespace jit {

// A non-recursive exclusive lock. Thread-safe.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Blocks until the calling thread holds the lock. REQUIRES: the caller does not hold it.
  void Lock() ACQUIRE() { mu_.lock(); }
  // REQUIRES: the calling thread holds the lock.
  void Unlock() RELEASE() { mu_.unlock(); }
  // Takes the lock if it is free and returns true; returns false at once otherwise.
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the lock is held where it cannot see it (std::mutex cannot check
  // ownership at run time, so this checks nothing).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `*mu` from construction to the end of the scope. Code inside the scope may release
// and re-take the mutex itself (mu->Unlock(); ...; mu->Lock();) as long as it holds it again
// when the scope ends.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable used with a jit::Mutex. Waits may wake spuriously: loop on the
// condition. Thread-safe.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases `mu`, blocks until notified (or spuriously woken), re-takes `mu`.
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // `mu` stays held, by the caller
  }
  // As Wait, but gives up at `deadline`. Returns false when it timed out, true when woken
  // before (which does not mean the caller's condition holds).
  template <class Clock, class Dur>
  bool WaitUntil(Mutex& mu, const std::chrono::time_point<Clock, Dur>& deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    lock.release();
    return status == std::cv_status::no_timeout;
  }
  // As WaitUntil, `timeout` from now (on the steady clock).
  template <class Rep, class Period>
  bool WaitFor(Mutex& mu, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_for(lock, timeout);
    lock.release();
    return status == std::cv_status::no_timeout;
  }

  // Wakes one (all) waiting threads. The caller may or may not hold the mutex.
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace jit
