#include "provider/permission_set_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "provider/identity_center.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::provider::permission_set_admin_test {
namespace {

using json = nlohmann::json;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;

constexpr char kInstance[] = "arn:aws:sso:::instance/ssoins-1111111111111111";
constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";

// Answers awsJson calls from a queue per operation ({} when empty) and records what it got.
class Wire final : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpCall& call) override {
    std::string target;
    for (const auto& [name, value] : call.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "x-amz-target") target = value;
    }
    std::string op = target.substr(target.find('.') + 1);
    MutexLock lock(&mu_);
    sent_.push_back({op, json::parse(call.body, nullptr, false)});
    aws::HttpResponse r;
    r.status = 200;
    r.headers = {{"content-type", "application/x-amz-json-1.1"}};
    r.body = "{}";
    auto& queue = script_[op];
    if (!queue.empty()) {
      r = queue.front();
      queue.pop_front();
    }
    return r;
  }
  void Then(const std::string& op, const json& body, long status = 200) {
    aws::HttpResponse r;
    r.status = status;
    r.headers = {{"content-type", "application/x-amz-json-1.1"}};
    r.body = body.dump();
    MutexLock lock(&mu_);
    script_[op].push_back(std::move(r));
  }
  std::vector<std::pair<std::string, json>> sent() const {
    MutexLock lock(&mu_);
    return sent_;
  }

 private:
  mutable Mutex mu_;
  std::map<std::string, std::deque<aws::HttpResponse>> script_ GUARDED_BY(mu_);
  std::vector<std::pair<std::string, json>> sent_ GUARDED_BY(mu_);
};

class Creds final : public aws::CredentialSource {
 public:
  Result<aws::Credentials> Get() override {
    return aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}};
  }
  std::string Name() const override { return "test"; }
};

class NoLimit final : public aws::Limiter {
 public:
  void AcquireCall() override {}
  void AcquireCreate() override {}
  void ReleaseCreate() override {}
};

class PermissionSetAdminTest : public ::testing::Test {
 protected:
  PermissionSetAdminTest()
      : client_(SsoAdminSpec("https://sso.us-east-1.amazonaws.com", "us-east-1"), wire_, creds_,
                limiter_, clock_, NoWait()),
        provider_(Options(), client_, client_, limiter_, clock_),
        admin_(kInstance, client_, provider_, 2) {}

  static IdentityCenterOptions Options() {
    IdentityCenterOptions o;
    o.instance_arn = kInstance;
    o.identity_store_id = "d-1111111111";
    return o;
  }

  static aws::RetryPolicy NoWait() {
    aws::RetryPolicy p;
    p.max_attempts = 1;
    p.sleep = [](Duration) {};
    return p;
  }

  FakeClock clock_;
  Wire wire_;
  Creds creds_;
  NoLimit limiter_;
  aws::JsonClient client_;
  // The inline policy and provisioning calls go through it, on the same wire.
  IdentityCenterProvider provider_;
  IdentityCenterPermissionSetAdmin admin_;
};

