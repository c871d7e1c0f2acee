#include "permsets/definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/testing.h"

namespace jit::permsets {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kArn =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";

// Parses a config holding only `permission_sets:` as config.cc does.
Result<std::vector<Definition>> Parse(const std::string& yaml, const std::string& dir) {
  std::vector<Definition> out;
  Status s = config::ReadDocument(yaml, "jit.yaml", {"permission_sets"},
                                  [&](const config::Fields& top, config::Reader& r) {
                                    for (const config::Field& f : top.all()) {
                                      out = ParseDefinitions(f, dir, r);
                                    }
                                  });
  if (!s.ok()) return s;
  return out;
}

std::string Entry(const std::string& definition_lines) {
  return std::string("permission_sets:\n  - name: ReadOnly\n    arn: ") + kArn +
         "\n    definition:\n" + definition_lines;
}

class DefinitionTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((dir_.path() / name).parent_path());
    std::ofstream out(dir_.path() / name, std::ios::binary);
    out << text;
  }
  std::string dir() const { return dir_.path().string(); }

  jit::testing::TempDir dir_;
};

constexpr const char* kPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadLogs", "Effect": "Allow", "Action": ["logs:Get*"], "Resource": "*"}
  ]
})";

TEST_F(DefinitionTest, ReadsEveryKey) {
  Write("ps/readonly.json", kPolicy);
  Result<std::vector<Definition>> got = Parse(Entry(R"(      description: Read-only access
      session_duration: 8h
      managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
      customer_managed_policies: [{name: JitExtra}, {name: Other, path: /team/}]
      inline_policy_file: ps/readonly.json
      permissions_boundary: {managed_policy_arn: "arn:aws:iam::aws:policy/PowerUserAccess"}
      tags: {team: security, empty: ""}
      relay_state: https://console.aws.amazon.com/
      regions: [eu-central-1, eu-west-1]
)"),
                                              dir());
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 1u);
  const Definition& d = (*got)[0];
  EXPECT_EQ(d.name, "ReadOnly");
  EXPECT_EQ(d.arn, kArn);
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.description, "Read-only access");
  EXPECT_EQ(d.session_duration, std::chrono::hours(8));
  EXPECT_THAT(*d.managed_policies, ElementsAre("arn:aws:iam::aws:policy/ReadOnlyAccess"));
  ASSERT_EQ(d.customer_managed_policies->size(), 2u);
  EXPECT_EQ((*d.customer_managed_policies)[0].path, "/");
  EXPECT_EQ((*d.customer_managed_policies)[1].path, "/team/");
  ASSERT_TRUE(d.boundary_declared);
  EXPECT_EQ(d.boundary->managed_policy_arn, "arn:aws:iam::aws:policy/PowerUserAccess");
  EXPECT_EQ(d.tags->at("team"), "security");
  EXPECT_EQ(d.tags->at("empty"), "");
  EXPECT_EQ(d.inline_policy_path, dir() + "/ps/readonly.json");
  EXPECT_THAT(d.regions, ElementsAre("eu-central-1", "eu-west-1"));
  ASSERT_EQ(d.statements.size(), 1u);
  EXPECT_EQ(d.statements[0]["Sid"], "ReadLogs");
  json desired = d.DesiredStatements();
  ASSERT_EQ(desired.size(), 2u);
  EXPECT_EQ(desired[1]["Sid"], kRegionGuardrailSid);
  EXPECT_EQ(desired[1]["Effect"], "Deny");
  EXPECT_EQ(desired[1]["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
            json({"eu-central-1", "eu-west-1"}));
  EXPECT_TRUE(d.ManagesInlinePolicy());
}

TEST_F(DefinitionTest, AnEmptyDefinitionManagesNothing) {
  Result<std::vector<Definition>> got = Parse(Entry("      {}\n"), dir());
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_FALSE((*got)[0].ManagesInlinePolicy());
  EXPECT_FALSE((*got)[0].managed_policies.has_value());
  EXPECT_FALSE((*got)[0].tags.has_value());
  EXPECT_FALSE((*got)[0].boundary_declared);
}

TEST_F(DefinitionTest, RegionsAloneMakeAGuardrailOnlyPolicy) {
  Result<std::vector<Definition>> got = Parse(Entry("      regions: [us-east-1]\n"), dir());
  ASSERT_OK(got);
  const Definition& d = (*got)[0];
  EXPECT_TRUE(d.ManagesInlinePolicy());
  ASSERT_EQ(d.DesiredStatements().size(), 1u);
  std::string text = PolicyText(d.policy_version, d.DesiredStatements());
  EXPECT_OK(provider::ValidateInlinePolicy(text));
  EXPECT_EQ(text.rfind("{\"Version\":\"2012-10-17\",\"Statement\":[", 0), 0u);
  for (const char* action :
       {"iam:*", "sts:*", "organizations:*", "support:*", "route53:*", "cloudfront:*"}) {
    EXPECT_NE(std::find(GlobalServiceActions().begin(), GlobalServiceActions().end(), action),
              GlobalServiceActions().end())
        << action;
  }
}

