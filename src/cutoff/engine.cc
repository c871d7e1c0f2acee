#include "cutoff/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time_format.h"
#include "model/job.h"

namespace jit::cutoff {
namespace {

using nlohmann::json;
using scheduler::JobOutcome;

constexpr std::string_view kActor = "jit";
// Plans made again, at most, when the policy keeps changing under a round.
constexpr int kMaxPlans = 4;
// A failing cut-off is audited once, at this attempt, so a short hiccup stays quiet.
constexpr int kAuditFailureAtAttempt = 2;

std::string JobIdFor(model::JobKind kind, const std::string& request_id) {
  return std::string(model::JobKindName(kind)) + ":" + request_id;
}

struct Payload {
  Change change;
  std::string permission_set_arn;
  std::string request_id;
};

std::optional<Payload> ReadPayload(const model::Job& job) {
  json p = json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  if (!p.is_object()) return std::nullopt;
  for (const char* k : {"user_id", "account_id", "permission_set_arn", "at"}) {
    if (!p.contains(k) || !p[k].is_string() || p[k].get<std::string>().empty()) {
      return std::nullopt;
    }
  }
  Result<Time> at = ParseRfc3339(p["at"].get<std::string>());
  if (!at.has_value()) return std::nullopt;
  Payload out;
  out.change.kind =
      job.kind == model::JobKind::kCutoffLift ? Change::Kind::kLift : Change::Kind::kApply;
  out.change.user_id = p["user_id"].get<std::string>();
  out.change.account_id = p["account_id"].get<std::string>();
  out.change.at = *at;
  out.permission_set_arn = p["permission_set_arn"].get<std::string>();
  out.request_id = job.request_id;
  return out;
}

std::string PayloadText(const Change& c, const std::string& permission_set_arn) {
  return json{{"user_id", c.user_id},
              {"account_id", c.account_id},
              {"permission_set_arn", permission_set_arn},
              {"at", FormatRfc3339(c.at)}}
      .dump();
}

bool SameDocument(const std::string& a, const std::string& b) {
  if (a == b) return true;
  json ja = json::parse(a, nullptr, false);
  json jb = json::parse(b, nullptr, false);
  if (ja.is_discarded() || jb.is_discarded()) return false;
  return ja == jb;
}

std::int64_t Millis(Duration d) { return std::chrono::duration_cast<Duration>(d).count(); }

}  // namespace

bool CutoffEnabled(const policy::Config& config, const model::Request& r) {
  // A group membership's sessions are those of the group's assignments, in any account: cut-off
  // applies to account assignments only.
  if (model::IsGroupAccount(r.account_id)) return false;
  for (const policy::Rule& rule : config.rules) {
    if (rule.name == r.rule && rule.session_cutoff.has_value()) return *rule.session_cutoff;
  }
  for (const policy::PermissionSet& ps : config.permission_sets) {
    if (ps.arn == r.permission_set_arn && ps.session_cutoff.has_value()) {
      return *ps.session_cutoff;
    }
  }
  return config.session_cutoff;
}

Status ScheduleCutoff(store::Tx& tx, const policy::Config& config, const model::Request& r,
                      Time ended_at, Time now) {
  if (!CutoffEnabled(config, r) || r.principal_id.empty()) return OkStatus();
  Change c{Change::Kind::kApply, r.principal_id, r.account_id, ended_at};
  model::Job j;
  j.id = JobIdFor(model::JobKind::kCutoff, r.id);
  j.kind = model::JobKind::kCutoff;
  j.request_id = r.id;
  j.due_at = now;
  j.first_due_at = now;
  j.created_at = now;
  j.payload = PayloadText(c, r.permission_set_arn);
  return tx.PutJob(j);
}

// ---- The engine ---------------------------------------------------------------------------

// What became of one job's change in a round.
struct JobResult {
  Status status;  // not OK: the round failed
  ChangeOutcome outcome = ChangeOutcome::kDone;
  Time until;    // kNotYet
  Time done_at;  // when the round ended
  Time before;   // kApply kDone: the time of the statement that covers it (best effort)
  std::size_t size = 0;
  bool compact = false;
  Duration session_duration{0};
};

struct Member {
  std::string job_id;
  Change change;
};

struct Round {
  std::vector<Member> members;
  Duration session_duration{0};
  RoundPlan plan;
  std::map<std::string, std::string> provisioning;  // account -> request id, in progress
  std::set<std::string> to_start;                   // accounts whose provisioning must start
  bool started = false;                             // its I/O has begun: no more members join
  bool polling = false;                             // one job does its I/O at a time
  MonoTime gather_until{};
  MonoTime last_poll{};
  MonoTime started_at{};
};

struct SetState {
  std::map<std::string, Change> waiting;  // by job id
  std::shared_ptr<Round> round;
  std::map<std::string, JobResult> finished;  // by job id
};

class Engine::Impl {
 public:
  Impl(store::Store& store, provider::Provider& provider, provider::PermissionSetPolicies& policies,
       Clock& clock, EngineOptions options)
      : store_(store),
        provider_(provider),
        policies_(policies),
        clock_(clock),
        options_(std::move(options)) {}

