// Parsing GuardDuty and Security Hub findings as EventBridge delivers them (docs/FINDINGS.md),
// on real-shaped samples in testdata/.

#include "findings/finding.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/testing.h"

namespace jit::findings {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(JIT_FINDINGS_TESTDATA) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_FALSE(s.str().empty()) << name;
  return s.str();
}

json SampleJson(const std::string& name) { return json::parse(Sample(name)); }

TEST(ParseEvent, GuardDutyAssumedRoleNamesTheRoleSessionNotTheRole) {
  Result<Event> e = ParseEvent(Sample("guardduty_assumed_role.json"));
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->event_id, "c8c4daa7-a20c-2f03-0070-b7393dd542ad");
  EXPECT_EQ(e->source, Source::kGuardDuty);
  ASSERT_EQ(e->findings.size(), 1u);
  const Finding& f = e->findings[0];
  EXPECT_EQ(f.id, "16afba5c5c43e07c9e3e5e2e544e95df");
  EXPECT_THAT(f.types,
              ElementsAre("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"));
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.severity_text, "8");
  EXPECT_EQ(f.account, "222222222222");
  EXPECT_EQ(f.region, "us-east-1");
  EXPECT_THAT(f.title, HasSubstr("remote AWS account"));
  // The role (AWSReservedSSO_Admin_...) is shared by every user of the permission set: only the
  // session name names a person.
  EXPECT_THAT(f.principals, ElementsAre("alice"));
}

TEST(ParseEvent, GuardDutyIamUserNamesTheUser) {
  Result<Event> e = ParseEvent(Sample("guardduty_iam_user_low.json"));
  ASSERT_THAT(e, IsOk());
  const Finding& f = e->findings.at(0);
  EXPECT_EQ(f.severity, Severity::kLow);
  EXPECT_EQ(f.severity_text, "2.5");
  // AIDA... is an IAM user's unique id, not a name: left out.
  EXPECT_THAT(f.principals, ElementsAre("bob"));
}

TEST(ParseEvent, SecurityHubCarriesEveryFindingWithItsPrincipals) {
  Result<Event> e = ParseEvent(Sample("securityhub_imported.json"));
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->source, Source::kSecurityHub);
  EXPECT_EQ(e->event_id, "8e5622f9-d81c-4d81-612a-9319e7ee2506");
  ASSERT_EQ(e->findings.size(), 2u);
  const Finding& login = e->findings[0];
  EXPECT_THAT(login.id, HasSubstr("finding/2cbe3d1a0e0b2a3c4d5e6f708192a3b4"));
  EXPECT_EQ(login.severity, Severity::kHigh);  // the Label wins over Normalized (60: MEDIUM)
  EXPECT_EQ(login.severity_text, "HIGH");
  EXPECT_THAT(login.types,
              ElementsAre("TTPs/Initial Access/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B"));
  // PrincipalName of an assumed role is the role: only the session name counts.
  EXPECT_THAT(login.principals, ElementsAre("alice@example.com"));
  const Finding& keys = e->findings[1];
  EXPECT_EQ(keys.severity, Severity::kMedium);  // Normalized 40, no Label
  // The IAM user by ARN and by name (once), and the session of an assumed-role ARN, here an
  // Identity Center user id.
  EXPECT_THAT(keys.principals, ElementsAre("carol", "a11ce000-0000-4000-8000-000000000001"));
}

