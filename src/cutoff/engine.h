#pragma once
// Session cut-off (docs/AWS.md "Session cut-off"): once jit has deleted an assignment, the role
// sessions its user opened with it stay valid until they expire. When cut-off is on for the
// grant, its end puts a durable job; the engine adds a statement to the permission set's inline
// policy that denies that user's sessions in that account issued before the end
// (cutoff/statements.h), provisions the permission set to the account, and once the permission
// set's session duration has passed takes the statement out again.
//
// Jobs (model::JobKind::kCutoff, kCutoffLift) carry what they need in their payload, so they
// survive restarts; the engine batches every job of one permission set that is due together
// into one round: one read of the policy, one write, one provisioning per account, polled
// until it ends. A round re-reads the policy before it writes and after, and plans again when
// somebody else changed it meanwhile (their statements are kept, never overwritten). When the
// policy's size budget runs out, cut-offs are compacted (cutoff/plan.h) and, failing that,
// refused: audited as "session.cutoff.failed" with the sessions that stay open, and retried.
//
// Audit actions: session.cutoff.applied, session.cutoff.lifted, session.cutoff.failed.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/mutex.h"
#include "cutoff/plan.h"
#include "model/request.h"
#include "policy/config.h"
#include "provider/provider.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

namespace jit::cutoff {

// True when cut-off is on for the grant of `r` under `config`: the rule's `session_cutoff`
// when it says, else the permission set's, else the file's top-level one (off by default). A
// rule or permission set no longer in the config counts as silent. Never for a group membership
// (model::kGroupAccount).
bool CutoffEnabled(const policy::Config& config, const model::Request& r);

// In `tx`: when cut-off is on for `r`, puts its cut-off job, due now, for sessions issued
// before `ended_at` (when jit saw the assignment gone). Call it where the assignment of an
// ended grant was deleted (by jit, or outside it: drift).
Status ScheduleCutoff(store::Tx& tx, const policy::Config& config, const model::Request& r,
                      Time ended_at, Time now);

struct EngineOptions {
  // The inline policy's size budget, in characters besides white space: IAM's limit on a role's
  // inline policies (provider::kMaxProvisionedPolicySize), which the provisioned policy becomes.
  std::size_t max_policy_size = provider::kMaxProvisionedPolicySize;
  // A round waits this long after its first job for the others of its permission set that
  // come due meanwhile (they share its one write and provisioning).
  Duration gather = Duration(500);
  // How often a round's provisionings are polled (and jobs waiting on a round look again).
  Duration poll_interval = Duration(1000);
  // How long a permission set's session duration is reused.
  Duration session_duration_ttl = std::chrono::minutes(1);
  // A round that has not ended after this long fails (its jobs retry).
  Duration round_timeout = std::chrono::minutes(10);
  // Runs a transaction and tells whoever listens (metrics, notifications) what it audited.
  // Empty: Store::Transact alone.
  std::function<Status(const std::function<Status(store::Tx&)>&)> transact;
};

// Thread-safe: runs any number of jobs at once. `store`, `provider`, `policies` and `clock`
// must outlive it.
class Engine final : public scheduler::JobRunner {
 public:
  Engine(store::Store& store, provider::Provider& provider,
         provider::PermissionSetPolicies& policies, Clock& clock, EngineOptions options = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // kCutoff and kCutoffLift jobs; any other kind is dropped (Done) with a log line.
  scheduler::JobOutcome Run(const model::Job& job) override;

  struct Stats {
    std::int64_t rounds = 0;         // rounds started
    std::int64_t puts = 0;           // policy writes (puts and deletes)
    std::int64_t provisionings = 0;  // ProvisionPermissionSet calls that started one
    std::int64_t merges = 0;         // rounds planned again because the policy changed
  };
  Stats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::cutoff
