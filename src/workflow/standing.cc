#include "workflow/standing.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/status.h"

namespace jit::workflow {

namespace {

using PrincipalKey = std::pair<provider::PrincipalType, std::string>;

bool RuleOffers(const policy::Rule& rule, const policy::Account& account,
                const policy::PermissionSet& ps) {
  if (!rule.accounts.Matches(account)) return false;
  return std::find(rule.permission_sets.begin(), rule.permission_sets.end(), ps.name) !=
         rule.permission_sets.end();
}

}  // namespace

std::vector<std::pair<const policy::Account*, const policy::PermissionSet*>> OfferedPairs(
    const policy::Config& config, const policy::Account* only) {
  std::vector<std::pair<const policy::Account*, const policy::PermissionSet*>> out;
  for (const policy::Account& account : config.accounts) {
    if (only != nullptr && account.id != only->id) continue;
    for (const policy::PermissionSet& ps : config.permission_sets) {
      bool offered = std::any_of(config.rules.begin(), config.rules.end(),
                                 [&](const policy::Rule& r) { return RuleOffers(r, account, ps); });
      if (offered) out.emplace_back(&account, &ps);
    }
  }
  return out;
}

Result<StandingInventory> ListStanding(const policy::Config& config, std::string_view account,
                                       const std::vector<model::LedgerEntry>& ledger,
                                       provider::AssignmentInventory& inventory) {
  const policy::Account* only = nullptr;
  if (!account.empty()) {
    only = config.FindAccount(account);
    if (only == nullptr) {
      return InvalidArgumentError("account '" + std::string(account) +
                                  "' is not in the catalog (an account id or name)");
    }
  }
  // (principal, account, permission set) -> the ledger's entry for it.
  std::map<std::tuple<std::string, std::string, std::string>, const model::LedgerEntry*> known;
  for (const model::LedgerEntry& e : ledger) {
    known[{e.principal_id, e.account_id, e.permission_set_arn}] = &e;
  }

  StandingInventory inv;
  std::map<PrincipalKey, std::string> names;  // asked once per call
  for (const auto& [acct, ps] : OfferedPairs(config, only)) {
    ++inv.pairs_listed;
    Result<std::vector<provider::PrincipalAssignment>> listed =
        inventory.ListAllAssignments(acct->id, ps->arn);
    if (!listed.has_value()) return listed.error();
    for (const provider::PrincipalAssignment& a : *listed) {
      bool held_through_jit = false;
      if (a.principal_type == provider::PrincipalType::kUser) {
        auto it = known.find({a.principal_id, acct->id, ps->arn});
        if (it != known.end()) {
          if (it->second->origin == model::LedgerOrigin::kJit) continue;  // jit made it
          held_through_jit = !it->second->holders.empty();
        }
      }
      PrincipalKey key{a.principal_type, a.principal_id};
      auto named = names.find(key);
      if (named == names.end()) {
        Result<std::string> name = inventory.PrincipalName(a.principal_type, a.principal_id);
        if (!name.has_value() && name.error().code() != StatusCode::kNotFound) {
          return name.error();
        }
        named = names.emplace(key, name.has_value() ? *name : std::string()).first;
      }
      StandingAssignment s;
      s.account_id = acct->id;
      s.account_name = acct->name;
      s.permission_set_name = ps->name;
      s.permission_set_arn = ps->arn;
      s.principal_type = a.principal_type;
      s.principal_id = a.principal_id;
      s.principal_name = named->second;
      s.held_through_jit = held_through_jit;
      inv.assignments.push_back(std::move(s));
    }
  }
  std::stable_sort(inv.assignments.begin(), inv.assignments.end(),
                   [](const StandingAssignment& x, const StandingAssignment& y) {
                     return std::tie(x.account_name, x.account_id, x.permission_set_name,
                                     x.principal_type, x.principal_name, x.principal_id) <
                            std::tie(y.account_name, y.account_id, y.permission_set_name,
                                     y.principal_type, y.principal_name, y.principal_id);
                   });
  return inv;
}

}  // namespace jit::workflow
