#pragma once
// AWS Organizations as the emulator serves it (issue 16): the read calls jit resolves account
// selectors with, and MoveAccount so that a test can move an account out of an OU. One call in
// (the operation after "AWSOrganizationsV20161128." and the parsed JSON body), one answer out.
// Internal to jit_emulator; signatures are checked by the caller (emulator.cc) and the wire
// contract is in emulator.h ("Organizations").

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "emulator/emulator.h"
#include "emulator/service.h"

namespace jit::emulator {

// Default and largest page of Organizations' lists (its MaxResults is 1..20).
inline constexpr int kOrganizationsPageSize = 20;

// Thread-safe (one mutex around everything).
class OrganizationsService {
 public:
  // REQUIRES: seed.Validate() and faults.Validate() are ok.
  OrganizationsService(const Seed& seed, Faults faults);

  // Handles one call whose signature has been checked: counts it, applies the faults
  // (TooManyRequestsException, ServiceException), then runs `operation`.
  ServiceResponse Handle(std::string_view operation, const nlohmann::json& input);

  void SetFaults(const Faults& faults);
  // Every account back in its seed parent; call counts cleared; the start faults back.
  void Reset();
  // {"organization": null | {"Id", "MasterAccountId", "accounts": {"<id>": "<parent id>"}},
  //  "calls": {"<Operation>": n}}
  nlohmann::json State() const;

 private:
  struct Account {
    SeedAccount seed;
    std::string parent_id;  // where it is now (MoveAccount changes it)
  };

  ServiceResponse Dispatch(std::string_view op, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListRoots(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListChildren(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListAccountsForParent(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListOrganizationalUnitsForParent(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListAccounts(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeOrganization() REQUIRES(mu_);
  ServiceResponse DescribeAccount(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListTagsForResource(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse MoveAccount(const nlohmann::json& in) REQUIRES(mu_);

  bool IsRoot(const std::string& id) const;
  const SeedOrganizationalUnit* FindUnit(const std::string& id) const;
  Account* FindAccount(const std::string& id) REQUIRES(mu_);
  nlohmann::json AccountJson(const Account& a) const;
  nlohmann::json UnitJson(const SeedOrganizationalUnit& ou) const;
  std::string Arn(std::string_view kind, const std::string& id) const;

  const bool in_use_;           // the seed has an organization
  const SeedOrganization org_;  // empty when not in use
  const std::string master_;    // the management account's id
  const std::vector<SeedAccount> seed_accounts_;
  const Faults start_faults_;

  mutable Mutex mu_;
  Faults faults_ GUARDED_BY(mu_);
  std::uint64_t rng_state_ GUARDED_BY(mu_) = 1;
  std::vector<Account> accounts_ GUARDED_BY(mu_);  // seed order
  std::map<std::string, std::int64_t> calls_ GUARDED_BY(mu_);
};

}  // namespace jit::emulator