  JobOutcome Run(const model::Job& job) {
    if (job.kind != model::JobKind::kCutoff && job.kind != model::JobKind::kCutoffLift) {
      spdlog::error("session cut-off: job {} is not one of its kinds; dropping it", job.id);
      return JobOutcome::Done();
    }
    std::optional<Payload> p = ReadPayload(job);
    if (!p) {
      spdlog::error("session cut-off: job {} has a payload it cannot read; dropping it", job.id);
      return JobOutcome::Done();
    }
    const std::string& ps = p->permission_set_arn;
    std::shared_ptr<Round> round;
    bool start = false;
    bool poll = false;
    if (std::optional<JobResult> done = TakeFinished(ps, job.id)) return Finish(job, *p, *done);
    {
      MutexLock l(&mu_);
      SetState& st = sets_[ps];
      MonoTime mono = clock_.MonoNow();
      bool member =
          st.round != nullptr && std::any_of(st.round->members.begin(), st.round->members.end(),
                                             [&](const Member& m) { return m.job_id == job.id; });
      if (!member) {
        if (st.round != nullptr && st.round->started) {
          // The next round takes it.
          st.waiting[job.id] = p->change;
          return JobOutcome::CheckAgain(options_.poll_interval);
        }
        if (st.round == nullptr) {
          // A new round gathers the jobs of this permission set that come due meanwhile.
          st.round = std::make_shared<Round>();
          for (auto& [id, change] : st.waiting) st.round->members.push_back({id, change});
          st.waiting.clear();
          st.round->gather_until = mono + options_.gather;
        }
        st.waiting.erase(job.id);
        st.round->members.push_back({job.id, p->change});
      }
      Round& rd = *st.round;
      if (!rd.started) {
        if (mono < rd.gather_until) {
          return JobOutcome::CheckAgain(
              std::chrono::duration_cast<Duration>(rd.gather_until - mono));
        }
        rd.started = true;
        rd.polling = true;
        rd.started_at = mono;
        round = st.round;
        start = true;
      } else {
        if (rd.polling || mono - rd.last_poll < options_.poll_interval) {
          return JobOutcome::CheckAgain(options_.poll_interval);
        }
        rd.polling = true;
        round = st.round;
        poll = true;
      }
    }
    if (start) StartRound(ps, round);
    if (poll) PollRound(ps, round);
    if (std::optional<JobResult> done = TakeFinished(ps, job.id)) return Finish(job, *p, *done);
    return JobOutcome::CheckAgain(options_.poll_interval);
  }

  Stats stats() const {
    MutexLock l(&mu_);
    return stats_;
  }

 private:
  // The result a round left for `job_id`, taken out; nullopt when it has none yet.
  std::optional<JobResult> TakeFinished(const std::string& ps, const std::string& job_id) {
    MutexLock l(&mu_);
    SetState& st = sets_[ps];
    auto it = st.finished.find(job_id);
    if (it == st.finished.end()) return std::nullopt;
    JobResult r = std::move(it->second);
    st.finished.erase(it);
    return r;
  }

  Status Transact(const std::function<Status(store::Tx&)>& fn) {
    if (options_.transact) return options_.transact(fn);
    return store_.Transact(fn);
  }

