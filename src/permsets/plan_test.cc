#include "permsets/plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing.h"
#include "provider/fake_permission_set_admin.h"

namespace jit::permsets {
namespace {

using ::jit::provider::FakePermissionSetAdmin;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;

constexpr const char* kReadOnlyArn =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
constexpr const char* kOtherArn =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr const char* kReadOnlyAccess = "arn:aws:iam::aws:policy/ReadOnlyAccess";

json OperatorStatement() {
  return {{"Sid", "OperatorReadsLogs"},
          {"Effect", "Allow"},
          {"Action", json::array({"logs:Get*"})},
          {"Resource", "*"}};
}

json Cutoff(const std::string& suffix) {
  return {{"Sid", "JitCutoff" + suffix},
          {"Effect", "Deny"},
          {"Action", "*"},
          {"Resource", "*"},
          {"Condition",
           {{"StringEquals",
             {{"identitystore:userId", json::array({"u-1"})},
              {"aws:PrincipalAccount", "222222222222"}}},
            {"DateLessThan", {{"aws:TokenIssueTime", "2026-12-05T00:15:00Z"}}}}}};
}

Definition ReadOnly() {
  Definition d;
  d.name = "ReadOnly";
  d.arn = kReadOnlyArn;
  d.line = 4;
  d.config_file = "jit.yaml";
  d.description = "Read-only access";
  d.session_duration = std::chrono::hours(8);
  d.managed_policies = std::vector<std::string>{kReadOnlyAccess};
  d.inline_policy_file = "readonly.json";
  d.statements = json::array({OperatorStatement()});
  d.regions = {"eu-central-1"};
  d.tags = std::map<std::string, std::string>{{"team", "security"}};
  return d;
}

FakePermissionSetAdmin::Set ExistingReadOnly() {
  FakePermissionSetAdmin::Set s;
  s.attributes = {kReadOnlyArn, "ReadOnly", "old", "PT1H", ""};
  s.accounts = {"111111111111", "222222222222"};
  return s;
}

FakePermissionSetAdmin::Set Other() {
  FakePermissionSetAdmin::Set s;
  s.attributes = {kOtherArn, "Admin", "not ours", "PT2H", ""};
  s.inline_policy = R"({"Version":"2012-10-17","Statement":[]})";
  s.managed_policies = {"arn:aws:iam::aws:policy/AdministratorAccess"};
  s.tags = {{"owner", "someone"}};
  s.accounts = {"111111111111"};
  return s;
}

ApplyOptions Options(int* sleeps = nullptr) {
  ApplyOptions o;
  o.sleep = [sleeps](Duration) {
    if (sleeps != nullptr) ++*sleeps;
  };
  o.poll_interval = std::chrono::milliseconds(1);
  return o;
}

std::vector<std::string> Actions(const Plan& p) {
  std::vector<std::string> out;
  for (const Change& c : p.changes) out.emplace_back(ChangeKindName(c.kind));
  return out;
}

TEST(Plan, UpdatesAnExistingSetAndASecondApplyWritesNothing) {
  FakePermissionSetAdmin admin;
  FakePermissionSetAdmin::Set existing = ExistingReadOnly();
  existing.inline_policy =
      json({{"Version", "2012-10-17"}, {"Statement", json::array({Cutoff("A1")})}}).dump();
  existing.managed_policies = {"arn:aws:iam::aws:policy/ViewOnlyAccess"};
  existing.tags = {{"stale", "x"}};
  admin.Add(existing);
  admin.Add(Other());
  std::vector<Definition> defs = {ReadOnly()};

  Result<Plan> plan = MakePlan(defs, admin);
  ASSERT_OK(plan);
  EXPECT_THAT(Actions(*plan), ElementsAre("update", "put_inline_policy", "attach_managed_policy",
                                          "detach_managed_policy", "tag", "untag", "provision"));
  EXPECT_THAT(plan->changes[1].detail, HasSubstr("1 JitCutoff statement kept"));
  EXPECT_THAT(plan->changes.back().detail, HasSubstr("to 2 accounts"));
  EXPECT_THAT(admin.writes(), IsEmpty()) << "plan only reads";

  int sleeps = 0;
  admin.SetProvisioning(2);
  Result<ApplyResult> applied = Apply(defs, admin, Options(&sleeps));
  ASSERT_OK(applied);
  EXPECT_EQ(applied->changes, 7u);
  EXPECT_EQ(sleeps, 3);  // the first answer and two polls say IN_PROGRESS
  std::optional<FakePermissionSetAdmin::Set> now = admin.Get(kReadOnlyArn);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->attributes.description, "Read-only access");
  EXPECT_EQ(now->attributes.session_duration, "PT8H");
  EXPECT_THAT(now->managed_policies, ElementsAre(kReadOnlyAccess));
  EXPECT_EQ(now->tags, (std::map<std::string, std::string>{{"team", "security"}}));
  EXPECT_EQ(now->provisioned, 1);
  json policy = json::parse(now->inline_policy);
  ASSERT_EQ(policy["Statement"].size(), 3u);
  EXPECT_EQ(policy["Statement"][0], OperatorStatement()) << "the operator's statement is written";
  EXPECT_EQ(policy["Statement"][1]["Sid"], "JitRegionGuardrail");
  EXPECT_EQ(policy["Statement"][2], Cutoff("A1")) << "the cut-off statement survives";

