#include "cutoff/statements.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "core/status.h"
#include "core/time_format.h"

namespace jit::cutoff {
namespace {

using nlohmann::json;

constexpr std::string_view kUserKey = "identitystore:userId";
constexpr std::string_view kAccountKey = "aws:PrincipalAccount";
constexpr std::string_view kIssueKey = "aws:TokenIssueTime";

// "2026-12-05T00:15:00Z": whole seconds, as the statements carry them.
std::string FormatSeconds(Time t) {
  std::string s = FormatRfc3339(t);  // "2026-12-05T00:15:00.000Z"
  if (s.size() == 24 && s[19] == '.') s.erase(19, 4);
  return s;
}

// "20261205001500" for the Sid.
std::string SidTime(Time t) {
  std::string s = FormatSeconds(t);
  std::string out;
  for (char c : s) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The users of a condition value: a string or an array of strings.
bool ReadUsers(const json& v, std::set<std::string>& out) {
  if (v.is_string()) {
    out.insert(v.get<std::string>());
    return true;
  }
  if (!v.is_array()) return false;
  for (const json& u : v) {
    if (!u.is_string()) return false;
    out.insert(u.get<std::string>());
  }
  return true;
}

// A statement with jit's prefix, read back; false when it does not have the shape jit writes
// (then it is somebody else's and stays as it is).
bool ReadCutoff(const json& st, CutoffStatement& out) {
  if (st.value("Effect", "") != "Deny" || st.value("Action", "") != "*" ||
      st.value("Resource", "") != "*" || st.contains("NotAction")) {
    return false;
  }
  const json* cond = st.contains("Condition") ? &st["Condition"] : nullptr;
  if (cond == nullptr || !cond->is_object()) return false;
  for (const auto& [op, _] : cond->items()) {
    if (op != "StringEquals" && op != "StringNotEquals" && op != "DateLessThan") return false;
  }
  if (!cond->contains("StringEquals") || !(*cond)["StringEquals"].is_object() ||
      !cond->contains("DateLessThan") || !(*cond)["DateLessThan"].is_object()) {
    return false;
  }
  const json& eq = (*cond)["StringEquals"];
  const json& lt = (*cond)["DateLessThan"];
  if (lt.size() != 1 || !lt.contains(kIssueKey) || !lt[kIssueKey].is_string()) return false;
  Result<Time> before = ParseRfc3339(lt[kIssueKey].get<std::string>());
  if (!before.has_value()) return false;
  if (!eq.contains(kAccountKey) || !eq[kAccountKey].is_string()) return false;
  out.account_id = eq[kAccountKey].get<std::string>();
  if (out.account_id.size() != 12 || !IsDigits(out.account_id)) return false;
  out.before = *before;
  out.users.clear();
  if (eq.contains(kUserKey)) {
    // The listed users are cut off.
    if (eq.size() != 2 || cond->contains("StringNotEquals")) return false;
    out.everyone_except = false;
    if (!ReadUsers(eq[kUserKey], out.users) || out.users.empty()) return false;
  } else {
    // Everyone except the listed users (who may be none).
    if (eq.size() != 1) return false;
    out.everyone_except = true;
    if (cond->contains("StringNotEquals")) {
      const json& ne = (*cond)["StringNotEquals"];
      if (!ne.is_object() || ne.size() != 1 || !ne.contains(kUserKey)) return false;
      if (!ReadUsers(ne[kUserKey], out.users)) return false;
    }
  }
  return st.value("Sid", "") == StatementSid(out);
}

json UsersJson(const std::set<std::string>& users) {
  if (users.size() == 1) return *users.begin();
  json a = json::array();
  for (const std::string& u : users) a.push_back(u);
  return a;
}

}  // namespace

bool CutoffStatement::Covers(const std::string& user_id, Time issued) const {
  if (issued >= before) return false;
  bool listed = users.count(user_id) > 0;
  return everyone_except ? !listed : listed;
}

Time CeilToSecond(Time t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  return secs == t ? t : Time(secs + std::chrono::seconds(1));
}

std::string StatementSid(const CutoffStatement& s) {
  return std::string(kSidPrefix) + s.account_id + "T" + SidTime(s.before) +
         (s.everyone_except ? "X" : "");
}

json StatementJson(const CutoffStatement& s) {
  json eq = json::object();
  if (!s.everyone_except) eq[std::string(kUserKey)] = UsersJson(s.users);
  eq[std::string(kAccountKey)] = s.account_id;
  json cond = json::object();
  cond["StringEquals"] = eq;
  if (s.everyone_except && !s.users.empty()) {
    cond["StringNotEquals"] = json{{std::string(kUserKey), UsersJson(s.users)}};
  }
  cond["DateLessThan"] = json{{std::string(kIssueKey), FormatSeconds(s.before)}};
  json st = json::object();
  st["Sid"] = StatementSid(s);
  st["Effect"] = "Deny";
  st["Action"] = "*";
  st["Resource"] = "*";
  st["Condition"] = cond;
  return st;
}

Result<InlinePolicy> ParseInlinePolicy(std::string_view text) {
  InlinePolicy p;
  bool blank = std::all_of(text.begin(), text.end(),
                           [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
  if (blank) return p;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return InvalidArgumentError("the inline policy is not a JSON object");
  if (doc.contains("Version")) {
    if (!doc["Version"].is_string())
      return InvalidArgumentError("the policy's Version is not text");
    p.version = doc["Version"].get<std::string>();
  }
  if (!doc.contains("Statement")) return p;
  json statements = doc["Statement"];
  if (statements.is_object()) statements = json::array({statements});
  if (!statements.is_array()) {
    return InvalidArgumentError("the policy's Statement is neither an object nor a list");
  }
  for (const json& st : statements) {
    if (!st.is_object()) return InvalidArgumentError("a statement of the policy is not an object");
    std::string sid =
        st.contains("Sid") && st["Sid"].is_string() ? st["Sid"].get<std::string>() : std::string();
    CutoffStatement c;
    if (sid.rfind(kSidPrefix, 0) == 0 && ReadCutoff(st, c)) {
      p.cutoffs.push_back(std::move(c));
    } else {
      p.others.push_back(st);
    }
  }
  return p;
}

std::string ComposeInlinePolicy(const InlinePolicy& policy) {
  if (policy.others.empty() && policy.cutoffs.empty()) return "";
  std::vector<const CutoffStatement*> sorted;
  sorted.reserve(policy.cutoffs.size());
  for (const CutoffStatement& c : policy.cutoffs) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(), [](const CutoffStatement* a, const CutoffStatement* b) {
    return std::tie(a->account_id, a->before, a->everyone_except) <
           std::tie(b->account_id, b->before, b->everyone_except);
  });
  json statements = policy.others;
  for (const CutoffStatement* c : sorted) statements.push_back(StatementJson(*c));
  json doc = json::object();
  doc["Version"] = policy.version;
  doc["Statement"] = statements;
  return doc.dump();
}

}  // namespace jit::cutoff
