#include "workflow/notifications.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "core/duration.h"
#include "core/retry.h"
#include "core/time_format.h"
#include "workflow/jobs.h"
#include "workflow/observer.h"

namespace jit::workflow {
namespace {

using json = nlohmann::json;
using model::AuditEvent;
using model::Job;
using model::JobKind;
using model::Request;
using model::RequestState;
using notify::Event;
using scheduler::JobOutcome;

std::string ReminderJobId(const std::string& request_id) { return "notify-reminder:" + request_id; }
std::string ExpiryJobId(const std::string& request_id) { return "notify-expiry:" + request_id; }

json Details(const AuditEvent& e) {
  json d = json::parse(e.details, nullptr, /*allow_exceptions=*/false);
  return d.is_object() ? d : json::object();
}

std::string Text(const json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The notification an audit event means, if any. `r` is the request as the transaction left it
// (empty id when the event names none).
std::optional<Event> EventFor(const AuditEvent& e, const json& d, const Request& r) {
  const std::string& a = e.action;
  if (a == "request.created") {
    if (r.state == RequestState::kPending) return Event::kRequestCreated;
    return std::nullopt;  // approved at once: "approved"/"break-glass" follow
  }
  if (a == "breakglass.activated") return Event::kBreakGlassActivated;
  if (a == "request.approved") {
    if (d.value("automatic", false)) return std::nullopt;  // the activation says it all
    return Event::kRequestApproved;
  }
  if (a == "request.denied") return Event::kRequestDenied;
  if (a == "request.cancelled") return Event::kRequestCancelled;
  if (a == "request.timed_out") return Event::kRequestTimedOut;
  if (a == "request.activated") return Event::kGrantActivated;
  if (a == "request.extended") return Event::kGrantExtended;
  if (a == "extension.requested") return Event::kExtensionRequested;
  if (a == "request.ended") return Event::kGrantEnded;
  if (a == "request.failed") return Event::kGrantFailed;
  if (a.rfind("drift.", 0) == 0) return Event::kDriftDetected;
  if (a == "revoke.overdue") return Event::kRevocationOverdue;
  // The warning that the sessions expired before a cut-off got through tells nobody anything.
  if (a == "session.cutoff.failed" && e.severity == "high") return Event::kSessionCutoffFailed;
  if (a == "finding.acted") return Event::kFindingRevoked;
  return std::nullopt;
}

// The strings of a list in `d`, joined with ", ".
std::string Joined(const json& d, const char* key) {
  std::string out;
  auto it = d.find(key);
  if (it == d.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  }
  return out;
}

// What a security engineer reads of "finding.acted": whose access ended, on which finding.
std::string FindingDetail(const json& d) {
  std::string types = Joined(d, "types");
  std::string out = Text(d, "source") + " finding " + Text(d, "finding_id") + " (" +
                    (types.empty() ? "" : types + ", ") + Text(d, "severity") + ")";
  std::string title = Text(d, "title");
  if (!title.empty()) out += " \"" + title + "\"";
  out += " about " + Joined(d, "users") + ": ";
  std::string revoked = Joined(d, "revoked");
  std::string denied = Joined(d, "denied");
  if (!revoked.empty()) out += "revoked " + revoked;
  if (!denied.empty()) out += (revoked.empty() ? "" : "; ") + std::string("denied ") + denied;
  std::string account = Text(d, "account");
  if (!account.empty()) out += "; finding in account " + account + " " + Text(d, "region");
  return out;
}

// What people read besides the request itself.
std::string DetailFor(const AuditEvent& e, const json& d, const Request& r) {
  if (e.action == "finding.acted") return FindingDetail(d);
  if (e.action == "request.denied") return Text(d, "reason");
  if (e.action == "request.ended") return r.end_reason;
  if (e.action == "request.failed") return r.failure_reason;
  if (e.action == "revoke.overdue") return Text(d, "error");
  if (e.action == "session.cutoff.failed") {
    std::string until = Text(d, "sessions_open_until");
    return Text(d, "why") + (until.empty() ? "" : "; its sessions stay open until " + until);
  }
  if (e.action.rfind("drift.", 0) == 0) {
    std::string what = e.action == "drift.deleted" ? "jit deleted an assignment left behind"
                       : e.action == "drift.assignment_missing"
                           ? "an assignment jit granted was removed outside jit"
                           : "the ledger named an assignment that is gone";
    std::string where = Text(d, "principal_id") + " / " + Text(d, "account_id") + " / " +
                        Text(d, "permission_set_arn");
    return what + (where.size() > 6 ? ": " + where : "");
  }
  if (e.action == "request.extended") return Text(d, "extra");
  if (e.action == "extension.requested") return Text(d, "extra");
  if (e.action == "request.created" && r.batch.size() > 1) {
    // One request for several accounts is asked once, by its first request's message.
    std::string ids;
    for (const std::string& id : r.batch) {
      if (id != r.id) ids += (ids.empty() ? "" : ", ") + id;
    }
    return "one request for " + std::to_string(r.batch.size()) +
           " accounts, decided together; the others: " + ids;
  }
  return "";
}

// The events of a request for several accounts that its first request alone tells people
// about: those of asking and deciding, which hold for all of them at once. Grant events stay
// per account.
bool DecidedWithTheFirst(const AuditEvent& e, const Request& r) {
  if (r.batch.size() < 2 || r.id == r.batch.front()) return false;
  return e.action == "request.created" || e.action == "request.approved" ||
         e.action == "request.denied" || e.action == "request.cancelled" ||
         e.action == "request.timed_out";
}

}  // namespace

Notifications::Notifications(notify::Notifier& notifier, Clock& clock, MetricsRegistry* metrics,
                             NotificationOptions options)
    : notifier_(notifier), clock_(clock), metrics_(metrics), options_(std::move(options)) {
  if (metrics_ != nullptr) {
    metrics_->DeclareCounter("jit_notifications_total",
                             "Notification deliveries by channel and outcome (delivered, retried, "
                             "failed: given up or refused).",
                             {"channel", "outcome"});
  }
}

notify::Message Notifications::MessageFor(Event e, const Request& r, Time at, std::string actor,
                                          std::string detail) const {
  notify::Message m;
  m.event = e;
  m.request = r;
  m.at = at;
  m.actor = std::move(actor);
  m.detail = std::move(detail);
  m.public_url = options_.public_url;
  return m;
}

Status Notifications::PutDeliveries(store::Tx& tx, const notify::Message& m,
                                    const std::string& key) {
  Time now = clock_.Now();
  for (const std::string& channel : notifier_.ChannelsFor(m)) {
    json payload = {{"type", "deliver"},  {"event", notify::EventName(m.event)},
                    {"channel", channel}, {"actor", m.actor},
                    {"detail", m.detail}, {"at", ToUnixMillis(m.at)}};
    JIT_RETURN_IF_ERROR(tx.PutJob(
        MakeJobWithId("notify:" + key + ":" + channel, JobKind::kNotify, m.request.id, now, now,
                      payload.dump(-1, ' ', false, json::error_handler_t::replace))));
  }
  return OkStatus();
}

Status Notifications::Enqueue(store::Tx& tx, const std::vector<AuditEvent>& events) {
  Time now = clock_.Now();
  for (const AuditEvent& e : events) {
    json d = Details(e);
    Request r;
    if (!e.request_id.empty()) {
      Result<Request> got = tx.GetRequest(e.request_id);
      if (!got.has_value()) {
        if (got.error().code() != StatusCode::kNotFound) return got.error();
      } else {
        r = std::move(got).value();
      }
    }
    std::optional<Event> event = EventFor(e, d, r);
    if (DecidedWithTheFirst(e, r)) event.reset();
    if (event) {
      std::string key =
          (e.request_id.empty() ? "audit" : e.request_id) + ":" + std::to_string(e.seq);
      JIT_RETURN_IF_ERROR(
          PutDeliveries(tx, MessageFor(*event, r, e.at, e.actor, DetailFor(e, d, r)), key));
    }
    if (r.id.empty()) continue;
    // The timers that follow the request.
    if (e.action == "request.created" && r.state == RequestState::kPending &&
        !DecidedWithTheFirst(e, r)) {
      Time due = r.created_at + options_.first_reminder;
      bool heard =
          !notifier_.ChannelsFor(MessageFor(Event::kApprovalReminder, r, now, "", "")).empty();
      if (heard && (!r.approval_deadline || due < *r.approval_deadline)) {
        json p = {
            {"type", "reminder"},
            {"next_ms", std::chrono::duration_cast<Duration>(2 * options_.first_reminder).count()},
            {"n", 1}};
        JIT_RETURN_IF_ERROR(tx.PutJob(
            MakeJobWithId(ReminderJobId(r.id), JobKind::kNotify, r.id, due, now, p.dump())));
      }
    } else if (r.state != RequestState::kPending) {
      JIT_RETURN_IF_ERROR(tx.DeleteJob(ReminderJobId(r.id)));
    }
    bool warned =
        !notifier_.ChannelsFor(MessageFor(Event::kGrantExpiringSoon, r, now, "", "")).empty();
    if ((e.action == "request.activated" || e.action == "request.extended") && warned &&
        r.expires_at && r.activated_at &&
        *r.expires_at - *r.activated_at > options_.expiry_warning) {
      Time due = *r.expires_at - options_.expiry_warning;
      JIT_RETURN_IF_ERROR(
          tx.PutJob(MakeJobWithId(ExpiryJobId(r.id), JobKind::kNotify, r.id, std::max(due, now),
                                  now, json{{"type", "expiry"}}.dump())));
    } else if (r.state != RequestState::kActive) {
      JIT_RETURN_IF_ERROR(tx.DeleteJob(ExpiryJobId(r.id)));
    }
  }
  return OkStatus();
}

JobOutcome Notifications::Run(store::Store& store, const Job& job) {
  json p = json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  std::string type = p.is_object() ? Text(p, "type") : "";
  if (type == "deliver") return RunDelivery(store, job);
  if (type == "reminder") return RunReminder(store, job);
  if (type == "expiry") return RunExpiryWarning(store, job);
  spdlog::error("notify job {} has an unknown payload; dropping it", job.id);
  return JobOutcome::Done();
}

JobOutcome Notifications::RunDelivery(store::Store& store, const Job& job) {
  json p = json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  std::optional<Event> event = notify::ParseEvent(Text(p, "event"));
  std::string channel = Text(p, "channel");
  if (!event || channel.empty()) {
    spdlog::error("notify job {} names no event or channel; dropping it", job.id);
    return JobOutcome::Done();
  }
  Request r;
  if (!job.request_id.empty()) {
    Result<Request> got = store.GetRequest(job.request_id);
    if (!got.has_value()) {
      if (got.error().code() != StatusCode::kNotFound)
        return JobOutcome::Retry(got.error().ToString());
    } else {
      r = std::move(got).value();
    }
  }
  Time at = p.contains("at") && p["at"].is_number_integer()
                ? FromUnixMillis(p["at"].get<std::int64_t>())
                : job.created_at;
  notify::Message m = MessageFor(*event, r, at, Text(p, "actor"), Text(p, "detail"));
  Status s = notifier_.Deliver(channel, m);
  auto count = [this, &channel](const char* outcome) {
    if (metrics_ != nullptr) metrics_->Add("jit_notifications_total", {channel, outcome});
  };
  if (s.ok()) {
    count("delivered");
    return JobOutcome::Done();
  }
  if (s.code() == StatusCode::kNotFound) {
    spdlog::warn("notify: channel {} is gone from the config; {} not sent", channel,
                 notify::EventName(*event));
    return JobOutcome::Done();
  }
  if (IsRetryable(s) && job.attempts + 1 < options_.max_delivery_attempts) {
    count("retried");
    return JobOutcome::Retry(s.ToString());
  }
  count("failed");
  spdlog::error("notify: gave up sending {} of {} on {}: {}", notify::EventName(*event),
                r.id.empty() ? "-" : r.id, channel, s.ToString());
  // The trail says what nobody heard.
  Status audited = TransactAndTell(store, nullptr, [&](store::Tx& tx) -> Status {
    AuditEvent e;
    e.at = clock_.Now();
    e.actor = "jit";
    e.action = "notify.failed";
    e.request_id = r.id;
    e.severity = "warning";
    e.details = json{{"event", notify::EventName(*event)},
                     {"channel", channel},
                     {"attempts", job.attempts + 1},
                     {"error", s.message()}}
                    .dump(-1, ' ', false, json::error_handler_t::replace);
    return tx.AppendAudit(std::move(e)).error();
  });
  if (!audited.ok()) return JobOutcome::Retry(audited.ToString());
  return JobOutcome::Done();
}

JobOutcome Notifications::RunReminder(store::Store& store, const Job& job) {
  json p = json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  Duration next(p.value("next_ms", std::int64_t{0}));
  int n = p.value("n", 1);
  bool rescheduled = false;
  Status s = TransactAndTell(store, nullptr, [&](store::Tx& tx) -> Status {
    rescheduled = false;
    Result<Request> got = tx.GetRequest(job.request_id);
    if (!got.has_value()) {
      return got.error().code() == StatusCode::kNotFound ? tx.DeleteJob(job.id) : got.error();
    }
    Request r = std::move(got).value();
    Time now = clock_.Now();
    if (r.state != RequestState::kPending || (r.approval_deadline && now >= *r.approval_deadline)) {
      return tx.DeleteJob(job.id);
    }
    JIT_RETURN_IF_ERROR(PutDeliveries(tx, MessageFor(Event::kApprovalReminder, r, now, "jit", ""),
                                      r.id + ":reminder" + std::to_string(n)));
    Time due = now + next;
    if (next.count() <= 0 || (r.approval_deadline && due >= *r.approval_deadline)) {
      return tx.DeleteJob(job.id);
    }
    json again = {{"type", "reminder"}, {"next_ms", (2 * next).count()}, {"n", n + 1}};
    rescheduled = true;
    return tx.PutJob(MakeJobWithId(job.id, JobKind::kNotify, r.id, due, now, again.dump()));
  });
  if (!s.ok()) return JobOutcome::Retry(s.ToString());
  // The job now holds the next reminder (its payload and due time are stored): "done" would
  // delete it, so ask to be run again then.
  if (rescheduled) return JobOutcome::CheckAgain(next);
  return JobOutcome::Done();
}

JobOutcome Notifications::RunExpiryWarning(store::Store& store, const Job& job) {
  Duration wait{0};
  Status s = TransactAndTell(store, nullptr, [&](store::Tx& tx) -> Status {
    Result<Request> got = tx.GetRequest(job.request_id);
    if (!got.has_value()) {
      return got.error().code() == StatusCode::kNotFound ? tx.DeleteJob(job.id) : got.error();
    }
    Request r = std::move(got).value();
    Time now = clock_.Now();
    if (r.state != RequestState::kActive || !r.expires_at || now >= *r.expires_at) {
      return tx.DeleteJob(job.id);
    }
    if (*r.expires_at - now > options_.expiry_warning) {
      // Extended since, or fired early (the wall clock moved back): wait again.
      wait = std::chrono::duration_cast<Duration>(*r.expires_at - now - options_.expiry_warning);
      return OkStatus();
    }
    JIT_RETURN_IF_ERROR(PutDeliveries(
        tx, MessageFor(Event::kGrantExpiringSoon, r, now, "jit", FormatRfc3339(*r.expires_at)),
        r.id + ":expiry:" + std::to_string(ToUnixMillis(*r.expires_at))));
    return tx.DeleteJob(job.id);
  });
  if (!s.ok()) return JobOutcome::Retry(s.ToString());
  if (wait.count() > 0) return JobOutcome::CheckAgain(wait);
  return JobOutcome::Done();
}

}  // namespace jit::workflow
