#include "policy/explain.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/duration.h"
#include "core/time_format.h"
#include "model/identity.h"
#include "model/request.h"

namespace jit::policy {
namespace {

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& s : list) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string DescribeSubjects(const Subjects& s) {
  std::string out;
  if (!s.groups.empty()) out += "groups " + Join(s.groups);
  if (!s.users.empty()) out += (out.empty() ? "" : "; ") + std::string("users ") + Join(s.users);
  return out.empty() ? "nobody" : out;
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

// What people type may be any bytes; nlohmann's dump() throws on invalid UTF-8, so every
// string that reaches the JSON is made valid first (bad bytes become U+FFFD).
std::string Utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= s.size();
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::vector<std::string> Utf8(const std::vector<std::string>& list) {
  std::vector<std::string> out;
  for (const std::string& s : list) out.push_back(Utf8(s));
  return out;
}

nlohmann::json SubjectsJson(const Subjects& s) {
  return {{"users", Utf8(s.users)}, {"groups", Utf8(s.groups)}};
}

}  // namespace

bool RuleExplanation::Allows() const {
  return Covers() && std::all_of(conditions.begin(), conditions.end(),
                                 [](const ConditionCheck& c) { return c.met; });
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAutoApproved:
      return "auto";
    case Outcome::kNeedsApproval:
      return "approval";
    case Outcome::kBreakGlass:
      return "break_glass";
    case Outcome::kRefused:
      return "refused";
  }
  return "refused";
}

// Mirrors Evaluate step by step, with the same helpers, so that the two cannot disagree; the
// tests compare them over a table of requests.
Explanation Explain(const Config& config, const model::Identity& who, const AccessRequest& req,
                    Time now) {
  Explanation e;
  e.who = who;
  e.request = req;
  e.at = now;
  e.refusal = CheckRequestSize(req);
  if (!e.refusal.ok()) {
    // Nothing else of an oversized request is echoed.
    e.request.reason.clear();
    e.request.ticket.clear();
    e.request.account = e.request.account.substr(0, 256);
    e.request.permission_set = e.request.permission_set.substr(0, 2048);
    return e;
  }
  e.account = config.FindAccount(req.account);
  if (e.account == nullptr) {
    e.refusal = InvalidArgumentError("unknown account '" + req.account + "'");
    return e;
  }
  e.permission_set = config.FindTarget(*e.account, req.permission_set);
  if (e.permission_set == nullptr) {
    e.refusal = InvalidArgumentError(std::string(model::IsGroupAccount(e.account->id)
                                                     ? "unknown Identity Center group '"
                                                     : "unknown permission set '") +
                                     req.permission_set + "'");
    return e;
  }

  for (const Rule& rule : config.rules) {
    RuleExplanation r;
    r.name = rule.name;
    r.line = rule.line;
    r.requester_matches = rule.requesters.Contains(who);
    r.account_matches = rule.accounts.Matches(*e.account);
    r.permission_set_matches = std::find(rule.permission_sets.begin(), rule.permission_sets.end(),
                                         e.permission_set->name) != rule.permission_sets.end();
    if (r.Covers()) r.conditions = CheckConditions(rule, *e.permission_set, req, now);
    e.rules.push_back(std::move(r));
  }

  if (req.duration.count() <= 0) {
    e.refusal = InvalidArgumentError("duration must be longer than 0s, not " +
                                     FormatDuration(req.duration));
    return e;
  }
  Status first_error;
  for (std::size_t i = 0; i < e.rules.size(); ++i) {
    const RuleExplanation& r = e.rules[i];
    if (!r.Covers()) continue;
    if (!r.Allows()) {
      if (first_error.ok()) {
        first_error =
            std::find_if(r.conditions.begin(), r.conditions.end(), [](const ConditionCheck& c) {
              return !c.met;
            })->error;
      }
      continue;
    }
    const Rule& rule = config.rules[i];
    e.deciding_rule = &rule;
    if (rule.break_glass) {
      e.outcome = Outcome::kBreakGlass;
    } else if (rule.approval.automatic) {
      e.outcome = Outcome::kAutoApproved;
    } else {
      e.outcome = Outcome::kNeedsApproval;
      e.approvals_required = rule.approval.required;
      e.approvers = rule.approval.approvers;
      e.approval_timeout = rule.approval.timeout;
    }
    return e;
  }
  e.refusal = first_error.ok() ? NoRuleError(who, *e.account, *e.permission_set) : first_error;
  return e;
}

