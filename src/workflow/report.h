#pragma once
// The KPIs and service levels of `GET /v1/reports/summary` and `jit report`
// (docs/OPERATIONS.md "Reports" says what each figure means). Computed from the requests table
// alone: every timing a figure needs (created_at, decided_at, start_at, activated_at,
// expires_at, ended_at) is on the request row, so the audit trail is not read.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/request.h"
#include "store/store.h"

namespace jit::workflow {

// The revocation objective: a grant whose assignment is gone more than this after its
// expires_at "ended late". The service level the alert JitRevokeLagHigh watches
// (deploy/prometheus/jit-rules.yaml: p99 of jit_revoke_lag_seconds at most 5 s; docs/OPERATIONS.md
// "Monitoring"), so that the report and the alert judge lateness alike.
inline constexpr Duration kRevokeLagObjective = std::chrono::seconds(5);

// The longest window a report covers (`since`), and the default one.
inline constexpr Duration kMaxReportWindow = std::chrono::hours(24 * 366);
inline constexpr Duration kDefaultReportWindow = std::chrono::hours(24 * 30);

// How many entries each "busiest" list keeps.
inline constexpr int kReportTopN = 10;

// A set of durations, in seconds. Percentiles are exact, by the nearest-rank method on the
// sorted values: pN is the value at rank ceil(N/100 * count) (1-based). All zero when empty.
struct Spread {
  std::int64_t count = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
};

// Nearest-rank percentiles of `seconds` (sorted in place).
Spread SpreadOf(std::vector<double>& seconds);

// One entry of a "busiest" list: a requester (name), an account (id and name) or a permission
// set (name and ARN), with its number of requests.
struct TopEntry {
  std::string id;    // account id or permission set ARN; empty for requesters
  std::string name;  // requester, account name or permission set name
  std::int64_t requests = 0;
};

struct ReportSummary {
  Time since;  // requests created at or after this count
  Time until;  // when the report was made
  Duration objective = kRevokeLagObjective;

  std::int64_t total = 0;                                // requests created in the window
  std::map<model::RequestState, std::int64_t> by_state;  // their current state (all 9 listed)
  std::int64_t open = 0;                                 // pending, approved, active or revoking

  Spread time_to_approve;        // created_at to the approval that decided it (human approvals)
  Spread approval_to_active;     // approval (or a later start_at) to activated_at
  Spread revoke_lag;             // expires_at to ended_at, for grants that ended by expiry
  std::int64_t ended_late = 0;   // of those, lag above the objective
  std::int64_t overdue_now = 0;  // expired, still being revoked, already past the objective

  std::int64_t break_glass = 0;   // break-glass requests
  std::int64_t open_reviews = 0;  // of those, review still open

  // Requests that needed a human approval and were approved, denied or timed out (the
  // denominators of the rates); the rates are 0 when it is 0.
  std::int64_t decided = 0;
  double denial_rate = 0;
  double timeout_rate = 0;

  std::vector<TopEntry> top_requesters;  // most requests first; ties by name
  std::vector<TopEntry> top_accounts;
  std::vector<TopEntry> top_permission_sets;
};

// Summarizes requests one at a time (any order). Not thread-safe.
class SummaryBuilder {
 public:
  // Requests created before `since` are skipped; `now` is the report's time (overdue grants).
  SummaryBuilder(Time since, Time now, Duration objective = kRevokeLagObjective);
  void Add(const model::Request& r);
  ReportSummary Finish();

 private:
  ReportSummary s_;
  std::vector<double> approve_, activate_, lag_;
  std::int64_t denied_ = 0, timed_out_ = 0;
  std::map<std::string, std::int64_t> requesters_;
  std::map<std::string, TopEntry> accounts_, permission_sets_;
};

// The summary of the requests created in [since, now], read from the store newest first
// (Store::ListRequests pages; ids sort by creation time, so the read stops at the first request
// older than `since`). Errors: the store's.
Result<ReportSummary> BuildSummary(store::Store& store, Time since, Time now);

}  // namespace jit::workflow
