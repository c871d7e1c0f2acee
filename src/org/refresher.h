#pragma once
// Keeps the accounts from AWS Organizations current (docs/POLICY.md "Accounts from AWS
// Organizations"): reads the organization at start, every `interval` and when the config is
// reloaded, puts the resolved scope in force for the workflow and the API, audits what came in
// and left, and ends the open requests the new scope no longer covers.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/mutex.h"
#include "core/periodic.h"
#include "core/result.h"
#include "policy/config.h"
#include "provider/organizations.h"
#include "store/store.h"
#include "workflow/workflow.h"

namespace jit::org {

// Reads the whole organization (provider::OrganizationsClient::ReadSnapshot in the broker).
using SnapshotReader = std::function<Result<provider::OrganizationSnapshot>()>;

struct RefresherOptions {
  Duration interval{std::chrono::minutes(15)};  // `aws.organizations.refresh`
  // Declares and keeps jit_organizations_refreshes_total{outcome}, jit_organizations_accounts
  // and jit_organizations_last_success_timestamp_seconds. May be null.
  MetricsRegistry* metrics = nullptr;
  // Where the last snapshot read is kept (snapshot_cache.h); empty: nowhere. A cached snapshot
  // is resolved at construction, so a restarted broker offers the same accounts at once.
  std::filesystem::path cache_file;
};

// What one refresh did.
struct RefreshReport {
  bool read = false;         // false: the config does not use the organization; nothing was read
  std::size_t accounts = 0;  // in the scope now (listed and resolved)
  std::vector<std::string> added;     // account ids that came into the scope
  std::vector<std::string> removed;   // and that left it
  std::vector<std::string> ended;     // request ids ended for being out of scope
  std::vector<std::string> warnings;  // ResolveScope's
};

// Thread-safe. Refreshes never overlap: RefreshNow and the refresher's own thread take turns.
// A refresh that fails (Organizations cannot be read, an `ou` that is not in the organization)
// changes nothing: the scope in force stays, no request is ended, the failure is logged and
// counted. While the config does not use the organization (policy::Config::UsesOrganization),
// a refresh puts the config in force as it is and reads nothing.
class Refresher {
 public:
  // `policy` receives each scope; `workflow` ends requests; `store` lists the open ones. All
  // must outlive the refresher. `base` is the policy as parsed (no account resolved yet); it is
  // put in force at once, resolved against the cached snapshot when there is one (otherwise
  // with the listed accounts only, until the first refresh).
  Refresher(SnapshotReader read, policy::Config base, policy::ConfigHolder& policy,
            workflow::Workflow& workflow, store::Store& store, Clock& clock,
            RefresherOptions options = {});
  ~Refresher();  // Stop
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // A reloaded config: `base` goes into force at once, resolved against the last snapshot read
  // (so the accounts from the organization stay offered), then a refresh is asked of the thread
  // (when started) so that the new sources and the organization's changes apply.
  void SetBase(policy::Config base);

  // Refreshes on the caller's thread: reads the organization, resolves the sources, puts the
  // scope in force, audits "accounts.scope_changed" when accounts came in or left (not on the
  // first refresh of the process, which only sets the scope), and ends every open request
  // FindOutOfScope names (workflow::EndOutOfScope; a request that fails to end is logged and
  // tried again on the next refresh). Errors of the read and of ResolveScope (nothing changed).
  Result<RefreshReport> RefreshNow();

  // Refreshes on a thread of its own: at once, then every `interval` after each refresh ends,
  // and soon after each SetBase (RefreshNow, errors logged). FailedPrecondition when started
  // already.
  Status Start();
  // Waits for a refresh under way; none starts after. Idempotent.
  void Stop();
  // Runs of the refresher's thread so far (for tests; PeriodicTask::runs).
  std::int64_t runs() const { return task_.runs(); }

 private:
  void RefreshAndLog();  // RefreshNow, logged
  Result<std::vector<model::Request>> OpenRequests();

  const SnapshotReader read_;
  policy::ConfigHolder& policy_;
  workflow::Workflow& workflow_;
  store::Store& store_;
  Clock& clock_;
  const RefresherOptions options_;

  Mutex refresh_mu_;  // one refresh at a time; taken before mu_
  Mutex mu_;
  policy::Config base_ GUARDED_BY(mu_);
  std::optional<provider::OrganizationSnapshot> snapshot_ GUARDED_BY(mu_);  // the last read
  std::optional<std::set<std::string>> scope_ GUARDED_BY(mu_);  // ids in force after a refresh
  std::uint64_t generation_ GUARDED_BY(mu_) = 0;                // counts SetBase calls
  double last_success_s_ GUARDED_BY(mu_) = 0;

  PeriodicTask task_;  // last: it calls RefreshAndLog, which uses the members above
};

}  // namespace jit::org
