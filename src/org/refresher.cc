#include "org/refresher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
#include <utility>

#include "org/scope.h"
#include "org/snapshot_cache.h"

namespace jit::org {
namespace {

constexpr char kRefreshes[] = "jit_organizations_refreshes_total";

std::set<std::string> IdsOf(const policy::Config& c) {
  std::set<std::string> ids;
  for (const policy::Account& a : c.accounts) ids.insert(a.id);
  return ids;
}

std::size_t FromOrganization(const policy::Config& c) {
  return static_cast<std::size_t>(
      std::count_if(c.accounts.begin(), c.accounts.end(),
                    [](const policy::Account& a) { return a.from_organization; }));
}

}  // namespace

Refresher::Refresher(SnapshotReader read, policy::Config base, policy::ConfigHolder& policy,
                     workflow::Workflow& workflow, store::Store& store, Clock& clock,
                     RefresherOptions options)
    : read_(std::move(read)),
      policy_(policy),
      workflow_(workflow),
      store_(store),
      clock_(clock),
      options_(options),
      base_(base),
      task_(clock, options.interval, [this] { RefreshAndLog(); }) {
  if (!options_.cache_file.empty() && base.UsesOrganization()) {
    Result<provider::OrganizationSnapshot> cached = LoadSnapshot(options_.cache_file);
    if (cached.has_value()) {
      Result<Resolution> r = ResolveScope(base, *cached);
      if (r.has_value()) {
        MutexLock lock(&mu_);
        snapshot_ = *std::move(cached);
        base = std::move(r->config);
      } else {
        spdlog::warn("organizations: the cached organization does not fit the config: {}",
                     r.error().message());
      }
    } else if (cached.error().code() != StatusCode::kNotFound) {
      spdlog::warn("organizations: ignoring the cache: {}", cached.error().message());
    }
  }
  policy_.Set(std::move(base));
  if (MetricsRegistry* m = options_.metrics) {
    m->DeclareCounter(kRefreshes,
                      "Reads of AWS Organizations for the accounts of the config: ok, failed "
                      "(the scope in force stays; see the log).",
                      {"outcome"});
    m->Add(kRefreshes, {"ok"}, 0);
    m->Add(kRefreshes, {"failed"}, 0);
    m->DeclareGauge(
        "jit_organizations_accounts",
        "Accounts in jit's scope that came from AWS Organizations (in the policy in force).", {},
        [this] {
          return std::map<LabelValues, double>{
              {{}, static_cast<double>(FromOrganization(*policy_.Get()))}};
        });
    m->DeclareGauge("jit_organizations_last_success_timestamp_seconds",
                    "When AWS Organizations was last read successfully (Unix seconds; 0: not "
                    "yet).",
                    {}, [this] {
                      MutexLock lock(&mu_);
                      return std::map<LabelValues, double>{{{}, last_success_s_}};
                    });
  }
}

Refresher::~Refresher() { Stop(); }

void Refresher::SetBase(policy::Config base) {
  {
    MutexLock lock(&mu_);
    base_ = base;
    ++generation_;
    if (snapshot_ && base.UsesOrganization()) {
      Result<Resolution> r = ResolveScope(base, *snapshot_);
      if (r.has_value()) {
        policy_.Set(std::move(r->config));
      } else {
        // The refresh asked for below reports it; until then the listed accounts serve.
        policy_.Set(base);
      }
    } else {
      policy_.Set(base);
    }
  }
  task_.RunSoon();
}

Result<std::vector<model::Request>> Refresher::OpenRequests() {
  std::vector<model::Request> out;
  for (model::RequestState state : {model::RequestState::kPending, model::RequestState::kApproved,
                                    model::RequestState::kActive}) {
    store::RequestFilter filter;
    filter.state = state;
    filter.limit = 500;
    for (;;) {
      JIT_ASSIGN_OR_RETURN(store::RequestPage page, store_.ListRequests(filter));
      std::move(page.items.begin(), page.items.end(), std::back_inserter(out));
      if (page.next_cursor.empty()) break;
      filter.cursor = page.next_cursor;
    }
  }
  return out;
}

Result<RefreshReport> Refresher::RefreshNow() {
  MutexLock turn(&refresh_mu_);
  policy::Config base;
  std::uint64_t generation = 0;
  {
    MutexLock lock(&mu_);
    base = base_;
    generation = generation_;
  }
  RefreshReport report;
  if (!base.UsesOrganization()) {
    MutexLock lock(&mu_);
    policy_.Set(base_);
    scope_.reset();
    report.accounts = base_.accounts.size();
    return report;
  }
  report.read = true;
  auto fail = [this](Status s) -> Status {
    if (options_.metrics) options_.metrics->Add(kRefreshes, {"failed"});
    return s;
  };
  Result<provider::OrganizationSnapshot> snapshot = read_();
  if (!snapshot.has_value()) return fail(snapshot.error());
  Result<Resolution> resolved = ResolveScope(base, *snapshot);
  if (!resolved.has_value()) return fail(resolved.error());
  report.warnings = resolved->warnings;
  std::set<std::string> ids = IdsOf(resolved->config);
  report.accounts = ids.size();
  std::optional<std::set<std::string>> before;
  std::shared_ptr<const policy::Config> scope;
  {
    MutexLock lock(&mu_);
    // A reload while the organization was read: resolve the newer base against this snapshot.
    if (generation_ != generation) {
      Result<Resolution> again = ResolveScope(base_, *snapshot);
      if (!again.has_value()) return fail(again.error());
      resolved = std::move(again);
      ids = IdsOf(resolved->config);
      report.accounts = ids.size();
    }
    before = scope_;
    snapshot_ = *snapshot;
    scope_ = ids;
    last_success_s_ = std::chrono::duration<double>(clock_.Now().time_since_epoch()).count();
    policy_.Set(std::move(resolved->config));
    scope = policy_.Get();
  }
  if (options_.metrics) options_.metrics->Add(kRefreshes, {"ok"});
  if (!options_.cache_file.empty()) {
    if (Status s = SaveSnapshot(options_.cache_file, *snapshot); !s.ok()) {
      spdlog::warn("organizations: cannot keep the snapshot for the next start: {}", s.message());
    }
  }
  if (before) {
    std::set_difference(ids.begin(), ids.end(), before->begin(), before->end(),
                        std::back_inserter(report.added));
    std::set_difference(before->begin(), before->end(), ids.begin(), ids.end(),
                        std::back_inserter(report.removed));
    if (!report.added.empty() || !report.removed.empty()) {
      if (Status s = workflow_.RecordScopeChange(report.added, report.removed, ids.size());
          !s.ok()) {
        spdlog::warn("organizations: cannot audit the scope change: {}", s.message());
      }
    }
  }
  // Requests out of scope end after every successful refresh, also the first of the process:
  // an account may have left the scope while jit was not running.
  Result<std::vector<model::Request>> open = OpenRequests();
  if (!open.has_value()) {
    spdlog::warn("organizations: cannot list the open requests to end those out of scope: {}",
                 open.error().message());
    return report;
  }
  for (const OutOfScope& out : FindOutOfScope(*scope, *open)) {
    Result<model::Request> ended = workflow_.EndOutOfScope(out.request_id, out.reason);
    if (ended.has_value()) {
      report.ended.push_back(out.request_id);
      spdlog::warn("organizations: request {} ended: {}", out.request_id, out.reason);
    } else if (ended.error().code() != StatusCode::kFailedPrecondition) {
      // FailedPrecondition: it ended meanwhile. Anything else is tried on the next refresh.
      spdlog::error("organizations: cannot end request {} ({}): {}", out.request_id, out.reason,
                    ended.error().message());
    }
  }
  return report;
}

void Refresher::RefreshAndLog() {
  Result<RefreshReport> r = RefreshNow();
  if (!r.has_value()) {
    spdlog::error("organizations: keeping the accounts in force: {}", r.error().message());
    return;
  }
  if (!r->read) return;
  for (const std::string& w : r->warnings) spdlog::warn("organizations: {}", w);
  spdlog::info("organizations: {} accounts in scope ({} came in, {} left, {} requests ended)",
               r->accounts, r->added.size(), r->removed.size(), r->ended.size());
}

Status Refresher::Start() { return task_.Start(); }

void Refresher::Stop() { task_.Stop(); }

}  // namespace jit::org
