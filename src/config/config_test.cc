#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "aws/names.h"
#include "core/testing.h"
#include "core/url.h"

namespace jit::config {
namespace {

using ::jit::api::CheckPublicUrl;
using ::jit::auth::StaticToken;
using ::jit::aws::IsAwsRegion;
using ::jit::aws::IsIdentityStoreId;
using ::jit::aws::IsInstanceArn;
using ::jit::policy::Account;
using ::jit::policy::AllowedHours;
using ::jit::policy::PermissionSet;
using ::jit::policy::Rule;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPs1[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";

// Lines 1-6. Tests append rules from line 7 on.
const std::string kBase = std::string(R"(accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: 222222222222, name: prod, tags: [prod, critical]}
permission_sets:
  - {name: ReadOnly, arn: ")") +
                          kPs1 + R"(", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
)";

// The error message of parsing `yaml`, or "OK".
std::string Errors(const std::string& yaml) {
  Result<Config> c = ParseConfig(yaml, "jit.yaml");
  if (c.ok()) return "OK";
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
  return c.error().message();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST(ParseConfig, ReadsAutomationTokensAndFindings) {
  Result<Config> c = ParseConfig(
      "auth:\n  automation:\n    - {name: eventbridge, token_file: /etc/jit/automation-token}\n"
      "findings:\n  min_severity: critical\n  types: [\"UnauthorizedAccess:*\"]\n",
      "jit.yaml");
  ASSERT_OK(c);
  ASSERT_EQ(c->auth.automation.size(), 1u);
  EXPECT_EQ(c->auth.automation[0].name, "eventbridge");
  EXPECT_EQ(c->auth.automation[0].token_file, "/etc/jit/automation-token");
  EXPECT_FALSE(c->findings.Empty());
  EXPECT_EQ(c->findings.min_severity, findings::Severity::kCritical);
  EXPECT_THAT(c->findings.types, ElementsAre("UnauthorizedAccess:*"));
  // Without the section, findings are off.
  Result<Config> none = ParseConfig("store: \"sqlite:///x.db\"\n", "jit.yaml");
  ASSERT_OK(none);
  EXPECT_TRUE(none->findings.Empty());
  EXPECT_TRUE(none->auth.automation.empty());
}

TEST(ParseConfig, ReadsTheDesignExample) {
  const std::string yaml =
      R"(server: {listen: "127.0.0.1:8080", public_url: "https://jit.example.com", max_connections: 500}
store: "sqlite:///var/lib/jit/jit.db"
aws:
  region: us-east-1
  instance_arn: "arn:aws:sso:::instance/ssoins-1111111111111111"
  identity_store_id: "d-1111111111"
auth:
  oidc: {issuer: "https://idp.example.com", audience: jit, jwks_file: /etc/jit/jwks.json,
         username_claim: preferred_username, groups_claim: groups}
  tokens:
    - {name: ci-bot, sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", groups: [automation]}
admins: {groups: [admins]}
auditors: {users: [eve], groups: [auditors]}
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333"}
rules:
  - name: prod-admin
    requesters: {groups: [engineers], users: [dave]}
    accounts: {tags: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5m
    reason: required
    ticket: "^(INC|CHG)-[0-9]+$"
    approval: {approvers: {groups: [approvers]}, required: 2, timeout: 20m}
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    break_glass: true
notify:
  - {type: webhook, url: "https://hooks.example.com/jit", secret_file: /etc/jit/webhook-secret}
  - {type: sns, topic_arn: "arn:aws:sns:us-east-1:111111111111:jit"}
audit: {checkpoint_key_file: /etc/jit/audit-key.pem, checkpoint_interval: 60s}
)";
  Result<Config> c = ParseConfig(yaml, "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->server.public_url, "https://jit.example.com");
  EXPECT_EQ(c->server.max_connections, 500);
  EXPECT_EQ(c->store, "sqlite:///var/lib/jit/jit.db");
  ASSERT_EQ(c->auth.tokens.size(), 1u);
  EXPECT_EQ(c->auth.tokens[0].name, "ci-bot");
  EXPECT_EQ(c->auth.tokens[0].sha256_hex,
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_THAT(c->auth.tokens[0].groups, ElementsAre("automation"));
  EXPECT_THAT(c->policy.admins.groups, ElementsAre("admins"));
  EXPECT_THAT(c->policy.admins.users, IsEmpty());
  EXPECT_THAT(c->policy.auditors.users, ElementsAre("eve"));
  EXPECT_THAT(c->policy.auditors.groups, ElementsAre("auditors"));

  ASSERT_EQ(c->policy.accounts.size(), 2u);
  EXPECT_EQ(c->policy.accounts[1].id, "222222222222");
  EXPECT_EQ(c->policy.accounts[1].name, "prod");
  EXPECT_THAT(c->policy.accounts[1].tags, ElementsAre("prod"));
  EXPECT_EQ(c->policy.accounts[1].line, 16);

  ASSERT_EQ(c->policy.permission_sets.size(), 3u);
  EXPECT_EQ(c->policy.permission_sets[0].max_duration, hours(8));
  EXPECT_EQ(c->policy.permission_sets[1].max_duration, Duration(0));
  EXPECT_EQ(c->policy.permission_sets[2].line, 20);

  ASSERT_EQ(c->policy.rules.size(), 2u);
  const Rule& r = c->policy.rules[0];
  EXPECT_EQ(r.name, "prod-admin");
  EXPECT_EQ(r.line, 22);
  EXPECT_THAT(r.requesters.groups, ElementsAre("engineers"));
  EXPECT_THAT(r.requesters.users, ElementsAre("dave"));
  EXPECT_FALSE(r.accounts.all);
  EXPECT_THAT(r.accounts.tags, ElementsAre("prod"));
  EXPECT_THAT(r.permission_sets, ElementsAre("Admin"));
  EXPECT_EQ(r.max_duration, hours(1));
  EXPECT_EQ(r.min_duration, minutes(5));
  EXPECT_TRUE(r.reason_required);
  EXPECT_EQ(r.ticket_pattern, "^(INC|CHG)-[0-9]+$");
  EXPECT_FALSE(r.approval.automatic);
  EXPECT_THAT(r.approval.approvers.groups, ElementsAre("approvers"));
  EXPECT_EQ(r.approval.required, 2);
  EXPECT_EQ(r.approval.timeout, minutes(20));
  EXPECT_FALSE(r.break_glass);

  const Rule& bg = c->policy.rules[1];
  EXPECT_TRUE(bg.break_glass);
  EXPECT_TRUE(bg.accounts.all);
  EXPECT_FALSE(bg.reason_required);
  EXPECT_EQ(bg.min_duration, Duration(0));
}

TEST(ParseConfig, AppliesDefaults) {
  Result<Config> c = ParseConfig(kBase + R"(rules:
  - name: r
    requesters: {users: [alice]}
    accounts: {names: [sandbox]}
    permission_sets: [ReadOnly]
    max_duration: 2h
    approval: {approvers: {users: [bob]}}
)",
                                 "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->store, "");
  const Rule& r = c->policy.rules[0];
  EXPECT_EQ(r.approval.required, 1);
  EXPECT_EQ(r.approval.timeout, minutes(15));
  EXPECT_FALSE(r.reason_required);
  EXPECT_EQ(r.ticket_pattern, "");
  EXPECT_EQ(r.min_duration, Duration(0));
}

TEST(ParseConfig, ReadsAutoApprovalAndOptionalReason) {
  Result<Config> c = ParseConfig(kBase + R"(rules:
  - name: r
    requesters: {groups: [engineers]}
    accounts: {ids: [111111111111, "222222222222"]}
    permission_sets: [ReadOnly, Admin]
    max_duration: 90m
    reason: optional
    approval: auto
)",
                                 "jit.yaml");
  ASSERT_OK(c);
  EXPECT_TRUE(c->policy.rules[0].approval.automatic);
  EXPECT_FALSE(c->policy.rules[0].reason_required);
  EXPECT_THAT(c->policy.rules[0].accounts.ids, ElementsAre("111111111111", "222222222222"));
  EXPECT_EQ(c->policy.rules[0].max_duration, minutes(90));
}

// Ticket checks: a rule says which, the file's `jira:` section says where Jira is.
TEST(ParseConfig, ReadsTicketChecksAndNeedsAJiraSectionForThem) {
  const std::string rule = R"(rules:
  - name: r
    requesters: {groups: [engineers]}
    accounts: {ids: [111111111111]}
    permission_sets: [Admin]
    max_duration: 1h
    ticket_check: assigned
    approval: auto
)";
  Result<Config> c = ParseConfig(
      kBase + rule + "jira: {url: 'https://jira.example.com', token_file: /etc/jit/jira}\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules[0].ticket_check, policy::TicketCheck::kAssigned);
  EXPECT_EQ(c->jira.url, "https://jira.example.com");
  EXPECT_THAT(ParseConfig(kBase + rule, "jit.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("rule 'r' has a 'ticket_check', but the file has no 'jira' "
                                 "section")));
  std::string bad = rule;
  bad.replace(bad.find("assigned"), 8, "maybe");
  EXPECT_THAT(
      ParseConfig(kBase + bad + "jira: {url: 'https://j.example.com', token_file: x}\n",
                  "jit.yaml"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("'ticket_check' must be open or assigned")));
}

TEST(ParseConfig, KeepsAccountIdTextWhetherQuotedOrNot) {
  Result<Config> c = ParseConfig(R"(accounts:
  - {id: 012345678901, name: a}
  - {id: 999999999999, name: b}
  - id: "000000000001"
    name: c
)",
                                 "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.accounts[0].id, "012345678901");
  EXPECT_EQ(c->policy.accounts[1].id, "999999999999");
  EXPECT_EQ(c->policy.accounts[2].id, "000000000001");
  EXPECT_EQ(c->policy.accounts[2].line, 4);
}

TEST(ParseConfig, DevConfigParsesWithoutErrors) {
  Result<Config> c = ParseConfig(DevConfigYaml(), "dev");
  ASSERT_OK(c);
  ASSERT_EQ(c->policy.accounts.size(), 2u);
  EXPECT_EQ(c->policy.accounts[0].id, "111111111111");
  EXPECT_EQ(c->policy.accounts[0].name, "sandbox");
  EXPECT_THAT(c->policy.accounts[0].tags, ElementsAre("dev"));
  EXPECT_EQ(c->policy.accounts[1].id, "222222222222");
  EXPECT_EQ(c->policy.accounts[1].name, "prod");
  EXPECT_THAT(c->policy.accounts[1].tags, ElementsAre("prod"));

  ASSERT_EQ(c->policy.permission_sets.size(), 3u);
  EXPECT_EQ(c->policy.permission_sets[0].name, "ReadOnly");
  EXPECT_EQ(c->policy.permission_sets[0].arn, kPs1);
  EXPECT_EQ(c->policy.permission_sets[1].name, "Admin");
  EXPECT_EQ(c->policy.permission_sets[1].arn,
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222");
  EXPECT_EQ(c->policy.permission_sets[2].name, "BreakGlass");
  EXPECT_EQ(c->policy.permission_sets[2].arn,
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333");

  ASSERT_EQ(c->policy.rules.size(), 3u);
  const Rule& ro = c->policy.rules[0];
  EXPECT_EQ(ro.name, "readonly");
  EXPECT_THAT(ro.requesters.groups, ElementsAre("engineers"));
  EXPECT_TRUE(ro.accounts.all);
  EXPECT_THAT(ro.permission_sets, ElementsAre("ReadOnly"));
  EXPECT_TRUE(ro.approval.automatic);
  EXPECT_EQ(ro.max_duration, hours(8));
  EXPECT_EQ(ro.min_duration, seconds(5));

  const Rule& admin = c->policy.rules[1];
  EXPECT_EQ(admin.name, "prod-admin");
  EXPECT_THAT(admin.requesters.groups, ElementsAre("engineers"));
  EXPECT_THAT(admin.accounts.names, ElementsAre("prod"));
  EXPECT_THAT(admin.permission_sets, ElementsAre("Admin"));
  EXPECT_FALSE(admin.approval.automatic);
  EXPECT_THAT(admin.approval.approvers.groups, ElementsAre("approvers"));
  EXPECT_EQ(admin.approval.required, 1);
  EXPECT_EQ(admin.approval.timeout, minutes(15));
  EXPECT_EQ(admin.max_duration, hours(1));
  EXPECT_EQ(admin.min_duration, seconds(5));
  EXPECT_TRUE(admin.reason_required);

  const Rule& bg = c->policy.rules[2];
  EXPECT_EQ(bg.name, "break-glass");
  EXPECT_THAT(bg.requesters.groups, ElementsAre("sre"));
  EXPECT_TRUE(bg.accounts.all);
  EXPECT_THAT(bg.permission_sets, ElementsAre("BreakGlass"));
  EXPECT_TRUE(bg.break_glass);
  EXPECT_EQ(bg.max_duration, hours(1));
  EXPECT_EQ(bg.min_duration, seconds(5));
  EXPECT_TRUE(bg.reason_required);

  EXPECT_THAT(c->policy.admins.groups, ElementsAre("admins"));
  EXPECT_THAT(c->policy.auditors.groups, ElementsAre("auditors"));
}

// One config with one problem, and the one error line it must give.
struct BadConfig {
  const char* name;
  std::string yaml;
  std::string error;  // the whole message: "jit.yaml:LINE: what"
};

void PrintTo(const BadConfig& b, std::ostream* os) { *os << b.name; }

class ParseConfigError : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ParseConfigError, NamesTheLine) { EXPECT_EQ(Errors(GetParam().yaml), GetParam().error); }

// A rule on lines 7-13 of kBase + this, with `extra` lines inserted after line 12 (max_duration).
std::string RuleWith(const std::string& extra, const std::string& approval = "approval: auto") {
  return kBase + R"(rules:
  - name: r
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 1h
)" + extra +
         "    " + approval + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseConfigError,
    ::testing::Values(
        BadConfig{"UnknownTopLevelKey", "rule: []\n",
                  "jit.yaml:1: unknown key 'rule' in the config (did you mean 'rules'?)"},
        BadConfig{"TopLevelNotAMap", "- a\n- b\n", "jit.yaml:1: the config must be a map"},
        BadConfig{"Empty", "",
                  "jit.yaml:1: the config is empty; expected a map of settings "
                  "such as accounts and rules"},
        BadConfig{"YamlSyntax", "accounts:\n  - {id: 1\nrules: []\n",
                  "jit.yaml:3: end of map flow not found"},
        BadConfig{"DuplicateTopLevelKey", "store: a\nstore: b\n",
                  "jit.yaml:2: duplicate key 'store' in the config"},
        BadConfig{"StoreNotString", "store: [a]\n", "jit.yaml:1: 'store' must be a string"},
        BadConfig{"AwsNotMap", "aws: us-east-1\n", "jit.yaml:1: 'aws' must be a map"},
        BadConfig{"NotifyNotList", "notify: {type: slack}\n",
                  "jit.yaml:1: 'notify' must be a list of channels"},
        BadConfig{"ServerUnknownKey", "server: {listen: \"127.0.0.1:1\", port: 8080}\n",
                  "jit.yaml:1: unknown key 'port' in 'server'"},
        BadConfig{"AdminsUnknownKey", "admins:\n  group: [admins]\n",
                  "jit.yaml:2: unknown key 'group' in 'admins' (did you mean 'groups'?)"},
        BadConfig{"AdminsNotNames", "admins: {groups: admins}\n",
                  "jit.yaml:1: 'groups' must be a list of names"},
        BadConfig{"TokenBadHash", "auth:\n  tokens:\n    - {name: ci, sha256: ABCD}\n",
                  "jit.yaml:3: 'sha256' must be 64 lowercase hex digits (the SHA-256 of the "
                  "token)"},
        BadConfig{"TokenUpperHash",
                  "auth:\n  tokens:\n    - {name: ci, sha256: "
                  "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08}\n",
                  "jit.yaml:3: 'sha256' must be 64 lowercase hex digits (the SHA-256 of the "
                  "token)"},
        BadConfig{"TokenNoName",
                  "auth:\n  tokens:\n    - sha256: "
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
                  "jit.yaml:3: a token has no 'name'"},
        BadConfig{"TokenUnknownKey",
                  "auth:\n  tokens:\n    - name: ci\n      sha256: "
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
                  "      group: [x]\n",
                  "jit.yaml:5: unknown key 'group' in a token (did you mean 'groups'?)"},
        BadConfig{"TokenDuplicateName",
                  "auth:\n  tokens:\n"
                  "    - {name: ci, sha256: "
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}\n"
                  "    - {name: ci, sha256: "
                  "0f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}\n",
                  "jit.yaml:4: token name 'ci' is already used on line 3"},
        BadConfig{"AutomationNotList", "auth:\n  automation: {name: eb}\n",
                  "jit.yaml:2: 'automation' must be a list"},
        BadConfig{"AutomationNoTokenFile", "auth:\n  automation:\n    - {name: eb}\n",
                  "jit.yaml:3: an automation token has no 'token_file'"},
        BadConfig{"AutomationSha256",
                  "auth:\n  automation:\n    - {name: eb, token_file: /t, sha256: abc}\n",
                  "jit.yaml:3: unknown key 'sha256' in an automation token"},
        BadConfig{"AutomationNameOfAToken",
                  "auth:\n  tokens:\n"
                  "    - {name: ci, sha256: "
                  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}\n"
                  "  automation:\n    - {name: ci, token_file: /t}\n",
                  "jit.yaml:5: token name 'ci' is already used on line 3"},
        BadConfig{"FindingsBadSeverity", "findings: {min_severity: severe}\n",
                  "jit.yaml:1: 'min_severity' must be LOW, MEDIUM, HIGH or CRITICAL"},
        BadConfig{"AuthUnknownKey", "auth: {oidcs: {}}\n",
                  "jit.yaml:1: unknown key 'oidcs' in 'auth' (did you mean 'oidc'?)"},
        BadConfig{"OidcNotMap", "auth:\n  oidc: https://idp.example.com\n",
                  "jit.yaml:2: 'oidc' must be a map"},
        BadConfig{"OidcUnknownKey",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    username_clam: email\n",
                  "jit.yaml:6: unknown key 'username_clam' in 'oidc' (did you mean "
                  "'username_claim'?)"},
        BadConfig{"OidcNoIssuer", "auth:\n  oidc: {audience: jit, jwks_file: /j}\n",
                  "jit.yaml:2: 'oidc' has no 'issuer'"},
        BadConfig{"OidcHttpIssuer",
                  "auth:\n  oidc:\n    issuer: http://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n",
                  "jit.yaml:3: 'issuer' must be an https URL (http only on a loopback host)"},
        BadConfig{"OidcIssuerUserInfo",
                  "auth:\n  oidc:\n    issuer: http://127.0.0.1@evil.example\n"
                  "    audience: jit\n    jwks_file: /j\n",
                  "jit.yaml:3: 'issuer' must be an https URL (http only on a loopback host)"},
        BadConfig{"OidcNoAudience",
                  "auth:\n  oidc: {issuer: \"https://idp.example.com\", jwks_file: /j}\n",
                  "jit.yaml:2: 'oidc' has no 'audience'"},
        BadConfig{"OidcEmptyAudience",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: \"\"\n"
                  "    jwks_file: /j\n",
                  "jit.yaml:4: 'audience' must not be empty"},
        BadConfig{"OidcNoJwks",
                  "auth:\n  oidc: {issuer: \"https://idp.example.com\", audience: jit}\n",
                  "jit.yaml:2: 'oidc' has no 'jwks_file' or 'jwks_url'"},
        BadConfig{"OidcBothJwks",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    jwks_url: https://idp.example.com/jwks\n",
                  "jit.yaml:6: 'oidc' has both 'jwks_file' and 'jwks_url'; use one"},
        BadConfig{"OidcHttpJwksUrl",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_url: http://idp.example.com/jwks\n",
                  "jit.yaml:5: 'jwks_url' must be an https URL (http only on a loopback host)"},
        BadConfig{"OidcEmptyJwksFile",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: \"\"\n",
                  "jit.yaml:5: 'jwks_file' must not be empty"},
        BadConfig{"OidcEmptyClaim",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    groups_claim: \"\"\n",
                  "jit.yaml:6: 'groups_claim' must not be empty"},
        BadConfig{"PublicUrlHttp", "server: {public_url: \"http://jit.example.com\"}\n",
                  "jit.yaml:1: 'public_url' must be an https URL (http only on a loopback "
                  "host)"},
        BadConfig{"PublicUrlWithPath", "server:\n  public_url: https://example.com/jit\n",
                  "jit.yaml:2: 'public_url' must have no path, query or fragment: jit serves "
                  "its UI and API at the root (https://jit.example.com)"},
        BadConfig{"MaxConnectionsZero", "server: {max_connections: 0}\n",
                  "jit.yaml:1: 'max_connections' must be a whole number from 1 to 1000000"},
        BadConfig{"MaxConnectionsText", "server:\n  max_connections: lots\n",
                  "jit.yaml:2: 'max_connections' must be a whole number from 1 to 1000000"},
        BadConfig{"UiUnknownKey", "ui: {session_lifetme: 1h}\n",
                  "jit.yaml:1: unknown key 'session_lifetme' in 'ui' (did you mean "
                  "'session_lifetime'?)"},
        BadConfig{"UiNotMap", "ui: yes\n", "jit.yaml:1: 'ui' must be a map"},
        BadConfig{"ActivityWithoutRole", "activity: {live_cache: 10s}\n",
                  "jit.yaml:1: 'activity' has no 'role_name'"},
        BadConfig{"ActivityBadRole", "activity:\n  role_name: \"a role\"\n",
                  "jit.yaml:2: 'role_name' must be an IAM role name: 1 to 64 of letters, digits "
                  "and +=,.@_-"},
        BadConfig{"ActivityFastPace", "activity: {role_name: r, calls_per_second: 20}\n",
                  "jit.yaml:1: 'calls_per_second' must be a whole number from 1 to 10"},
        BadConfig{"ActivityLongCache", "activity: {role_name: r, live_cache: 2h}\n",
                  "jit.yaml:1: 'live_cache' must be from 1s to 1h"},
        BadConfig{"ActivityLongSettle", "activity: {role_name: r, settle: 3h}\n",
                  "jit.yaml:1: 'settle' must be from 0s to 2h"},
        BadConfig{"ActivityUnknownKey", "activity: {role_name: r, max_event: 10}\n",
                  "jit.yaml:1: unknown key 'max_event' in 'activity' (did you mean "
                  "'max_events'?)"},
        BadConfig{"UiEmptyKeyFile", "ui:\n  session_key_file: \"\"\n",
                  "jit.yaml:2: 'session_key_file' must not be empty"},
        BadConfig{"UiShortLifetime", "ui:\n  session_key_file: /k\n  session_lifetime: 1m\n",
                  "jit.yaml:3: 'session_lifetime' must be from 5m to 7d"},
        BadConfig{"UiLongLifetime", "ui: {session_lifetime: 8d}\n",
                  "jit.yaml:1: 'session_lifetime' must be from 5m to 7d"},
        BadConfig{"UiBadLifetime", "ui:\n  session_lifetime: soon\n",
                  "jit.yaml:2: 'session_lifetime': invalid duration 'soon': expected a number "
                  "at 'soon' (use forms like 90s, 15m, 1h30m)"},
        BadConfig{"OidcEmptyClientId",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    client_id: \"\"\n",
                  "jit.yaml:6: 'client_id' must not be empty"},
        BadConfig{"OidcSecretNotString",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    client_secret_file: [a]\n",
                  "jit.yaml:6: 'client_secret_file' must be a string"},
        BadConfig{"OidcScopesWithoutOpenid",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    scopes: [profile, email]\n",
                  "jit.yaml:6: 'scopes' must include openid"},
        BadConfig{"OidcScopeWithSpace",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    scopes:\n      - openid\n      - \"profile email\"\n",
                  "jit.yaml:8: 'profile email' is not a scope (one word of printable ASCII)"},
        BadConfig{"OidcScopesNotList",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    scopes: openid\n",
                  "jit.yaml:6: 'scopes' must be a list of names"},
        BadConfig{"OidcLongLeeway",
                  "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: jit\n"
                  "    jwks_file: /j\n    leeway: 10m\n",
                  "jit.yaml:6: 'leeway' must be a duration from 0s to 5m"},
        BadConfig{"AccountIdShort", "accounts:\n  - {id: 11111111111, name: a}\n",
                  "jit.yaml:2: account id '11111111111' must be exactly 12 digits"},
        BadConfig{"AccountIdLetters", "accounts:\n  - {id: \"11111111111a\", name: a}\n",
                  "jit.yaml:2: account id '11111111111a' must be exactly 12 digits"},
        BadConfig{"AccountNoId", "accounts:\n  - {name: a}\n",
                  "jit.yaml:2: an account has no 'id'"},
        BadConfig{"AccountNoName", "accounts:\n  - id: \"111111111111\"\n",
                  "jit.yaml:2: an account has no 'name'"},
        BadConfig{"AccountEmptyName", "accounts:\n  - {id: \"111111111111\", name: \"\"}\n",
                  "jit.yaml:2: 'name' must not be empty"},
        BadConfig{"AccountNameLooksLikeId",
                  "accounts:\n  - {id: \"111111111111\", name: \"222222222222\"}\n",
                  "jit.yaml:2: account name '222222222222' looks like an account id"},
        BadConfig{"AccountUnknownKey", "accounts:\n  - {id: \"111111111111\", name: a, tag: x}\n",
                  "jit.yaml:2: unknown key 'tag' in an account (did you mean 'tags'?)"},
        BadConfig{"AccountDuplicateName",
                  "accounts:\n  - {id: \"111111111111\", name: a}\n"
                  "  - {id: \"222222222222\", name: a}\n",
                  "jit.yaml:3: account name 'a' is already used on line 2"},
        BadConfig{"AccountDuplicateId",
                  "accounts:\n  - {id: \"111111111111\", name: a}\n"
                  "  - {id: 111111111111, name: b}\n",
                  "jit.yaml:3: account id 111111111111 is already listed on line 2"},
        BadConfig{"AccountsNotList", "accounts: {id: \"111111111111\"}\n",
                  "jit.yaml:1: 'accounts' must be a list"},
        BadConfig{"PermissionSetBadArn",
                  "permission_sets:\n  - {name: A, arn: \"arn:aws:sso:::permissionSet/ps-1\"}\n",
                  "jit.yaml:2: 'arn:aws:sso:::permissionSet/ps-1' is not a permission set ARN "
                  "(arn:aws:sso:::permissionSet/ssoins-<16>/ps-<16>)"},
        BadConfig{"PermissionSetNoArn", "permission_sets:\n  - {name: A}\n",
                  "jit.yaml:2: a permission set has no 'arn'"},
        BadConfig{"PermissionSetBadMax",
                  std::string("permission_sets:\n  - {name: A, arn: \"") + kPs1 +
                      "\", max_duration: 5x}\n",
                  "jit.yaml:2: 'max_duration': invalid duration '5x': unknown unit 'x' (use "
                  "forms like 90s, 15m, 1h30m)"},
        BadConfig{"PermissionSetZeroMax",
                  std::string("permission_sets:\n  - {name: A, arn: \"") + kPs1 +
                      "\", max_duration: 0s}\n",
                  "jit.yaml:2: 'max_duration' must be longer than 0s"},
        BadConfig{"PermissionSetDuplicateName",
                  kBase + "  - {name: Admin, arn: "
                          "\"arn:aws:sso:::permissionSet/ssoins-1111111111111111/"
                          "ps-3333333333333333\"}\n",
                  "jit.yaml:7: permission set name 'Admin' is already used on line 6"},
        BadConfig{"PermissionSetDuplicateArn", kBase + "  - {name: Other, arn: \"" + kPs1 + "\"}\n",
                  "jit.yaml:7: permission set ARN is already used on line 5"},
        BadConfig{"PermissionSetUnknownKey",
                  std::string("permission_sets:\n  - name: A\n    arn: \"") + kPs1 +
                      "\"\n    max_duraton: 1h\n",
                  "jit.yaml:4: unknown key 'max_duraton' in a permission set (did you mean "
                  "'max_duration'?)"},
        BadConfig{"RuleUnknownKeyWithHint", RuleWith("    requestors: {groups: [x]}\n"),
                  "jit.yaml:13: unknown key 'requestors' in a rule (did you mean "
                  "'requesters'?)"},
        BadConfig{"HoursUnknownDay",
                  RuleWith("    hours: {days: [mon, tues], from: \"08:00\", to: \"18:00\"}\n"),
                  "jit.yaml:13: unknown day 'tues'; days are mon, tue, wed, thu, fri, sat, sun "
                  "(did you mean 'tue'?)"},
        BadConfig{"HoursNoDays",
                  RuleWith("    hours: {days: [], from: \"08:00\", to: \"18:00\"}\n"),
                  "jit.yaml:13: 'days' must name at least one day"},
        BadConfig{"HoursBadTime", RuleWith("    hours: {from: \"8am\", to: \"18:00\"}\n"),
                  "jit.yaml:13: 'from' must be a time of day such as \"08:00\""},
        BadConfig{"HoursFrom24", RuleWith("    hours: {from: \"24:00\", to: \"18:00\"}\n"),
                  "jit.yaml:13: 'from' must be from 00:00 to 23:59"},
        BadConfig{"HoursTo2401", RuleWith("    hours: {from: \"08:00\", to: \"24:01\"}\n"),
                  "jit.yaml:13: 'to' must be from 00:00 to 24:00"},
        BadConfig{"HoursEmptyWindow", RuleWith("    hours: {from: \"08:00\", to: \"08:00\"}\n"),
                  "jit.yaml:13: 'from' and 'to' must differ (leave 'hours' out to allow any "
                  "time)"},
        BadConfig{"HoursNoTo", RuleWith("    hours: {from: \"08:00\"}\n"),
                  "jit.yaml:13: 'hours' has no 'to'"},
        BadConfig{"HoursUnknownKey",
                  RuleWith("    hours: {from: \"08:00\", to: \"09:00\", zone: UTC}\n"),
                  "jit.yaml:13: unknown key 'zone' in 'hours'"},
        BadConfig{"HoursUnknownZone",
                  RuleWith("    hours: {from: \"08:00\", to: \"18:00\", timezone: Mars/Base}\n"),
                  "jit.yaml:13: unknown time zone 'Mars/Base'"},
        BadConfig{"HoursZonePathTraversal",
                  RuleWith("    hours:\n      from: \"08:00\"\n      to: \"18:00\"\n"
                           "      timezone: ../../../etc/passwd\n"),
                  "jit.yaml:16: '../../../etc/passwd' is not a time zone name (like "
                  "Europe/Berlin)"},
        BadConfig{"ReasonMinLengthNotANumber", RuleWith("    reason_min_length: ten\n"),
                  "jit.yaml:13: 'reason_min_length' must be a whole number from 0 to 1000"},
        BadConfig{"ReasonMinLengthWithOptionalReason",
                  RuleWith("    reason: optional\n    reason_min_length: 10\n"),
                  "jit.yaml:14: 'reason_min_length' needs a reason, but 'reason' is 'optional'"},
        BadConfig{"AuditIntervalTooShort",
                  kBase + "audit: {checkpoint_key_file: /k.pem, checkpoint_interval: 500ms}\n",
                  "jit.yaml:7: 'checkpoint_interval' must be a duration from 1s to 1h"},
        BadConfig{"AuditWithoutAKey", kBase + "audit:\n  checkpoint_file: /var/log/cp.jsonl\n",
                  "jit.yaml:7: 'audit' names no 'checkpoint_key_file': checkpoints need a "
                  "signing key"},
        BadConfig{"AuditUnknownKey", kBase + "audit: {checkpoint_kee_file: /k.pem}\n",
                  "jit.yaml:7: unknown key 'checkpoint_kee_file' in 'audit' (did you mean "
                  "'checkpoint_key_file'?)"},
        BadConfig{"AuditEmptyKeyFile", kBase + "audit:\n  checkpoint_key_file: \"\"\n",
                  "jit.yaml:8: 'checkpoint_key_file' must not be empty"},
        BadConfig{"LimitNegative", kBase + "limits: {open_requests_per_user: -1}\n",
                  "jit.yaml:7: 'open_requests_per_user' must be a whole number from 0 to 100000"},
        BadConfig{"LimitTooLarge", kBase + "limits:\n  requests_per_minute_per_user: 100001\n",
                  "jit.yaml:8: 'requests_per_minute_per_user' must be a whole number from 0 to "
                  "100000"},
        BadConfig{"LimitsUnknownKey", kBase + "limits: {open_request_per_user: 5}\n",
                  "jit.yaml:7: unknown key 'open_request_per_user' in 'limits' (did you mean "
                  "'open_requests_per_user'?)"},
        BadConfig{"LimitsNotAMap", kBase + "limits: 20\n", "jit.yaml:7: 'limits' must be a map"},
        BadConfig{"RefuseDuplicatesNotABool", kBase + "limits: {refuse_duplicates: maybe}\n",
                  "jit.yaml:7: 'refuse_duplicates' must be true or false"},
        BadConfig{"ScheduleWindowTooLong", RuleWith("    schedule_window: 91d\n"),
                  "jit.yaml:13: 'schedule_window' must be a duration from 0s to 90d"},
        BadConfig{"ScheduleWindowNotADuration", RuleWith("    schedule_window: [1h]\n"),
                  "jit.yaml:13: 'schedule_window' must be a duration from 0s to 90d"},
        BadConfig{"ScheduleWindowOnBreakGlass",
                  RuleWith("    schedule_window: 1h\n", "break_glass: true"),
                  "jit.yaml:13: a break-glass rule cannot schedule access: it starts at once "
                  "(schedule_window: 0s or none)"},
        BadConfig{"MaxActivePerUserNegative", RuleWith("    max_active_per_user: -1\n"),
                  "jit.yaml:13: 'max_active_per_user' must be a whole number from 0 to 100000"},
        BadConfig{"MaxActivePerUserOnBreakGlass",
                  RuleWith("    max_active_per_user: 2\n", "break_glass: true"),
                  "jit.yaml:13: a break-glass rule takes no 'max_active_per_user': no limit "
                  "refuses break-glass"},
        BadConfig{"RuleRegions", RuleWith("    regions: [eu-central-1]\n"),
                  "jit.yaml:13: 'regions' is not a key of a rule: restrict regions in the "
                  "permission set's 'definition: regions: [...]' (docs/POLICY.md \"Permission "
                  "set definitions\")"},
        BadConfig{"RuleNoName",
                  kBase + "rules:\n  - requesters: {groups: [e]}\n    accounts: {all: true}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:8: a rule has no 'name'"},
        BadConfig{"RuleDuplicateName",
                  RuleWith("") + "  - name: r\n    requesters: {groups: [e]}\n"
                                 "    accounts: {all: true}\n    permission_sets: [ReadOnly]\n"
                                 "    max_duration: 1h\n    approval: auto\n",
                  "jit.yaml:14: rule name 'r' is already used on line 8"},
        BadConfig{"RuleNoRequesters",
                  kBase + "rules:\n  - name: r\n    accounts: {all: true}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:8: rule 'r' has no 'requesters'"},
        BadConfig{"RuleEmptyRequesters",
                  kBase + "rules:\n  - name: r\n    requesters: {users: []}\n"
                          "    accounts: {all: true}\n    permission_sets: [ReadOnly]\n"
                          "    max_duration: 1h\n    approval: auto\n",
                  "jit.yaml:9: 'requesters' must name at least one user or group"},
        BadConfig{"RuleNoAccounts",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:8: rule 'r' has no 'accounts'"},
        BadConfig{"RuleEmptyAccounts",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {}\n    permission_sets: [ReadOnly]\n"
                          "    max_duration: 1h\n    approval: auto\n",
                  "jit.yaml:10: 'accounts' selects no account; use all: true, ids, names, tags or "
                  "ous"},
        BadConfig{"RuleAllAndList",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true, names: [prod]}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:10: 'accounts' has 'all: true' and a list; use one or the other"},
        BadConfig{"RuleUnknownAccountName",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts:\n      names: [sandbox, prd]\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:11: unknown account 'prd' (did you mean 'prod'?)"},
        BadConfig{"RuleUnknownAccountId",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {ids: [333333333333]}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:10: account id 333333333333 is not among the accounts"},
        BadConfig{"RuleMalformedAccountId",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {ids: [prod]}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:10: account id 'prod' must be exactly 12 digits"},
        BadConfig{"RuleTagMatchesNoAccount",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {tags: [staging]}\n"
                          "    permission_sets: [ReadOnly]\n    max_duration: 1h\n"
                          "    approval: auto\n",
                  "jit.yaml:10: no account has the tag 'staging'"},
        BadConfig{"RuleUnknownPermissionSet",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true}\n    permission_sets: [Admn]\n"
                          "    max_duration: 1h\n    approval: auto\n",
                  "jit.yaml:11: unknown permission set 'Admn' (did you mean 'Admin'?)"},
        BadConfig{"RuleNoPermissionSets",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true}\n    permission_sets: []\n"
                          "    max_duration: 1h\n    approval: auto\n",
                  "jit.yaml:11: 'permission_sets' must name at least one"},
        BadConfig{"RuleNoMaxDuration",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true}\n    permission_sets: [ReadOnly]\n"
                          "    approval: auto\n",
                  "jit.yaml:8: rule 'r' has no 'max_duration'"},
        BadConfig{"RuleBadMaxDuration",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true}\n    permission_sets: [ReadOnly]\n"
                          "    max_duration: 1h1h\n    approval: auto\n",
                  "jit.yaml:12: 'max_duration': invalid duration '1h1h': units must go from "
                  "largest to smallest, once each (use forms like 90s, 15m, 1h30m)"},
        BadConfig{"RuleMaxDurationTooLong",
                  kBase + "rules:\n  - name: r\n    requesters: {groups: [e]}\n"
                          "    accounts: {all: true}\n    permission_sets: [ReadOnly]\n"
                          "    max_duration: 400d\n    approval: auto\n",
                  "jit.yaml:12: 'max_duration': invalid duration '400d': it is too long (at "
                  "most 366d) (use forms like 90s, 15m, 1h30m)"},
        BadConfig{"RuleMinAboveMax", RuleWith("    min_duration: 2h\n"),
                  "jit.yaml:13: 'min_duration' 2h is longer than 'max_duration' 1h"},
        BadConfig{"RuleBadReason", RuleWith("    reason: yes please\n"),
                  "jit.yaml:13: 'reason' must be 'required' or 'optional', not 'yes please'"},
        BadConfig{"RuleBadApprovalScalar", RuleWith("", "approval: manual"),
                  "jit.yaml:13: 'approval' must be 'auto' or a map with approvers, not "
                  "'manual'"},
        BadConfig{"RuleApprovalNoApprovers", RuleWith("", "approval: {required: 1}"),
                  "jit.yaml:13: 'approval' has no 'approvers'"},
        BadConfig{"RuleApprovalEmptyApprovers", RuleWith("", "approval: {approvers: {groups: []}}"),
                  "jit.yaml:13: 'approvers' must name at least one user or group"},
        BadConfig{"RuleApprovalRequiredZero",
                  RuleWith("", "approval: {approvers: {groups: [a]}, required: 0}"),
                  "jit.yaml:13: 'required' must be a whole number from 1 to 100"},
        BadConfig{"RuleApprovalRequiredMoreThanUsers",
                  RuleWith("", "approval: {approvers: {users: [a, b]}, required: 3}"),
                  "jit.yaml:13: 'required' is 3 but only 2 approvers are listed"},
        BadConfig{"RuleApprovalBadTimeout",
                  RuleWith("", "approval: {approvers: {groups: [a]}, timeout: soon}"),
                  "jit.yaml:13: 'timeout': invalid duration 'soon': expected a number at 'soon' "
                  "(use forms like 90s, 15m, 1h30m)"},
        BadConfig{"RuleApprovalUnknownKey",
                  RuleWith("", "approval: {approvers: {groups: [a]}, requird: 2}"),
                  "jit.yaml:13: unknown key 'requird' in 'approval' (did you mean "
                  "'required'?)"},
        BadConfig{"RuleNoApproval", RuleWith("", "reason: optional"),
                  "jit.yaml:8: rule 'r' has no 'approval' (approval: auto, or approvers) and is "
                  "not break_glass: true"},
        BadConfig{"RuleBreakGlassWithApproval", RuleWith("    break_glass: true\n"),
                  "jit.yaml:14: a break-glass rule takes no 'approval'; it is self-activated"},
        BadConfig{"RuleBreakGlassNotBool", RuleWith("    break_glass: maybe\n"),
                  "jit.yaml:13: 'break_glass' must be true or false"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(ParseConfig, TicketPatternMustCompile) {
  // The rest of the message is the standard library's and differs between versions.
  EXPECT_THAT(Errors(RuleWith("    ticket: \"^(INC\"\n")),
              ::testing::StartsWith("jit.yaml:13: 'ticket' is not a valid regular expression: "));
  EXPECT_THAT(Errors(RuleWith("    ticket: \"[z-a]\"\n")),
              ::testing::StartsWith("jit.yaml:13: 'ticket' is not a valid regular expression: "));
}

TEST(ParseConfig, EmptyValuesPointAtTheirKey) {
  EXPECT_EQ(Errors("accounts:\n  - id:\n    name: a\n"), "jit.yaml:2: 'id' must be a string");
  EXPECT_EQ(Errors("accounts:\n"), "jit.yaml:1: 'accounts' must be a list");
}

TEST(ParseConfig, BlockStyleErrorsPointAtTheKey) {
  EXPECT_EQ(Errors(kBase + R"(rules:
  - name: r
    requesters:
      users: []
    accounts:
      all: false
    permission_sets:
      - ReadOnly
      - Nope
    max_duration: 1h
    approval:
      approvers:
        groups: [a]
      required: 2
)"),
            "jit.yaml:9: 'requesters' must name at least one user or group\n"
            "jit.yaml:11: 'accounts' selects no account; use all: true, ids, names, tags or ous\n"
            "jit.yaml:15: unknown permission set 'Nope'");
}

// Found by fuzz/config_fuzzer: yaml-cpp 0.7's LoadAll never returned on these (a config file
// or a SIGHUP reload of one hung the broker, allocating until killed).
TEST(ParseConfig, ACommaWhereADocumentShouldStartIsASyntaxErrorNotAHang) {
  for (const char* text : {",", ",b", ", b", ",]", "  ,\n", "\n\n,"}) {
    auto c = ParseConfig(text, "jit.yaml");
    ASSERT_FALSE(c.has_value()) << text;
    EXPECT_THAT(c.error(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not valid YAML")))
        << text;
  }
  EXPECT_THAT(ParseConfig("\n\n,", "jit.yaml").error().message(),
              ::testing::StartsWith("jit.yaml:3:"));
}

// Found by fuzz/config_fuzzer: a key or value with a newline (or another control character)
// was quoted as is into its error, which then took two lines.
TEST(SettingsNeedingRestart, NamesTheStartOnlyKeysThatChangedAndNothingElse) {
  Config before;
  Config after = before;
  EXPECT_THAT(SettingsNeedingRestart(before, after), ::testing::IsEmpty());
  // What a reload applies at once is not named.
  after.policy.rules.push_back(Rule{});
  after.policy.admins.users.push_back("carol");
  after.auth.oidc.issuer = "https://idp.example.com";
  after.auth.tokens.push_back(StaticToken{});
  EXPECT_THAT(SettingsNeedingRestart(before, after), ::testing::IsEmpty());

  after.server.listen = "127.0.0.1:9090";
  after.server.max_connections = 100;
  after.store = "postgres://localhost/jit";
  after.aws.region = "eu-west-1";
  after.aws.calls_per_second = 40;
  after.aws.organizations_refresh = std::chrono::minutes(5);
  after.audit.checkpoint_interval = Duration(5000);
  after.ui.session_lifetime = Duration(3600 * 1000);
  after.auth.oidc.scopes = {"openid"};
  after.activity.role_name = "jit-activity-reader";
  EXPECT_THAT(SettingsNeedingRestart(before, after),
              ::testing::ElementsAre(
                  "server.listen", "server.max_connections", "store", "aws.region",
                  "aws.calls_per_second", "aws.organizations_refresh", "audit.checkpoint_interval",
                  "ui.session_lifetime", "auth.oidc.scopes", "activity.role_name"));
}

TEST(ParseConfig, ReadsTheActivitySection) {
  auto c = ParseConfig(
      "activity:\n  role_name: jit-activity-reader\n  session_name: jit-read\n"
      "  calls_per_second: 1\n  live_cache: 10s\n  settle: 0s\n  max_events: 100\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_TRUE(c->activity.Enabled());
  EXPECT_EQ(c->activity.role_name, "jit-activity-reader");
  EXPECT_EQ(c->activity.session_name, "jit-read");
  EXPECT_EQ(c->activity.calls_per_second, 1);
  EXPECT_EQ(c->activity.live_cache, Duration(10000));
  EXPECT_EQ(c->activity.max_events, 100);
  EXPECT_EQ(c->activity.settle, Duration(0));
  auto off = ParseConfig("activity:\n", "jit.yaml");
  ASSERT_OK(off);
  EXPECT_FALSE(off->activity.Enabled());
}

TEST(ParseConfig, ControlCharactersInQuotedTextStayOnTheErrorsLine) {
  auto c = ParseConfig(
      "accounts:\n  - {id: \"1\\n2\", name: \"a\\u0000b\", \"k\\nfuzz.yaml:1: x\": 1}\n",
      "jit.yaml");
  ASSERT_FALSE(c.has_value());
  const std::string m = c.error().message();
  for (std::size_t start = 0; start < m.size();) {
    std::size_t end = m.find('\n', start);
    std::string line = m.substr(start, end - start);
    EXPECT_THAT(line, ::testing::StartsWith("jit.yaml:2: ")) << m;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  EXPECT_THAT(m, HasSubstr("'1\\n2'"));
  EXPECT_THAT(m, HasSubstr("k\\nfuzz.yaml:1: x"));
}

TEST(ParseConfig, RefusesASecondDocument) {
  EXPECT_EQ(Errors("store: a\n---\nstore: b\n"),
            "jit.yaml:3: the file holds more than one YAML document");
}

TEST(ParseConfig, ReportsEveryErrorInFileOrder) {
  // Rules stand before the accounts they name; errors still come out by line.
  const std::string yaml = R"(rules:
  - name: r
    requestors: {groups: [e]}
    accounts: {names: [nope]}
    permission_sets: [ReadOnly]
    max_duration: 1x
    approval: auto
accounts:
  - {id: "1234", name: sandbox}
  - {id: "111111111111", name: sandbox}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
colour: blue
)";
  std::string message = Errors(yaml);
  EXPECT_THAT(
      Lines(message),
      ElementsAre("jit.yaml:2: rule 'r' has no 'requesters'",
                  "jit.yaml:3: unknown key 'requestors' in a rule (did you mean 'requesters'?)",
                  "jit.yaml:4: unknown account 'nope'",
                  "jit.yaml:6: 'max_duration': invalid duration '1x': unknown unit 'x' (use "
                  "forms like 90s, 15m, 1h30m)",
                  "jit.yaml:9: account id '1234' must be exactly 12 digits",
                  "jit.yaml:10: account name 'sandbox' is already used on line 9",
                  "jit.yaml:13: unknown key 'colour' in the config"));
}

TEST(ParseConfig, ReadsTheAwsSection) {
  Result<Config> c = ParseConfig(
      "store: x\naws:\n  region: eu-central-1\n"
      "  instance_arn: \"arn:aws:sso:::instance/ssoins-1111111111111111\"\n"
      "  identity_store_id: d-1111111111\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->aws.region, "eu-central-1");
  EXPECT_EQ(c->aws.instance_arn, "arn:aws:sso:::instance/ssoins-1111111111111111");
  EXPECT_EQ(c->aws.identity_store_id, "d-1111111111");
  EXPECT_EQ(c->aws.line, 2);
  EXPECT_FALSE(c->aws.Empty());
  EXPECT_EQ(c->aws.calls_per_second, 18);  // AWS's default quota, with room
  EXPECT_EQ(c->aws.max_creates_in_flight, 10);
}

TEST(ParseConfig, TheAwsPacingIsReadAndBounded) {
  const std::string aws =
      "aws:\n  instance_arn: \"arn:aws:sso:::instance/ssoins-1111111111111111\"\n"
      "  identity_store_id: d-1111111111\n";
  Result<Config> c =
      ParseConfig(aws + "  calls_per_second: 40\n  max_creates_in_flight: 20\n", "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->aws.calls_per_second, 40);
  EXPECT_EQ(c->aws.max_creates_in_flight, 20);
  EXPECT_EQ(Errors(aws + "  calls_per_second: 0\n"),
            "jit.yaml:4: 'calls_per_second' must be a whole number from 1 to 1000");
  EXPECT_EQ(Errors(aws + "  max_creates_in_flight: 101\n"),
            "jit.yaml:4: 'max_creates_in_flight' must be a whole number from 1 to 100");
  // AWS Organizations: how often it is read, and its own pacing.
  EXPECT_EQ(c->aws.organizations_refresh, std::chrono::minutes(15));
  EXPECT_EQ(c->aws.organizations_calls_per_second, 4);
  c = ParseConfig(aws + "  organizations_refresh: 1h\n  organizations_calls_per_second: 10\n",
                  "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->aws.organizations_refresh, std::chrono::hours(1));
  EXPECT_EQ(c->aws.organizations_calls_per_second, 10);
  EXPECT_EQ(Errors(aws + "  organizations_refresh: 30s\n"),
            "jit.yaml:4: 'organizations_refresh' must be from 1m to 24h");
  EXPECT_EQ(Errors(aws + "  organizations_calls_per_second: 101\n"),
            "jit.yaml:4: 'organizations_calls_per_second' must be a whole number from 1 to 100");
}

TEST(ParseConfig, AwsRegionMayComeFromTheEnvironment) {
  Result<Config> c = ParseConfig(
      "aws: {instance_arn: \"arn:aws-us-gov:sso:::instance/ssoins-abcdEFGH1234.-_x\", "
      "identity_store_id: 0123abcd-0123-4567-89ab-0123456789ab}\n",
      "jit.yaml");
  // '_' is not allowed in the instance part.
  EXPECT_THAT(c, StatusIs(StatusCode::kInvalidArgument, HasSubstr("jit.yaml:1: ")));
  c = ParseConfig(
      "aws: {instance_arn: \"arn:aws-us-gov:sso:::instance/ssoins-abcdEFGH1234.-xy\", "
      "identity_store_id: 0123abcd-0123-4567-89ab-0123456789ab}\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->aws.region, "");
}

TEST(ParseConfig, NoAwsSectionLeavesItEmpty) {
  Result<Config> c = ParseConfig(DevConfigYaml(), "dev");
  ASSERT_OK(c);
  EXPECT_TRUE(c->aws.Empty());
  EXPECT_EQ(c->aws.line, 0);
}

TEST(ParseConfig, AwsSectionErrorsNameTheirLines) {
  EXPECT_THAT(ParseConfig("store: x\naws:\n  region: useast1\n"
                          "  instance_arn: \"arn:aws:sso:::instance/ssoins-1\"\n"
                          "  identity_store_id: D-1111111111\n  profile: prod\n",
                          "jit.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       "jit.yaml:3: 'useast1' is not an AWS region (like us-east-1)\n"
                       "jit.yaml:4: 'arn:aws:sso:::instance/ssoins-1' is not an Identity Center "
                       "instance ARN (arn:aws:sso:::instance/ssoins-<16>)\n"
                       "jit.yaml:5: 'D-1111111111' is not an identity store id (d-<10 hex "
                       "digits>)\n"
                       "jit.yaml:6: unknown key 'profile' in 'aws'"));
  EXPECT_THAT(ParseConfig("store: x\naws:\n  region: us-east-1\n", "jit.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       "jit.yaml:2: 'aws' has no 'instance_arn'\n"
                       "jit.yaml:2: 'aws' has no 'identity_store_id'"));
  EXPECT_THAT(
      ParseConfig("aws: {region: [a], instance_arn: \"\", identity_store_id: d-1}\n", "jit.yaml"),
      StatusIs(StatusCode::kInvalidArgument,
               "jit.yaml:1: 'region' must be a string\n"
               "jit.yaml:1: 'instance_arn' must not be empty\n"
               "jit.yaml:1: 'd-1' is not an identity store id (d-<10 hex digits>)"));
}

TEST(ParseConfig, ReadsOidcWithDefaults) {
  Result<Config> c = ParseConfig(
      "store: x\nauth:\n  oidc: {issuer: \"https://idp.example.com\", audience: jit, "
      "jwks_file: /etc/jit/jwks.json}\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_FALSE(c->auth.oidc.Empty());
  EXPECT_EQ(c->auth.oidc.line, 3);
  EXPECT_EQ(c->auth.oidc.issuer, "https://idp.example.com");
  EXPECT_EQ(c->auth.oidc.audience, "jit");
  EXPECT_EQ(c->auth.oidc.jwks_file, "/etc/jit/jwks.json");
  EXPECT_EQ(c->auth.oidc.jwks_url, "");
  EXPECT_EQ(c->auth.oidc.username_claim, "preferred_username");
  EXPECT_EQ(c->auth.oidc.groups_claim, "groups");
  EXPECT_EQ(c->auth.oidc.leeway, Duration(60 * 1000));
}

TEST(ParseConfig, ReadsOidcWithAJwksUrlAndOwnClaims) {
  Result<Config> c = ParseConfig(R"(auth:
  oidc:
    issuer: "http://127.0.0.1:8081/realms/jit"
    audience: jit-broker
    jwks_url: "http://localhost:8081/realms/jit/certs"
    username_claim: email
    groups_claim: roles
    leeway: 30s
)",
                                 "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->auth.oidc.issuer, "http://127.0.0.1:8081/realms/jit");
  EXPECT_EQ(c->auth.oidc.audience, "jit-broker");
  EXPECT_EQ(c->auth.oidc.jwks_file, "");
  EXPECT_EQ(c->auth.oidc.jwks_url, "http://localhost:8081/realms/jit/certs");
  EXPECT_EQ(c->auth.oidc.username_claim, "email");
  EXPECT_EQ(c->auth.oidc.groups_claim, "roles");
  EXPECT_EQ(c->auth.oidc.leeway, Duration(30 * 1000));
}

TEST(ParseConfig, ReadsTheWebUiSignInKeys) {
  Result<Config> c = ParseConfig(R"(server: {public_url: "https://jit.example.com/"}
ui:
  session_key_file: /etc/jit/session-key
  session_lifetime: 12h
auth:
  oidc:
    issuer: https://idp.example.com
    audience: jit-api
    jwks_url: https://idp.example.com/jwks
    client_id: jit-ui
    client_secret_file: /etc/jit/oidc-secret
    scopes: [openid, profile, groups]
)",
                                 "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->server.public_url, "https://jit.example.com/");
  EXPECT_EQ(c->ui.line, 2);
  EXPECT_EQ(c->ui.session_key_file, "/etc/jit/session-key");
  EXPECT_EQ(c->ui.session_lifetime, Duration(12 * 3600 * 1000));
  EXPECT_EQ(c->auth.oidc.client_id, "jit-ui");
  EXPECT_EQ(c->auth.oidc.LoginClientId(), "jit-ui");
  EXPECT_EQ(c->auth.oidc.client_secret_file, "/etc/jit/oidc-secret");
  EXPECT_THAT(c->auth.oidc.scopes, ElementsAre("openid", "profile", "groups"));
}

TEST(ParseConfig, WebUiKeysHaveDefaults) {
  Result<Config> c = ParseConfig(
      "auth:\n  oidc: {issuer: \"https://idp.example.com\", audience: jit, jwks_file: /j}\n",
      "jit.yaml");
  ASSERT_OK(c);
  EXPECT_EQ(c->ui.line, 0);
  EXPECT_EQ(c->ui.session_key_file, "");
  EXPECT_EQ(c->ui.session_lifetime, Duration(8 * 3600 * 1000));
  EXPECT_EQ(c->auth.oidc.client_id, "");
  EXPECT_EQ(c->auth.oidc.LoginClientId(), "jit") << "the client id defaults to the audience";
  EXPECT_EQ(c->auth.oidc.client_secret_file, "");
  EXPECT_THAT(c->auth.oidc.scopes, ElementsAre("openid", "profile"));
  EXPECT_OK(ParseConfig("ui:\n", "jit.yaml"));
}

TEST(CheckPublicUrl, AllowsAnOriginOnly) {
  EXPECT_OK(CheckPublicUrl("https://jit.example.com"));
  EXPECT_OK(CheckPublicUrl("https://jit.example.com:8443/"));
  EXPECT_OK(CheckPublicUrl("http://127.0.0.1:8080"));
  EXPECT_OK(CheckPublicUrl("http://localhost:8080/"));
  EXPECT_THAT(CheckPublicUrl("http://jit.example.com"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPublicUrl("https://user@jit.example.com"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPublicUrl("https://jit.example.com/x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPublicUrl("https://jit.example.com?x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPublicUrl("https://jit.example.com#x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPublicUrl("jit.example.com"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseConfig, NoOidcSectionLeavesItEmpty) {
  Result<Config> c = ParseConfig(DevConfigYaml(), "dev");
  ASSERT_OK(c);
  EXPECT_TRUE(c->auth.oidc.Empty());
  Result<Config> null_oidc = ParseConfig("auth: {oidc: }\n", "jit.yaml");
  ASSERT_OK(null_oidc);
  EXPECT_TRUE(null_oidc->auth.oidc.Empty());
}

TEST(IsHttpsOrLoopbackHttpUrl, AllowsHttpOnlyOnLoopback) {
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("https://idp.example.com"));
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("https://idp.example.com:8443/realms/x"));
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("http://127.0.0.1:8080/x"));
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("http://127.1.2.3"));
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("http://localhost:9/jwks"));
  EXPECT_TRUE(IsHttpsOrLoopbackHttpUrl("http://[::1]:8080/jwks"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://idp.example.com"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://127.0.0.1.evil.example/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://127.0.0.1@evil.example/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("https://user@idp.example.com/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://localhost.evil.example/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://127.0.0.256/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://[::1]evil/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("http://10.0.0.1/"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("ftp://idp.example.com"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("https://"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl("idp.example.com"));
  EXPECT_FALSE(IsHttpsOrLoopbackHttpUrl(""));
}

TEST(ParseConfig, MessageUsesTheFileName) {
  EXPECT_THAT(ParseConfig("bogus: 1\n", "/etc/jit/jit.yaml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("/etc/jit/jit.yaml:1: ")));
}

TEST(ParseConfig, AcceptsNullPassThroughSections) {
  EXPECT_OK(ParseConfig("aws:\nnotify:\naudit:\nauth: {oidc: }\n", "jit.yaml"));
}

TEST(ParseConfig, NeverThrowsOnTruncatedOrGarbledInput) {
  const std::string dev(DevConfigYaml());
  // Every prefix of a valid file, and the file with one byte changed here and there.
  for (std::size_t n = 0; n <= dev.size(); ++n) {
    Result<Config> c = ParseConfig(dev.substr(0, n), "dev");
    if (!c.ok()) {
      EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
    }
  }
  const char kNoise[] = {'{', '}', '[', ']', ':', '-', '&', '*', '!', '"', '\'', '\t', '\0', '|'};
  for (std::size_t i = 0; i < dev.size(); i += 7) {
    std::string garbled = dev;
    garbled[i] = kNoise[i % sizeof kNoise];
    Result<Config> c = ParseConfig(garbled, "dev");
    if (!c.ok()) {
      EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_THAT(ParseConfig(std::string(10000, '['), "deep"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseConfig("a: &x [*x]\n", "alias"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseConfig("accounts: [*undefined]\n", "alias"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(LoadConfigFile, ReadsAFile) {
  jit::testing::TempDir dir;
  std::string path = (dir.path() / "jit.yaml").string();
  {
    std::ofstream out(path);
    out << DevConfigYaml();
  }
  Result<Config> c = LoadConfigFile(path);
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules.size(), 3u);
}

TEST(LoadConfigFile, ErrorsNameThePath) {
  jit::testing::TempDir dir;
  std::string path = (dir.path() / "jit.yaml").string();
  {
    std::ofstream out(path);
    out << "accounts:\n  - {id: 1, name: a}\n";
  }
  EXPECT_THAT(LoadConfigFile(path),
              StatusIs(StatusCode::kInvalidArgument,
                       path + ":2: account id '1' must be exactly 12 digits"));
}

TEST(LoadConfigFile, NamesAnAutomationTokenFileItCannotUse) {
  jit::testing::TempDir dir;
  std::string path = (dir.path() / "jit.yaml").string();
  std::string short_token = (dir.path() / "short").string();
  std::ofstream(short_token) << "too-short";
  {
    std::ofstream out(path);
    out << "auth:\n  automation:\n    - {name: eb, token_file: " << short_token
        << "}\n    - {name: gone, token_file: " << (dir.path() / "missing").string() << "}\n";
  }
  Result<Config> c = LoadConfigFile(path);
  ASSERT_THAT(c, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(c.error().message(), HasSubstr(path + ":3: automation token 'eb': " + short_token +
                                             " holds fewer than 32 characters"));
  EXPECT_THAT(c.error().message(), HasSubstr(path + ":4: automation token 'gone': cannot read"));
  std::ofstream(short_token) << std::string(40, 'k');
  std::filesystem::remove(path);
  {
    std::ofstream out(path);
    out << "auth:\n  automation:\n    - {name: eb, token_file: " << short_token << "}\n";
  }
  EXPECT_OK(LoadConfigFile(path));
}

TEST(ParseConfig, ReadsAllowedHoursAndReasonMinLength) {
  Result<Config> c = ParseConfig(RuleWith("    reason_min_length: 20\n"
                                          "    hours: {days: [mon, tue, wed, thu, fri], from: "
                                          "\"08:00\", to: \"18:00\", timezone: Europe/Berlin}\n"),
                                 "jit.yaml", JIT_ZONEINFO_TESTDATA);
  ASSERT_OK(c);
  const Rule& r = c->policy.rules[0];
  EXPECT_EQ(r.reason_min_length, 20);
  EXPECT_TRUE(r.reason_required);
  ASSERT_TRUE(r.hours.has_value());
  EXPECT_EQ(r.hours->from_minute, 8 * 60);
  EXPECT_EQ(r.hours->to_minute, 18 * 60);
  EXPECT_EQ(r.hours->zone->name(), "Europe/Berlin");
  EXPECT_EQ(r.hours->Describe(), "mon-fri 08:00-18:00 Europe/Berlin");
}

TEST(ParseConfig, ReadsTheAuditSection) {
  Result<Config> c = ParseConfig(kBase +
                                     "audit: {checkpoint_key_file: /etc/jit/audit-key.pem, "
                                     "checkpoint_interval: 30s, checkpoint_file: "
                                     "/var/log/jit/checkpoints.jsonl}\n",
                                 "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->audit.checkpoint_key_file, "/etc/jit/audit-key.pem");
  EXPECT_EQ(c->audit.checkpoint_interval, std::chrono::seconds(30));
  EXPECT_EQ(c->audit.checkpoint_file, "/var/log/jit/checkpoints.jsonl");
  c = ParseConfig(kBase, "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_TRUE(c->audit.checkpoint_key_file.empty());
  EXPECT_EQ(c->audit.checkpoint_interval, std::chrono::seconds(60));
}

TEST(ParseConfig, ScheduleWindowDefaultsToAWeekAndBreakGlassToNone) {
  Result<Config> c = ParseConfig(RuleWith(""), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules[0].schedule_window, std::chrono::hours(7 * 24));
  c = ParseConfig(RuleWith("    schedule_window: 0s\n"), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules[0].schedule_window, Duration(0));
  c = ParseConfig(RuleWith("    schedule_window: 36h\n"), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules[0].schedule_window, std::chrono::hours(36));
  c = ParseConfig(RuleWith("", "break_glass: true"), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules[0].schedule_window, Duration(0));
}

TEST(ParseConfig, LimitsDefaultWhenAbsentAndKeepTheDefaultsOfKeysLeftOut) {
  Result<Config> c = ParseConfig(kBase, "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.limits.open_requests_per_user, 20);
  EXPECT_EQ(c->policy.limits.requests_per_minute_per_user, 10);
  EXPECT_TRUE(c->policy.limits.refuse_duplicates);
  c = ParseConfig(kBase + "limits: {open_requests_per_user: 5}\n", "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.limits.open_requests_per_user, 5);
  EXPECT_EQ(c->policy.limits.requests_per_minute_per_user, 10);
  EXPECT_TRUE(c->policy.limits.refuse_duplicates);
  c = ParseConfig(kBase +
                      "limits:\n  open_requests_per_user: 0\n  requests_per_minute_per_user: 0\n"
                      "  refuse_duplicates: false\n",
                  "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.limits.open_requests_per_user, 0);
  EXPECT_EQ(c->policy.limits.requests_per_minute_per_user, 0);
  EXPECT_FALSE(c->policy.limits.refuse_duplicates);
  // The policy alone (policy::ParseConfig) reads them too.
  Result<policy::Config> p =
      policy::ParseConfig(kBase + "limits: {requests_per_minute_per_user: 3}\n", "jit.yaml");
  ASSERT_OK(p);
  EXPECT_EQ(p->limits.requests_per_minute_per_user, 3);
}

TEST(ParseConfig, RuleMaxActivePerUserIsReadAndNoneByDefault) {
  Result<Config> c =
      ParseConfig(RuleWith("    max_active_per_user: 3\n"), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules.at(0).max_active_per_user, 3);
  c = ParseConfig(RuleWith(""), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_EQ(c->policy.rules.at(0).max_active_per_user, 0);
}

TEST(ParseConfig, SessionCutoffIsReadAtEachLevelAndOffByDefault) {
  Result<Config> c = ParseConfig(RuleWith(""), "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_FALSE(c->policy.session_cutoff);
  EXPECT_FALSE(c->policy.rules.at(0).session_cutoff.has_value());
  EXPECT_FALSE(c->policy.permission_sets.at(0).session_cutoff.has_value());

  std::string yaml = "session_cutoff: true\n" + RuleWith("    session_cutoff: false\n");
  std::string with_ps =
      "{name: Admin, arn: \"arn:aws:sso:::permissionSet/ssoins-1111111111111111/"
      "ps-2222222222222222\", session_cutoff: yes}";
  yaml.replace(yaml.find("{name: Admin"),
               yaml.find('}', yaml.find("{name: Admin")) - yaml.find("{name: Admin") + 1, with_ps);
  c = ParseConfig(yaml, "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  EXPECT_TRUE(c->policy.session_cutoff);
  EXPECT_EQ(c->policy.rules.at(0).session_cutoff, std::optional<bool>(false));
  EXPECT_EQ(c->policy.permission_sets.at(1).session_cutoff, std::optional<bool>(true));

  EXPECT_EQ(Errors("session_cutoff: sometimes\n" + RuleWith("")),
            "jit.yaml:1: 'session_cutoff' must be true or false");
}

TEST(ParseConfig, HoursDefaultToEveryDayInUtc) {
  Result<Config> c = ParseConfig(RuleWith("    hours: {from: \"22:00\", to: \"06:00\"}\n"),
                                 "jit.yaml", "/nonexistent");
  ASSERT_OK(c);
  ASSERT_TRUE(c->policy.rules[0].hours.has_value());
  EXPECT_EQ(c->policy.rules[0].hours->Describe(), "daily 22:00-06:00 UTC");
  EXPECT_EQ(c->policy.rules[0].reason_min_length, 0);
}

TEST(LoadConfigFile, MissingFileIsNotFound) {
  jit::testing::TempDir dir;
  std::string path = (dir.path() / "missing.yaml").string();
  EXPECT_THAT(LoadConfigFile(path), StatusIs(StatusCode::kNotFound, HasSubstr(path)));
}

}  // namespace
}  // namespace jit::config

namespace jit::config::routing_test {

// Per-rule routing (docs/NOTIFY.md "Per-rule routing"): a channel's rules and accounts must
// name rules and accounts of the policy, whatever order the sections come in.
TEST(ParseConfig, ChannelRoutingNamesRulesAndAccountsOfThePolicy) {
  const std::string notify =
      "notify:\n"
      "  - {type: webhook, url: \"https://h.example.com\", secret_file: /s, rules: [RULE],"
      " accounts: [ACCOUNT]}\n";
  auto with = [&](const std::string& rule, const std::string& account) {
    std::string n = notify;
    n.replace(n.find("RULE"), 4, rule);
    n.replace(n.find("ACCOUNT"), 7, account);
    // The notify section first: the rules are read after it.
    return n + RuleWith("");
  };
  EXPECT_EQ(Errors(with("r", "prod")), "OK");
  EXPECT_EQ(Errors(with("r", "\"111111111111\"")), "OK");
  EXPECT_EQ(Errors(with("nope", "prod")),
            "jit.yaml:2: webhook channel 'webhook': 'rules' names no rule 'nope'");
  EXPECT_EQ(Errors(with("r", "staging")),
            "jit.yaml:2: webhook channel 'webhook': 'accounts' names no account 'staging' (an "
            "account id or a name from 'accounts')");
}

}  // namespace jit::config::routing_test
