#include "workflow/broker_metrics.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "core/mutex.h"

namespace jit::workflow {
namespace {

// The state a request enters with each audit action (request.created is decided by what
// follows it in the same transaction).
const std::map<std::string, std::string>& StateOfAction() {
  static const auto* m = new std::map<std::string, std::string>{
      {"request.approved", "approved"},   {"breakglass.activated", "approved"},
      {"request.activated", "active"},    {"request.revoked", "revoking"},
      {"request.expired", "revoking"},    {"request.ended", "ended"},
      {"request.denied", "denied"},       {"request.cancelled", "cancelled"},
      {"request.timed_out", "timed_out"}, {"request.failed", "failed"},
  };
  return *m;
}

}  // namespace

BrokerMetrics::BrokerMetrics(MetricsRegistry& registry) : registry_(registry) {
  registry_.DeclareCounter("jit_requests_total",
                           "Requests that entered each state (pending, approved, active, "
                           "revoking, ended, denied, cancelled, timed_out, failed).",
                           {"state"});
  registry_.DeclareGauge("jit_active_grants", "Requests whose access is active now.", {}, [this] {
    std::function<double()> read;
    {
      MutexLock lock(&mu_);
      read = active_;
    }
    std::map<LabelValues, double> out;
    if (read) out[{}] = read();
    return out;
  });
  registry_.DeclareHistogram("jit_approval_seconds",
                             "Time from a request to the approval that decided it, in seconds.",
                             {5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200});
  registry_.DeclareHistogram(
      "jit_revoke_lag_seconds",
      "Time from a grant's expires_at to the delete of its assignment being issued, in seconds.",
      {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300});
  registry_.DeclareCounter(
      "jit_session_cutoffs_total",
      "Session cut-offs by outcome: applied (the sessions are denied), lifted (the denial taken "
      "out after the session duration), failed (audited session.cutoff.failed).",
      {"outcome"});
  registry_.DeclareHistogram(
      "jit_session_cutoff_seconds",
      "Time from the end of a grant to its sessions being denied (the provisioning done), in "
      "seconds.",
      {1, 2, 5, 10, 15, 30, 60, 120, 300, 900});
  for (const char* outcome : {"applied", "lifted", "failed"}) {
    registry_.Add("jit_session_cutoffs_total", {outcome}, 0);  // served from the start
  }
  registry_.DeclareCounter("jit_provider_calls_total",
                           "Calls to AWS by operation and outcome (ok, throttled, client_error, "
                           "server_error, network_error); every attempt counts.",
                           {"operation", "outcome"});
  registry_.DeclareGauge("jit_jobs_pending", "Jobs waiting, by kind.", {"kind"}, [this] {
    std::function<std::map<std::string, double>()> read;
    {
      MutexLock lock(&mu_);
      read = pending_;
    }
    std::map<LabelValues, double> out;
    if (read) {
      for (const auto& [kind, n] : read()) out[{kind}] = n;
    }
    return out;
  });
  registry_.DeclareGauge(
      "jit_revocations_overdue",
      "Revocations not finished some seconds after they were due (they are being retried).", {},
      [this] {
        std::function<double()> read;
        {
          MutexLock lock(&mu_);
          read = overdue_;
        }
        std::map<LabelValues, double> out;
        if (read) out[{}] = read();
        return out;
      });
  registry_.DeclareCounter("jit_audit_events_total", "Audit events written by this broker.");
}

void BrokerMetrics::SetActiveGrants(std::function<double()> read) {
  MutexLock lock(&mu_);
  active_ = std::move(read);
}
void BrokerMetrics::SetJobsPending(std::function<std::map<std::string, double>()> read) {
  MutexLock lock(&mu_);
  pending_ = std::move(read);
}
void BrokerMetrics::SetRevocationsOverdue(std::function<double()> read) {
  MutexLock lock(&mu_);
  overdue_ = std::move(read);
}

void BrokerMetrics::ProviderCall(std::string_view operation, std::string_view outcome) {
  registry_.Add("jit_provider_calls_total", {std::string(operation), std::string(outcome)});
}

void BrokerMetrics::OnCommitted(const std::vector<model::AuditEvent>& events) {
  registry_.Add("jit_audit_events_total", {}, static_cast<double>(events.size()));
  // Requests created in this transaction and approved in it too never were pending.
  std::set<std::string> approved_at_once;
  for (const model::AuditEvent& e : events) {
    if (e.action == "request.approved" || e.action == "breakglass.activated") {
      approved_at_once.insert(e.request_id);
    }
  }
  for (const model::AuditEvent& e : events) {
    if (e.action.rfind("session.cutoff.", 0) == 0) {
      std::string outcome = e.action.substr(std::string_view("session.cutoff.").size());
      registry_.Add("jit_session_cutoffs_total", {outcome});
      if (outcome != "applied") continue;
      nlohmann::json d = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
      if (d.is_object() && d.contains("lag_ms") && d["lag_ms"].is_number()) {
        registry_.Observe("jit_session_cutoff_seconds", d["lag_ms"].get<double>() / 1000.0);
      }
      continue;
    }
    if (e.action == "request.created") {
      if (!approved_at_once.count(e.request_id)) registry_.Add("jit_requests_total", {"pending"});
      continue;
    }
    auto it = StateOfAction().find(e.action);
    if (it == StateOfAction().end()) continue;
    registry_.Add("jit_requests_total", {it->second});
    if (e.action == "request.approved") {
      nlohmann::json d = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
      if (d.is_object() && d.contains("waited_ms") && d["waited_ms"].is_number()) {
        registry_.Observe("jit_approval_seconds", d["waited_ms"].get<double>() / 1000.0);
      }
    }
  }
}

void BrokerMetrics::OnRevokeIssued(const model::Request& r, Time at) {
  if (r.end_reason != "expired" || !r.expires_at) return;
  double lag = std::chrono::duration<double>(at - *r.expires_at).count();
  registry_.Observe("jit_revoke_lag_seconds", lag < 0 ? 0 : lag);
}

double CountActiveGrants(store::Store& store) {
  store::RequestFilter f;
  f.state = model::RequestState::kActive;
  f.limit = 500;
  double n = 0;
  for (int page = 0; page < 200; ++page) {
    Result<store::RequestPage> p = store.ListRequests(f);
    if (!p.has_value()) break;
    n += static_cast<double>(p->items.size());
    if (p->next_cursor.empty()) break;
    f.cursor = p->next_cursor;
  }
  return n;
}

}  // namespace jit::workflow
