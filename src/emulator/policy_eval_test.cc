#include "emulator/policy_eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace jit::emulator {
namespace {

using ::testing::HasSubstr;

constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";

// The cut-off statement of docs/AWS.md: alice's sessions issued before 00:15 in 222222222222.
constexpr char kCutoff[] = R"({"Version": "2012-10-17", "Statement": [
  {"Sid": "Keep", "Effect": "Allow", "Action": "*", "Resource": "*"},
  {"Sid": "JitCutoff222222222222T20261205001500", "Effect": "Deny", "Action": "*",
   "Resource": "*",
   "Condition": {"StringEquals": {"identitystore:userId": ["a11ce000-0000-4000-8000-000000000001"],
                                  "aws:PrincipalAccount": "222222222222"},
                 "DateLessThan": {"aws:TokenIssueTime": "2026-12-05T00:15:00Z"}}}]})";

// The region guardrail: everything but global services outside two regions.
constexpr char kGuardrail[] = R"({"Version": "2012-10-17", "Statement": {
  "Sid": "JitRegionGuardrail", "Effect": "Deny",
  "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "route53:*", "cloudfront:*"],
  "Resource": "*",
  "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}}})";

CallContext Call(std::string action, std::string user = kAlice,
                 std::string issued = "2026-12-05T00:10:00.000Z",
                 std::string region = "eu-central-1") {
  CallContext c;
  c.action = std::move(action);
  c.keys = {{"identitystore:userId", std::move(user)},
            {"aws:PrincipalAccount", "222222222222"},
            {"aws:TokenIssueTime", std::move(issued)},
            {"aws:RequestedRegion", std::move(region)},
            {"aws:CurrentTime", "2026-12-05T00:20:00.000Z"}};
  return c;
}

TEST(WildcardMatch, StarsAndQuestionMarks) {
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_TRUE(WildcardMatch("*", "s3:ListBuckets", false));
  EXPECT_TRUE(WildcardMatch("s3:*", "s3:ListBuckets", false));
  EXPECT_TRUE(WildcardMatch("s3:List*s", "s3:ListBuckets", false));
  EXPECT_TRUE(WildcardMatch("s?:*Bucket?", "s3:ListBuckets", false));
  EXPECT_TRUE(WildcardMatch("*a*b*c", "xaxbxbxc", false));
  EXPECT_FALSE(WildcardMatch("s3:*", "ec2:DescribeInstances", false));
  EXPECT_FALSE(WildcardMatch("s3:List", "s3:ListBuckets", false));
  EXPECT_FALSE(WildcardMatch("S3:LIST*", "s3:ListBuckets", false));
  EXPECT_TRUE(WildcardMatch("S3:LIST*", "s3:ListBuckets", true));
  EXPECT_FALSE(WildcardMatch("?", "", false));
}

TEST(EvaluateDeny, NoPolicyDeniesNothing) {
  DenyDecision d = EvaluateDeny("", Call("s3:ListBuckets"));
  EXPECT_FALSE(d.denied);
  EXPECT_EQ(d.problem, "");
}

TEST(EvaluateDeny, CutoffDeniesItsUserAndNotAnother) {
  DenyDecision alice = EvaluateDeny(kCutoff, Call("s3:ListBuckets"));
  EXPECT_TRUE(alice.denied);
  EXPECT_EQ(alice.statement, "JitCutoff222222222222T20261205001500");
  EXPECT_EQ(alice.problem, "");
  DenyDecision bob = EvaluateDeny(kCutoff, Call("s3:ListBuckets", kBob));
  EXPECT_FALSE(bob.denied);
  EXPECT_EQ(bob.statement, "");
  // Another account's session is not cut off.
  CallContext other = Call("s3:ListBuckets");
  other.keys["aws:PrincipalAccount"] = "111111111111";
  EXPECT_FALSE(EvaluateDeny(kCutoff, other).denied);
}