  // The set the config does not declare is as it was.
  std::optional<FakePermissionSetAdmin::Set> other = admin.Get(kOtherArn);
  FakePermissionSetAdmin::Set before = Other();
  EXPECT_EQ(other->attributes, before.attributes);
  EXPECT_EQ(other->inline_policy, before.inline_policy);
  EXPECT_EQ(other->managed_policies, before.managed_policies);
  EXPECT_EQ(other->tags, before.tags);
  EXPECT_EQ(other->provisioned, 0);

  admin.ClearCalls();
  Result<Plan> again = MakePlan(defs, admin);
  ASSERT_OK(again);
  EXPECT_THAT(again->changes, IsEmpty());
  EXPECT_THAT(FormatPlan(*again), HasSubstr("no changes"));
  Result<ApplyResult> second = Apply(defs, admin, Options());
  ASSERT_OK(second);
  EXPECT_EQ(second->changes, 0u);
  EXPECT_THAT(admin.writes(), IsEmpty());
}

TEST(Plan, CutoffStatementsWrittenAfterThePlanSurviveThePut) {
  FakePermissionSetAdmin admin;
  admin.Add(ExistingReadOnly());
  std::vector<Definition> defs = {ReadOnly()};
  ApplyOptions options = Options();
  // The update is made before the inline policy: a cut-off lands in between.
  options.on_change = [&](const Change& c) {
    if (c.kind == ChangeKind::kUpdate) {
      admin.SetInlinePolicy(kReadOnlyArn,
                            json({{"Version", "2012-10-17"},
                                  {"Statement", json::array({OperatorStatement(), Cutoff("B2")})}})
                                .dump());
    }
  };
  ASSERT_OK(Apply(defs, admin, options));
  json policy = json::parse(admin.Get(kReadOnlyArn)->inline_policy);
  EXPECT_THAT(policy["Statement"], Contains(Cutoff("B2")));
  // Comparing ignores JitCutoff statements: in sync now.
  Result<Plan> plan = MakePlan(defs, admin);
  ASSERT_OK(plan);
  EXPECT_THAT(plan->changes, IsEmpty());
}

TEST(Plan, CreatesAMissingSet) {
  FakePermissionSetAdmin admin;
  admin.Add(Other());
  std::vector<Definition> defs = {ReadOnly()};
  defs[0].boundary_declared = true;
  defs[0].boundary =
      provider::PermissionsBoundary{"arn:aws:iam::aws:policy/PowerUserAccess", {"", ""}};
  defs[0].customer_managed_policies =
      std::vector<provider::CustomerManagedPolicyReference>{{"JitExtra", "/"}};
  Result<Plan> plan = MakePlan(defs, admin);
  ASSERT_OK(plan);
  EXPECT_THAT(Actions(*plan),
              ElementsAre("create", "put_inline_policy", "attach_managed_policy",
                          "attach_customer_managed_policy", "put_permissions_boundary"));
  EXPECT_THAT(FormatPlan(*plan), HasSubstr("ReadOnly (new):\n  + create permission set ReadOnly"));
  Result<ApplyResult> applied = Apply(defs, admin, Options());
  ASSERT_OK(applied);
  ASSERT_EQ(applied->created.size(), 1u);
  std::optional<FakePermissionSetAdmin::Set> made = admin.GetByName("ReadOnly");
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->attributes.arn, applied->created.at("ReadOnly"));
  EXPECT_EQ(made->attributes.session_duration, "PT8H");
  EXPECT_EQ(made->tags.at("team"), "security");
  EXPECT_TRUE(made->boundary.has_value());
  EXPECT_EQ(made->customer_managed_policies.size(), 1u);
  EXPECT_EQ(made->provisioned, 0) << "a new set is assigned nowhere yet";

