#include "app/health_metrics.h"

#include <map>
#include <utility>

#include "core/check.h"
#include "core/clock.h"

// From src/app/CMakeLists.txt, for this file only (as src/cli/CMakeLists.txt does for cli.cc).
#ifndef JIT_VERSION
#define JIT_VERSION "0.0.0"
#endif
#ifndef JIT_COMMIT
#define JIT_COMMIT "unknown"
#endif

namespace jit::app {

void DeclareHealthMetrics(MetricsRegistry& registry, HealthSources sources) {
  JIT_CHECK(sources.readiness != nullptr && sources.store_available != nullptr);
  using Samples = std::map<LabelValues, double>;
  registry.DeclareGauge("jit_ready",
                        "1 when GET /readyz would answer 200 (the store answers and Identity "
                        "Center is not failing), else 0.",
                        {}, [read = sources.readiness] {
                          return Samples{{{}, read().ok() ? 1.0 : 0.0}};
                        });
  registry.DeclareGauge("jit_store_available",
                        "1 when the store could be read and written at the last check, else 0.", {},
                        [read = sources.store_available] {
                          return Samples{{{}, read() ? 1.0 : 0.0}};
                        });
  std::function<audit::CheckpointerStats()> stats = std::move(sources.checkpoints);
  auto read_stats = [stats] { return stats ? stats() : audit::CheckpointerStats{}; };
  registry.DeclareCounterFunc(
      "jit_audit_checkpoint_failures_total",
      "Signed audit checkpoints that could not be made or written (trail unreadable, log not "
      "writable).",
      {}, [read_stats] {
        return Samples{{{}, static_cast<double>(read_stats().checkpoint_failures)}};
      });
  registry.DeclareGauge(
      "jit_audit_last_checkpoint_timestamp_seconds",
      "Unix time of the newest signed audit checkpoint in the checkpoint file.", {}, [read_stats] {
        audit::CheckpointerStats s = read_stats();
        Samples out;
        if (s.last_checkpoint_at) {
          // Whole seconds: the registry writes a fraction with 9 significant digits, which
          // would round a unix time to tens of seconds.
          out[{}] = static_cast<double>(ToUnixMillis(*s.last_checkpoint_at) / 1000);
        }
        return out;
      });
  registry.DeclareCounterFunc(
      "jit_audit_verification_failures_total",
      "Checks of the audit trail since the last checkpoint (one before each checkpoint) that "
      "failed: an event edited, missing or reordered, or the tail cut off.",
      {}, [read_stats] {
        return Samples{{{}, static_cast<double>(read_stats().verification_failures)}};
      });
}

BuildInfo ThisBuild() { return BuildInfo{JIT_VERSION, JIT_COMMIT}; }

void DeclareBuildInfo(MetricsRegistry& registry) {
  BuildInfo build = ThisBuild();
  registry.DeclareGauge(
      "jit_build_info", "Always 1; the labels say which version and git commit run.",
      {"version", "commit"}, [build] {
        return std::map<LabelValues, double>{{{build.version, build.commit}, 1.0}};
      });
}

}  // namespace jit::app
