#pragma once
// The access policy of the config file (YAML, docs/POLICY.md): accounts, permission
// sets, rules, admins and auditors. Plain data.

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/reader.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/snapshot.h"
#include "model/identity.h"
#include "policy/timezone.h"

namespace jit::policy {

// A set of people: listed users and members of listed groups.
struct Subjects {
  std::vector<std::string> users;
  std::vector<std::string> groups;

  bool Empty() const { return users.empty() && groups.empty(); }
  // True when the identity is one of the users or is in one of the groups.
  bool Contains(const model::Identity& who) const;
};

struct Account {
  std::string id;  // 12 digits
  std::string name;
  // Labels rules select by (`tags: [prod]`). An account from the organization carries each of
  // its AWS tags as "key=value" ("env=prod").
  std::vector<std::string> tags;
  // The organizational units (ou-...) and the root (r-...) the account is in, innermost first,
  // as the last organization refresh saw them (org/scope.h); empty when jit has not read the
  // organization or the account is not in it.
  std::vector<std::string> ous;
  bool from_organization = false;  // resolved from an AccountSource, not listed in the file
  int line = 0;  // where it stands in the file (1-based; 0 when not from a file); for an
                 // account from the organization, the line of the source that named it
};

// An `accounts:` entry that names accounts of the AWS Organization instead of one account
// (docs/POLICY.md "Accounts from AWS Organizations"): every active account of the
// organization, of an organizational unit (or root), or carrying tags. org/ resolves the
// sources at start, on a schedule and on SIGHUP, and puts the accounts they name into
// Config::accounts.
struct AccountSource {
  bool organization = false;                // `organization: true`
  std::string ou;                           // `ou: ou-...` or a root `r-...`
  bool recursive = true;                    // `recursive`: also the accounts of the OUs below `ou`
  std::map<std::string, std::string> tags;  // `tags: {env: prod}`: only accounts with all
  int line = 0;
};

struct PermissionSet {
  std::string name;
  std::string arn;
  Duration max_duration{0};  // 0: no limit of its own
  // `session_cutoff`: whether grants of it cut their AWS sessions off when they end
  // (cutoff/engine.h CutoffEnabled); unset: the rule's or the file's setting decides.
  std::optional<bool> session_cutoff;
  int line = 0;
};

// A rule's `accounts:`. An account matches when the selector is `all`, or when its id, its
// name, one of its tags or one of its OUs (Account::ous) is listed.
struct AccountSelector {
  bool all = false;
  std::vector<std::string> ids;
  std::vector<std::string> names;
  std::vector<std::string> tags;
  std::vector<std::string> ous;  // ou-... or r-...

  bool Matches(const Account& a) const;
};

// A rule's `schedule_window` when the file says none, and the longest one allowed.
inline constexpr Duration kDefaultScheduleWindow{7LL * 24 * 60 * 60 * 1000};
inline constexpr Duration kMaxScheduleWindow{90LL * 24 * 60 * 60 * 1000};

struct ApprovalPolicy {
  bool automatic = false;  // `approval: auto`
  Subjects approvers;
  int required = 1;                            // distinct approvals needed
  Duration timeout{Duration(15 * 60 * 1000)};  // pending requests time out after this
};

// When a rule may be used (`hours: {days, from, to, timezone}`): on the listed days of the
// zone's local calendar, from `from` (inclusive) to `to` (exclusive) local time. A window with
// `from` after `to` runs over midnight ("22:00" to "06:00") and the day named is the day it
// starts on.
struct AllowedHours {
  std::array<bool, 7> days{true, true, true, true, true, true, true};  // [0] Monday .. [6] Sunday
  int from_minute = 0;  // minutes after local midnight, 0..1439
  int to_minute = 0;    // 1..1440 (1440: "24:00"); never equal to from_minute
  std::shared_ptr<const TimeZone> zone = TimeZone::Utc();  // never null