std::string Explanation::ToText() const {
  std::string out = "request: " + (who.username.empty() ? "(no user)" : who.username);
  if (!who.groups.empty()) out += " (groups " + Join(who.groups) + ")";
  out += " asks for " + request.permission_set + " on " + request.account + " for " +
         FormatDuration(request.duration) + " at " + FormatRfc3339(at);
  if (request.start_at) out += ", to start at " + FormatRfc3339(*request.start_at);
  out += "\n";
  if (account != nullptr) out += "account: " + account->name + " (" + account->id + ")\n";
  if (permission_set != nullptr) {
    out += std::string(account != nullptr && model::IsGroupAccount(account->id)
                           ? "Identity Center group: "
                           : "permission set: ") +
           permission_set->name + " (" + permission_set->arn + ")\n";
  }
  if (account != nullptr && permission_set != nullptr) {
    out += rules.empty() ? "rules: none in the config\n" : "rules:\n";
  }
  for (const RuleExplanation& r : rules) {
    out += "  " + r.name;
    if (r.line > 0) out += " (line " + std::to_string(r.line) + ")";
    out += ": requester " + std::string(YesNo(r.requester_matches)) + ", account " +
           YesNo(r.account_matches) + ", permission set " + YesNo(r.permission_set_matches);
    if (!r.Covers()) {
      out += " - does not apply\n";
      continue;
    }
    out += r.Allows() ? " - every condition met\n" : " - a condition is not met\n";
    for (const ConditionCheck& c : r.conditions) {
      char name[16];
      std::snprintf(name, sizeof(name), "%-13s", c.name.c_str());
      out += "    " + std::string(name) + (c.met ? "met    " : "UNMET  ") + c.limit;
      if (!c.met) out += ": " + c.error.message();
      out += "\n";
    }
  }
  out += "outcome: ";
  switch (outcome) {
    case Outcome::kAutoApproved:
      out += "approved automatically by rule '" + deciding_rule->name + "'";
      break;
    case Outcome::kNeedsApproval:
      out += "needs " + std::to_string(approvals_required) + " approval" +
             (approvals_required == 1 ? "" : "s") + " from " + DescribeSubjects(approvers) +
             " within " + FormatDuration(approval_timeout) + " (rule '" + deciding_rule->name +
             "')";
      break;
    case Outcome::kBreakGlass:
      out +=
          "break-glass: self-activated, audited at high severity, reviewed afterwards "
          "(rule '" +
          deciding_rule->name + "')";
      break;
    case Outcome::kRefused:
      out += "refused (" + std::string(StatusCodeName(refusal.code())) + "): " + refusal.message();
      break;
  }
  return out + "\n";
}

nlohmann::json Explanation::ToJson() const {
  nlohmann::json j;
  j["identity"] = {{"username", Utf8(who.username)}, {"groups", Utf8(who.groups)}};
  j["request"] = {{"account", Utf8(request.account)},
                  {"permission_set", Utf8(request.permission_set)},
                  {"duration_seconds", request.duration.count() / 1000},
                  {"reason", Utf8(request.reason)},
                  {"ticket", Utf8(request.ticket)},
                  {"start_at", request.start_at ? nlohmann::json(FormatRfc3339(*request.start_at))
                                                : nlohmann::json(nullptr)}};
  j["at"] = FormatRfc3339(at);
  j["account"] = account == nullptr ? nlohmann::json(nullptr)
                                    : nlohmann::json{{"id", account->id}, {"name", account->name}};
  j["permission_set"] = permission_set == nullptr ? nlohmann::json(nullptr)
                                                  : nlohmann::json{{"name", permission_set->name},
                                                                   {"arn", permission_set->arn}};
  j["rules"] = nlohmann::json::array();
  for (const RuleExplanation& r : rules) {
    nlohmann::json conditions = nlohmann::json::array();
    for (const ConditionCheck& c : r.conditions) {
      nlohmann::json cj = {{"name", c.name}, {"met", c.met}, {"limit", c.limit}};
      if (!c.met) cj["error"] = Utf8(c.error.message());
      conditions.push_back(std::move(cj));
    }
    j["rules"].push_back({{"name", r.name},
                          {"line", r.line},
                          {"requester", r.requester_matches},
                          {"account", r.account_matches},
                          {"permission_set", r.permission_set_matches},
                          {"applies", r.Covers()},
                          {"allows", r.Allows()},
                          {"conditions", std::move(conditions)}});
  }
  j["decided_by"] =
      deciding_rule == nullptr ? nlohmann::json(nullptr) : nlohmann::json(deciding_rule->name);
  j["outcome"] = std::string(OutcomeName(outcome));
  if (outcome == Outcome::kNeedsApproval) {
    j["approvals"] = {{"required", approvals_required},
                      {"approvers", SubjectsJson(approvers)},
                      {"timeout_seconds", approval_timeout.count() / 1000}};
  }
  if (outcome == Outcome::kRefused) {
    j["refusal"] = {{"code", std::string(StatusCodeName(refusal.code()))},
                    {"message", Utf8(refusal.message())}};
  }
  return j;
}

}  // namespace jit::policy
