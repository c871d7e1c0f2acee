#pragma once
// The emulator's access check (POST /_emulator/sessions/{id}/calls, emulator.h): which explicit
// Deny statement of a permission set's inline policy, if any, matches one call. Only what session
// cut-off and the region guardrail need (docs/AWS.md "The emulator's sessions"); Allow
// statements, Resource and NotResource are not looked at. Internal to jit_emulator; pure
// functions, thread-safe.

#include <map>
#include <string>
#include <string_view>

namespace jit::emulator {

// What one call is checked against.
struct CallContext {
  std::string action;  // "s3:ListBuckets"
  // Condition keys and their values. Names are compared case-insensitively (as AWS does), so
  // "aws:TokenIssueTime" and "aws:tokenissuetime" are one key. Dates are RFC 3339.
  std::map<std::string, std::string> keys;
};

struct DenyDecision {
  bool denied = false;
  // The Sid of the first Deny statement that matched; "#N" (its 1-based position) when it has no
  // Sid. Empty when nothing matched.
  std::string statement;
  // Why (part of) the policy could not be read, "" when it could: a document that is not a
  // policy denies nothing; a statement that cannot be read (an unknown condition operator, a bad
  // date, no Action or NotAction) is skipped. The first problem only.
  std::string problem;
};

// Evaluates the Deny statements of `policy` (a JSON policy document, "" for none) for `call`.
// A statement matches when its Action (or, with NotAction, none of its NotAction patterns)
// matches the action, `*` and `?` wildcards, case-insensitive, and every condition holds:
//   StringEquals, StringNotEquals, StringLike (wildcards, case-sensitive), StringNotLike,
//   DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals, each also with
//   the IfExists suffix. A value is a string or a list of them: a list holds when any value
//   matches, for a negated operator when none does. A condition on a key the call lacks does not
//   hold, except with IfExists, where it does. Several keys, and several operators: all must hold.
DenyDecision EvaluateDeny(std::string_view policy, const CallContext& call);

// `*` (any run, also empty) and `?` (one character) wildcard match of the whole text.
bool WildcardMatch(std::string_view pattern, std::string_view text, bool ignore_case);

}  // namespace jit::emulator
