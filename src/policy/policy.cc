#include "policy/policy.h"

#include <algorithm>
#include <exception>
#include <regex>
#include <string_view>

#include "core/duration.h"

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

// Whether `rule` applies to this identity, account and permission set at all.
bool RuleCovers(const Rule& rule, const Identity& who, const Account& account,
                const PermissionSet& ps) {
  return rule.requesters.Contains(who) && rule.accounts.Matches(account) &&
         Contains(rule.permission_sets, ps.name);
}

// The longest duration allowed, and who sets it.
struct Limit {
  Duration max{0};
  std::string source;  // "rule 'x'" or "permission set 'y'"
};

Limit MaxDuration(const Rule& rule, const PermissionSet& ps) {
  if (ps.max_duration.count() > 0 && ps.max_duration < rule.max_duration) {
    return {ps.max_duration, "permission set '" + ps.name + "'"};
  }
  return {rule.max_duration, "rule '" + rule.name + "'"};
}

// Checks the request against one rule that covers it.
Status CheckRule(const Rule& rule, const PermissionSet& ps, const AccessRequest& req) {
  Limit limit = MaxDuration(rule, ps);
  if (req.duration > limit.max) {
    return InvalidArgumentError("duration " + FormatDuration(req.duration) +
                                " is longer than the " + FormatDuration(limit.max) + " that " +
                                limit.source + " allows");
  }
  if (req.duration < rule.min_duration) {
    return InvalidArgumentError("duration " + FormatDuration(req.duration) +
                                " is shorter than the " + FormatDuration(rule.min_duration) +
                                " that rule '" + rule.name + "' requires");
  }
  if (rule.reason_required && IsBlank(req.reason)) {
    return InvalidArgumentError("a reason is required (rule '" + rule.name + "')");
  }
  if (!rule.ticket_pattern.empty()) {
    if (req.ticket.empty()) {
      return InvalidArgumentError("a ticket matching " + rule.ticket_pattern +
                                  " is required (rule '" + rule.name + "')");
    }
    bool matches = false;
    try {
      matches =
          std::regex_match(req.ticket, std::regex(rule.ticket_pattern, std::regex::ECMAScript));
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
  }
  return OkStatus();
}

}  // namespace

bool Subjects::Contains(const Identity& who) const {
  if (!who.username.empty() && policy::Contains(users, who.username)) return true;
  return std::any_of(who.groups.begin(), who.groups.end(), [this](const std::string& g) {
    return !g.empty() && policy::Contains(groups, g);
  });
}

bool AccountSelector::Matches(const Account& a) const {
  if (all) return true;
  if (!a.id.empty() && policy::Contains(ids, a.id)) return true;
  if (!a.name.empty() && policy::Contains(names, a.name)) return true;
  return std::any_of(a.tags.begin(), a.tags.end(),
                     [this](const std::string& t) { return policy::Contains(tags, t); });
}

const Account* Config::FindAccount(std::string_view id_or_name) const {
  if (id_or_name.empty()) return nullptr;
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

Result<Decision> Evaluate(const Config& config, const Identity& who, const AccessRequest& req) {
  // Bound untrusted input first; the messages echo only bounded text.
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
  const Account* account = config.FindAccount(req.account);
  if (account == nullptr) return InvalidArgumentError("unknown account '" + req.account + "'");
  const PermissionSet* ps = config.FindPermissionSet(req.permission_set);
  if (ps == nullptr) {
    return InvalidArgumentError("unknown permission set '" + req.permission_set + "'");
  }
  if (req.duration.count() <= 0) {
    return InvalidArgumentError("duration must be longer than 0s, not " +
                                FormatDuration(req.duration));
  }

  Status first_error;
  for (const Rule& rule : config.rules) {
    if (!RuleCovers(rule, who, *account, *ps)) continue;
    Status st = CheckRule(rule, *ps, req);
    if (!st.ok()) {
      if (first_error.ok()) first_error = st;
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
    return d;
  }
  if (!first_error.ok()) return first_error;
  return PermissionDeniedError("no rule lets " + (who.username.empty() ? "you" : who.username) +
                               " request " + ps->name + " on " + account->name + " (" +
                               account->id + ")");
}

std::vector<CatalogEntry> Catalog(const Config& config, const Identity& who) {
  std::vector<CatalogEntry> out;
  for (const Account& account : config.accounts) {
    for (const PermissionSet& ps : config.permission_sets) {
      for (const Rule& rule : config.rules) {
        if (!RuleCovers(rule, who, account, ps)) continue;
        CatalogEntry e;
        e.account = &account;
        e.permission_set = &ps;
        e.rule = &rule;
        e.max_duration = MaxDuration(rule, ps).max;
        e.min_duration = rule.min_duration;
        e.break_glass = rule.break_glass;
        e.auto_approve = !rule.break_glass && rule.approval.automatic;
        e.approvals_required = e.break_glass || e.auto_approve ? 0 : rule.approval.required;
        e.reason_required = rule.reason_required;
        e.ticket_pattern = rule.ticket_pattern;
        out.push_back(std::move(e));
        break;
      }
    }
  }
  return out;
}

bool IsAdmin(const Config& config, const Identity& who) { return config.admins.Contains(who); }

bool IsAuditor(const Config& config, const Identity& who) {
  return config.auditors.Contains(who) || IsAdmin(config, who);
}

}  // namespace jit::policy
