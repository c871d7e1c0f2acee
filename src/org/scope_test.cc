#include "org/scope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing.h"
#include "policy/config.h"

namespace jit::org {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";

// root r-ab12 > ou-ab12-prod0000 (prod) > ou-ab12-prodeu00 (prod-eu); root > ou-ab12-dev00000.
provider::OrganizationSnapshot Org() {
  provider::OrganizationSnapshot s;
  s.roots.push_back({"r-ab12", "", "Root"});
  s.organizational_units = {{"ou-ab12-prod0000", "", "prod", "r-ab12"},
                            {"ou-ab12-prodeu00", "", "prod-eu", "ou-ab12-prod0000"},
                            {"ou-ab12-dev00000", "", "dev", "r-ab12"}};
  auto account = [](std::string id, std::string name, std::string status, std::string parent,
                    std::map<std::string, std::string> tags) {
    provider::OrgAccount a;
    a.id = std::move(id);
    a.name = std::move(name);
    a.status = std::move(status);
    a.parent_id = std::move(parent);
    a.tags = std::move(tags);
    return a;
  };
  s.accounts = {
      account("333333333301", "payments", "ACTIVE", "ou-ab12-prod0000", {{"env", "prod"}}),
      account("333333333302", "ledger-eu", "ACTIVE", "ou-ab12-prodeu00", {{"env", "prod"}}),
      account("333333333303", "old-prod", "SUSPENDED", "ou-ab12-prod0000", {{"env", "prod"}}),
      account("333333333304", "sandbox-2", "ACTIVE", "ou-ab12-dev00000", {{"env", "dev"}}),
      account("222222222222", "prod-main", "ACTIVE", "ou-ab12-prod0000", {}),
      account("333333333305", "prod", "ACTIVE", "ou-ab12-dev00000", {{"env", "dev"}}),
  };
  return s;
}

policy::Config Parse(const std::string& accounts, const std::string& rule_accounts) {
  std::string yaml = "accounts:\n" + accounts + "permission_sets:\n  - {name: ReadOnly, arn: \"" +
                     std::string(kPs) +
                     "\"}\n"
                     "rules:\n"
                     "  - name: r\n"
                     "    requesters: {groups: [engineers]}\n"
                     "    accounts: " +
                     rule_accounts +
                     "\n"
                     "    permission_sets: [ReadOnly]\n"
                     "    max_duration: 1h\n"
                     "    approval: auto\n";
  Result<policy::Config> c = policy::ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.value_or(policy::Config{});
}

std::vector<std::string> Ids(const policy::Config& c) {
  std::vector<std::string> ids;
  for (const policy::Account& a : c.accounts) ids.push_back(a.id);
  return ids;
}

TEST(ResolveScope, AnOuRecursiveTakesTheOusBelowAndLeavesSuspendedOut) {
  policy::Config base = Parse("  - {ou: ou-ab12-prod0000}\n", "{all: true}");
  auto r = ResolveScope(base, Org());
  ASSERT_OK(r);
  EXPECT_THAT(Ids(r->config), ElementsAre("222222222222", "333333333301", "333333333302"));
  const policy::Account* eu = r->config.FindAccount("ledger-eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_THAT(eu->ous, ElementsAre("ou-ab12-prodeu00", "ou-ab12-prod0000", "r-ab12"));
  EXPECT_THAT(eu->tags, ElementsAre("env=prod"));
  EXPECT_TRUE(eu->from_organization);
  EXPECT_THAT(r->sources, ElementsAre(HasSubstr("3 active accounts")));
}

TEST(ResolveScope, NotRecursiveTakesTheOuAlone) {
  policy::Config base = Parse("  - {ou: ou-ab12-prod0000, recursive: false}\n", "{all: true}");
  auto r = ResolveScope(base, Org());
  ASSERT_OK(r);
  EXPECT_THAT(Ids(r->config), ElementsAre("222222222222", "333333333301"));
}

TEST(ResolveScope, TagsAndTheWholeOrganization) {
  auto tagged = ResolveScope(Parse("  - {tags: {env: prod}}\n", "{all: true}"), Org());
  ASSERT_OK(tagged);
  EXPECT_THAT(Ids(tagged->config), ElementsAre("333333333301", "333333333302"));
  auto all = ResolveScope(Parse("  - {organization: true}\n", "{all: true}"), Org());
  ASSERT_OK(all);
  EXPECT_EQ(all->config.accounts.size(), 5u);  // every ACTIVE account
}

TEST(ResolveScope, ListedAccountsComeFirstKeepTheirNameAndGainTheirOus) {
  policy::Config base = Parse(
      "  - {id: \"222222222222\", name: prod, tags: [prod]}\n"
      "  - {ou: ou-ab12-prod0000}\n"
      "  - {ou: ou-ab12-dev00000}\n",
      "{names: [prod]}");
  auto r = ResolveScope(base, Org());
  ASSERT_OK(r);
  EXPECT_THAT(Ids(r->config), ElementsAre("222222222222", "333333333301", "333333333302",
                                          "333333333304", "333333333305"));
  const policy::Account& listed = r->config.accounts[0];
  EXPECT_EQ(listed.name, "prod");
  EXPECT_FALSE(listed.from_organization);
  EXPECT_THAT(listed.ous, ElementsAre("ou-ab12-prod0000", "r-ab12"));
  // "prod" of the dev OU: the name is taken by the listed account, so it goes by its id.
  const policy::Account* dup = r->config.FindAccount("333333333305");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->name, "333333333305");
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("333333333305")));
}

