#include "policy/policy.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <regex>
#include <string_view>

#include "core/duration.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "model/identity.h"
#include "model/request.h"

namespace jit::policy {
namespace {

// Limits on what a requester types, checked before anything else looks at it (the ticket
// before the regex runs, to bound its cost on untrusted input).
constexpr std::size_t kMaxReasonChars = 1000;
constexpr std::size_t kMaxTicketChars = 128;

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Characters, not bytes: UTF-8 continuation bytes are not counted.
std::size_t CharCount(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// The longest duration allowed, and who sets it.
struct Limit {
  Duration max{0};
  std::string source;  // "rule 'x'" or "permission set 'y'"
};

// MaxDuration(rule, ps).max, without the words.
Duration MaxDurationOf(const Rule& rule, const PermissionSet& ps) {
  return ps.max_duration.count() > 0 && ps.max_duration < rule.max_duration ? ps.max_duration
                                                                            : rule.max_duration;
}

Limit MaxDuration(const Rule& rule, const PermissionSet& ps) {
  if (ps.max_duration.count() > 0 && ps.max_duration < rule.max_duration) {
    return {ps.max_duration, "permission set '" + ps.name + "'"};
  }
  return {rule.max_duration, "rule '" + rule.name + "'"};
}

Status TicketError(const Rule& rule, const AccessRequest& req) {
  if (req.ticket.empty() && rule.ticket_check != TicketCheck::kNone) {
    return InvalidArgumentError("a Jira ticket matching " + rule.ticket_pattern +
                                " is required (rule '" + rule.name + "')");
  }
  if (req.ticket.empty()) {
    return InvalidArgumentError("a ticket matching " + rule.ticket_pattern +
                                " is required (rule '" + rule.name + "')");
  }
  bool matches = false;
  try {
    matches = std::regex_match(req.ticket, std::regex(rule.ticket_pattern, std::regex::ECMAScript));
  } catch (const std::exception&) {
    // A pattern that does not compile (config made in code) or a match that blows up fails
    // closed.
    return InvalidArgumentError("ticket '" + req.ticket + "' cannot be checked against " +
                                rule.ticket_pattern);
  }
  if (!matches) {
    return InvalidArgumentError("ticket '" + req.ticket + "' does not match " +
                                rule.ticket_pattern);
  }
  return OkStatus();
}

Status HoursError(const Rule& rule) {
  return InvalidArgumentError("rule '" + rule.name + "' allows requests " + rule.hours->Describe() +
                              " only");
}

// Why `rule` cannot start access at `start_at` when asked at `now`; OK when it can.
Status StartError(const Rule& rule, Time start_at, Time now) {
  if (start_at < now - kStartAtSkew) {
    return InvalidArgumentError("start_at " + FormatRfc3339(start_at) + " is in the past");
  }
  if (start_at <= now) return OkStatus();  // "now", give or take the skew
  if (rule.break_glass) {
    return InvalidArgumentError("break-glass access starts at once; rule '" + rule.name +
                                "' cannot be scheduled");
  }
  if (rule.schedule_window.count() == 0) {
    return InvalidArgumentError("rule '" + rule.name + "' does not allow scheduled starts");
  }
  if (start_at - now > rule.schedule_window) {
    return InvalidArgumentError("start_at " + FormatRfc3339(start_at) + " is more than the " +
                                FormatDuration(rule.schedule_window) + " ahead that rule '" +
                                rule.name + "' allows");
  }
  return OkStatus();
}

std::string TwoDigits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

std::string ClockTime(int minutes) {
  return TwoDigits(minutes / 60) + ":" + TwoDigits(minutes % 60);
}

}  // namespace

Time EffectiveStart(const AccessRequest& req, Time now) {
  return req.start_at && *req.start_at > now ? *req.start_at : now;
}

bool RuleCovers(const Rule& rule, const model::Identity& who, const Account& account,
                const PermissionSet& ps) {
  return rule.requesters.Contains(who) && rule.accounts.Matches(account) &&
         Contains(rule.permission_sets, ps.name);
}

Status CheckRequestSize(const AccessRequest& req) {
  // The messages echo only bounded text.
  if (CharCount(req.reason) > kMaxReasonChars) {
    return InvalidArgumentError("the reason is too long (at most " +
                                std::to_string(kMaxReasonChars) + " characters)");
  }
  if (req.ticket.size() > kMaxTicketChars) {
    return InvalidArgumentError("the ticket is too long (at most " +
                                std::to_string(kMaxTicketChars) + " characters)");
  }
  if (req.account.size() > 256 || req.permission_set.size() > 2048) {
    return InvalidArgumentError("the account or permission set name is too long");
  }
  return OkStatus();
}

Status CheckFreeText(std::string_view what, std::string_view text) {
  if (CharCount(text) > kMaxReasonChars) {
    return InvalidArgumentError("the " + std::string(what) + " is too long (at most " +
                                std::to_string(kMaxReasonChars) + " characters)");
  }
  return OkStatus();
}

std::vector<ConditionCheck> CheckConditions(const Rule& rule, const PermissionSet& ps,
                                            const AccessRequest& req, Time now) {
  std::vector<ConditionCheck> out;
  auto add = [&out](std::string name, std::string limit, Status error) {
    ConditionCheck c;
    c.name = std::move(name);
    c.met = error.ok();
    c.limit = std::move(limit);
    c.error = std::move(error);
    out.push_back(std::move(c));
  };

  Limit limit = MaxDuration(rule, ps);
  add("max_duration", FormatDuration(limit.max) + " (" + limit.source + ")",
      req.duration > limit.max
          ? InvalidArgumentError("duration " + FormatDuration(req.duration) +
                                 " is longer than the " + FormatDuration(limit.max) + " that " +
                                 limit.source + " allows")
          : OkStatus());
  add("min_duration", FormatDuration(rule.min_duration),
      req.duration < rule.min_duration
          ? InvalidArgumentError("duration " + FormatDuration(req.duration) +
                                 " is shorter than the " + FormatDuration(rule.min_duration) +
                                 " that rule '" + rule.name + "' requires")
          : OkStatus());
  if (rule.reason_min_length > 0) {
    std::string n = std::to_string(rule.reason_min_length);
    bool short_reason =
        CharCount(Trim(req.reason)) < static_cast<std::size_t>(rule.reason_min_length);
    add("reason", "required, at least " + n + " characters",
        short_reason ? InvalidArgumentError("a reason of at least " + n +
                                            " characters is required (rule '" + rule.name + "')")
                     : OkStatus());
  } else if (rule.reason_required) {
    add("reason", "required",
        IsBlank(req.reason)
            ? InvalidArgumentError("a reason is required (rule '" + rule.name + "')")
            : OkStatus());
  }
  if (!rule.ticket_pattern.empty()) add("ticket", rule.ticket_pattern, TicketError(rule, req));
  if (rule.ticket_check != TicketCheck::kNone && rule.ticket_pattern.empty()) {
    add("ticket", "a Jira issue key",
        req.ticket.empty()
            ? InvalidArgumentError("a Jira ticket is required (rule '" + rule.name + "')")
            : OkStatus());
  }
  if (req.start_at) {
    add("start",
        rule.schedule_window.count() > 0
            ? "within " + FormatDuration(rule.schedule_window) + " from now"
            : "at once only",
        StartError(rule, *req.start_at, now));
  }
  if (rule.hours) {
    add("hours", rule.hours->Describe(),
        rule.hours->Allows(EffectiveStart(req, now)) ? OkStatus() : HoursError(rule));
  }
  return out;
}

bool AllowedHours::Allows(Time now) const {
  std::chrono::sys_seconds local = zone->LocalTime(now);
  std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(local);
  int minute = static_cast<int>((local - day) / std::chrono::minutes(1));
  auto today = static_cast<std::size_t>(std::chrono::weekday(day).iso_encoding() - 1);
  std::size_t yesterday = (today + 6) % 7;
  if (from_minute < to_minute) {
    return days[today] && minute >= from_minute && minute < to_minute;
  }
  // Over midnight: the evening part belongs to today's window, the morning part to
  // yesterday's.
  return (days[today] && minute >= from_minute) || (days[yesterday] && minute < to_minute);
}

std::string AllowedHours::Describe() const {
  static constexpr const char* kNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  std::string out;
  if (std::all_of(days.begin(), days.end(), [](bool b) { return b; })) {
    out = "daily";
  } else {
    for (std::size_t i = 0; i < days.size();) {
      if (!days[i]) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j + 1 < days.size() && days[j + 1]) ++j;
      if (!out.empty()) out += ',';
      out += kNames[i];
      if (j > i) out += std::string("-") + kNames[j];
      i = j + 1;
    }
  }
  return out + " " + ClockTime(from_minute) + "-" + ClockTime(to_minute) + " " + zone->name();
}

bool Subjects::Contains(const model::Identity& who) const {
  if (!who.username.empty() && policy::Contains(users, who.username)) return true;
  return std::any_of(who.groups.begin(), who.groups.end(), [this](const std::string& g) {
    return !g.empty() && policy::Contains(groups, g);
  });
}

bool AccountSelector::Matches(const Account& a) const {
  // The group account is selected by its id alone: `all`, names and tags mean real accounts.
  if (model::IsGroupAccount(a.id)) return policy::Contains(ids, a.id);
  if (all) return true;
  if (!a.id.empty() && policy::Contains(ids, a.id)) return true;
  if (!a.name.empty() && policy::Contains(names, a.name)) return true;
  if (std::any_of(a.ous.begin(), a.ous.end(),
                  [this](const std::string& ou) { return policy::Contains(ous, ou); })) {
    return true;
  }
  return std::any_of(a.tags.begin(), a.tags.end(),
                     [this](const std::string& t) { return policy::Contains(tags, t); });
}

bool Config::UsesOrganization() const {
  if (!account_sources.empty()) return true;
  return std::any_of(rules.begin(), rules.end(),
                     [](const Rule& r) { return !r.accounts.ous.empty(); });
}

const Account& Config::GroupAccount() {
  static const Account kAccount = [] {
    Account a;
    a.id = std::string(model::kGroupAccount);
    a.name = std::string(model::kGroupAccount);
    return a;
  }();
  return kAccount;
}

const PermissionSet* Config::FindTarget(const Account& account,
                                        std::string_view name_or_arn) const {
  if (!model::IsGroupAccount(account.id)) return FindPermissionSet(name_or_arn);
  if (name_or_arn.empty()) return nullptr;
  for (const PermissionSet& g : groups) {
    if (g.name == name_or_arn || g.arn == name_or_arn) return &g;
  }
  return nullptr;
}

const Account* Config::FindAccount(std::string_view id_or_name) const {
  if (id_or_name.empty()) return nullptr;
  if (model::IsGroupAccount(id_or_name) && !groups.empty()) return &GroupAccount();
  for (const Account& a : accounts) {
    if (a.id == id_or_name) return &a;
  }
  for (const Account& a : accounts) {
    if (a.name == id_or_name) return &a;
  }
  return nullptr;
}

const PermissionSet* Config::FindPermissionSet(std::string_view name_or_arn) const {
  if (name_or_arn.empty()) return nullptr;
  for (const PermissionSet& p : permission_sets) {
    if (p.name == name_or_arn) return &p;
  }
  for (const PermissionSet& p : permission_sets) {
    if (p.arn == name_or_arn) return &p;
  }
  return nullptr;
}

Result<Decision> Evaluate(const Config& config, const model::Identity& who,
                          const AccessRequest& req) {
  return Evaluate(config, who, req, std::chrono::system_clock::now());
}

Result<Decision> Evaluate(const Config& config, const model::Identity& who,
                          const AccessRequest& req, Time now) {
  // Bound untrusted input first.
  if (Status st = CheckRequestSize(req); !st.ok()) return st;
  const Account* account = config.FindAccount(req.account);
  if (account == nullptr) return InvalidArgumentError("unknown account '" + req.account + "'");
  const PermissionSet* ps = config.FindTarget(*account, req.permission_set);
  if (ps == nullptr) {
    return InvalidArgumentError(std::string(model::IsGroupAccount(account->id)
                                                ? "unknown Identity Center group '"
                                                : "unknown permission set '") +
                                req.permission_set + "'");
  }
  if (req.duration.count() <= 0) {
    return InvalidArgumentError("duration must be longer than 0s, not " +
                                FormatDuration(req.duration));
  }

  Status first_error;
  for (const Rule& rule : config.rules) {
    if (!RuleCovers(rule, who, *account, *ps)) continue;
    std::vector<ConditionCheck> checks = CheckConditions(rule, *ps, req, now);
    auto unmet =
        std::find_if(checks.begin(), checks.end(), [](const ConditionCheck& c) { return !c.met; });
    if (unmet != checks.end()) {
      if (first_error.ok()) first_error = unmet->error;
      continue;
    }
    Decision d;
    d.rule = &rule;
    d.account = account;
    d.permission_set = ps;
    d.duration = req.duration;
    d.break_glass = rule.break_glass;
    d.auto_approve = !rule.break_glass && rule.approval.automatic;
    if (!d.break_glass && !d.auto_approve) {
      d.approvals_required = rule.approval.required;
      d.approvers = rule.approval.approvers;
      d.approval_timeout = rule.approval.timeout;
    }
    if (req.start_at && *req.start_at > now) d.start_at = req.start_at;
    return d;
  }
  if (!first_error.ok()) return first_error;
  return NoRuleError(who, *account, *ps);
}

Status NoRuleError(const model::Identity& who, const Account& account, const PermissionSet& ps) {
  if (model::IsGroupAccount(account.id)) {
    return PermissionDeniedError("no rule lets " + (who.username.empty() ? "you" : who.username) +
                                 " join the Identity Center group " + ps.name);
  }
  return PermissionDeniedError("no rule lets " + (who.username.empty() ? "you" : who.username) +
                               " request " + ps.name + " on " + account.name + " (" + account.id +
                               ")");
}

// Equal to trying RuleCovers for every (account, permission set, rule) in config order, which
// is accounts x permission sets x rules checks (10 million at 2,000 x 50 x 100, over a second):
// the requester is checked once per rule, the permission sets once per rule and set, and each
// account against only the rules this identity may use.
std::vector<CatalogEntry> Catalog(const Config& config, const model::Identity& who) {
  // The rules whose requesters include `who`, in file order, and for each which permission
  // sets (by index into config.permission_sets, or into config.groups for a group-elevation
  // rule) it names.
  struct Usable {
    const Rule* rule;
    std::vector<bool> sets;
    std::string hours;  // Describe(), once per rule rather than once per entry
  };
  std::vector<Usable> usable;
  for (const Rule& rule : config.rules) {
    if (!rule.requesters.Contains(who)) continue;
    const std::vector<PermissionSet>& targets =
        rule.group_elevation ? config.groups : config.permission_sets;
    Usable u{&rule, std::vector<bool>(targets.size()), ""};
    bool any = false;
    for (std::size_t p = 0; p < targets.size(); ++p) {
      u.sets[p] = Contains(rule.permission_sets, targets[p].name);
      any = any || u.sets[p];
    }
    if (!any) continue;
    if (rule.hours) u.hours = rule.hours->Describe();
    usable.push_back(std::move(u));
  }
  std::vector<CatalogEntry> out;
  if (usable.empty()) return out;
  std::vector<const Usable*> matching;  // the usable rules that select this account
  auto add_account = [&](const Account& account, const std::vector<PermissionSet>& targets) {
    matching.clear();
    for (const Usable& u : usable) {
      if (u.rule->accounts.Matches(account)) matching.push_back(&u);
    }
    if (matching.empty()) return;
    for (std::size_t p = 0; p < targets.size(); ++p) {
      auto first = std::find_if(matching.begin(), matching.end(),
                                [p](const Usable* u) { return u->sets[p]; });
      if (first == matching.end()) continue;
      const Rule& rule = *(*first)->rule;
      const PermissionSet& ps = targets[p];
      CatalogEntry e;
      e.account = &account;
      e.permission_set = &ps;
      e.rule = &rule;
      e.max_duration = MaxDurationOf(rule, ps);
      e.min_duration = rule.min_duration;
      e.break_glass = rule.break_glass;
      e.auto_approve = !rule.break_glass && rule.approval.automatic;
      e.approvals_required = e.break_glass || e.auto_approve ? 0 : rule.approval.required;
      e.reason_required = rule.reason_required;
      e.reason_min_length = rule.reason_min_length;
      e.ticket_pattern = rule.ticket_pattern;
      e.ticket_check = TicketCheckName(rule.ticket_check);
      e.hours = (*first)->hours;
      e.schedule_window = rule.schedule_window;
      out.push_back(std::move(e));
    }
  };
  for (const Account& account : config.accounts) add_account(account, config.permission_sets);
  if (!config.groups.empty()) add_account(Config::GroupAccount(), config.groups);
  return out;
}

namespace {

// The rule, account and permission set of a grant as the config names them now.
struct GrantPolicy {
  const Rule* rule = nullptr;
  const Account* account = nullptr;
  const PermissionSet* permission_set = nullptr;
};

Result<GrantPolicy> FindGrantPolicy(const Config& config, const GrantTerms& grant) {
  GrantPolicy found;
  for (const Rule& r : config.rules) {
    if (r.name == grant.rule) found.rule = &r;
  }
  if (found.rule == nullptr) {
    return PermissionDeniedError("rule '" + grant.rule +
                                 "' is no longer in the config; the grant cannot be extended");
  }
  for (const Account& a : config.accounts) {
    if (a.id == grant.account_id) found.account = &a;
  }
  if (model::IsGroupAccount(grant.account_id)) found.account = config.FindAccount(grant.account_id);
  if (found.account == nullptr) {
    return PermissionDeniedError("account " + grant.account_id +
                                 " is no longer in the config; the grant cannot be extended");
  }
  const std::vector<PermissionSet>& targets =
      model::IsGroupAccount(grant.account_id) ? config.groups : config.permission_sets;
  for (const PermissionSet& p : targets) {
    if (p.name == grant.permission_set) found.permission_set = &p;
  }
  if (found.permission_set == nullptr) {
    return PermissionDeniedError("permission set '" + grant.permission_set +
                                 "' is no longer in the config; the grant cannot be extended");
  }
  return found;
}

Result<Duration> CheckTotal(const GrantPolicy& found, const GrantTerms& grant, Duration extra) {
  if (extra.count() <= 0) {
    return InvalidArgumentError("an extension must be longer than 0s, not " +
                                FormatDuration(extra));
  }
  Limit limit = MaxDuration(*found.rule, *found.permission_set);
  // Compared without adding first, so that no sum can overflow.
  if (grant.total > limit.max || extra > limit.max - grant.total) {
    Duration sum = extra > Duration::max() - grant.total ? Duration::max() : grant.total + extra;
    return InvalidArgumentError("extending by " + FormatDuration(extra) + " would make " +
                                FormatDuration(sum) + ", longer than the " +
                                FormatDuration(limit.max) + " in all that " + limit.source +
                                " allows");
  }
  return grant.total + extra;
}

}  // namespace

Result<Duration> CheckExtension(const Config& config, const model::Identity& who,
                                const GrantTerms& grant, Duration extra, Time now) {
  if (extra.count() <= 0) {
    return InvalidArgumentError("an extension must be longer than 0s, not " +
                                FormatDuration(extra));
  }
  JIT_ASSIGN_OR_RETURN(GrantPolicy found, FindGrantPolicy(config, grant));
  if (!RuleCovers(*found.rule, who, *found.account, *found.permission_set)) {
    return PermissionDeniedError("rule '" + found.rule->name + "' no longer lets " +
                                 (who.username.empty() ? "you" : who.username) + " request " +
                                 found.permission_set->name + " on " + found.account->name + " (" +
                                 found.account->id + ")");
  }
  if (found.rule->hours && !found.rule->hours->Allows(now)) return HoursError(*found.rule);
  return CheckTotal(found, grant, extra);
}

Result<Duration> CheckExtensionLimit(const Config& config, const GrantTerms& grant,
                                     Duration extra) {
  JIT_ASSIGN_OR_RETURN(GrantPolicy found, FindGrantPolicy(config, grant));
  return CheckTotal(found, grant, extra);
}

bool MayRequestAnything(const Config& config, const model::Identity& who) {
  for (const Rule& rule : config.rules) {
    if (!rule.requesters.Contains(who)) continue;
    const std::vector<PermissionSet>& targets =
        rule.group_elevation ? config.groups : config.permission_sets;
    bool names_one = std::any_of(targets.begin(), targets.end(), [&](const PermissionSet& ps) {
      return Contains(rule.permission_sets, ps.name);
    });
    if (!names_one) continue;
    if (rule.group_elevation) {
      if (rule.accounts.Matches(Config::GroupAccount())) return true;
      continue;
    }
    for (const Account& account : config.accounts) {
      if (rule.accounts.Matches(account)) return true;
    }
  }
  return false;
}

bool MayApproveAnything(const Config& config, const model::Identity& who) {
  return std::any_of(config.rules.begin(), config.rules.end(), [&](const Rule& rule) {
    return !rule.approval.approvers.Empty() && rule.approval.approvers.Contains(who);
  });
}

bool IsAdmin(const Config& config, const model::Identity& who) {
  return config.admins.Contains(who);
}

bool IsAuditor(const Config& config, const model::Identity& who) {
  return config.auditors.Contains(who) || IsAdmin(config, who);
}

}  // namespace jit::policy
