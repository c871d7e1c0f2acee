#pragma once
// The statements session cut-off owns in a permission set's inline policy (docs/AWS.md "Session
// cut-off"), read from and written into the policy document without touching anything else in
// it.
//
// A cut-off statement denies every action, in one account, to the role sessions of that
// permission set that were issued before a time: those of the users it lists, or, in its
// compact "everyone except" form, of every user but those it lists (the ones who still held
// the permission set in that account when it was written). Its Sid is
// "JitCutoff<account>T<yyyymmddhhmmss>" ("...X" for the compact form). Statements whose Sid
// starts otherwise belong to someone else and are kept as they are, in their order; so is a
// statement with jit's prefix that does not have the shape jit writes.
//
// Plain functions and data; thread-compatible.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "provider/provider.h"

namespace jit::cutoff {

inline constexpr std::string_view kSidPrefix = provider::kCutoffSidPrefix;

struct CutoffStatement {
  std::string account_id;
  Time before;  // sessions issued before this (whole seconds) are denied
  // false: the users listed are cut off. true: every user except those listed.
  bool everyone_except = false;
  std::set<std::string> users;

  // True when the statement denies sessions of `user_id` issued at `issued` or earlier than it.
  bool Covers(const std::string& user_id, Time issued) const;
};

struct InlinePolicy {
  std::string version = "2012-10-17";
  nlohmann::json others = nlohmann::json::array();  // statements jit does not own, in order
  std::vector<CutoffStatement> cutoffs;             // in the order Compose writes them
};

// Parses a policy document as GetInlinePolicy answers it ("" for none). InvalidArgument when it
// is not a JSON object whose Statement (if any) is an object or an array of objects.
Result<InlinePolicy> ParseInlinePolicy(std::string_view text);

// The document to put: compact JSON, the others first, then the cut-off statements sorted by
// account and time. "" when there is no statement at all (then the policy is deleted).
std::string ComposeInlinePolicy(const InlinePolicy& policy);

// The statement as JSON, and its Sid.
nlohmann::json StatementJson(const CutoffStatement& s);
std::string StatementSid(const CutoffStatement& s);

// `t` rounded up to a whole second: aws:TokenIssueTime is compared at second precision, so a
// session issued in the same second as the cut-off must still be denied.
Time CeilToSecond(Time t);

}  // namespace jit::cutoff