TEST(ResolveScope, AnOuNotInTheOrganizationFailsNamingTheLine) {
  policy::Config base = Parse("  - {ou: ou-ab12-gone0000}\n", "{all: true}");
  EXPECT_THAT(ResolveScope(base, Org()),
              StatusIs(StatusCode::kNotFound, HasSubstr("accounts (line 2)")));
}

TEST(ResolveScope, RulesSelectByOuAndByTag) {
  policy::Config by_ou = Parse("  - {organization: true}\n", "{ous: [ou-ab12-prodeu00]}");
  auto r = ResolveScope(by_ou, Org());
  ASSERT_OK(r);
  std::vector<std::string> offered;
  for (const policy::Account& a : r->config.accounts) {
    if (r->config.rules[0].accounts.Matches(a)) offered.push_back(a.id);
  }
  EXPECT_THAT(offered, ElementsAre("333333333302"));
  policy::Config by_tag = Parse("  - {organization: true}\n", "{tags: [env=dev]}");
  r = ResolveScope(by_tag, Org());
  ASSERT_OK(r);
  offered.clear();
  for (const policy::Account& a : r->config.accounts) {
    if (r->config.rules[0].accounts.Matches(a)) offered.push_back(a.id);
  }
  EXPECT_THAT(offered, ElementsAre("333333333304", "333333333305"));
}

model::Request Open(std::string id, std::string account, std::string rule) {
  model::Request r;
  r.id = std::move(id);
  r.account_id = std::move(account);
  r.rule = std::move(rule);
  return r;
}

TEST(FindOutOfScope, AccountGoneOrNoLongerSelectedByItsRule) {
  policy::Config base = Parse("  - {organization: true}\n", "{ous: [ou-ab12-prod0000]}");
  auto r = ResolveScope(base, Org());
  ASSERT_OK(r);
  std::vector<model::Request> open = {
      Open("req_in", "333333333302", "r"),      // below the OU: still selected
      Open("req_moved", "333333333304", "r"),   // in scope, but not in the rule's OU
      Open("req_gone", "999999999999", "r"),    // not in the organization at all
      Open("req_norule", "333333333304", "x"),  // its rule was removed: judged by account
  };
  std::vector<OutOfScope> out = FindOutOfScope(r->config, open);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].request_id, "req_moved");
  EXPECT_THAT(out[0].reason, HasSubstr("rule r no longer selects account 333333333304"));
  EXPECT_EQ(out[1].request_id, "req_gone");
  EXPECT_THAT(out[1].reason, HasSubstr("no longer in jit's scope"));
  EXPECT_THAT(FindOutOfScope(r->config, {}), IsEmpty());
}

}  // namespace
}  // namespace jit::org
