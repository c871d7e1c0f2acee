#include "model/ledger.h"

namespace jit::model {

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

}  // namespace jit::model
