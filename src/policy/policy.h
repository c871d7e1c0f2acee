#pragma once
// Decisions: pure functions from (config, identity, request) to what the broker may do.

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "policy/config.h"

namespace jit::policy {

// What someone asks for, as they typed it.
struct AccessRequest {
  std::string account;         // id or name
  std::string permission_set;  // name or ARN
  Duration duration{0};
  std::string reason;
  std::string ticket;
};

// What the policy allows for an AccessRequest. Pointers point into the Config evaluated.
struct Decision {
  const Rule* rule = nullptr;
  const Account* account = nullptr;
  const PermissionSet* permission_set = nullptr;
  Duration duration{0};
  bool auto_approve = false;   // approval: auto
  bool break_glass = false;    // self-activated
  int approvals_required = 0;  // 0 when auto or break-glass
  Subjects approvers;
  Duration approval_timeout{0};
};

// Decides a request. Errors:
// - InvalidArgument: unknown account or permission set; duration zero, below the rule's
//   minimum or above its maximum (or the permission set's); reason missing where required;
//   ticket missing or not matching the rule's pattern. The message says which and the limit.
// - PermissionDenied: no rule lets this identity request this account and permission set.
// When several rules match the identity, account and permission set, the first (in file order)
// whose conditions the request meets decides; when none does, the first one's error is
// returned.
Result<Decision> Evaluate(const Config& config, const Identity& who, const AccessRequest& req);

// One thing the identity may request.
struct CatalogEntry {
  const Account* account = nullptr;
  const PermissionSet* permission_set = nullptr;
  const Rule* rule = nullptr;
  Duration max_duration{0};  // the smaller of the rule's and the permission set's
  Duration min_duration{0};
  bool auto_approve = false;
  bool break_glass = false;
  int approvals_required = 0;
  bool reason_required = false;
  std::string ticket_pattern;
};

// Every (account, permission set) the identity may request, with the limits of the first rule
// that allows each, in config order of accounts then permission sets.
std::vector<CatalogEntry> Catalog(const Config& config, const Identity& who);

// True when the identity is one of `admins` (may revoke anything, read everything).
bool IsAdmin(const Config& config, const Identity& who);
// True when the identity may read everything: one of `auditors`, or an admin.
bool IsAuditor(const Config& config, const Identity& who);

}  // namespace jit::policy