TEST(ParseEvent, RefusesWhatIsNotAFindingEvent) {
  json gd = SampleJson("guardduty_assumed_role.json");
  EXPECT_THAT(ParseEvent("not json"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("JSON")));
  EXPECT_THAT(ParseEvent("[]"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("object")));
  json other = gd;
  other["source"] = "aws.ec2";
  EXPECT_THAT(ParseEvent(other.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("aws.guardduty")));
  // detail-type and source must agree.
  json mixed = gd;
  mixed["source"] = "aws.securityhub";
  EXPECT_THAT(ParseEvent(mixed.dump()), StatusIs(StatusCode::kInvalidArgument));
  json no_id = gd;
  no_id.erase("id");
  EXPECT_THAT(ParseEvent(no_id.dump()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("id")));
  json no_finding_id = gd;
  no_finding_id["detail"].erase("id");
  EXPECT_THAT(ParseEvent(no_finding_id.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.id")));
  json no_type = gd;
  no_type["detail"]["type"] = "";
  EXPECT_THAT(ParseEvent(no_type.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.type")));
  for (json bad : {json("HIGH"), json(11), json(-1), json(nullptr)}) {
    json s = gd;
    s["detail"]["severity"] = bad;
    EXPECT_THAT(ParseEvent(s.dump()),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.severity")))
        << bad;
  }
  EXPECT_THAT(ParseEvent(std::string(kMaxEventBytes + 1, ' ')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("larger")));
}

TEST(ParseEvent, RefusesMalformedSecurityHubFindings) {
  json sh = SampleJson("securityhub_imported.json");
  json empty = sh;
  empty["detail"]["findings"] = json::array();
  EXPECT_THAT(ParseEvent(empty.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.findings")));
  json label = sh;
  label["detail"]["findings"][1]["Severity"] = {{"Label", "SEVERE"}};
  EXPECT_THAT(ParseEvent(label.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.findings[1].Severity")));
  json none = sh;
  none["detail"]["findings"][0].erase("Severity");
  EXPECT_THAT(ParseEvent(none.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("detail.findings[0].Severity")));
  json types = sh;
  types["detail"]["findings"][0]["Types"] = json::array();
  EXPECT_THAT(ParseEvent(types.dump()), StatusIs(StatusCode::kInvalidArgument, HasSubstr("Types")));
  json many = sh;
  many["detail"]["findings"] = json::array();
  for (std::size_t i = 0; i <= kMaxFindingsPerEvent; ++i) {
    many["detail"]["findings"].push_back(sh["detail"]["findings"][0]);
  }
  EXPECT_THAT(ParseEvent(many.dump()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("more than 100")));
}

TEST(ParseEvent, FindingWithoutPrincipalParsesWithNone) {
  json gd = SampleJson("guardduty_assumed_role.json");
  gd["detail"]["resource"] = {{"resourceType", "Instance"},
                              {"instanceDetails", {{"instanceId", "i-0123456789abcdef0"}}}};
  Result<Event> e = ParseEvent(gd.dump());
  ASSERT_THAT(e, IsOk());
  EXPECT_TRUE(e->findings[0].principals.empty());
}

TEST(ParseEvent, FederatedUserAndIamUserArnsNameTheirUser) {
  json gd = SampleJson("guardduty_assumed_role.json");
  gd["detail"]["resource"]["accessKeyDetails"] = {
      {"principalId", "222222222222:dave"}, {"userType", "FederatedUser"}, {"userName", "dave"}};
  Result<Event> e = ParseEvent(gd.dump());
  ASSERT_THAT(e, IsOk());
  EXPECT_THAT(e->findings[0].principals, ElementsAre("dave"));
}

TEST(Severity, GuardDutyBands) {
  EXPECT_EQ(FromGuardDutyScore(0), Severity::kLow);
  EXPECT_EQ(FromGuardDutyScore(3.9), Severity::kLow);
  EXPECT_EQ(FromGuardDutyScore(4.0), Severity::kMedium);
  EXPECT_EQ(FromGuardDutyScore(6.9), Severity::kMedium);
  EXPECT_EQ(FromGuardDutyScore(7.0), Severity::kHigh);
  EXPECT_EQ(FromGuardDutyScore(8.9), Severity::kHigh);
  EXPECT_EQ(FromGuardDutyScore(9.0), Severity::kCritical);
  EXPECT_EQ(FromGuardDutyScore(10), Severity::kCritical);
}

TEST(Severity, NormalizedBandsAndLabels) {
  EXPECT_EQ(FromNormalized(0), Severity::kInformational);
  EXPECT_EQ(FromNormalized(39), Severity::kLow);
  EXPECT_EQ(FromNormalized(40), Severity::kMedium);
  EXPECT_EQ(FromNormalized(70), Severity::kHigh);
  EXPECT_EQ(FromNormalized(90), Severity::kCritical);
  EXPECT_EQ(ParseSeverity("critical"), Severity::kCritical);
  EXPECT_EQ(ParseSeverity("Informational"), Severity::kInformational);
  EXPECT_EQ(ParseSeverity("SEVERE"), std::nullopt);
  EXPECT_EQ(SeverityName(Severity::kMedium), "MEDIUM");
}

TEST(GlobMatch, StarsMatchAnyRunAndTheRestExactly) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("UnauthorizedAccess:*", "UnauthorizedAccess:IAMUser/MaliciousIPCaller"));
  EXPECT_TRUE(GlobMatch("*IAMUser*", "TTPs/Initial Access/UnauthorizedAccess:IAMUser-Console"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(GlobMatch("UnauthorizedAccess:*", "Recon:IAMUser/MaliciousIPCaller"));
  EXPECT_FALSE(GlobMatch("recon:*", "Recon:IAMUser/X"));        // case matters
  EXPECT_FALSE(GlobMatch("Recon:IAMUser", "Recon:IAMUser/X"));  // whole text
  EXPECT_FALSE(GlobMatch("a*b", "aXXbc"));
  // Many stars against a long text stay fast (no exponential back-tracking).
  EXPECT_FALSE(GlobMatch(std::string(50, '*') + "x", std::string(100000, 'a')));
}

TEST(LooksLikeUserId, UuidsWithOrWithoutTheStorePrefix) {
  EXPECT_TRUE(LooksLikeUserId("a11ce000-0000-4000-8000-000000000001"));
  EXPECT_TRUE(LooksLikeUserId("9067d1a2f0-0d0b6a5c-1234-4abc-8def-0123456789ab"));
  EXPECT_FALSE(LooksLikeUserId("alice"));
  EXPECT_FALSE(LooksLikeUserId("a11ce000-0000-4000-8000-00000000000"));
  EXPECT_FALSE(LooksLikeUserId("g11ce000-0000-4000-8000-000000000001"));
}

}  // namespace
}  // namespace jit::findings
