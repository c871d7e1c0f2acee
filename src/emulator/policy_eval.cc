#include "emulator/policy_eval.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/time_format.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// A string or a list of strings as a list; nullopt for anything else. Numbers and booleans are
// taken as their JSON text, as AWS reads them.
std::optional<std::vector<std::string>> Strings(const json& v) {
  auto one = [](const json& e) -> std::optional<std::string> {
    if (e.is_string()) return e.get<std::string>();
    if (e.is_number() || e.is_boolean()) return e.dump();
    return std::nullopt;
  };
  std::vector<std::string> out;
  if (!v.is_array()) {
    std::optional<std::string> s = one(v);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
    return out;
  }
  for (const json& e : v) {
    std::optional<std::string> s = one(e);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
  }
  return out;
}

enum class Op {
  kStringEquals,
  kStringLike,
  kDateLess,
  kDateLessEquals,
  kDateGreater,
  kDateGreaterEquals
};

struct Operator {
  Op op;
  bool negated = false;
  bool if_exists = false;
};

std::optional<Operator> ParseOperator(std::string_view name) {
  Operator o{Op::kStringEquals};
  constexpr std::string_view kIfExists = "IfExists";
  if (name.size() > kIfExists.size() && name.substr(name.size() - kIfExists.size()) == kIfExists) {
    o.if_exists = true;
    name.remove_suffix(kIfExists.size());
  }
  if (name == "StringEquals") return o;
  if (name == "StringNotEquals") {
    o.negated = true;
    return o;
  }
  o.op = Op::kStringLike;
  if (name == "StringLike") return o;
  if (name == "StringNotLike") {
    o.negated = true;
    return o;
  }
  if (name == "DateLessThan")
    o.op = Op::kDateLess;
  else if (name == "DateLessThanEquals")
    o.op = Op::kDateLessEquals;
  else if (name == "DateGreaterThan")
    o.op = Op::kDateGreater;
  else if (name == "DateGreaterThanEquals")
    o.op = Op::kDateGreaterEquals;
  else
    return std::nullopt;
  return o;
}

// Whether one condition value matches the call's value; nullopt when a date does not parse.
std::optional<bool> ValueMatches(Op op, const std::string& wanted, const std::string& actual) {
  switch (op) {
    case Op::kStringEquals:
      return wanted == actual;
    case Op::kStringLike:
      return WildcardMatch(wanted, actual, /*ignore_case=*/false);
    default:
      break;
  }
  Result<Time> w = ParseRfc3339(wanted);
  Result<Time> a = ParseRfc3339(actual);
  if (!w.has_value() || !a.has_value()) return std::nullopt;
  switch (op) {
    case Op::kDateLess:
      return *a < *w;
    case Op::kDateLessEquals:
      return *a <= *w;
    case Op::kDateGreater:
      return *a > *w;
    default:
      return *a >= *w;
  }
}

// Whether every condition of the block holds; `problem` set (and false) when it cannot be read.
bool ConditionsHold(const json& condition, const CallContext& call, std::string& problem) {
  if (!condition.is_object()) {
    problem = "Condition is not an object";
    return false;
  }
  std::map<std::string, const std::string*> keys;
  for (const auto& [name, value] : call.keys) keys[LowerCopy(name)] = &value;
  for (const auto& [op_name, block] : condition.items()) {
    std::optional<Operator> op = ParseOperator(op_name);
    if (!op) {
      problem = "unsupported condition operator " + op_name.substr(0, 100);
      return false;
    }
    if (!block.is_object()) {
      problem = "the " + op_name + " block is not an object";
      return false;
    }
    for (const auto& [key, values] : block.items()) {
      std::optional<std::vector<std::string>> wanted = Strings(values);
      if (!wanted) {
        problem = op_name + " " + key.substr(0, 100) + ": values must be strings";
        return false;
      }
      auto it = keys.find(LowerCopy(key));
      if (it == keys.end()) {
        if (op->if_exists) continue;
        return false;
      }
      bool any = false;
      for (const std::string& w : *wanted) {
        std::optional<bool> m = ValueMatches(op->op, w, *it->second);
        if (!m) {
          problem = op_name + " " + key.substr(0, 100) + ": '" + w.substr(0, 100) +
                    "' (or the call's value) is not an RFC 3339 date";
          return false;
        }
        any = any || *m;
      }
      if (any == op->negated) return false;
    }
  }
  return true;
}

}  // namespace

bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto eq = [ignore_case](char a, char b) { return ignore_case ? Lower(a) == Lower(b) : a == b; };
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // where the last `*` was
  std::size_t mark = 0;                       // the text position it was tried at
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || (pattern[p] != '*' && eq(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

DenyDecision EvaluateDeny(std::string_view policy, const CallContext& call) {
  DenyDecision out;
  if (policy.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  json doc = json::parse(policy, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    out.problem = "the policy is not a JSON object";
    return out;
  }
  auto statements_it = doc.find("Statement");
  if (statements_it == doc.end()) {
    out.problem = "the policy has no Statement";
    return out;
  }
  json statements = statements_it->is_array() ? *statements_it : json::array({*statements_it});
  auto note = [&out](std::string problem) {
    if (out.problem.empty()) out.problem = std::move(problem);
  };
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const json& s = statements[i];
    std::string name = "#" + std::to_string(i + 1);
    if (!s.is_object()) {
      note("statement " + name + " is not an object");
      continue;
    }
    if (auto sid = s.find("Sid"); sid != s.end() && sid->is_string() && !sid->empty()) {
      name = sid->get<std::string>();
    }
    auto effect = s.find("Effect");
    if (effect == s.end() || !effect->is_string() || (*effect != "Deny" && *effect != "Allow")) {
      note("statement " + name + ": Effect must be Allow or Deny");
      continue;
    }
    if (*effect != "Deny") continue;
    auto action = s.find("Action");
    auto not_action = s.find("NotAction");
    if ((action == s.end()) == (not_action == s.end())) {
      note("statement " + name + " needs exactly one of Action and NotAction");
      continue;
    }
    bool negated = action == s.end();
    std::optional<std::vector<std::string>> patterns = Strings(negated ? *not_action : *action);
    if (!patterns) {
      note("statement " + name + ": " + (negated ? "NotAction" : "Action") +
           " must be a string or a list of strings");
      continue;
    }
    bool any = false;
    for (const std::string& p : *patterns) {
      any = any || WildcardMatch(p, call.action, /*ignore_case=*/true);
    }
    if (any == negated) continue;
    if (auto condition = s.find("Condition"); condition != s.end()) {
      std::string problem;
      bool holds = ConditionsHold(*condition, call, problem);
      if (!problem.empty()) note("statement " + name + ": " + problem);
      if (!holds) continue;
    }
    if (!out.denied) {
      out.denied = true;
      out.statement = name;
    }
  }
  return out;
}

}  // namespace jit::emulator
