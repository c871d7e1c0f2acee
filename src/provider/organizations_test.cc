// ResolveAccounts: which accounts an account selector names in an organization snapshot.

#include "provider/organizations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/testing.h"

namespace jit::provider {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// r-root
// ├── ou-root-prod0000 (Prod)
// │   ├── ou-root-web00000 (Web)
// │   │     444444444444 env=prod team=web
// │   │     555555555555 env=prod, SUSPENDED
// │   └── 333333333333 env=prod team=db
// ├── ou-root-dev00000 (Dev)
// │   └── 666666666666 env=dev
// ├── 222222222222 env=prod
// └── 111111111111
OrganizationSnapshot Snapshot() {
  OrganizationSnapshot s;
  s.roots = {{"r-root", "arn:root", "Root"}};
  s.organizational_units = {{"ou-root-prod0000", "arn:prod", "Prod", "r-root"},
                            {"ou-root-web00000", "arn:web", "Web", "ou-root-prod0000"},
                            {"ou-root-dev00000", "arn:dev", "Dev", "r-root"}};
  auto account = [](std::string id, std::string parent, std::map<std::string, std::string> tags,
                    std::string status = "ACTIVE") {
    OrgAccount a;
    a.id = std::move(id);
    a.name = "name-" + a.id.substr(0, 1);
    a.status = std::move(status);
    a.parent_id = std::move(parent);
    a.tags = std::move(tags);
    return a;
  };
  // Deliberately not in id order.
  s.accounts = {account("666666666666", "ou-root-dev00000", {{"env", "dev"}}),
                account("444444444444", "ou-root-web00000", {{"env", "prod"}, {"team", "web"}}),
                account("555555555555", "ou-root-web00000", {{"env", "prod"}}, "SUSPENDED"),
                account("333333333333", "ou-root-prod0000", {{"env", "prod"}, {"team", "db"}}),
                account("222222222222", "r-root", {{"env", "prod"}}),
                account("111111111111", "r-root", {})};
  return s;
}

std::vector<std::string> Resolve(const AccountSelector& selector) {
  Result<std::vector<OrgAccount>> accounts = ResolveAccounts(Snapshot(), selector);
  EXPECT_TRUE(accounts.has_value()) << accounts.error();
  std::vector<std::string> ids;
  if (accounts.has_value()) {
    for (const OrgAccount& a : *accounts) ids.push_back(a.id);
  }
  return ids;
}

TEST(ResolveAccounts, TheWholeOrganizationLeavesSuspendedAccountsOutSortedById) {
  EXPECT_THAT(
      Resolve({.organization = true}),
      ElementsAre("111111111111", "222222222222", "333333333333", "444444444444", "666666666666"));
  Result<std::vector<OrgAccount>> full = ResolveAccounts(Snapshot(), {.organization = true});
  ASSERT_OK(full);
  EXPECT_EQ((*full)[3].name, "name-4");  // the accounts come back whole
  EXPECT_EQ((*full)[3].parent_id, "ou-root-web00000");
}

TEST(ResolveAccounts, AnOuWithoutRecursiveIsItsDirectAccountsOnly) {
  EXPECT_THAT(Resolve({.ou = "ou-root-prod0000"}), ElementsAre("333333333333"));
  EXPECT_THAT(Resolve({.ou = "ou-root-web00000"}), ElementsAre("444444444444"));
  EXPECT_THAT(Resolve({.ou = "r-root"}), ElementsAre("111111111111", "222222222222"));
}

TEST(ResolveAccounts, ARecursiveOuTakesEveryOuBelowIt) {
  EXPECT_THAT(Resolve({.ou = "ou-root-prod0000", .recursive = true}),
              ElementsAre("333333333333", "444444444444"));
  EXPECT_THAT(Resolve({.ou = "ou-root-dev00000", .recursive = true}), ElementsAre("666666666666"));
  EXPECT_THAT(
      Resolve({.ou = "r-root", .recursive = true}),
      ElementsAre("111111111111", "222222222222", "333333333333", "444444444444", "666666666666"));
}

TEST(ResolveAccounts, TagsAloneSearchTheOrganizationAndMustAllMatch) {
  EXPECT_THAT(Resolve({.tags = {{"env", "prod"}}}),
              ElementsAre("222222222222", "333333333333", "444444444444"));
  EXPECT_THAT(Resolve({.tags = {{"env", "prod"}, {"team", "web"}}}), ElementsAre("444444444444"));
  EXPECT_THAT(Resolve({.tags = {{"env", "Prod"}}}), IsEmpty());  // values are case-sensitive
  EXPECT_THAT(Resolve({.tags = {{"owner", ""}}}), IsEmpty());    // a missing key never matches
}

TEST(ResolveAccounts, TagsNarrowAnOuAndIdsAddToIt) {
  EXPECT_THAT(Resolve({.ou = "ou-root-prod0000", .recursive = true, .tags = {{"team", "db"}}}),
              ElementsAre("333333333333"));
  EXPECT_THAT(Resolve({.ou = "ou-root-dev00000", .ids = {"111111111111", "666666666666"}}),
              ElementsAre("111111111111", "666666666666"));
  // A suspended account is left out even when named by id.
  EXPECT_THAT(Resolve({.ids = {"555555555555", "222222222222"}}), ElementsAre("222222222222"));
}

TEST(ResolveAccounts, UnknownOusAndIdsAndEmptySelectorsAreErrors) {
  EXPECT_THAT(ResolveAccounts(Snapshot(), {.ou = "ou-root-gone0000"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("ou-root-gone0000")));
  EXPECT_THAT(ResolveAccounts(Snapshot(), {.ids = {"999999999999"}}),
              StatusIs(StatusCode::kNotFound, HasSubstr("999999999999")));
  EXPECT_THAT(ResolveAccounts(Snapshot(), {}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ResolveAccounts(Snapshot(), {.recursive = true}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ResolveAccounts, ACycleInTheSnapshotDoesNotLoop) {
  OrganizationSnapshot s = Snapshot();
  s.organizational_units[0].parent_id = "ou-root-web00000";  // Prod under Web under Prod
  Result<std::vector<OrgAccount>> accounts =
      ResolveAccounts(s, {.ou = "ou-root-prod0000", .recursive = true});
  ASSERT_OK(accounts);
  EXPECT_EQ(accounts->size(), 2u);
}

}  // namespace
}  // namespace jit::provider
