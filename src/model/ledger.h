#pragma once
// What jit knows of the Identity Center assignments it made or relies on (the ledger), as the
// store keeps it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace jit::model {

enum class LedgerOrigin {
  kJit,       // jit created the assignment; jit deletes it when the last holder ends
  kStanding,  // it existed before jit granted it; jit never deletes it
};
enum class LedgerState {
  kGranting,  // a create is under way
  kPresent,   // the assignment exists
  kRevoking,  // a delete is under way
};

// "jit", "standing" and back; "granting", "present", "revoking" and back (how engines keep them).
std::string_view LedgerOriginName(LedgerOrigin o);
std::optional<LedgerOrigin> ParseLedgerOrigin(std::string_view name);
std::string_view LedgerStateName(LedgerState s);
std::optional<LedgerState> ParseLedgerState(std::string_view name);

// What jit knows of one Identity Center assignment (principal, account, permission set).
struct LedgerEntry {
  std::string principal_id;
  std::string account_id;
  std::string permission_set_arn;
  LedgerOrigin origin = LedgerOrigin::kJit;
  LedgerState state = LedgerState::kGranting;
  std::vector<std::string> holders;  // ids of the requests that rely on it
  std::string operation_id;          // the create or delete under way, if any
  Time updated_at;
};

}  // namespace jit::model