// The request members are AWS's (sso-admin API reference), with the instance on every call.
TEST_F(PermissionSetAdminTest, SendsAwsMemberNames) {
  wire_.Then("CreatePermissionSet", {{"PermissionSet", {{"PermissionSetArn", kPs}}}});
  PermissionSetAttributes a{"", "ReadOnly", "Read-only", "PT8H", "https://x.example/"};
  Result<std::string> arn = admin_.CreatePermissionSet(a, {{"team", "security"}});
  ASSERT_OK(arn);
  EXPECT_EQ(*arn, kPs);
  ASSERT_OK(admin_.UpdatePermissionSet({kPs, "", "", "PT1H", ""}));
  ASSERT_OK(admin_.AttachManagedPolicy(kPs, "arn:aws:iam::aws:policy/ReadOnlyAccess"));
  ASSERT_OK(admin_.DetachCustomerManagedPolicyReference(kPs, {"Extra", "/team/"}));
  ASSERT_OK(admin_.PutPermissionsBoundary(kPs, {"", {"Boundary", "/"}}));
  ASSERT_OK(admin_.UntagResource(kPs, {"a", "b"}));
  wire_.Then("ProvisionPermissionSet", {{"PermissionSetProvisioningStatus",
                                         {{"Status", "IN_PROGRESS"}, {"RequestId", "r1"}}}});
  ASSERT_OK(admin_.ProvisionPermissionSet(kPs, kAllProvisionedAccounts).status());

  auto sent = wire_.sent();
  ASSERT_EQ(sent.size(), 7u);
  for (const auto& [op, body] : sent) EXPECT_EQ(body["InstanceArn"], kInstance) << op;
  EXPECT_EQ(sent[0].first, "CreatePermissionSet");
  EXPECT_EQ(sent[0].second["Name"], "ReadOnly");
  EXPECT_EQ(sent[0].second["Description"], "Read-only");
  EXPECT_EQ(sent[0].second["SessionDuration"], "PT8H");
  EXPECT_EQ(sent[0].second["RelayState"], "https://x.example/");
  EXPECT_EQ(sent[0].second["Tags"], json::parse(R"([{"Key":"team","Value":"security"}])"));
  EXPECT_EQ(sent[1].second,
            json::parse(std::string(R"({"InstanceArn":")") + kInstance +
                        R"(","PermissionSetArn":")" + kPs + R"(","SessionDuration":"PT1H"})"))
      << "empty attributes are not sent";
  EXPECT_EQ(sent[2].second["ManagedPolicyArn"], "arn:aws:iam::aws:policy/ReadOnlyAccess");
  EXPECT_EQ(sent[3].first, "DetachCustomerManagedPolicyReferenceFromPermissionSet");
  EXPECT_EQ(sent[3].second["CustomerManagedPolicyReference"],
            json::parse(R"({"Name":"Extra","Path":"/team/"})"));
  EXPECT_EQ(sent[4].second["PermissionsBoundary"],
            json::parse(R"({"CustomerManagedPolicyReference":{"Name":"Boundary","Path":"/"}})"));
  EXPECT_EQ(sent[5].first, "UntagResource");
  EXPECT_EQ(sent[5].second["ResourceArn"], kPs);
  EXPECT_EQ(sent[5].second["TagKeys"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(sent[6].second["TargetType"], "ALL_PROVISIONED_ACCOUNTS");
  EXPECT_FALSE(sent[6].second.contains("TargetId"));
}

TEST_F(PermissionSetAdminTest, ListsFollowEveryPage) {
  wire_.Then("ListManagedPoliciesInPermissionSet",
             {{"AttachedManagedPolicies", {{{"Name", "A"}, {"Arn", "arn:aws:iam::aws:policy/A"}}}},
              {"NextToken", "t1"}});
  wire_.Then(
      "ListManagedPoliciesInPermissionSet",
      {{"AttachedManagedPolicies", {{{"Name", "B"}, {"Arn", "arn:aws:iam::aws:policy/B"}}}}});
  Result<std::vector<std::string>> got = admin_.ListManagedPolicies(kPs);
  ASSERT_OK(got);
  EXPECT_THAT(*got, ElementsAre("arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"));
  auto sent = wire_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].second["MaxResults"], 2);
  EXPECT_EQ(sent[1].second["NextToken"], "t1");

  wire_.Then("ListTagsForResource", {{"Tags", {{{"Key", "k"}, {"Value", "v"}}}}});
  auto tags = admin_.ListTags(kPs);
  ASSERT_OK(tags);
  EXPECT_EQ(tags->at("k"), "v");
  EXPECT_FALSE(wire_.sent().back().second.contains("MaxResults"));

  wire_.Then("ListAccountsForProvisionedPermissionSet",
             {{"AccountIds", {"111111111111", "222222222222"}}});
  auto accounts = admin_.ListProvisionedAccounts(kPs);
  ASSERT_OK(accounts);
  EXPECT_THAT(*accounts, ElementsAre("111111111111", "222222222222"));
}

TEST_F(PermissionSetAdminTest, ABoundaryThatIsNotThereIsNone) {
  wire_.Then("GetPermissionsBoundaryForPermissionSet",
             {{"__type", "ResourceNotFoundException"}, {"message", "no boundary"}}, 400);
  auto none = admin_.GetPermissionsBoundary(kPs);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  wire_.Then("GetPermissionsBoundaryForPermissionSet",
             {{"PermissionsBoundary", {{"ManagedPolicyArn", "arn:aws:iam::aws:policy/X"}}}});
  auto managed = admin_.GetPermissionsBoundary(kPs);
  ASSERT_OK(managed);
  ASSERT_TRUE(managed->has_value());
  EXPECT_EQ((*managed)->managed_policy_arn, "arn:aws:iam::aws:policy/X");
  wire_.Then("UpdatePermissionSet", {{"__type", "ConflictException"}, {"message", "busy"}}, 400);
  EXPECT_THAT(admin_.UpdatePermissionSet({kPs, "d", "", "", ""}), StatusIs(StatusCode::kAborted));
}

TEST_F(PermissionSetAdminTest, ListPermissionSetsDescribesEach) {
  wire_.Then("ListPermissionSets", {{"PermissionSets", {kPs}}});
  wire_.Then("DescribePermissionSet", {{"PermissionSet",
                                        {{"Name", "ReadOnly"},
                                         {"PermissionSetArn", kPs},
                                         {"Description", "d"},
                                         {"SessionDuration", "PT2H"},
                                         {"RelayState", "https://r.example/"}}}});
  auto sets = admin_.ListPermissionSets();
  ASSERT_OK(sets);
  ASSERT_EQ(sets->size(), 1u);
  EXPECT_EQ((*sets)[0],
            (PermissionSetAttributes{kPs, "ReadOnly", "d", "PT2H", "https://r.example/"}));
}

}  // namespace
}  // namespace jit::provider::permission_set_admin_test
