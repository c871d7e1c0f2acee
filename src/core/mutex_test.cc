#include "core/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace jit {
namespace {

// The analysis itself is checked by the clang build (-Wthread-safety with -Werror): to see it
// fail, drop the MutexLock from Counter::Add below and build with clang; the compiler reports
// "writing variable 'count_' requires holding mutex 'mu_' exclusively".
class Counter {
 public:
  void Add() EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    ++count_;
  }
  int count() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return count_;
  }

 private:
  mutable Mutex mu_;
  int count_ GUARDED_BY(mu_) = 0;
};

// Whether another thread finds `mu` free (it takes and releases it if so).
bool FreeForAnotherThread(Mutex& mu) {
  bool free = false;
  std::thread other([&] {
    if (mu.TryLock()) {
      free = true;
      mu.Unlock();
    }
  });
  other.join();
  return free;
}

TEST(Mutex, SerializesWritersSoNoIncrementIsLost) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&counter] {
      for (int i = 0; i < 10000; ++i) counter.Add();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.count(), 40000);
}

TEST(Mutex, TryLockFailsWhileHeldAndSucceedsOnceReleased) {
  Mutex mu;
  mu.Lock();
  EXPECT_FALSE(FreeForAnotherThread(mu));
  mu.Unlock();
  EXPECT_TRUE(FreeForAnotherThread(mu));
  if (mu.TryLock()) {
    mu.AssertHeld();
    mu.Unlock();
  } else {
    ADD_FAILURE() << "TryLock failed on a free mutex";
  }
}

TEST(Mutex, MutexLockReleasesAtEndOfScopeAndMayBeDroppedInside) {
  Mutex mu;
  {
    MutexLock lock(&mu);
    EXPECT_FALSE(FreeForAnotherThread(mu));
    mu.Unlock();
    EXPECT_TRUE(FreeForAnotherThread(mu));  // free while dropped
    mu.Lock();
    EXPECT_FALSE(FreeForAnotherThread(mu));
  }
  EXPECT_TRUE(FreeForAnotherThread(mu));  // free after the scope
}

TEST(CondVar, WaitWakesWhenAnotherThreadSignals) {
  Mutex mu;
  CondVar cv;
  bool ready = false;  // guarded by mu (a local cannot carry the annotation)
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    MutexLock lock(&mu);
    ready = true;
    cv.SignalAll();
  });
  {
    MutexLock lock(&mu);
    while (!ready) cv.Wait(mu);
    EXPECT_TRUE(ready);
  }
  producer.join();
}

TEST(CondVar, TimedWaitsReturnFalseWhenNobodySignals) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cv.WaitFor(mu, std::chrono::milliseconds(20)));
  EXPECT_FALSE(cv.WaitUntil(mu, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
  EXPECT_FALSE(FreeForAnotherThread(mu));  // the waits hand the mutex back held
}

TEST(CondVar, TimedWaitReturnsTrueWhenSignalledInTime) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread producer([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.Signal();
  });
  bool woken = true;
  {
    MutexLock lock(&mu);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ready && woken) woken = cv.WaitUntil(mu, deadline);
  }
  producer.join();
  EXPECT_TRUE(woken);
  EXPECT_TRUE(ready);
}

}  // namespace
}  // namespace jit
