#pragma once
// A value that is replaced as a whole while others read it: readers take a snapshot that stays
// valid, unchanged, for as long as they hold it. Used for the config in force (a reload swaps it).

#include <memory>
#include <utility>

#include "core/mutex.h"

namespace jit {

// Thread-safe: Get and Set may be called from any thread at once.
template <typename T>
class Snapshot {
 public:
  explicit Snapshot(T value) : value_(std::make_shared<const T>(std::move(value))) {}

  // The value in force; never null.
  std::shared_ptr<const T> Get() const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return value_;
  }
  // Replaces the value; snapshots taken before keep the old one.
  void Set(T value) EXCLUDES(mu_) {
    auto next = std::make_shared<const T>(std::move(value));
    MutexLock lock(&mu_);
    value_ = std::move(next);
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const T> value_ GUARDED_BY(mu_);
};

}  // namespace jit
