#include "store/model.h"

#include <array>
#include <utility>

namespace jit::store {
namespace {

constexpr std::array<std::pair<RequestState, std::string_view>, 9> kRequestStateNames = {{
    {RequestState::kPending, "pending"},
    {RequestState::kApproved, "approved"},
    {RequestState::kActive, "active"},
    {RequestState::kRevoking, "revoking"},
    {RequestState::kEnded, "ended"},
    {RequestState::kDenied, "denied"},
    {RequestState::kCancelled, "cancelled"},
    {RequestState::kTimedOut, "timed_out"},
    {RequestState::kFailed, "failed"},
}};

constexpr std::array<std::pair<JobKind, std::string_view>, 4> kJobKindNames = {{
    {JobKind::kGrant, "grant"},
    {JobKind::kRevoke, "revoke"},
    {JobKind::kApprovalTimeout, "approval_timeout"},
    {JobKind::kNotify, "notify"},
}};

}  // namespace

std::string_view RequestStateName(RequestState s) {
  for (const auto& [state, name] : kRequestStateNames) {
    if (state == s) return name;
  }
  return "unknown";
}

std::optional<RequestState> ParseRequestState(std::string_view name) {
  for (const auto& [state, n] : kRequestStateNames) {
    if (n == name) return state;
  }
  return std::nullopt;
}

bool IsTerminal(RequestState s) {
  switch (s) {
    case RequestState::kEnded:
    case RequestState::kDenied:
    case RequestState::kCancelled:
    case RequestState::kTimedOut:
    case RequestState::kFailed:
      return true;
    case RequestState::kPending:
    case RequestState::kApproved:
    case RequestState::kActive:
    case RequestState::kRevoking:
      return false;
  }
  return false;
}

std::string_view JobKindName(JobKind k) {
  for (const auto& [kind, name] : kJobKindNames) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::optional<JobKind> ParseJobKind(std::string_view name) {
  for (const auto& [kind, n] : kJobKindNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view LedgerOriginName(LedgerOrigin o) {
  return o == LedgerOrigin::kJit ? "jit" : "standing";
}
std::optional<LedgerOrigin> ParseLedgerOrigin(std::string_view s) {
  if (s == "jit") return LedgerOrigin::kJit;
  if (s == "standing") return LedgerOrigin::kStanding;
  return std::nullopt;
}
std::string_view LedgerStateName(LedgerState s) {
  switch (s) {
    case LedgerState::kGranting:
      return "granting";
    case LedgerState::kPresent:
      return "present";
    case LedgerState::kRevoking:
      return "revoking";
  }
  return "unknown";
}
std::optional<LedgerState> ParseLedgerState(std::string_view s) {
  if (s == "granting") return LedgerState::kGranting;
  if (s == "present") return LedgerState::kPresent;
  if (s == "revoking") return LedgerState::kRevoking;
  return std::nullopt;
}

}  // namespace jit::store