TEST(EvaluateDeny, CutoffDeniesSessionsIssuedBeforeTheCutOnly) {
  EXPECT_TRUE(
      EvaluateDeny(kCutoff, Call("ec2:RunInstances", kAlice, "2026-12-05T00:14:59.999Z")).denied);
  // DateLessThan: the cut itself and later are not before it.
  EXPECT_FALSE(
      EvaluateDeny(kCutoff, Call("ec2:RunInstances", kAlice, "2026-12-05T00:15:00Z")).denied);
  EXPECT_FALSE(
      EvaluateDeny(kCutoff, Call("ec2:RunInstances", kAlice, "2026-12-05T00:15:00.001Z")).denied);
}

TEST(EvaluateDeny, DateOperators) {
  auto denied = [](const std::string& op, const std::string& issued) {
    std::string policy = R"({"Statement": [{"Effect": "Deny", "Action": "*", "Condition": {")" +
                         op + R"(": {"aws:TokenIssueTime": "2026-12-05T00:15:00Z"}}}]})";
    return EvaluateDeny(policy, Call("s3:GetObject", kAlice, issued)).denied;
  };
  const std::string before = "2026-12-05T00:14:00Z";
  const std::string at = "2026-12-05T01:15:00+01:00";  // the same instant
  const std::string later = "2026-12-05T00:16:00Z";
  EXPECT_TRUE(denied("DateLessThanEquals", at));
  EXPECT_FALSE(denied("DateLessThanEquals", later));
  EXPECT_TRUE(denied("DateGreaterThan", later));
  EXPECT_FALSE(denied("DateGreaterThan", at));
  EXPECT_TRUE(denied("DateGreaterThanEquals", at));
  EXPECT_FALSE(denied("DateGreaterThanEquals", before));
}

TEST(EvaluateDeny, RegionGuardrailWithNotActionAndStringNotEquals) {
  // Outside the allowed regions: regional actions denied, global ones not.
  DenyDecision ec2 = EvaluateDeny(kGuardrail, Call("ec2:RunInstances", kAlice, "", "us-east-1"));
  EXPECT_TRUE(ec2.denied);
  EXPECT_EQ(ec2.statement, "JitRegionGuardrail");
  EXPECT_FALSE(EvaluateDeny(kGuardrail, Call("iam:CreateRole", kAlice, "", "us-east-1")).denied);
  EXPECT_FALSE(EvaluateDeny(kGuardrail, Call("IAM:createrole", kAlice, "", "us-east-1")).denied);
  EXPECT_FALSE(
      EvaluateDeny(kGuardrail, Call("sts:GetCallerIdentity", kAlice, "", "ap-south-1")).denied);
  // Inside them: nothing denied.
  EXPECT_FALSE(EvaluateDeny(kGuardrail, Call("ec2:RunInstances", kAlice, "", "eu-west-1")).denied);
  // No region in the call: the condition does not hold.
  CallContext no_region = Call("ec2:RunInstances");
  no_region.keys.erase("aws:RequestedRegion");
  EXPECT_FALSE(EvaluateDeny(kGuardrail, no_region).denied);
}

TEST(EvaluateDeny, StringLikeAndNotLike) {
  constexpr char kLike[] = R"({"Statement": [{"Sid": "L", "Effect": "Deny", "Action": "s3:*",
    "Condition": {"StringLike": {"aws:RequestedRegion": ["us-*", "ap-?outh-1"]}}}]})";
  EXPECT_TRUE(EvaluateDeny(kLike, Call("s3:GetObject", kAlice, "", "us-west-2")).denied);
  EXPECT_TRUE(EvaluateDeny(kLike, Call("s3:GetObject", kAlice, "", "ap-south-1")).denied);
  EXPECT_FALSE(EvaluateDeny(kLike, Call("s3:GetObject", kAlice, "", "US-WEST-2")).denied);
  EXPECT_FALSE(EvaluateDeny(kLike, Call("s3:GetObject", kAlice, "", "eu-west-1")).denied);
  EXPECT_FALSE(EvaluateDeny(kLike, Call("ec2:RunInstances", kAlice, "", "us-west-2")).denied);
  constexpr char kNotLike[] = R"({"Statement": [{"Sid": "N", "Effect": "Deny", "Action": "*",
    "Condition": {"StringNotLike": {"aws:RequestedRegion": ["eu-*"]}}}]})";
  EXPECT_TRUE(EvaluateDeny(kNotLike, Call("s3:GetObject", kAlice, "", "us-west-2")).denied);
  EXPECT_FALSE(EvaluateDeny(kNotLike, Call("s3:GetObject", kAlice, "", "eu-west-1")).denied);
}

