// Group elevation in the policy (docs/POLICY.md "Group elevation"): `identity_center_groups`
// at the top and in a rule, the group account no other selector matches, decisions, the catalog,
// explanations and extensions over groups, and the file's mistakes named with their lines.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing.h"
#include "model/identity.h"
#include "model/request.h"
#include "policy/config.h"
#include "policy/explain.h"
#include "policy/policy.h"

namespace jit::policy::groups_test {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const model::Identity kAlice{"alice", {"engineers"}, ""};
const model::Identity kBob{"bob", {"approvers"}, ""};
const Time kNow = Time(std::chrono::hours(24 * 20000));

constexpr char kYaml[] = R"yaml(
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
permission_sets:
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
identity_center_groups:
  - {name: responders, id: "9a000000-0000-4000-8000-000000000021", max_duration: 2h}
  - {name: Admin, id: "90670ab123-9b000000-0000-4000-8000-000000000022"}
rules:
  - name: everything-admin
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [Admin]
    max_duration: 1h
    approval: auto
  - name: respond
    requesters: {groups: [engineers]}
    identity_center_groups: [responders, Admin]
    max_duration: 4h
    reason: required
    approval: {approvers: {users: [bob]}}
)yaml";

Config Parsed(const std::string& yaml = kYaml) {
  auto c = ParseConfig(yaml, "groups.yaml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.value_or(Config{});
}

AccessRequest Ask(std::string account, std::string target, Duration d) {
  AccessRequest r;
  r.account = std::move(account);
  r.permission_set = std::move(target);
  r.duration = d;
  r.reason = "incident 7";
  return r;
}

TEST(GroupElevationPolicy, GroupsAreReadAndARuleGrantsThem) {
  Config c = Parsed();
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].name, "responders");
  EXPECT_EQ(c.groups[0].arn, "9a000000-0000-4000-8000-000000000021");
  EXPECT_EQ(c.groups[0].max_duration, std::chrono::hours(2));
  EXPECT_EQ(c.groups[0].session_cutoff, false);
  EXPECT_TRUE(c.rules[1].group_elevation);
  EXPECT_FALSE(c.rules[0].group_elevation);
  // The groups are not permission sets: tools that walk permission sets never see them.
  ASSERT_EQ(c.permission_sets.size(), 1u);
  EXPECT_EQ(c.FindPermissionSet("responders"), nullptr);
}

TEST(GroupElevationPolicy, DecisionsNameTheGroupAndItsOwnLimit) {
  Config c = Parsed();
  auto d = Evaluate(c, kAlice, Ask("group", "responders", std::chrono::hours(1)), kNow);
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "respond");
  EXPECT_EQ(d->account->id, model::kGroupAccount);
  EXPECT_EQ(d->permission_set->arn, "9a000000-0000-4000-8000-000000000021");
  EXPECT_EQ(d->approvals_required, 1);
  // By GroupId too.
  EXPECT_OK(Evaluate(c, kAlice,
                     Ask("group", "9a000000-0000-4000-8000-000000000021", std::chrono::hours(1)),
                     kNow));
  // The group's max_duration (2h) is stricter than the rule's (4h).
  EXPECT_THAT(Evaluate(c, kAlice, Ask("group", "responders", std::chrono::hours(3)), kNow),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("2h")));
  EXPECT_THAT(Evaluate(c, kBob, Ask("group", "responders", std::chrono::hours(1)), kNow),
              StatusIs(StatusCode::kPermissionDenied,
                       HasSubstr("no rule lets bob join the Identity Center group responders")));
  EXPECT_THAT(Evaluate(c, kAlice, Ask("group", "nobody", std::chrono::hours(1)), kNow),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown Identity Center group")));
}

TEST(GroupElevationPolicy, AGroupNamedLikeAPermissionSetIsNotConfusedWithIt) {
  Config c = Parsed();
  // `accounts: {all: true}` selects real accounts only: the group called Admin is granted by
  // the group rule, the permission set Admin by the account rule.
  auto group = Evaluate(c, kAlice, Ask("group", "Admin", std::chrono::hours(1)), kNow);
  ASSERT_OK(group);
  EXPECT_EQ(group->rule->name, "respond");
  EXPECT_EQ(group->permission_set->arn, "90670ab123-9b000000-0000-4000-8000-000000000022");
  auto ps = Evaluate(c, kAlice, Ask("sandbox", "Admin", std::chrono::hours(1)), kNow);
  ASSERT_OK(ps);
  EXPECT_EQ(ps->rule->name, "everything-admin");
  EXPECT_FALSE(AccountSelector{.all = true}.Matches(Config::GroupAccount()));
  AccountSelector by_tag;
  by_tag.tags = {"dev"};
  EXPECT_FALSE(by_tag.Matches(Config::GroupAccount()));
}

TEST(GroupElevationPolicy, TheCatalogListsGroupsAfterAccounts) {
  Config c = Parsed();
  std::vector<std::pair<std::string, std::string>> items;
  for (const CatalogEntry& e : Catalog(c, kAlice)) {
    items.emplace_back(e.account->name, e.permission_set->name);
  }
  EXPECT_THAT(items, ElementsAre(Pair("sandbox", "Admin"), Pair("group", "responders"),
                                 Pair("group", "Admin")));
  EXPECT_TRUE(Catalog(c, kBob).empty());
}

TEST(GroupElevationPolicy, ExplainAndExtensionsWorkForGroups) {
  Config c = Parsed();
  Explanation e = Explain(c, kAlice, Ask("group", "responders", std::chrono::hours(1)), kNow);
  EXPECT_OK(e.refusal);
  EXPECT_THAT(e.ToText(), HasSubstr("Identity Center group: responders"));
  GrantTerms terms{"group", "responders", "respond", std::chrono::hours(1)};
  auto total = CheckExtension(c, kAlice, terms, std::chrono::minutes(30), kNow);
  ASSERT_OK(total);
  EXPECT_EQ(*total, std::chrono::minutes(90));
  EXPECT_THAT(CheckExtension(c, kAlice, terms, std::chrono::hours(2), kNow),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(GroupElevationPolicy, MistakesAreNamedWithTheirLines) {
  auto bad = ParseConfig(R"yaml(
accounts:
  - {id: "111111111111", name: group}
permission_sets:
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
identity_center_groups:
  - {name: responders, id: "not-a-group-id"}
  - {name: responders, id: "9a000000-0000-4000-8000-000000000021"}
rules:
  - name: mixed
    requesters: {users: [alice]}
    identity_center_groups: [responders, respnders]
    accounts: {all: true}
    max_duration: 1h
    approval: auto
)yaml",
                         "bad.yaml");
  ASSERT_FALSE(bad.has_value());
  const std::string m = bad.error().message();
  EXPECT_THAT(m, HasSubstr("bad.yaml:3: account name 'group' is reserved"));
  EXPECT_THAT(m, HasSubstr("bad.yaml:7: 'not-a-group-id' is not an identity store GroupId"));
  EXPECT_THAT(m, HasSubstr("bad.yaml:8: group name 'responders' is already used on line 7"));
  EXPECT_THAT(m, HasSubstr("bad.yaml:13: rule 'mixed' grants Identity Center groups and takes no "
                           "'accounts'"));
  EXPECT_THAT(m, HasSubstr("bad.yaml:12: unknown Identity Center group 'respnders'"));
}

}  // namespace
}  // namespace jit::policy::groups_test
