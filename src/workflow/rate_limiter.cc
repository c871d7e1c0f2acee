#include "workflow/rate_limiter.h"

#include <algorithm>
#include <utility>

namespace jit::workflow {
namespace {

// Every this many acquisitions, keys whose times have all left the window are dropped, so that
// the map holds the recently active users only.
constexpr std::size_t kSweepEvery = 1024;

}  // namespace

SlidingWindowLimiter::SlidingWindowLimiter(Duration window) : window_(window) {}

void SlidingWindowLimiter::Trim(std::deque<MonoTime>& times, MonoTime now) const {
  while (!times.empty() && times.front() + window_ <= now) times.pop_front();
}

Admission SlidingWindowLimiter::TryAcquire(const std::string& key, int limit, MonoTime now) {
  if (limit <= 0) return {};
  MutexLock lock(&mu_);
  if (++acquired_since_sweep_ >= kSweepEvery) {
    acquired_since_sweep_ = 0;
    for (auto it = times_.begin(); it != times_.end();) {
      Trim(it->second, now);
      it = it->second.empty() ? times_.erase(it) : std::next(it);
    }
  }
  std::deque<MonoTime>& times = times_[key];
  Trim(times, now);
  auto held = static_cast<std::size_t>(limit);
  if (times.size() < held) {
    // Times are kept in order; a clock that stood still or a Release may leave equal ones.
    times.insert(std::upper_bound(times.begin(), times.end(), now), now);
    return {};
  }
  // One more fits once all but limit - 1 of them have left: the (size - limit)th oldest is the
  // last of those to go (after a reload that lowered the limit, more than one must go).
  MonoTime frees = times[times.size() - held] + window_;
  return {false, std::max(Duration(1), std::chrono::ceil<Duration>(frees - now))};
}

void SlidingWindowLimiter::Release(const std::string& key, MonoTime at) {
  MutexLock lock(&mu_);
  auto it = times_.find(key);
  if (it == times_.end()) return;
  auto found = std::find(it->second.begin(), it->second.end(), at);
  if (found != it->second.end()) it->second.erase(found);
}

std::size_t SlidingWindowLimiter::KeysForTesting() const {
  MutexLock lock(&mu_);
  return times_.size();
}

}  // namespace jit::workflow