TEST_F(DefinitionTest, BadJsonNamesTheFileAndItsLine) {
  Write("bad.json",
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": }\n]}");
  Result<std::vector<Definition>> got = Parse(Entry("      inline_policy_file: bad.json\n"), dir());
  EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument,
                            HasSubstr("jit.yaml:5: permission set ReadOnly: bad.json:4: not valid "
                                      "JSON: ")));
}

TEST_F(DefinitionTest, RefusesWhatAwsWouldRefuse) {
  struct Case {
    std::string lines;
    std::string error;
  };
  std::string big =
      "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"" +
      std::string(40000, 'x') + "\"}]}";
  Write("big.json", big);
  Write("mid.json",
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"" +
            std::string(11000, 'x') + "\"}]}");
  Write(
      "jit.json",
      R"({"Statement": [{"Sid": "JitCutoffX", "Effect": "Deny", "Action": "*", "Resource": "*"}]})");
  Write("array.json", "[1, 2]");
  Write("noeffect.json", R"({"Statement": {"Action": "s3:*", "Resource": "*"}})");
  Write("latin.json",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": "
        "\"\xe2\x82\xac\"}}");
  std::string managed;
  for (int i = 0; i < 21; ++i) managed += "arn:aws:iam::aws:policy/P" + std::to_string(i) + ", ";
  std::vector<Case> cases = {
      {"      session_duration: 30m\n", "jit.yaml:5: 'session_duration' must be from 1h to 12h"},
      {"      session_duration: 13h\n", "jit.yaml:5: 'session_duration' must be from 1h to 12h"},
      {"      managed_policies: [" + managed + "]\n", "AWS allows at most 20"},
      {"      managed_policies: [arn:aws:iam::111111111111:policy/Mine]\n",
       "jit.yaml:5: 'arn:aws:iam::111111111111:policy/Mine' is not an AWS managed policy ARN"},
      {"      regions: [moon-1]\n", "jit.yaml:5: 'moon-1' is not an AWS region"},
      {"      regions: []\n", "'regions' must name at least one region"},
      {"      regions: [eu-west-1, eu-west-1]\n", "region 'eu-west-1' is listed twice"},
      {"      inline_policy_file: /dev/zero\n", "cannot read the inline policy file"},
      {"      inline_policy_file: missing.json\n",
       "jit.yaml:5: permission set ReadOnly: missing.json: cannot read the inline policy file"},
      {"      inline_policy_file: big.json\n", "AWS allows at most 32768"},
      {"      inline_policy_file: mid.json\n", "AWS allows at most 10240"},
      {"      inline_policy_file: jit.json\n", "starts with 'Jit', which jit keeps"},
      {"      inline_policy_file: array.json\n", "the policy must be a JSON object"},
      {"      inline_policy_file: noeffect.json\n", "statement 1: \"Effect\" must be"},
      {"      inline_policy_file: latin.json\n", "a character AWS does not allow"},
      {"      tags: {aws:x: y}\n", "keys starting with 'aws:' are AWS's"},
      {"      relay_state: javascript:alert(1)\n", "'relay_state' must be an http(s) URL"},
      {"      permissions_boundary: {}\n", "needs exactly one of"},
      {"      customer_managed_policies: [{name: \"a b\"}]\n", "is not an IAM policy name"},
      {"      customer_managed_policies: [{name: a, path: nope}]\n", "is not an IAM path"},
      {"      colour: blue\n", "jit.yaml:5: unknown key 'colour' in 'definition'"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Parse(Entry(c.lines), dir()),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.error)))
        << c.lines;
  }
}

TEST_F(DefinitionTest, PermissionsBoundaryNoneRemovesIt) {
  Result<std::vector<Definition>> got = Parse(Entry("      permissions_boundary: none\n"), dir());
  ASSERT_OK(got);
  EXPECT_TRUE((*got)[0].boundary_declared);
  EXPECT_FALSE((*got)[0].boundary.has_value());
}

TEST(ConfigDir, IsTheFolderOfTheFile) {
  EXPECT_EQ(ConfigDir("jit.yaml"), "");
  EXPECT_EQ(ConfigDir("/etc/jit/config.yaml"), "/etc/jit");
  EXPECT_EQ(ConfigDir("/jit.yaml"), "/");
  EXPECT_EQ(ConfigDir("conf/jit.yaml"), "conf");
}

// The examples under deploy/permission-sets/ parse, with their policy files.
TEST(DeployExamples, Parse) {
  std::string dir = std::string(JIT_SOURCE_DIR) + "/deploy/permission-sets";
  std::ifstream in(dir + "/permission-sets.yaml");
  ASSERT_TRUE(in.good());
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::vector<Definition>> got = Parse(yaml, dir);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].name, "ReadOnly");
  EXPECT_EQ((*got)[1].name, "PowerUserScoped");
  EXPECT_EQ((*got)[2].name, "BreakGlassLimited");
  for (const Definition& d : *got) {
    EXPECT_TRUE(d.ManagesInlinePolicy()) << d.name;
    EXPECT_FALSE(d.regions.empty()) << d.name;
  }
}

}  // namespace
}  // namespace jit::permsets
