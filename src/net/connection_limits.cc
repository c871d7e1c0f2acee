#include "net/connection_limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace jit::net {
namespace {

std::uint64_t FromRlim(rlim_t v) {
  if (v == RLIM_INFINITY) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(v);
}

Status ErrnoError(const char* what) {
  int err = errno;
  return InternalError(std::string(what) + ": " + std::strerror(err));
}

}  // namespace

Result<FileLimit> CurrentFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return ErrnoError("getrlimit(RLIMIT_NOFILE)");
  return FileLimit{FromRlim(rl.rlim_cur), FromRlim(rl.rlim_max)};
}

Result<RaisedFileLimit> RaiseSoftFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return ErrnoError("getrlimit(RLIMIT_NOFILE)");
  RaisedFileLimit out;
  out.before = FileLimit{FromRlim(rl.rlim_cur), FromRlim(rl.rlim_max)};
  out.after = out.before;
  if (rl.rlim_cur == rl.rlim_max) return out;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return ErrnoError("setrlimit(RLIMIT_NOFILE)");
  out.after.soft = out.after.hard;
  return out;
}

std::uint64_t ReservedDescriptors(std::uint64_t soft_limit) {
  return std::max<std::uint64_t>(64, soft_limit / 4);
}

ConnectionCap ChooseMaxConnections(std::optional<int> configured, std::uint64_t soft_limit) {
  std::uint64_t reserve = ReservedDescriptors(soft_limit);
  std::uint64_t allowed = soft_limit > reserve ? soft_limit - reserve : 1;
  ConnectionCap cap;
  if (configured.has_value() && *configured > 0) {
    if (static_cast<std::uint64_t>(*configured) <= allowed) {
      cap.max_connections = *configured;
      return cap;
    }
    // `allowed` < configured, an int.
    cap.max_connections = static_cast<int>(allowed);
    cap.warning = "server.max_connections " + std::to_string(*configured) +
                  " is more than the open-file limit allows (" + std::to_string(soft_limit) +
                  " files, " + std::to_string(reserve) +
                  " of them kept for the broker's own calls, store and logs): lowered to " +
                  std::to_string(allowed) + "; raise the limit (LimitNOFILE=, ulimit -n) instead";
    return cap;
  }
  cap.max_connections = static_cast<int>(
      std::min<std::uint64_t>(allowed, static_cast<std::uint64_t>(kDefaultMaxConnectionsCeiling)));
  return cap;
}

std::optional<std::uint64_t> LogThrottle::Hit(MonoTime now) {
  ++held_back_;
  return Flush(now);
}

std::optional<std::uint64_t> LogThrottle::Flush(MonoTime now) {
  if (held_back_ == 0) return std::nullopt;
  if (last_line_.has_value() && now - *last_line_ < interval_) return std::nullopt;
  last_line_ = now;
  std::uint64_t n = held_back_;
  held_back_ = 0;
  return n;
}

AcceptBackoff::Step AcceptBackoff::OnFailure(MonoTime now) {
  next_wait_ =
      next_wait_ == Duration::zero() ? options_.first : std::min(next_wait_ * 2, options_.max);
  Step step;
  step.wait = next_wait_;
  step.log_failures = log_.Hit(now);
  return step;
}

std::optional<std::uint64_t> AcceptBackoff::OnSuccess(MonoTime now) {
  next_wait_ = Duration::zero();
  return log_.Flush(now);
}

}  // namespace jit::net
