#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/testing.h"
#include "model/identity.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::policy::policy_test {
namespace {

using ::jit::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Config MustParse(std::string_view yaml) {
  Result<Config> c = ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? std::move(c).value() : Config();
}

const model::Identity kAlice{"alice", {"engineers"}, "u-alice"};
const model::Identity kBob{"bob", {"approvers"}, "u-bob"};
const model::Identity kCarol{"carol", {"approvers", "sre", "admins"}, "u-carol"};
const model::Identity kMallory{"mallory", {}, "u-mallory"};

AccessRequest Req(std::string account, std::string ps, Duration d, std::string reason = "",
                  std::string ticket = "") {
  return {std::move(account), std::move(ps), d, std::move(reason), std::move(ticket)};
}

class DevPolicy : public ::testing::Test {
 protected:
  Config config_ = MustParse(DevPolicyYaml());
};

TEST_F(DevPolicy, ReadOnlyIsAutoApproved) {
  Result<Decision> d = Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", hours(2)));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "readonly");
  EXPECT_EQ(d->account->id, "111111111111");
  EXPECT_EQ(d->permission_set->name, "ReadOnly");
  EXPECT_EQ(d->duration, hours(2));
  EXPECT_TRUE(d->auto_approve);
  EXPECT_FALSE(d->break_glass);
  EXPECT_EQ(d->approvals_required, 0);
  EXPECT_TRUE(d->approvers.Empty());
  EXPECT_EQ(d->approval_timeout, Duration(0));
}

// What the web UI's first screen is chosen by (GET /v1/me may_request / may_approve).
TEST_F(DevPolicy, WhoMayRequestAnythingAndWhoMayApprove) {
  const model::Identity& bob = kBob;
  const model::Identity& carol = kCarol;
  const model::Identity& nobody = kMallory;
  for (const model::Identity& who : {kAlice, kBob, kCarol, kMallory}) {
    EXPECT_EQ(MayRequestAnything(config_, who), !Catalog(config_, who).empty()) << who.username;
  }
  EXPECT_TRUE(MayRequestAnything(config_, kAlice));
  EXPECT_FALSE(MayApproveAnything(config_, kAlice));
  EXPECT_FALSE(MayRequestAnything(config_, bob));
  EXPECT_TRUE(MayApproveAnything(config_, bob));
  EXPECT_TRUE(MayRequestAnything(config_, carol));  // break-glass
  EXPECT_TRUE(MayApproveAnything(config_, carol));
  EXPECT_FALSE(MayRequestAnything(config_, nobody));
  EXPECT_FALSE(MayApproveAnything(config_, nobody));

  // A rule whose accounts match none of the config's offers nothing.
  Config narrowed = config_;
  for (Rule& rule : narrowed.rules) {
    rule.accounts.all = false;
    rule.accounts.names = {"nowhere"};
  }
  EXPECT_FALSE(MayRequestAnything(narrowed, kAlice));
  EXPECT_TRUE(Catalog(narrowed, kAlice).empty());
}

TEST_F(DevPolicy, ProdAdminNeedsOneApproval) {
  Result<Decision> d =
      Evaluate(config_, kAlice, Req("prod", "Admin", minutes(30), "deploy hotfix"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "prod-admin");
  EXPECT_FALSE(d->auto_approve);
  EXPECT_FALSE(d->break_glass);
  EXPECT_EQ(d->approvals_required, 1);
  EXPECT_THAT(d->approvers.groups, ElementsAre("approvers"));
  EXPECT_EQ(d->approval_timeout, minutes(15));
}

TEST_F(DevPolicy, BreakGlassIsSelfActivated) {
  Result<Decision> d =
      Evaluate(config_, kCarol, Req("222222222222", "BreakGlass", minutes(45), "outage"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "break-glass");
  EXPECT_TRUE(d->break_glass);
  EXPECT_FALSE(d->auto_approve);
  EXPECT_EQ(d->approvals_required, 0);
  EXPECT_TRUE(d->approvers.Empty());
}

TEST_F(DevPolicy, TooLongNamesTheRuleAndItsLimit) {
  EXPECT_THAT(Evaluate(config_, kAlice, Req("prod", "Admin", hours(2), "x")),
              StatusIs(StatusCode::kInvalidArgument,
                       "duration 2h is longer than the 1h that rule 'prod-admin' allows"));
}

TEST_F(DevPolicy, TooShortNamesTheMinimum) {
  EXPECT_THAT(Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", seconds(2))),
              StatusIs(StatusCode::kInvalidArgument,
                       "duration 2s is shorter than the 5s that rule 'readonly' requires"));
  EXPECT_OK(Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", seconds(5))));
  EXPECT_OK(Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", hours(8))));
}

TEST_F(DevPolicy, ZeroOrNegativeDurationIsInvalid) {
  EXPECT_THAT(Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", Duration(0))),
              StatusIs(StatusCode::kInvalidArgument, "duration must be longer than 0s, not 0s"));
  EXPECT_THAT(Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", -minutes(5))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("longer than 0s")));
}

TEST_F(DevPolicy, ReasonRequired) {
  EXPECT_THAT(Evaluate(config_, kAlice, Req("prod", "Admin", hours(1))),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a reason is required")));
  EXPECT_THAT(Evaluate(config_, kAlice, Req("prod", "Admin", hours(1), " \t\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a reason is required")));
}

TEST_F(DevPolicy, ReasonAndTicketLengthsAreBounded) {
  EXPECT_OK(Evaluate(config_, kAlice, Req("prod", "Admin", hours(1), std::string(1000, 'r'))));
  EXPECT_THAT(
      Evaluate(config_, kAlice, Req("prod", "Admin", hours(1), std::string(1001, 'r'))),
      StatusIs(StatusCode::kInvalidArgument, "the reason is too long (at most 1000 characters)"));
  // Characters, not bytes: 1000 two-byte characters are fine.
  std::string umlauts;
  for (int i = 0; i < 1000; ++i) umlauts += "\xC3\xA4";
  EXPECT_OK(Evaluate(config_, kAlice, Req("prod", "Admin", hours(1), umlauts)));
  EXPECT_THAT(
      Evaluate(config_, kAlice, Req("sandbox", "ReadOnly", hours(1), "", std::string(129, 't'))),
      StatusIs(StatusCode::kInvalidArgument, "the ticket is too long (at most 128 characters)"));
}

TEST_F(DevPolicy, UnknownAccountOrPermissionSet) {
  EXPECT_THAT(Evaluate(config_, kAlice, Req("nope", "ReadOnly", hours(1))),
              StatusIs(StatusCode::kInvalidArgument, "unknown account 'nope'"));
  EXPECT_THAT(Evaluate(config_, kAlice, Req("", "ReadOnly", hours(1))),
              StatusIs(StatusCode::kInvalidArgument, "unknown account ''"));
  EXPECT_THAT(Evaluate(config_, kAlice, Req("sandbox", "PowerUser", hours(1))),
              StatusIs(StatusCode::kInvalidArgument, "unknown permission set 'PowerUser'"));
}

TEST_F(DevPolicy, NoRuleIsPermissionDenied) {
  EXPECT_THAT(Evaluate(config_, kMallory, Req("sandbox", "ReadOnly", hours(1))),
              StatusIs(StatusCode::kPermissionDenied,
                       "no rule lets mallory request ReadOnly on sandbox (111111111111)"));
  // alice may use Admin on prod only, and never BreakGlass.
  EXPECT_THAT(Evaluate(config_, kAlice, Req("sandbox", "Admin", hours(1), "x")),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Evaluate(config_, kAlice, Req("prod", "BreakGlass", hours(1), "x")),
              StatusIs(StatusCode::kPermissionDenied));
  // bob approves but does not request.
  EXPECT_THAT(Evaluate(config_, kBob, Req("prod", "Admin", hours(1), "x")),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(DevPolicy, AccountByIdOrNameAndPermissionSetByNameOrArn) {
  Result<Decision> by_id = Evaluate(config_, kAlice, Req("222222222222", "ReadOnly", hours(1)));
  ASSERT_OK(by_id);
  EXPECT_EQ(by_id->account->name, "prod");
  Result<Decision> by_arn = Evaluate(
      config_, kAlice,
      Req("prod", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111",
          hours(1)));
  ASSERT_OK(by_arn);
  EXPECT_EQ(by_arn->permission_set->name, "ReadOnly");
}

TEST_F(DevPolicy, FindHelpers) {
  ASSERT_NE(config_.FindAccount("sandbox"), nullptr);
  EXPECT_EQ(config_.FindAccount("sandbox")->id, "111111111111");
  EXPECT_EQ(config_.FindAccount("222222222222")->name, "prod");
  EXPECT_EQ(config_.FindAccount("Sandbox"), nullptr);
  EXPECT_EQ(config_.FindAccount(""), nullptr);
  EXPECT_EQ(config_.FindPermissionSet("Admin")->arn,
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222");
  EXPECT_EQ(config_
                .FindPermissionSet(
                    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333")
                ->name,
            "BreakGlass");
  EXPECT_EQ(config_.FindPermissionSet("admin"), nullptr);
  EXPECT_EQ(config_.FindPermissionSet(""), nullptr);
}

TEST_F(DevPolicy, AdminsAndAuditors) {
  EXPECT_TRUE(IsAdmin(config_, kCarol));
  EXPECT_FALSE(IsAdmin(config_, kAlice));
  model::Identity auditor{"ann", {"auditors"}, ""};
  EXPECT_TRUE(IsAuditor(config_, auditor));
  EXPECT_FALSE(IsAdmin(config_, auditor));
  EXPECT_TRUE(IsAuditor(config_, kCarol));  // admins read everything too
  EXPECT_FALSE(IsAuditor(config_, kAlice));
}

TEST_F(DevPolicy, CatalogForAlice) {
  std::vector<CatalogEntry> c = Catalog(config_, kAlice);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].account->name, "sandbox");
  EXPECT_EQ(c[0].permission_set->name, "ReadOnly");
  EXPECT_EQ(c[0].rule->name, "readonly");
  EXPECT_EQ(c[0].max_duration, hours(8));
  EXPECT_EQ(c[0].min_duration, seconds(5));
  EXPECT_TRUE(c[0].auto_approve);
  EXPECT_EQ(c[0].approvals_required, 0);
  EXPECT_FALSE(c[0].reason_required);

  EXPECT_EQ(c[1].account->name, "prod");
  EXPECT_EQ(c[1].permission_set->name, "ReadOnly");

  EXPECT_EQ(c[2].account->name, "prod");
  EXPECT_EQ(c[2].permission_set->name, "Admin");
  EXPECT_EQ(c[2].rule->name, "prod-admin");
  EXPECT_EQ(c[2].max_duration, hours(1));
  EXPECT_FALSE(c[2].auto_approve);
  EXPECT_FALSE(c[2].break_glass);
  EXPECT_EQ(c[2].approvals_required, 1);
  EXPECT_TRUE(c[2].reason_required);
}

TEST_F(DevPolicy, CatalogForCarolAndStrangers) {
  std::vector<CatalogEntry> c = Catalog(config_, kCarol);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].account->name, "sandbox");
  EXPECT_EQ(c[0].permission_set->name, "BreakGlass");
  EXPECT_TRUE(c[0].break_glass);
  EXPECT_FALSE(c[0].auto_approve);
  EXPECT_EQ(c[0].approvals_required, 0);
  EXPECT_EQ(c[1].account->name, "prod");
  EXPECT_TRUE(Catalog(config_, kMallory).empty());
  EXPECT_TRUE(Catalog(config_, kBob).empty());
}

// A policy that exercises selectors, tickets, rule order and permission set limits.
constexpr char kPolicy[] = R"(accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
  - {id: "333333333333", name: prod-eu, tags: [prod, eu]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 2h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
rules:
  - name: oncall-quick
    requesters: {users: [alice]}
    accounts: {tags: [prod]}
    permission_sets: [Admin]
    max_duration: 30m
    ticket: "^(INC|CHG)-[0-9]+$"
    approval: auto
  - name: prod-slow
    requesters: {groups: [engineers]}
    accounts: {ids: ["222222222222"], names: [prod-eu]}
    permission_sets: [Admin]
    max_duration: 4h
    reason: required
    approval: {approvers: {users: [bob, carol], groups: [leads]}, required: 2, timeout: 1h}
  - name: readonly-all
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    approval: auto
)";

class Policy : public ::testing::Test {
 protected:
  Config config_ = MustParse(kPolicy);
  model::Identity alice_{"alice", {"engineers"}, ""};
  model::Identity dave_{"dave", {"engineers"}, ""};
};

TEST_F(Policy, FirstMatchingRuleWins) {
  Result<Decision> d = Evaluate(config_, alice_, Req("prod", "Admin", minutes(20), "", "INC-42"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "oncall-quick");
  EXPECT_TRUE(d->auto_approve);
}

TEST_F(Policy, WhenTheFirstRuleRefusesTheNextMayAllow) {
  // Too long for oncall-quick, fine for prod-slow.
  Result<Decision> d =
      Evaluate(config_, alice_, Req("prod", "Admin", hours(2), "migration", "INC-42"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "prod-slow");
  EXPECT_EQ(d->approvals_required, 2);
  EXPECT_THAT(d->approvers.users, ElementsAre("bob", "carol"));
  EXPECT_THAT(d->approvers.groups, ElementsAre("leads"));
  EXPECT_EQ(d->approval_timeout, hours(1));
}

TEST_F(Policy, WhenNoRuleAcceptsTheFirstRulesErrorIsReturned) {
  EXPECT_THAT(Evaluate(config_, alice_, Req("prod", "Admin", hours(5), "x", "INC-1")),
              StatusIs(StatusCode::kInvalidArgument,
                       "duration 5h is longer than the 30m that rule 'oncall-quick' allows"));
}

TEST_F(Policy, TicketMustMatchThePattern) {
  // dave is only covered by prod-slow, which has no pattern; alice's first rule has one.
  EXPECT_THAT(
      Evaluate(config_, alice_, Req("prod", "Admin", minutes(10), "", "JIRA-7")),
      StatusIs(StatusCode::kInvalidArgument, "ticket 'JIRA-7' does not match ^(INC|CHG)-[0-9]+$"));
  EXPECT_THAT(Evaluate(config_, alice_, Req("prod", "Admin", minutes(10), "", "")),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("a ticket matching ^(INC|CHG)-[0-9]+$ is required")));
  // The whole ticket must match, not a part of it.
  EXPECT_THAT(Evaluate(config_, alice_, Req("prod", "Admin", minutes(10), "", "INC-1 and more")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));
  EXPECT_OK(Evaluate(config_, alice_, Req("prod", "Admin", minutes(10), "", "CHG-2024")));
}

TEST_F(Policy, InvalidTicketPatternFailsClosed) {
  Config c = config_;
  c.rules[0].ticket_pattern = "(unclosed";
  EXPECT_THAT(Evaluate(c, alice_, Req("prod", "Admin", minutes(10), "", "INC-1")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot be checked")));
}

TEST_F(Policy, AccountsByTagIdAndName) {
  // oncall-quick selects by tag: prod and prod-eu, not sandbox.
  EXPECT_EQ(Evaluate(config_, alice_, Req("prod-eu", "Admin", minutes(5), "", "INC-1"))->rule->name,
            "oncall-quick");
  EXPECT_THAT(Evaluate(config_, alice_, Req("sandbox", "Admin", minutes(5), "", "INC-1")),
              StatusIs(StatusCode::kPermissionDenied));
  // prod-slow selects prod by id and prod-eu by name.
  EXPECT_EQ(Evaluate(config_, dave_, Req("prod", "Admin", hours(1), "r"))->rule->name, "prod-slow");
  EXPECT_EQ(Evaluate(config_, dave_, Req("333333333333", "Admin", hours(1), "r"))->rule->name,
            "prod-slow");
  EXPECT_THAT(Evaluate(config_, dave_, Req("sandbox", "Admin", hours(1), "r")),
              StatusIs(StatusCode::kPermissionDenied));
  // readonly-all covers every account.
  for (const char* account : {"sandbox", "prod", "prod-eu"}) {
    EXPECT_OK(Evaluate(config_, dave_, Req(account, "ReadOnly", hours(1)))) << account;
  }
}

TEST_F(Policy, PermissionSetMaxDurationCapsTheRule) {
  EXPECT_THAT(Evaluate(config_, dave_, Req("sandbox", "ReadOnly", hours(3))),
              StatusIs(StatusCode::kInvalidArgument,
                       "duration 3h is longer than the 2h that permission set 'ReadOnly' allows"));
  EXPECT_OK(Evaluate(config_, dave_, Req("sandbox", "ReadOnly", hours(2))));
}

TEST_F(Policy, CatalogUsesTheFirstRuleAndTheSmallerMax) {
  std::vector<CatalogEntry> c = Catalog(config_, alice_);
  ASSERT_EQ(c.size(), 5u);
  auto name = [](const CatalogEntry& e) {
    return e.account->name + "/" + e.permission_set->name + "/" + e.rule->name;
  };
  EXPECT_EQ(name(c[0]), "sandbox/ReadOnly/readonly-all");
  EXPECT_EQ(name(c[1]), "prod/ReadOnly/readonly-all");
  EXPECT_EQ(name(c[2]), "prod/Admin/oncall-quick");
  EXPECT_EQ(name(c[3]), "prod-eu/ReadOnly/readonly-all");
  EXPECT_EQ(name(c[4]), "prod-eu/Admin/oncall-quick");
  EXPECT_EQ(c[0].max_duration, hours(2));  // ReadOnly caps readonly-all's 8h
  EXPECT_EQ(c[2].max_duration, minutes(30));
  EXPECT_EQ(c[2].ticket_pattern, "^(INC|CHG)-[0-9]+$");
  EXPECT_TRUE(c[2].auto_approve);

  std::vector<CatalogEntry> d = Catalog(config_, dave_);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(name(d[2]), "prod/Admin/prod-slow");
  EXPECT_EQ(d[2].max_duration, hours(4));
  EXPECT_EQ(d[2].approvals_required, 2);
  EXPECT_TRUE(d[2].reason_required);
}

TEST(Subjects, ContainsUsersAndGroupMembers) {
  Subjects s{{"alice"}, {"sre"}};
  EXPECT_TRUE(s.Contains({"alice", {}, ""}));
  EXPECT_TRUE(s.Contains({"zed", {"dev", "sre"}, ""}));
  EXPECT_FALSE(s.Contains({"zed", {"dev"}, ""}));
  EXPECT_FALSE(s.Contains({"Alice", {"SRE"}, ""}));  // exact match only
  EXPECT_FALSE(Subjects{}.Contains({"alice", {"sre"}, ""}));
  // An empty user name or group never matches, even if a config somehow lists one.
  Subjects with_empty{{""}, {""}};
  EXPECT_FALSE(with_empty.Contains({"", {""}, ""}));
}

TEST(AccountSelector, Matches) {
  Account a{"111111111111", "sandbox", {"dev", "eu"}, {"ou-ab12-eu000000", "r-ab12"}, false, 0};
  auto matches = [&a](AccountSelector s) { return s.Matches(a); };
  EXPECT_TRUE(matches({true, {}, {}, {}}));
  EXPECT_TRUE(matches({false, {"111111111111"}, {}, {}}));
  EXPECT_TRUE(matches({false, {}, {"sandbox"}, {}}));
  EXPECT_TRUE(matches({false, {}, {}, {"eu"}}));
  EXPECT_FALSE(matches({false, {"222222222222"}, {"prod"}, {"prod"}}));
  EXPECT_TRUE(matches({false, {}, {}, {}, {"r-ab12"}}));  // by OU, the root too
  EXPECT_FALSE(matches({false, {}, {}, {}, {"ou-ab12-us000000"}}));
  EXPECT_FALSE(matches({}));
}

// Issue 16: `accounts:` entries that name accounts of the AWS Organization.
constexpr char kOrgRules[] = R"yaml(
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
rules:
  - name: r
    requesters: {groups: [engineers]}
    accounts: {names: [payments], tags: [env=prod], ous: [ou-ab12-prod0000]}
    permission_sets: [ReadOnly]
    max_duration: 1h
    approval: auto
)yaml";

TEST(OrganizationSources, ParseIntoSourcesAndLetRulesNameAccountsNotListed) {
  Result<Config> c = ParseConfig(std::string(R"yaml(
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {ou: ou-ab12-prod0000}
  - {ou: r-ab12, recursive: false, tags: {env: prod, team: pay}}
  - {organization: true}
  - {tags: {env: dev}}
)yaml") + kOrgRules,
                                 "test.yaml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->accounts.size(), 1u);
  ASSERT_EQ(c->account_sources.size(), 4u);
  EXPECT_EQ(c->account_sources[0].ou, "ou-ab12-prod0000");
  EXPECT_TRUE(c->account_sources[0].recursive);  // the default
  EXPECT_FALSE(c->account_sources[1].recursive);
  EXPECT_EQ(c->account_sources[1].tags.at("team"), "pay");
  EXPECT_TRUE(c->account_sources[2].organization);
  EXPECT_EQ(c->account_sources[3].tags.at("env"), "dev");
  EXPECT_EQ(c->account_sources[1].line, 5);  // the raw string starts with a blank line
  EXPECT_TRUE(c->UsesOrganization());
  EXPECT_THAT(c->rules[0].accounts.ous, ElementsAre("ou-ab12-prod0000"));
}

TEST(OrganizationSources, WithoutSourcesRulesStillNameOnlyListedAccounts) {
  Result<Config> c = ParseConfig(std::string(R"yaml(
accounts:
  - {id: "111111111111", name: sandbox}
)yaml") + kOrgRules,
                                 "test.yaml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message(), HasSubstr("unknown account 'payments'"));
  EXPECT_THAT(c.error().message(), HasSubstr("no account has the tag 'env=prod'"));
}

TEST(OrganizationSources, BadEntriesNameTheirLine) {
  auto error = [](const std::string& accounts) {
    Result<Config> c = ParseConfig("accounts:\n" + accounts + kOrgRules, "test.yaml");
    return c.has_value() ? std::string("parsed") : c.error().message();
  };
  EXPECT_THAT(error("  - {ou: ou-nope}\n"),
              HasSubstr("test.yaml:2: 'ou-nope' is not an organizational unit id"));
  EXPECT_THAT(error("  - {organization: false}\n"), HasSubstr("can only be true"));
  EXPECT_THAT(error("  - {organization: true, ou: ou-ab12-prod0000}\n"),
              HasSubstr("use one or the other"));
  EXPECT_THAT(error("  - {recursive: true}\n"), HasSubstr("'recursive' needs an 'ou'"));
  EXPECT_THAT(error("  - {tags: [prod]}\n"), HasSubstr("must be a map of AWS tags"));
  EXPECT_THAT(error("  - {id: \"111111111111\", name: a, ou: ou-ab12-prod0000}\n"),
              HasSubstr("an entry with an id lists one account"));
  EXPECT_THAT(error("  - {}\n"), HasSubstr("an account needs an 'id' and a 'name'"));
  Result<Config> bad_ou = ParseConfig(std::string("accounts:\n  - {organization: true}\n") +
                                          R"yaml(
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
rules:
  - name: r
    requesters: {groups: [engineers]}
    accounts: {ous: [prod]}
    permission_sets: [ReadOnly]
    approval: auto
)yaml",
                                      "test.yaml");
  ASSERT_FALSE(bad_ou.has_value());
  EXPECT_THAT(bad_ou.error().message(), HasSubstr("'prod' is not an organizational unit id"));
}

// Catalog skips work (bench/catalog_bench.cc); it must still answer exactly what trying every
// rule on every account and permission set in config order answers.
std::vector<CatalogEntry> CatalogByEveryRule(const Config& config, const model::Identity& who) {
  std::vector<CatalogEntry> out;
  for (const Account& account : config.accounts) {
    for (const PermissionSet& ps : config.permission_sets) {
      for (const Rule& rule : config.rules) {
        if (!RuleCovers(rule, who, account, ps)) continue;
        CatalogEntry e;
        e.account = &account;
        e.permission_set = &ps;
        e.rule = &rule;
        e.max_duration = ps.max_duration.count() > 0 && ps.max_duration < rule.max_duration
                             ? ps.max_duration
                             : rule.max_duration;
        e.hours = rule.hours ? rule.hours->Describe() : "";
        out.push_back(e);
        break;
      }
    }
  }
  return out;
}

TEST(Catalog, IsWhatTryingEveryRuleInOrderGives) {
  std::mt19937 rng(7);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> tags = {"prod", "dev", "staging", "pci", "team-a", "team-b"};
  const std::vector<std::string> groups = {"g0", "g1", "g2", "g3", "g4", "g5"};
  for (int round = 0; round < 40; ++round) {
    Config c;
    for (int i = 0; i < 1 + pick(30); ++i) {
      Account a;
      a.id = std::to_string(100000000000LL + i);
      a.name = "acct" + std::to_string(i);
      for (int k = pick(3); k > 0; --k) a.tags.push_back(tags[pick(6)]);
      c.accounts.push_back(a);
    }
    for (int i = 0; i < 1 + pick(8); ++i) {
      PermissionSet ps;
      // Names may repeat in a config made in code; both sets are offered then.
      ps.name = "ps" + std::to_string(pick(6));
      ps.max_duration = hours(pick(3));
      c.permission_sets.push_back(ps);
    }
    for (int i = 0; i < pick(12); ++i) {
      Rule r;
      r.name = "rule" + std::to_string(i);
      for (int k = pick(3); k > 0; --k) r.requesters.groups.push_back(groups[pick(6)]);
      if (pick(4) == 0) r.requesters.users.push_back("u" + std::to_string(pick(3)));
      switch (pick(4)) {
        case 0:
          r.accounts.all = true;
          break;
        case 1:
          for (int k = 1 + pick(3); k > 0; --k) r.accounts.tags.push_back(tags[pick(6)]);
          break;
        case 2:
          for (int k = 1 + pick(5); k > 0; --k) {
            r.accounts.names.push_back("acct" + std::to_string(pick(30)));
          }
          break;
        default:
          r.accounts.ids.push_back(std::to_string(100000000000LL + pick(30)));
      }
      for (int k = 1 + pick(4); k > 0; --k)
        r.permission_sets.push_back("ps" + std::to_string(pick(7)));
      r.max_duration = hours(1 + pick(4));
      if (pick(3) == 0) r.hours = AllowedHours{};
      c.rules.push_back(r);
    }
    for (int u = 0; u < 6; ++u) {
      model::Identity who{"u" + std::to_string(pick(4)), {}, ""};
      for (int k = pick(4); k > 0; --k) who.groups.push_back(groups[pick(6)]);
      std::vector<CatalogEntry> got = Catalog(c, who);
      std::vector<CatalogEntry> want = CatalogByEveryRule(c, who);
      ASSERT_EQ(got.size(), want.size()) << "round " << round;
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].account, want[i].account) << "round " << round << " entry " << i;
        EXPECT_EQ(got[i].permission_set, want[i].permission_set) << "round " << round;
        EXPECT_EQ(got[i].rule, want[i].rule) << "round " << round << " entry " << i;
        EXPECT_EQ(got[i].max_duration, want[i].max_duration) << "round " << round;
        EXPECT_EQ(got[i].hours, want[i].hours) << "round " << round;
      }
    }
  }
}

}  // namespace
}  // namespace jit::policy::policy_test