  Result<Duration> SessionDuration(const std::string& ps) {
    {
      MutexLock l(&mu_);
      auto it = durations_.find(ps);
      if (it != durations_.end() &&
          clock_.MonoNow() - it->second.second < options_.session_duration_ttl) {
        return it->second.first;
      }
    }
    JIT_ASSIGN_OR_RETURN(Duration d, policies_.SessionDuration(ps));
    MutexLock l(&mu_);
    durations_[ps] = {d, clock_.MonoNow()};
    return d;
  }

  // Ends `round`: every member gets its result, the permission set is free for the next round.
  void Complete(const std::string& ps, const std::shared_ptr<Round>& round, const Status& status) {
    Time now = clock_.Now();
    MutexLock l(&mu_);
    SetState& st = sets_[ps];
    for (std::size_t i = 0; i < round->members.size(); ++i) {
      JobResult r;
      r.status = status;
      r.done_at = now;
      r.session_duration = round->session_duration;
      if (status.ok()) {
        r.outcome = round->plan.outcomes[i];
        r.until = round->plan.until[i];
        r.size = round->plan.size;
        r.compact = round->plan.compacted_accounts > 0;
        const Change& c = round->members[i].change;
        r.before = CeilToSecond(c.at);
        for (const CutoffStatement& s : round->plan.next.cutoffs) {
          if (s.account_id == c.account_id && s.Covers(c.user_id, r.before - Duration(1))) {
            r.before = std::max(r.before, s.before);
          }
        }
      }
      st.finished[round->members[i].job_id] = std::move(r);
    }
    if (st.round == round) st.round.reset();
  }

  // Reads, plans, writes and starts the provisionings of a new round.
  void StartRound(const std::string& ps, const std::shared_ptr<Round>& round) {
    {
      MutexLock l(&mu_);
      ++stats_.rounds;
    }
    Result<Duration> d = SessionDuration(ps);
    if (!d.has_value()) return Complete(ps, round, d.error());
    round->session_duration = *d;
    std::vector<Change> changes;
    for (const Member& m : round->members) changes.push_back(m.change);

    Status written = InternalError("the inline policy kept changing while jit wrote it");
    for (int attempt = 0; attempt < kMaxPlans; ++attempt) {
      Result<std::string> text = policies_.GetInlinePolicy(ps);
      if (!text.has_value()) return Complete(ps, round, text.error());
      Result<InlinePolicy> current = ParseInlinePolicy(*text);
      if (!current.has_value()) {
        return Complete(ps, round,
                        FailedPreconditionError("cannot read the inline policy of " + ps + ": " +
                                                current.error().message()));
      }
      RoundInput in;
      in.current = std::move(current).value();
      in.changes = changes;
      in.now = clock_.Now();
      in.session_duration = *d;
      in.max_size = options_.max_policy_size;
      in.holders = [&](const std::string& account) -> Result<std::set<std::string>> {
        JIT_ASSIGN_OR_RETURN(auto list, provider_.ListAssignments(account, ps));
        std::set<std::string> users;
        for (const provider::Assignment& a : list) users.insert(a.principal_id);
        return users;
      };
      Result<RoundPlan> plan = PlanRound(in);
      if (!plan.has_value()) return Complete(ps, round, plan.error());
      round->plan = std::move(plan).value();
      if (!round->plan.changed) {
        written = OkStatus();
        break;
      }
      // Somebody else's change since the first read is merged by planning again from it.
      Result<std::string> again = policies_.GetInlinePolicy(ps);
      if (!again.has_value()) return Complete(ps, round, again.error());
      if (!SameDocument(*text, *again)) {
        CountMerge(ps);
        continue;
      }
      std::string doc = ComposeInlinePolicy(round->plan.next);
      Status put =
          doc.empty() ? policies_.DeleteInlinePolicy(ps) : policies_.PutInlinePolicy(ps, doc);
      if (!put.ok()) return Complete(ps, round, put);
      {
        MutexLock l(&mu_);
        ++stats_.puts;
      }
      // A change that landed between the second read and the write would be lost: read back
      // and plan again if what is there is not what was written.
      Result<std::string> after = policies_.GetInlinePolicy(ps);
      if (!after.has_value()) return Complete(ps, round, after.error());
      if (!SameDocument(doc.empty() ? std::string() : doc, *after)) {
        CountMerge(ps);
        continue;
      }
      written = OkStatus();
      break;
    }
    if (!written.ok()) return Complete(ps, round, written);
    round->to_start = round->plan.provision;
    Status started = StartProvisionings(ps, round);
    if (!started.ok()) return Complete(ps, round, started);
    MaybeComplete(ps, round);
  }

