#include "model/request.h"

#include <array>
#include <utility>

namespace jit::model {
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

}  // namespace jit::model