  // The config still names the placeholder ARN: the next plan says so, before any write.
  admin.ClearCalls();
  EXPECT_THAT(MakePlan(defs, admin),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("jit.yaml:4: permission set ReadOnly: its arn")));
  defs[0].arn = made->attributes.arn;
  Result<Plan> synced = MakePlan(defs, admin);
  ASSERT_OK(synced);
  EXPECT_THAT(synced->changes, IsEmpty());
  EXPECT_THAT(admin.writes(), IsEmpty());
}

TEST(Plan, AnArnOfAnotherSetIsRefusedBeforeAnyWrite) {
  FakePermissionSetAdmin admin;
  admin.Add(Other());
  std::vector<Definition> defs = {ReadOnly()};
  defs[0].arn = kOtherArn;
  EXPECT_THAT(Apply(defs, admin, Options()),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("is Identity Center's permission set Admin")));
  EXPECT_THAT(admin.writes(), IsEmpty());
}

TEST(Plan, KeysLeftOutAreLeftAlone) {
  FakePermissionSetAdmin admin;
  FakePermissionSetAdmin::Set s = ExistingReadOnly();
  s.inline_policy =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})";
  s.managed_policies = {"arn:aws:iam::aws:policy/ViewOnlyAccess"};
  s.tags = {{"k", "v"}};
  s.boundary = provider::PermissionsBoundary{"arn:aws:iam::aws:policy/PowerUserAccess", {"", ""}};
  admin.Add(s);
  Definition d;
  d.name = "ReadOnly";
  d.arn = kReadOnlyArn;
  d.description = "old";
  Result<Plan> plan = MakePlan({d}, admin);
  ASSERT_OK(plan);
  EXPECT_THAT(plan->changes, IsEmpty());
  // Declaring the boundary `none` removes it.
  d.boundary_declared = true;
  plan = MakePlan({d}, admin);
  ASSERT_OK(plan);
  EXPECT_THAT(Actions(*plan), ElementsAre("delete_permissions_boundary", "provision"));
}

TEST(Plan, AFailedProvisioningFailsTheApplyWithItsReason) {
  FakePermissionSetAdmin admin;
  admin.Add(ExistingReadOnly());
  admin.SetProvisioning(1, "policy ReadOnlyAccess does not exist in 222222222222");
  Result<ApplyResult> applied = Apply({ReadOnly()}, admin, Options());
  EXPECT_THAT(applied, StatusIs(StatusCode::kInternal,
                                HasSubstr("provisioning ReadOnly failed: policy ReadOnlyAccess")));
}

TEST(Plan, ErrorsStopTheApply) {
  FakePermissionSetAdmin admin;
  admin.Add(ExistingReadOnly());
  admin.FailNext("UpdatePermissionSet", AbortedError("ConflictException"));
  EXPECT_THAT(Apply({ReadOnly()}, admin, Options()), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(admin.writes(), ElementsAre("UpdatePermissionSet"));
}

TEST(Plan, OutputEscapesControlCharactersAndHasJson) {
  FakePermissionSetAdmin admin;
  admin.Add(ExistingReadOnly());
  Definition d;
  d.name = "ReadOnly";
  d.arn = kReadOnlyArn;
  d.description = "evil\x1b[2J";
  Result<Plan> plan = MakePlan({d}, admin);
  ASSERT_OK(plan);
  std::string text = FormatPlan(*plan);
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, HasSubstr("~ update description"));
  EXPECT_THAT(text, HasSubstr("2 changes to 1 permission set\n"));
  json j = PlanJson(*plan);
  EXPECT_EQ(j["changes"][0]["action"], "update");
  EXPECT_EQ(j["changes"][0]["permission_set"], "ReadOnly");
  EXPECT_EQ(j["changes"][1]["action"], "provision");
}

TEST(IsoDuration, WholeMinutes) {
  EXPECT_EQ(IsoDuration(std::chrono::hours(8)), "PT8H");
  EXPECT_EQ(IsoDuration(std::chrono::minutes(90)), "PT1H30M");
  EXPECT_EQ(IsoDuration(std::chrono::hours(12)), "PT12H");
}

}  // namespace
}  // namespace jit::permsets
