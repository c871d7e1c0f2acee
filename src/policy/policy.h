#pragma once
// Decisions: pure functions from (config, identity, request) to what the broker may do.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/identity.h"
#include "policy/config.h"

namespace jit::policy {

// What someone asks for, as they typed it.
struct AccessRequest {
  std::string account;         // id or name
  std::string permission_set;  // name or ARN
  Duration duration{0};
  std::string reason;
  std::string ticket;
  // When the access should start; none (or a time not after the evaluation's `now`): at once.
  // Times up to kStartAtSkew in the past count as "now"; older ones are refused.
  std::optional<Time> start_at;
};

// How far in the past a start_at may be and still mean "now" (clocks differ a little).
inline constexpr Duration kStartAtSkew{60 * 1000};

// When access asked for at `now` would start: req.start_at when it is after `now`, else `now`.
Time EffectiveStart(const AccessRequest& req, Time now);

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
  std::optional<Time> start_at;  // a scheduled start (after the evaluation's `now`); none: at once
};

// Decides a request made at `now`. Errors:
// - InvalidArgument: unknown account or permission set; duration zero, below the rule's
//   minimum or above its maximum (or the permission set's); reason missing or shorter than
//   the rule's reason_min_length; ticket missing or not matching the rule's pattern; the
//   start (EffectiveStart) outside the rule's allowed hours; start_at in the past, further ahead
//   than the rule's schedule_window, or on a break-glass rule. The message says which and the
//   limit.
// - PermissionDenied: no rule lets this identity request this account and permission set.
// When several rules match the identity, account and permission set, the first (in file order)
// whose conditions the request meets decides; when none does, the first one's error is
// returned.
Result<Decision> Evaluate(const Config& config, const model::Identity& who,
                          const AccessRequest& req, Time now);
// The same at the system clock's current time (std::chrono::system_clock::now()). Kept for
// callers that have no Clock yet; new code passes Clock::Now() to the overload above.
Result<Decision> Evaluate(const Config& config, const model::Identity& who,
                          const AccessRequest& req);

// One condition of a rule, checked against a request.
struct ConditionCheck {
  std::string name;  // "max_duration", "min_duration", "reason", "ticket", "start" or "hours"
  bool met = false;
  std::string limit;  // what the rule asks for, for people: "1h (rule 'x')", "required, at
                      // least 20 characters", "^INC-[0-9]+$", "mon-fri 08:00-18:00 UTC"
  Status error;       // why it is not met (what Evaluate would return); OK when met
};

// The conditions of `rule` that apply to `req` at `now`, in the order Evaluate checks them:
// max_duration and min_duration always; reason, ticket and hours when the rule has them; start
// when the request names a start_at. Hours are checked at EffectiveStart(req, now).
// REQUIRES: `ps` is one of the rule's permission sets. Shared by Evaluate and Explain so that
// they cannot disagree.
std::vector<ConditionCheck> CheckConditions(const Rule& rule, const PermissionSet& ps,
                                            const AccessRequest& req, Time now);

// Bounds on what a requester types, checked before anything else looks at it. InvalidArgument
// when the reason, ticket, account or permission set is too long. Shared by Evaluate and
// Explain.
Status CheckRequestSize(const AccessRequest& req);

// The free text of a decision (an approval or review comment, a deny or revoke reason): at most
// as many characters as a request's reason, else InvalidArgument "the <what> is too long (at
// most 1000 characters)", the wording of CheckRequestSize.
Status CheckFreeText(std::string_view what, std::string_view text);

// The PermissionDenied Evaluate returns when no rule covers the request. Shared with Explain.
Status NoRuleError(const model::Identity& who, const Account& account, const PermissionSet& ps);

// Whether `rule` applies to this identity, account and permission set at all.
bool RuleCovers(const Rule& rule, const model::Identity& who, const Account& account,
                const PermissionSet& ps);

// What an existing request was granted under, for an extension.
struct GrantTerms {
  std::string account_id;      // the account's id
  std::string permission_set;  // the permission set's name
  std::string rule;            // the name of the rule that decided it
  Duration total{0};           // the duration granted so far, earlier extensions included
};

// Checks extending a grant by `extra` at `now`: the same rule must still exist and still let
// `who` request this account and permission set, `now` must be inside its allowed hours, and
// the new total must not pass the rule's max_duration nor the permission set's. Returns the
// new total. Reason and ticket are not asked again.
// Errors:
// - InvalidArgument: `extra` not positive; the new total too long (the message names the
//   limit and who sets it); outside the rule's hours.
// - PermissionDenied: the rule, account or permission set is gone from the config, or the rule
//   no longer covers `who`.
Result<Duration> CheckExtension(const Config& config, const model::Identity& who,
                                const GrantTerms& grant, Duration extra, Time now);

// What is left of CheckExtension when an approver completes the approval of an extension that
// was requested earlier: the rule, account and permission set must still be in the config
// (which may have been reloaded since) and the new total must still fit the limits. Who the
// requester is and the hours were checked when the extension was asked for.
// Errors: as CheckExtension's, less the rule no longer covering the requester and the hours.
Result<Duration> CheckExtensionLimit(const Config& config, const GrantTerms& grant, Duration extra);

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
  int reason_min_length = 0;
  std::string ticket_pattern;
  std::string ticket_check;     // the rule's `ticket_check`: "open", "assigned" or "" (none)
  std::string hours;            // AllowedHours::Describe(); empty: any time
  Duration schedule_window{0};  // how far ahead start_at may be; 0: at once only
};

// Every (account, permission set) the identity may request, with the limits of the first rule
// that allows each, in config order of accounts then permission sets.
std::vector<CatalogEntry> Catalog(const Config& config, const model::Identity& who);

// True when Catalog(config, who) would not be empty (without building it): some rule lets the
// identity request some permission set in some account or some group.
bool MayRequestAnything(const Config& config, const model::Identity& who);
// True when some rule names the identity (or one of its groups) among its approvers: requests
// may wait for its decision, and it reviews break-glass access.
bool MayApproveAnything(const Config& config, const model::Identity& who);

// True when the identity is one of `admins` (may revoke anything, read everything).
bool IsAdmin(const Config& config, const model::Identity& who);
// True when the identity may read everything: one of `auditors`, or an admin.
bool IsAuditor(const Config& config, const model::Identity& who);

}  // namespace jit::policy