  // True when `now` falls inside the window.
  bool Allows(Time now) const;
  // "mon-fri 08:00-18:00 Europe/Berlin" (days "daily" when all seven).
  std::string Describe() const;
};

// Ordered: a later one asks more.
enum class TicketCheck { kNone, kOpen, kAssigned };
// "open", "assigned"; "" for kNone.
std::string_view TicketCheckName(TicketCheck c);

struct Rule {
  std::string name;
  Subjects requesters;
  AccountSelector accounts;
  // Names of permission sets; for a rule with `identity_center_groups` (group_elevation), the
  // names of the groups.
  std::vector<std::string> permission_sets;
  // `identity_center_groups: [...]` in place of `accounts` and `permission_sets`: the rule grants
  // membership in those groups (model/request.h kGroupAccount). Its `accounts` then select only
  // the group account, which no other selector matches.
  bool group_elevation = false;
  Duration max_duration{0};
  Duration min_duration{0};
  bool reason_required = false;  // `reason: required` (or implied by reason_min_length > 0)
  int reason_min_length = 0;     // characters a reason needs, blanks around it not counted
  std::string ticket_pattern;    // ECMAScript regex the whole ticket must match; empty: none
  // `ticket_check: open | assigned`: the ticket must be a Jira issue that exists and is open,
  // and with `assigned` also assigned to the requester (tickets/jira.h; the file's `jira:`
  // section says where Jira is). kNone: no check. A rule with a check requires a ticket.
  TicketCheck ticket_check = TicketCheck::kNone;
  ApprovalPolicy approval;
  bool break_glass = false;           // self-activated, no approval
  std::optional<AllowedHours> hours;  // none: any time
  // How far ahead a request may ask to start (`start_at`); 0: only immediate starts.
  // Break-glass rules always start at once.
  Duration schedule_window{kDefaultScheduleWindow};
  // Most requests one user may have open (pending, approved or active) under this rule at once
  // (`max_active_per_user`); 0: no cap of its own (the global `limits` still apply). Not on
  // break-glass rules, which no limit refuses.
  int max_active_per_user = 0;
  // `session_cutoff`: overrides the permission set's and the file's setting for grants made
  // under this rule; unset: they decide.
  std::optional<bool> session_cutoff;
  int line = 0;
};

// Per-user limits on new requests (`limits:`, docs/POLICY.md "Limits"), checked by the workflow
// when a request is submitted. A request under a break-glass rule is never refused by them (an
// emergency must not wait on a limit; break-glass is loud enough on its own), but it counts
// among its requester's open requests.
struct Limits {
  // Most requests one user may have open (pending, approved or active) at once; 0: no cap.
  int open_requests_per_user = 20;
  // Most requests one user may submit in any 60 s; 0: no limit. Kept in each broker process's
  // memory: with several replicas a user may submit this many to each.
  int requests_per_minute_per_user = 10;
  // Refuse a request whose requester already has an open request for the same account and
  // permission set, whose time overlaps the new one's (an unscheduled request counts from now).
  bool refuse_duplicates = true;
  // Most accounts one request may name (`jit request prod,staging ...`); 2..100.
  int max_targets_per_request = 10;
};

// The access policy of the config file: who may ask for what, who approves, who administers.
// The file's other sections belong to the modules that use them (config/config.h).
struct Config {
  Subjects admins;    // may revoke anything, read everything
  Subjects auditors;  // may read everything
  // The accounts listed in the file and, once org/ has resolved them, those the
  // `account_sources` name (after the listed ones; an account listed in the file is not
  // repeated).
  std::vector<Account> accounts;
  std::vector<AccountSource> account_sources;  // `accounts:` entries that name the organization
  std::vector<PermissionSet> permission_sets;
  // `identity_center_groups:` (group elevation, docs/POLICY.md): the Identity Center groups rules
  // may grant membership in, each kept in the shape of a permission set so that rules, decisions
  // and the catalog treat both alike: `name`, `arn` holding the identity store GroupId,
  // `max_duration`, and session_cutoff always false. They stand under GroupAccount().
  std::vector<PermissionSet> groups;
  std::vector<Rule> rules;
  Limits limits;  // defaults when the file has no `limits:`
  // Top-level `session_cutoff` (docs/AWS.md "Session cut-off"): off unless the operator has
  // granted the broker the extra permissions (deploy/iam-policy-session-cutoff.json).
  bool session_cutoff = false;

  // The account with this id or name; GroupAccount() for model::kGroupAccount when the file
  // lists Identity Center groups.
  const Account* FindAccount(std::string_view id_or_name) const;
  // The pseudo-account whose "permission sets" are the Identity Center groups: id and name
  // model::kGroupAccount. Never in `accounts`; no selector but its id matches it.
  static const Account& GroupAccount();
  // True when accounts come from the organization or a rule selects by OU: org/ then reads
  // the organization.
  bool UsesOrganization() const;
  const PermissionSet* FindPermissionSet(std::string_view name_or_arn) const;
  // What can be asked for in `account`: the permission set (name or ARN), or, in GroupAccount(),
  // the group (name or GroupId).
  const PermissionSet* FindTarget(const Account& account, std::string_view name_or_arn) const;
};

// The top-level keys of the file that ParsePolicyField reads: admins, auditors, accounts,
// permission_sets, identity_center_groups, rules, limits, session_cutoff.
const std::vector<std::string>& PolicyKeys();

// Reads one top-level field of the file among PolicyKeys() into `out`, reporting problems to
// `reader`. Rules name accounts and permission sets, which may stand after them in the file:
// pass `rules` last, after every other field of the file. Time zones named by `hours:` are read
// from `zoneinfo_dir` (an unknown zone is an error with its line).
void ParsePolicyField(const config::Field& field, config::Reader& reader,
                      std::string_view zoneinfo_dir, Config& out);

// Parses a YAML document that holds only policy sections (PolicyKeys()), as ParseConfig of
// config/config.h does the whole file: InvalidArgument with one "FILE:LINE: what is wrong" line
// per problem, in file order. For tests and tools that need a policy alone.
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir = kSystemZoneInfoDir);

// The accounts, permission sets and rules of `jit serve --dev` (docs/ARCHITECTURE.md "Dev mode");
// the whole dev config is config::DevConfigYaml().
std::string_view DevPolicyYaml();

// Holds the access policy in force; readers take a snapshot that stays valid while they hold
// it. The workflow and the API read the policy through it; app/ owns the whole config
// (config/config.h) and sets this on a reload. Thread-safe.
using ConfigHolder = Snapshot<Config>;

}  // namespace jit::policy
