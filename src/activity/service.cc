#include "activity/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/time_format.h"

namespace jit::activity {
namespace {

using nlohmann::json;
using scheduler::JobOutcome;

constexpr char kActor[] = "jit";
constexpr std::size_t kMaxLive = 1000;  // open windows kept in memory
constexpr auto kDurationTtl = std::chrono::minutes(5);

}  // namespace

Service::Service(store::Store& store, EventReader& reader, Clock& clock, ServiceOptions options)
    : store_(store), reader_(reader), clock_(clock), options_(std::move(options)) {}

model::Job Service::SummaryJob(const std::string& request_id, Time now) {
  model::Job j;
  j.id = std::string(model::JobKindName(model::JobKind::kActivitySummary)) + ":" + request_id;
  j.kind = model::JobKind::kActivitySummary;
  j.request_id = request_id;
  j.due_at = now;
  j.first_due_at = now;
  j.created_at = now;
  j.payload = "{}";
  return j;
}

Status Service::Transact(const std::function<Status(store::Tx&)>& fn) {
  if (options_.transact) return options_.transact(fn);
  return store_.Transact(fn);
}

Result<Duration> Service::SessionDuration(const std::string& ps) {
  {
    MutexLock lock(&mu_);
    auto it = durations_.find(ps);
    if (it != durations_.end() && clock_.MonoNow() - it->second.second < kDurationTtl) {
      return it->second.first;
    }
  }
  if (!options_.session_duration) return FailedPreconditionError("no session duration source");
  JIT_ASSIGN_OR_RETURN(Duration d, options_.session_duration(ps));
  MutexLock lock(&mu_);
  durations_[ps] = {d, clock_.MonoNow()};
  return d;
}

Result<Activity> Service::Read(const model::Request& r, const Window& w) {
  Activity a;
  a.request_id = r.id;
  a.window = w;
  a.read_at = clock_.Now();
  JIT_ASSIGN_OR_RETURN(
      Lookup got, reader_.Read(r.account_id, r.requester, w.start, w.end, options_.max_events));
  a.truncated = got.truncated;
  for (const json& e : got.events) {
    if (std::optional<Event> ev = Accept(e, r, w)) a.events.push_back(std::move(*ev));
  }
  std::stable_sort(a.events.begin(), a.events.end(), [](const Event& x, const Event& y) {
    if (x.time != y.time) return x.time > y.time;
    return x.event_id < y.event_id;
  });
  // One event can come back twice when CloudTrail's pages shift under a reader.
  a.events.erase(
      std::unique(a.events.begin(), a.events.end(),
                  [](const Event& x, const Event& y) { return x.event_id == y.event_id; }),
      a.events.end());
  return a;
}

Result<std::pair<Activity, std::string>> Service::ForRequest(
    const model::Request& r, const std::vector<model::AuditEvent>& history) {
  // A closed window's copy in the store is final.
  std::optional<std::string> cached;
  JIT_RETURN_IF_ERROR(store_.Transact([&](store::Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(cached, tx.GetRecord(kRecordKind, r.id));
    return OkStatus();
  }));
  if (cached) {
    Result<Activity> a = ActivityFromJson(*cached);
    if (a.has_value()) return std::make_pair(std::move(*a), std::string("cache"));
    spdlog::warn("activity of {}: the cached copy is malformed; reading CloudTrail again", r.id);
  }
  // The window needs the session duration only once the grant has ended.
  Duration session{0};
  if (r.ended_at && !model::IsGroupAccount(r.account_id) && r.activated_at) {
    JIT_ASSIGN_OR_RETURN(session, SessionDuration(r.permission_set_arn));
  }
  JIT_ASSIGN_OR_RETURN(Window w, WindowOf(r, history, session, clock_.Now(), options_.settle));
  if (!w.closed) {
    MutexLock lock(&mu_);
    auto it = live_.find(r.id);
    if (it != live_.end() && clock_.MonoNow() - it->second.second < options_.live_cache) {
      return std::make_pair(it->second.first, std::string("cloudtrail"));
    }
  }
  JIT_ASSIGN_OR_RETURN(Activity a, Read(r, w));
  if (w.closed) {
    std::string text = ActivityJson(a, "cache").dump();
    JIT_RETURN_IF_ERROR(
        store_.Transact([&](store::Tx& tx) { return tx.PutRecord(kRecordKind, r.id, text); }));
    MutexLock lock(&mu_);
    live_.erase(r.id);
  } else {
    MutexLock lock(&mu_);
    if (live_.size() >= kMaxLive) live_.clear();
    live_[r.id] = {a, clock_.MonoNow()};
  }
  return std::make_pair(std::move(a), std::string("cloudtrail"));
}

JobOutcome Service::Run(const model::Job& job) {
  if (job.kind != model::JobKind::kActivitySummary) {
    spdlog::error("activity: job {} is not an activity_summary job; dropping it", job.id);
    return JobOutcome::Done();
  }
  Result<model::Request> r = store_.GetRequest(job.request_id);
  if (!r.has_value()) {
    if (r.error().code() == StatusCode::kNotFound) return JobOutcome::Done();
    return JobOutcome::Retry(r.error().ToString());
  }
  Result<std::vector<model::AuditEvent>> history = store_.ListAudit(0, 1000, r->id);
  if (!history.has_value()) return JobOutcome::Retry(history.error().ToString());
  Duration session{0};
  if (r->ended_at && r->activated_at && !model::IsGroupAccount(r->account_id)) {
    Result<Duration> d = SessionDuration(r->permission_set_arn);
    if (!d.has_value()) return JobOutcome::Retry(d.error().ToString());
    session = *d;
  }
  Result<Window> w = WindowOf(*r, *history, session, clock_.Now(), options_.settle);
  if (!w.has_value()) return JobOutcome::Done();  // never active: nothing to summarize
  if (!r->ended_at || !w->closed) {
    // Not closed yet: look again when it should be (an active grant: in a minute).
    Duration wait = std::chrono::minutes(1);
    if (r->ended_at) {
      // (A cut-off ends the window earlier; looking again at the later bound is harmless.)
      wait = std::chrono::duration_cast<Duration>(*r->ended_at + session + options_.settle -
                                                  clock_.Now());
    }
    return JobOutcome::CheckAgain(std::max(wait, Duration(1000)));
  }
  bool summarized = std::any_of(history->begin(), history->end(), [](const model::AuditEvent& e) {
    if (e.action != "activity.summary") return false;
    json d = json::parse(e.details, nullptr, /*allow_exceptions=*/false);
    return d.is_object() && d.value("available", false);
  });
  Result<std::pair<Activity, std::string>> got = ForRequest(*r, *history);
  if (!got.has_value()) {
    Status error = got.error();
    bool told = std::any_of(history->begin(), history->end(), [](const model::AuditEvent& e) {
      return e.action == "activity.summary";
    });
    if (!told) {
      Status s = Transact([&](store::Tx& tx) -> Status {
        model::AuditEvent e;
        e.at = clock_.Now();
        e.actor = kActor;
        e.action = "activity.summary";
        e.request_id = r->id;
        e.severity = "warning";
        e.details = json{{"available", false}, {"error", error.ToString()}}.dump();
        return tx.AppendAudit(std::move(e)).error();
      });
      if (!s.ok()) return JobOutcome::Retry(s.ToString());
    }
    return JobOutcome::Retry(error.ToString());
  }
  const Activity& a = got->first;
  Status s = Transact([&](store::Tx& tx) -> Status {
    if (!summarized) {
      json details = SummaryJson(Summarize(a.events));
      details["available"] = true;
      details["window_start"] = FormatRfc3339(a.window.start);
      details["window_end"] = FormatRfc3339(a.window.end);
      details["ends_by"] = a.window.ends_by;
      details["truncated"] = a.truncated;
      model::AuditEvent e;
      e.at = clock_.Now();
      e.actor = kActor;
      e.action = "activity.summary";
      e.request_id = r->id;
      e.severity = "info";
      e.details = details.dump();
      JIT_RETURN_IF_ERROR(tx.AppendAudit(std::move(e)).error());
    }
    return tx.DeleteJob(job.id);
  });
  if (!s.ok()) return JobOutcome::Retry(s.ToString());
  return JobOutcome::DoneAndDeleted();
}

}  // namespace jit::activity