  void CountMerge(const std::string& ps) {
    spdlog::warn("session cut-off: the inline policy of {} changed while jit wrote it; merging",
                 ps);
    MutexLock l(&mu_);
    ++stats_.merges;
  }

  // Starts the provisionings not started yet; a conflict (another provisioning of the set under
  // way) leaves the account for the next poll. Returns an error that fails the round.
  Status StartProvisionings(const std::string& ps, const std::shared_ptr<Round>& round) {
    for (auto it = round->to_start.begin(); it != round->to_start.end();) {
      Result<provider::Operation> op = policies_.ProvisionPermissionSet(ps, *it);
      if (!op.has_value()) {
        if (op.error().code() == StatusCode::kAborted ||
            op.error().code() == StatusCode::kUnavailable) {
          ++it;
          continue;
        }
        return op.error();
      }
      {
        MutexLock l(&mu_);
        ++stats_.provisionings;
      }
      if (op->state == provider::OperationState::kFailed) {
        return UnavailableError("provisioning " + ps + " to " + *it +
                                " failed: " + op->failure_reason);
      }
      if (op->state == provider::OperationState::kInProgress) round->provisioning[*it] = op->id;
      it = round->to_start.erase(it);
    }
    return OkStatus();
  }

  void MaybeComplete(const std::string& ps, const std::shared_ptr<Round>& round) {
    if (round->provisioning.empty() && round->to_start.empty()) {
      Complete(ps, round, OkStatus());
      return;
    }
    if (clock_.MonoNow() - round->started_at > options_.round_timeout) {
      Complete(ps, round, UnavailableError("provisioning did not end in time"));
      return;
    }
    MutexLock l(&mu_);
    round->polling = false;
    round->last_poll = clock_.MonoNow();
  }

  void PollRound(const std::string& ps, const std::shared_ptr<Round>& round) {
    Status s = StartProvisionings(ps, round);
    if (!s.ok()) return Complete(ps, round, s);
    for (auto it = round->provisioning.begin(); it != round->provisioning.end();) {
      Result<provider::Operation> op = policies_.ProvisionStatus(it->second);
      if (!op.has_value()) {
        if (op.error().code() == StatusCode::kNotFound) {
          round->to_start.insert(it->first);  // forgotten: provision again
          it = round->provisioning.erase(it);
          continue;
        }
        if (op.error().code() == StatusCode::kUnavailable) {
          ++it;
          continue;
        }
        return Complete(ps, round, op.error());
      }
      if (op->state == provider::OperationState::kFailed) {
        return Complete(ps, round,
                        UnavailableError("provisioning " + ps + " to " + it->first +
                                         " failed: " + op->failure_reason));
      }
      if (op->state == provider::OperationState::kSucceeded) {
        it = round->provisioning.erase(it);
      } else {
        ++it;
      }
    }
    MaybeComplete(ps, round);
  }