TEST(EvaluateDeny, IfExistsHoldsOnAMissingKey) {
  constexpr char kPlain[] = R"({"Statement": [{"Sid": "P", "Effect": "Deny", "Action": "*",
    "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]})";
  constexpr char kIfExists[] = R"({"Statement": [{"Sid": "E", "Effect": "Deny", "Action": "*",
    "Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"},
                  "StringNotEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}}}]})";
  EXPECT_FALSE(EvaluateDeny(kPlain, Call("s3:GetObject")).denied);
  EXPECT_TRUE(EvaluateDeny(kIfExists, Call("s3:GetObject", kAlice, "", "us-east-1")).denied);
  // When the key is there, IfExists compares as usual.
  EXPECT_FALSE(EvaluateDeny(kIfExists, Call("s3:GetObject", kAlice, "", "eu-west-1")).denied);
  CallContext vpc = Call("s3:GetObject", kAlice, "", "us-east-1");
  vpc.keys["aws:SourceVpc"] = "vpc-2";
  EXPECT_FALSE(EvaluateDeny(kIfExists, vpc).denied);
}

TEST(EvaluateDeny, ConditionKeysAreCaseInsensitive) {
  constexpr char kPolicy[] = R"({"Statement": [{"Effect": "Deny", "Action": "*",
    "Condition": {"StringEquals": {"IdentityStore:UserId": "a11ce000-0000-4000-8000-000000000001"}}}]})";
  DenyDecision d = EvaluateDeny(kPolicy, Call("s3:GetObject"));
  EXPECT_TRUE(d.denied);
  EXPECT_EQ(d.statement, "#1");  // no Sid: its position
}

TEST(EvaluateDeny, AllowStatementsDenyNothing) {
  EXPECT_FALSE(
      EvaluateDeny(R"({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})",
                   Call("s3:GetObject"))
          .denied);
}

TEST(EvaluateDeny, MalformedPoliciesDenyNothingAndSaySo) {
  for (const char* bad : {"not json", "[1]", R"({"Version": "2012-10-17"})"}) {
    DenyDecision d = EvaluateDeny(bad, Call("s3:GetObject"));
    EXPECT_FALSE(d.denied) << bad;
    EXPECT_NE(d.problem, "") << bad;
  }
  // A statement that cannot be read is skipped; a good one after it still denies.
  constexpr char kMixed[] = R"({"Statement": [
    {"Sid": "Odd", "Effect": "Deny", "Action": "*",
     "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}},
    {"Sid": "BadDate", "Effect": "Deny", "Action": "*",
     "Condition": {"DateLessThan": {"aws:TokenIssueTime": "yesterday"}}},
    {"Sid": "NoAction", "Effect": "Deny", "Resource": "*"},
    {"Sid": "Good", "Effect": "Deny", "Action": "s3:*"}]})";
  DenyDecision d = EvaluateDeny(kMixed, Call("s3:GetObject"));
  EXPECT_TRUE(d.denied);
  EXPECT_EQ(d.statement, "Good");
  EXPECT_THAT(d.problem, HasSubstr("NumericLessThan"));
  DenyDecision none = EvaluateDeny(kMixed, Call("ec2:RunInstances"));
  EXPECT_FALSE(none.denied);
}

}  // namespace
}  // namespace jit::emulator
