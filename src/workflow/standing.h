#pragma once
// The inventory of standing access (`jit assignments standing`, docs/CUTOVER_CHECKLIST.md): the
// user and group assignments in Identity Center, of the (account, permission set) pairs that jit
// offers, that jit did not make. They are what a cutover to jit removes.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "model/ledger.h"
#include "policy/config.h"
#include "provider/provider.h"

namespace jit::workflow {

// One assignment that jit did not make.
struct StandingAssignment {
  std::string account_id;
  std::string account_name;
  std::string permission_set_name;
  std::string permission_set_arn;
  provider::PrincipalType principal_type = provider::PrincipalType::kUser;
  std::string principal_id;
  // The user's UserName or the group's DisplayName; empty when the identity store has none
  // (the principal was deleted after it was assigned).
  std::string principal_name;
  // Users only: jit granted the same triple on top of this standing assignment, and requests of
  // jit rely on it now (the ledger's "standing" origin). jit never deletes it.
  bool held_through_jit = false;
};

struct StandingInventory {
  // Sorted by account name, permission set name, principal type (users first), principal name
  // and id.
  std::vector<StandingAssignment> assignments;
  int pairs_listed = 0;  // (account, permission set) pairs asked about
};

// The (account, permission set) pairs jit offers: each pair some rule of `config` covers, in the
// order of the config's accounts, then its permission sets. `account` (an id or a name) keeps
// only that account; empty: every account. The pointers point into `config`.
std::vector<std::pair<const policy::Account*, const policy::PermissionSet*>> OfferedPairs(
    const policy::Config& config, const policy::Account* only = nullptr);

// Lists, for every pair OfferedPairs gives, the assignments `inventory` reports that the ledger
// does not mark as made by jit (origin kJit), and names their principals. InvalidArgument when
// `account` is not empty and names no account of `config`; the inventory's error for the first
// pair it cannot list (Unavailable: retry later). A principal the identity store cannot name
// (NotFound) keeps an empty name; any other naming error is returned.
Result<StandingInventory> ListStanding(const policy::Config& config, std::string_view account,
                                       const std::vector<model::LedgerEntry>& ledger,
                                       provider::AssignmentInventory& inventory);

}  // namespace jit::workflow
