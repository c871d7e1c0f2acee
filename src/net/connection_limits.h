#pragma once
// What bounds the connections a server holds (issue 15, "a connection flood delays
// revocations"): the process's open-file limit, the share of it that connections may take, the
// back-off between failed accepts, and log lines that a flood cannot multiply.

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace jit::net {

// The process's RLIMIT_NOFILE. RLIM_INFINITY reads as UINT64_MAX.
struct FileLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// The current limit. Internal when getrlimit fails (it does not on Linux).
Result<FileLimit> CurrentFileLimit();

// Raises the soft limit to the hard limit (a no-op when they are equal) and returns the limit
// before and after. Internal when getrlimit or setrlimit fails; the limit is then unchanged.
// Affects the whole process: call it once at start, before threads open files.
struct RaisedFileLimit {
  FileLimit before;
  FileLimit after;
};
Result<RaisedFileLimit> RaiseSoftFileLimit();

// Descriptors that a server's connections must leave to the rest of the process (its own
// outbound calls, the store's files, logs): a quarter of the soft limit, at least 64.
std::uint64_t ReservedDescriptors(std::uint64_t soft_limit);

// The default cap when the process's soft limit is unlimited or very large: enough for any
// broker's clients, small enough that idle sessions cannot take much memory.
inline constexpr int kDefaultMaxConnectionsCeiling = 16384;

struct ConnectionCap {
  int max_connections = 0;  // > 0
  // Set when a configured value was lowered to what the limit allows, saying so.
  std::string warning;
};

// The cap on open connections for a process whose soft file limit is `soft_limit`:
// `configured` (> 0) when the limit allows it, else soft_limit - ReservedDescriptors (at least
// 1) with a warning; no `configured` (nullopt or 0): soft_limit - ReservedDescriptors, at most
// kDefaultMaxConnectionsCeiling and at least 1.
ConnectionCap ChooseMaxConnections(std::optional<int> configured, std::uint64_t soft_limit);

// Lets one line through, then at most one per `interval`, each with how many events it stands
// for (itself and those held back since the line before). For warnings that a flood could
// repeat thousands of times a second. Not thread-safe: one owner thread, or a lock around it.
class LogThrottle {
 public:
  explicit LogThrottle(Duration interval) : interval_(interval) {}

  // One event at `now`. Returns the number of events to report (>= 1) when a line is due now,
  // nullopt when this one is held back.
  std::optional<std::uint64_t> Hit(MonoTime now);
  // No new event: returns the events held back (>= 1) when there are some and a line is due
  // now, nullopt otherwise.
  std::optional<std::uint64_t> Flush(MonoTime now);

 private:
  Duration interval_;
  std::optional<MonoTime> last_line_;
  std::uint64_t held_back_ = 0;
};

// How long to wait after a failed accept before trying again: `first`, doubling with each
// failure in a row up to `max`, back to `first` after a success. A failing accept (out of file
// descriptors) would otherwise be retried in a busy loop, each try logged. Not thread-safe.
class AcceptBackoff {
 public:
  struct Options {
    Duration first = Duration(50);
    Duration max = Duration(1000);
    Duration log_interval = Duration(10'000);
  };
  AcceptBackoff() : AcceptBackoff(Options{}) {}
  explicit AcceptBackoff(Options options) : options_(options), log_(options.log_interval) {}

  struct Step {
    Duration wait{0};  // before the next accept
    // When a warning is due now: the failures it reports (this one included).
    std::optional<std::uint64_t> log_failures;
  };
  // A failed accept at `now`.
  Step OnFailure(MonoTime now);
  // A successful accept at `now`; the next failure waits `first`. Returns the failures not yet
  // reported when there are some and a line is due (LogThrottle::Flush), for a line saying that
  // accepting works again.
  std::optional<std::uint64_t> OnSuccess(MonoTime now);

 private:
  Options options_;
  LogThrottle log_;
  Duration next_wait_{0};  // 0: no failure since the last success
};

}  // namespace jit::net
