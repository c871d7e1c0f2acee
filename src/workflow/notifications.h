#pragma once
// Who hears what (issue #5, docs/NOTIFY.md), through the durable job queue. In the same
// transaction as each step, the audit events it appended become `notify` jobs: one delivery
// per (event, channel that wants it), plus the timers of the approvers' reminders and of the
// requester's "expires in 10 minutes". A delivery that fails is retried with back-off by the
// scheduler and never holds up a step; one that fails for good is audited.

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "notify/notify.h"
#include "policy/config.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "workflow/observer.h"

namespace jit::workflow {

struct NotificationOptions {
  // The first reminder to approvers of a pending request; each next one waits twice as long.
  Duration first_reminder = std::chrono::minutes(15);
  // How long before the expiry the requester hears "expires soon".
  Duration expiry_warning = std::chrono::minutes(10);
  // A delivery that fails this many times in a row (retryable errors) is given up, audited.
  int max_delivery_attempts = 20;
  // The broker's server.public_url, for the links in messages (empty: none). Fixed for the
  // process: a reload does not change it (config/config.h SettingsNeedingRestart).
  std::string public_url;
};

// Thread-safe. `notifier`, `clock` and `metrics` (may be null) must outlive it.
class Notifications {
 public:
  Notifications(notify::Notifier& notifier, Clock& clock, MetricsRegistry* metrics = nullptr,
                NotificationOptions options = {});

  // For TransactAndTell's before-commit hook: the jobs that follow from `events`, put in `tx`.
  Status Enqueue(store::Tx& tx, const std::vector<model::AuditEvent>& events);
  // Enqueue as a BeforeCommit.
  BeforeCommit Hook() {
    return [this](store::Tx& tx, const std::vector<model::AuditEvent>& events) {
      return Enqueue(tx, events);
    };
  }

  // Runs a notify job: a delivery, a reminder or an expiry warning. Done when it is finished
  // (delivered, given up, or nothing left to say); Retry for a delivery that failed and may
  // succeed later.
  scheduler::JobOutcome Run(store::Store& store, const model::Job& job);

 private:
  // Puts one delivery job per channel that wants `m` (`key` makes the job ids unique).
  Status PutDeliveries(store::Tx& tx, const notify::Message& m, const std::string& key);
  scheduler::JobOutcome RunDelivery(store::Store& store, const model::Job& job);
  scheduler::JobOutcome RunReminder(store::Store& store, const model::Job& job);
  scheduler::JobOutcome RunExpiryWarning(store::Store& store, const model::Job& job);
  notify::Message MessageFor(notify::Event e, const model::Request& r, Time at, std::string actor,
                             std::string detail) const;

  notify::Notifier& notifier_;
  Clock& clock_;
  MetricsRegistry* metrics_;
  const NotificationOptions options_;
};

}  // namespace jit::workflow
