#pragma once
// The broker's Prometheus metrics (docs/OPERATIONS.md "Metrics"): what the workflow and reconciler
// commit, counted as it happens, and gauges read from the store and the scheduler when scraped.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/mutex.h"
#include "model/audit_event.h"
#include "model/request.h"
#include "store/store.h"
#include "workflow/observer.h"

namespace jit::workflow {

class BrokerMetrics final : public WorkflowObserver {
 public:
  // Declares every family in `registry`, which must outlive this object.
  explicit BrokerMetrics(MetricsRegistry& registry);

  // Gauges, read at scrape time; each may be left unset (then the family has no samples).
  // Requests active now.
  void SetActiveGrants(std::function<double()> read);
  // Jobs waiting, by kind ("grant", "revoke", "approval_timeout", "notify", "session_cutoff",
  // "session_cutoff_lift", "activity_summary").
  void SetJobsPending(std::function<std::map<std::string, double>()> read);
  // Revocations past their due time by more than the scheduler's overdue threshold.
  void SetRevocationsOverdue(std::function<double()> read);

  // One call to AWS: `operation` like "CreateAccountAssignment", `outcome` one of "ok",
  // "throttled", "client_error", "server_error", "network_error".
  void ProviderCall(std::string_view operation, std::string_view outcome);

  // WorkflowObserver.
  void OnCommitted(const std::vector<model::AuditEvent>& events) override;
  void OnRevokeIssued(const model::Request& r, Time at) override;

 private:
  MetricsRegistry& registry_;
  Mutex mu_;
  std::function<double()> active_ GUARDED_BY(mu_);
  std::function<std::map<std::string, double>()> pending_ GUARDED_BY(mu_);
  std::function<double()> overdue_ GUARDED_BY(mu_);
};

// The requests active now, for BrokerMetrics::SetActiveGrants: pages through the store, 500
// a page and at most 200 pages; a page that cannot be read ends the count (what was counted
// so far is returned). Thread-safe as the store is.
double CountActiveGrants(store::Store& store);

}  // namespace jit::workflow
