#pragma once
// The broker's own health on /metrics (docs/OPERATIONS.md "Metrics"): readiness, the store, the
// audit checkpoints and the build. The request metrics are workflow/broker_metrics.h's.

#include <functional>
#include <string>

#include "audit/trail.h"
#include "core/metrics.h"
#include "core/status.h"

namespace jit::app {

// Where the health metrics are read from, at every scrape (each is called from the scraping
// thread, so each must be thread-safe).
struct HealthSources {
  // What GET /readyz answers (OK: ready). Required.
  std::function<Status()> readiness;
  // Whether the store could be read and written at the last check. Required.
  std::function<bool()> store_available;
  // The audit checkpointer's counts; null when no checkpoint key is configured (then both
  // counters read 0 and the timestamp has no sample).
  std::function<audit::CheckpointerStats()> checkpoints;
};

// Declares jit_ready, jit_store_available, jit_audit_checkpoint_failures_total,
// jit_audit_last_checkpoint_timestamp_seconds and jit_audit_verification_failures_total, in
// this order: a scrape reads the gauges in the order they were declared, so readiness is read
// before the store's gauge, and the store shows as the readiness check of the same scrape found
// it. `registry` must not be scraped after the sources are gone.
void DeclareHealthMetrics(MetricsRegistry& registry, HealthSources sources);

// The version and git commit this binary was built from (the CMake project version and the
// commit at configure time, as `jit --version` prints them).
struct BuildInfo {
  std::string version;
  std::string commit;
};
BuildInfo ThisBuild();

// Declares jit_build_info{version,commit}, always 1, of ThisBuild().
void DeclareBuildInfo(MetricsRegistry& registry);

}  // namespace jit::app
