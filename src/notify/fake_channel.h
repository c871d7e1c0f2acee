#pragma once
// A Channel for tests (header-only; the lead's workflow tests use it too): records
// what it is sent, counts calls, and fails on demand.

#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "notify/notify.h"

namespace jit::notify {

// Thread-safe.
class FakeChannel final : public Channel {
 public:
  explicit FakeChannel(std::string name, Filter filter = {})
      : name_(std::move(name)), filter_(std::move(filter)) {}

  const std::string& name() const override { return name_; }
  bool Wants(const Message& m) const override {
    MutexLock lock(&mu_);
    return filter_.Matches(m.event);
  }
  // Counts the call; when failing, returns the fail status and records nothing else.
  Status Send(const Message& m) override {
    MutexLock lock(&mu_);
    ++calls_;
    if (fail_times_ != 0) {
      if (fail_times_ > 0) --fail_times_;
      return fail_status_;
    }
    sent_.push_back(m);
    return OkStatus();
  }

  // The next `times` sends (-1: every send until cleared) return `s`. REQUIRES: !s.ok().
  void FailNext(int times, Status s = UnavailableError("fake channel down")) {
    MutexLock lock(&mu_);
    fail_times_ = times;
    fail_status_ = std::move(s);
  }
  void StopFailing() { FailNext(0); }
  void SetFilter(Filter f) {
    MutexLock lock(&mu_);
    filter_ = std::move(f);
  }

  // Send calls so far, failed ones included.
  int calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }
  // The messages delivered (not the failed attempts), oldest first.
  std::vector<Message> sent() const {
    MutexLock lock(&mu_);
    return sent_;
  }

 private:
  const std::string name_;
  mutable Mutex mu_;
  Filter filter_ GUARDED_BY(mu_);
  int calls_ GUARDED_BY(mu_) = 0;
  int fail_times_ GUARDED_BY(mu_) = 0;
  Status fail_status_ GUARDED_BY(mu_);
  std::vector<Message> sent_ GUARDED_BY(mu_);
};

}  // namespace jit::notify
