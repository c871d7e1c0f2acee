#pragma once
// One round of session cut-off for one permission set, planned without I/O: which statements
// the inline policy gets and loses, and which accounts must then be provisioned.

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "cutoff/statements.h"
#include "provider/provider.h"

namespace jit::cutoff {

// One job's part in a round.
struct Change {
  enum class Kind { kApply, kLift };
  Kind kind = Kind::kApply;
  std::string user_id;
  std::string account_id;
  Time at;  // kApply: when the access ended (sessions issued before it are cut off)
};

struct RoundInput {
  InlinePolicy current;
  std::vector<Change> changes;
  Time now;
  Duration session_duration{0};  // the permission set's SessionDuration
  // The policy's size budget, in characters besides white space (provider::ProvisionedPolicySize;
  // IAM's limit on a role's inline policies, provider::kMaxProvisionedPolicySize). The document
  // also stays within AWS's length limit, provider::kMaxInlinePolicyLength.
  std::size_t max_size = 0;
  // The users who hold the permission set in `account` now (every user assignment): they are
  // left out of a compact "everyone except" statement. Called only when the policy would not
  // fit otherwise.
  std::function<Result<std::set<std::string>>(const std::string& account)> holders;
};

// How a change came out of the round.
enum class ChangeOutcome {
  kDone,    // kApply: a statement covers the user; kLift: no statement of the user is left
  kNotYet,  // kLift: a statement covering the user stands until `until`
  kNoRoom,  // kApply: the policy's size budget has no room for it
};

struct RoundPlan {
  InlinePolicy next;
  bool changed = false;                 // next differs from current
  std::set<std::string> provision;      // accounts to provision after the put
  std::vector<ChangeOutcome> outcomes;  // one per change, in order
  std::vector<Time> until;              // for kNotYet: when to look again; else unset
  std::size_t size = 0;        // of the composed document (provider::ProvisionedPolicySize)
  int compacted_accounts = 0;  // accounts turned into the compact form in this round
};

// Plans the round:
// 1. Statements whose time plus the session duration has passed are removed (every session
//    they could deny has expired); their accounts are provisioned.
// 2. Each kApply is covered by an existing statement of its account whose time is at or after
//    it, or joins the per-user statement of its account at CeilToSecond(at) (made when
//    missing). Its account is provisioned either way (a restart may have come between the put
//    and the provisioning).
// 3. While the document is over the budget (max_size), the account with the most listed users is
//    compacted: its per-user statements' users who no longer hold the permission set there
//    (holders) move into one "everyone except the holders" statement at the latest of their
//    times; holders keep theirs. Errors of `holders` are returned.
// 4. If it still does not fit, the newest kApply users added in this round are taken out again,
//    one by one, and reported kNoRoom.
Result<RoundPlan> PlanRound(const RoundInput& in);

}  // namespace jit::cutoff
