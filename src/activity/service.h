#pragma once
// Session activity for the API and the audit trail (docs/AWS.md "Session activity"): a grant's
// CloudTrail events, read live while its window is open (kept in memory briefly) and cached in
// the store once it has closed (keyed record kind "activity", key the request id), after which
// CloudTrail is never asked again; and the job that audits the summary when the window closes.
//
// Who may read a request's activity is the workflow's decision (workflow::Workflow::Get): the
// API calls Service::ForRequest only with a request the caller was allowed to see.
//
// Audit action: activity.summary (by "jit"), details {"available": true, "events",
// "services", "write_calls", "errors", "window_start", "window_end", "ends_by", "truncated"};
// or, when CloudTrail could not be read ("warning"), {"available": false, "error"}, once, and
// the job retries with back-off until it can.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "activity/activity.h"
#include "activity/reader.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "model/job.h"
#include "model/request.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace jit::activity {

// The store's keyed-record kind of a closed window's activity.
inline constexpr std::string_view kRecordKind = "activity";

struct ServiceOptions {
  // The permission set's session duration (provider::PermissionSetPolicies::SessionDuration).
  // Required.
  std::function<Result<Duration>(const std::string& permission_set_arn)> session_duration;
  // How long an open window's answer is reused.
  Duration live_cache = std::chrono::seconds(30);
  // How long after its end a window is read for good (Settings::settle).
  Duration settle{0};
  // The most events kept for one grant.
  int max_events = 5000;
  // Runs a transaction and tells whoever listens (metrics, notifications) what it audited.
  // Empty: Store::Transact alone.
  std::function<Status(const std::function<Status(store::Tx&)>&)> transact;
};

// Thread-safe. `store`, `reader` and `clock` must outlive it.
class Service final : public scheduler::JobRunner {
 public:
  Service(store::Store& store, EventReader& reader, Clock& clock, ServiceOptions options);

  // The activity of `r` (whose history is `history`, oldest first) and where it came from:
  // "cache" (the store's copy of a closed window) or "cloudtrail". Errors: FailedPrecondition
  // (never active; a group membership), the reader's (PermissionDenied, Unavailable, ...), the
  // store's.
  Result<std::pair<Activity, std::string>> ForRequest(
      const model::Request& r, const std::vector<model::AuditEvent>& history);

  // kActivitySummary jobs: once the window has closed, reads the activity (caching it) and
  // audits its summary in one transaction that also deletes the job; before, checks again at
  // the window's end. Other kinds are dropped (Done) with a log line.
  scheduler::JobOutcome Run(const model::Job& job) override;

  // The job a grant's end puts (workflow/): due at `now`; it waits for the window itself.
  static model::Job SummaryJob(const std::string& request_id, Time now);

 private:
  Result<Duration> SessionDuration(const std::string& permission_set_arn);
  Result<Activity> Read(const model::Request& r, const Window& w);
  Status Transact(const std::function<Status(store::Tx&)>& fn);

  store::Store& store_;
  EventReader& reader_;
  Clock& clock_;
  const ServiceOptions options_;

  Mutex mu_;
  // Open windows' answers: request id -> (answer, when read by the monotonic clock).
  std::map<std::string, std::pair<Activity, MonoTime>> live_ GUARDED_BY(mu_);
  std::map<std::string, std::pair<Duration, MonoTime>> durations_ GUARDED_BY(mu_);
};

}  // namespace jit::activity
