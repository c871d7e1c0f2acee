#pragma once
// `jit permission-sets plan|apply` (docs/AWS.md "Permission sets as code"): the difference
// between the config's permission set definitions and Identity Center, and making it go away.
//
// Only permission sets the config defines are read or written, matched by Name. jit's own
// inline policy statements (Sid JitCutoff*, written by session cut-off) are ignored when
// comparing and carried over on every write of the inline policy: the policy is read again
// right before the put.
//
// Thread safety: the functions keep no state of their own; `admin` must be thread-safe (every
// PermissionSetAdmin is). Two applies of one config at once are not coordinated: Identity
// Center's ConflictException (Aborted) stops the one that loses.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "permsets/definition.h"
#include "provider/permission_set_admin.h"

namespace jit::permsets {

enum class ChangeKind {
  kCreate,
  kUpdate,
  kPutInlinePolicy,
  kAttachManagedPolicy,
  kDetachManagedPolicy,
  kAttachCustomerManagedPolicy,
  kDetachCustomerManagedPolicy,
  kPutPermissionsBoundary,
  kDeletePermissionsBoundary,
  kTag,
  kUntag,
  kProvision,
};

// "create", "update", "put_inline_policy", ... (the `--output json` names).
std::string_view ChangeKindName(ChangeKind kind);

// One write apply would make.
struct Change {
  ChangeKind kind = ChangeKind::kUpdate;
  std::string permission_set;  // its name
  std::string arn;             // "" for a set still to be created
  std::string detail;          // what changes, for people (not escaped)

  // What apply sends, by kind.
  provider::PermissionSetAttributes attributes;        // kCreate, kUpdate (only changed fields set)
  std::map<std::string, std::string> tags;             // kCreate, kTag
  std::vector<std::string> keys;                       // kUntag
  std::string policy_arn;                              // k{Attach,Detach}ManagedPolicy
  provider::CustomerManagedPolicyReference reference;  // k*CustomerManagedPolicy
  provider::PermissionsBoundary boundary;              // kPutPermissionsBoundary
  std::size_t accounts = 0;                            // kProvision
};

struct Plan {
  std::vector<Change> changes;  // grouped by permission set, in config order
  std::size_t definitions = 0;  // definitions compared
};

// Compares each definition with the permission set of its name. Reads only: ListPermissionSets
// and, for each defined set that exists, what its definition manages (inline policy, managed
// policies, customer managed references, boundary, tags) and, when something changes, the
// accounts it is provisioned to. FailedPrecondition when a definition's `arn` is not the ARN
// of the set of that name, or the ARN belongs to a set of another name (every such
// definition named, one per line); the admin's errors otherwise.
Result<Plan> MakePlan(const std::vector<Definition>& definitions,
                      provider::PermissionSetAdmin& admin);

struct ApplyOptions {
  // Waits between provisioning status polls. Required.
  std::function<void(Duration)> sleep;
  Duration poll_interval = std::chrono::seconds(2);
  int max_polls = 450;  // 15 minutes at 2s
  // Called after each change is made (progress for people). May be empty.
  std::function<void(const Change&)> on_change;
};

struct ApplyResult {
  std::size_t changes = 0;                     // writes made (provisionings included)
  std::map<std::string, std::string> created;  // name -> ARN of each set created
};

// MakePlan, then makes its changes set by set: create (with tags), update, inline policy
// (read again and JitCutoff statements carried over), managed and customer managed policies,
// boundary, tags; then provisions each changed set that is provisioned anywhere to
// ALL_PROVISIONED_ACCOUNTS and polls DescribePermissionSetProvisioningStatus until SUCCEEDED.
// Stops at the first error (Internal "provisioning NAME failed: REASON" for a FAILED
// provisioning, Unavailable after max_polls), with the changes made so far made. A second
// Apply with nothing changed in between makes no write.
Result<ApplyResult> Apply(const std::vector<Definition>& definitions,
                          provider::PermissionSetAdmin& admin, const ApplyOptions& options);

// The plan for people: a block per permission set, one line per change ("+ attach ...",
// "- detach ...", "~ update ...", "> provision ..."), control characters escaped, then a
// summary line; "no changes (...)" when there is none.
std::string FormatPlan(const Plan& plan);
// The plan as {"changes": [{"permission_set", "arn", "action", "detail"}], "definitions": N}.
nlohmann::json PlanJson(const Plan& plan);

// One line for a change ("~ put inline policy: ..."), not escaped.
std::string ChangeLine(const Change& c);

// ISO-8601 for a whole number of minutes ("PT8H", "PT1H30M"), as SessionDuration takes it.
std::string IsoDuration(Duration d);

}  // namespace jit::permsets