  // Records what became of the job's change and says what the scheduler does next.
  JobOutcome Finish(const model::Job& job, const Payload& p, const JobResult& r) {
    Time now = clock_.Now();
    const Change& c = p.change;
    json where = {{"user_id", c.user_id},
                  {"account_id", c.account_id},
                  {"permission_set_arn", p.permission_set_arn}};
    Time open_until = c.at + r.session_duration;
    if (!r.status.ok() || r.outcome == ChangeOutcome::kNoRoom) {
      std::string why = r.status.ok() ? "the inline policy of the permission set has no room left"
                                      : r.status.ToString();
      bool expired =
          c.kind == Change::Kind::kApply && r.session_duration.count() > 0 && now >= open_until;
      if (c.kind == Change::Kind::kApply &&
          (job.attempts == (r.status.ok() ? 0 : kAuditFailureAtAttempt) || expired)) {
        json d = where;
        d["why"] = why;
        d["ended_at"] = FormatRfc3339(c.at);
        if (r.session_duration.count() > 0) d["sessions_open_until"] = FormatRfc3339(open_until);
        d["attempts"] = job.attempts + 1;
        if (expired) d["gave_up"] = "the sessions have expired by themselves";
        Status s = Audit(p.request_id, "session.cutoff.failed", expired ? "warning" : "high", d);
        if (!s.ok()) return JobOutcome::Retry(s.ToString());
      }
      if (expired) return JobOutcome::Done();
      return JobOutcome::Retry(why);
    }
    if (c.kind == Change::Kind::kLift) {
      if (r.outcome == ChangeOutcome::kNotYet) {
        return JobOutcome::CheckAgain(
            std::max(Duration(1000), std::chrono::duration_cast<Duration>(r.until - now)));
      }
      json d = where;
      d["ended_at"] = FormatRfc3339(c.at);
      d["held_ms"] = Millis(std::chrono::duration_cast<Duration>(now - c.at));
      Status s = Audit(p.request_id, "session.cutoff.lifted", "info", d);
      if (!s.ok()) return JobOutcome::Retry(s.ToString());
      return JobOutcome::Done();
    }
    // Applied: audit it and set the lift for when its sessions have all expired.
    Time lift_at = r.before + r.session_duration;
    Status s = Transact([&](store::Tx& tx) -> Status {
      json d = where;
      d["ended_at"] = FormatRfc3339(c.at);
      d["denies_sessions_issued_before"] = FormatRfc3339(r.before);
      d["applied_at"] = FormatRfc3339(r.done_at);
      d["lag_ms"] = Millis(std::chrono::duration_cast<Duration>(r.done_at - c.at));
      d["policy_size"] = r.size;
      d["compact"] = r.compact;
      d["lift_at"] = FormatRfc3339(lift_at);
      JIT_RETURN_IF_ERROR(AppendAudit(tx, p.request_id, "session.cutoff.applied", "info", d));
      model::Job lift;
      lift.id = JobIdFor(model::JobKind::kCutoffLift, p.request_id);
      lift.kind = model::JobKind::kCutoffLift;
      lift.request_id = p.request_id;
      lift.due_at = std::max(lift_at, now);
      lift.first_due_at = lift.due_at;
      lift.created_at = now;
      lift.payload = PayloadText(c, p.permission_set_arn);
      JIT_RETURN_IF_ERROR(tx.PutJob(lift));
      return tx.DeleteJob(job.id);
    });
    if (!s.ok()) {
      // Run again: the statement is in place, so the next round finds it covered.
      return JobOutcome::Retry(s.ToString());
    }
    return JobOutcome::Done();
  }

  Status AppendAudit(store::Tx& tx, const std::string& request_id, std::string_view action,
                     std::string_view severity, const json& details) {
    model::AuditEvent e;
    e.at = clock_.Now();
    e.actor = std::string(kActor);
    e.action = std::string(action);
    e.request_id = request_id;
    e.severity = std::string(severity);
    e.details = details.dump();
    return tx.AppendAudit(std::move(e)).error();
  }

  Status Audit(const std::string& request_id, std::string_view action, std::string_view severity,
               const json& details) {
    return Transact(
        [&](store::Tx& tx) { return AppendAudit(tx, request_id, action, severity, details); });
  }

  store::Store& store_;
  provider::Provider& provider_;
  provider::PermissionSetPolicies& policies_;
  Clock& clock_;
  const EngineOptions options_;

  mutable Mutex mu_;
  std::map<std::string, SetState> sets_ GUARDED_BY(mu_);  // by permission set ARN
  std::map<std::string, std::pair<Duration, MonoTime>> durations_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
};

Engine::Engine(store::Store& store, provider::Provider& provider,
               provider::PermissionSetPolicies& policies, Clock& clock, EngineOptions options)
    : impl_(std::make_unique<Impl>(store, provider, policies, clock, std::move(options))) {}

Engine::~Engine() = default;

scheduler::JobOutcome Engine::Run(const model::Job& job) { return impl_->Run(job); }

Engine::Stats Engine::stats() const { return impl_->stats(); }

}  // namespace jit::cutoff
