#pragma once
// `jit policy explain`: a dry run of Evaluate that says, rule by rule, why.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/identity.h"
#include "policy/config.h"
#include "policy/policy.h"

namespace jit::policy {

// How one rule relates to the request.
struct RuleExplanation {
  std::string name;
  int line = 0;  // in the config file; 0 when the config was not read from a file
  bool requester_matches = false;
  bool account_matches = false;
  bool permission_set_matches = false;
  // Every condition of the rule with met or unmet (CheckConditions); empty unless Covers().
  std::vector<ConditionCheck> conditions;

  // The rule applies to this requester, account and permission set.
  bool Covers() const { return requester_matches && account_matches && permission_set_matches; }
  // Covers() and every condition is met.
  bool Allows() const;
};

// What Evaluate would do.
enum class Outcome {
  kAutoApproved,   // approval: auto
  kNeedsApproval,  // approvals_required approvals from `approvers`
  kBreakGlass,     // self-activated
  kRefused,        // `refusal` says why
};

// "auto", "approval", "break_glass", "refused".
std::string_view OutcomeName(Outcome o);

struct Explanation {
  model::Identity who;
  AccessRequest request;
  Time at;  // the time the request was explained for (allowed hours)

  // What the request names, resolved; null when it could not be (then `refusal` says why).
  const Account* account = nullptr;
  const PermissionSet* permission_set = nullptr;

  // Every rule in file order, once the account and permission set are resolved (empty before).
  std::vector<RuleExplanation> rules;

  const Rule* deciding_rule = nullptr;  // the rule that decides; null when refused
  Outcome outcome = Outcome::kRefused;
  int approvals_required = 0;  // kNeedsApproval only
  Subjects approvers;          // kNeedsApproval only
  Duration approval_timeout{0};
  Status refusal;  // kRefused: exactly the error Evaluate returns; OK otherwise

  // For people, several lines ending in '\n'.
  std::string ToText() const;
  // For scripts: {"request", "identity", "at", "account", "permission_set", "rules",
  // "decided_by", "outcome", "approvals"?, "refusal"?}.
  nlohmann::json ToJson() const;
};

// Explains what Evaluate(config, who, req, now) would decide and why. Pointers in the result
// point into `config`, which must outlive it. Never fails: a refusal is an outcome. The
// outcome, deciding rule and refusal always equal Evaluate's. A duration of 0 (not given) is
// refused as Evaluate refuses it, but the rules are still listed with their conditions.
Explanation Explain(const Config& config, const model::Identity& who, const AccessRequest& req,
                    Time now);

}  // namespace jit::policy
