#include "emulator/emulator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "auth/auth.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/testing.h"
#include "core/time_format.h"
#include "emulator/history.h"
#include "net/test_http_client.h"
#include "provider/identity_center.h"

namespace jit::emulator {
namespace {

using jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kInstance[] = "arn:aws:sso:::instance/ssoins-1111111111111111";
constexpr char kReadOnly[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
constexpr char kAdmin[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr char kBreakGlass[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333";
constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";
constexpr char kCarol[] = "ca401000-0000-4000-8000-000000000003";
constexpr char kStore[] = "d-1111111111";

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string raw;
  json body;

  std::string Type() const { return body.is_object() ? body.value("__type", "") : ""; }
};

// Sends one request over a fresh loopback connection.
Response Send(std::uint16_t port, const aws::HttpRequest& req) {
  net::testing::ClientRequest r;
  r.method = req.method;
  r.target = req.path + (req.query.empty() ? "" : "?" + req.query);
  r.headers = req.headers;
  r.body = req.body;
  net::testing::ClientResponse res = net::testing::Fetch(port, r);
  Response out;
  out.status = res.status;
  for (const auto& [field_name, value] : res.headers) {
    std::string name = field_name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = value;
  }
  out.raw = res.body;
  out.body = json::parse(out.raw, nullptr, /*allow_exceptions=*/false);
  return out;
}

class EmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith(EmulatorOptions()); }

  void StartWith(EmulatorOptions options) {
    if (emulator_) emulator_->Stop();
    options_ = std::move(options);
    emulator_ = std::make_unique<Emulator>(options_, clock_);
    ASSERT_OK(emulator_->Start());
  }

  aws::HttpRequest Request(const std::string& target, const json& body) {
    aws::HttpRequest req;
    req.method = "POST";
    req.path = "/";
    req.headers = {{"Host", "127.0.0.1:" + std::to_string(emulator_->port())},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", target}};
    req.body = body.dump();
    return req;
  }

  static std::string SigningName(const std::string& target) {
    return target.rfind("AWSIdentityStore.", 0) == 0 ? "identitystore" : "sso";
  }

  // Signs (with the emulator's key pair unless told otherwise) and sends one call.
  Response Call(const std::string& target, const json& body,
                aws::Credentials creds = {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}},
                std::string service = "", std::string region = "us-east-1",
                Duration clock_offset = Duration(0), bool sign_body = false) {
    aws::HttpRequest req = Request(target, body);
    aws::SigningParams params;
    params.region = region;
    params.service = service.empty() ? SigningName(target) : service;
    params.time = clock_.Now() + clock_offset;
    params.sign_body = sign_body;
    Result<aws::Signature> sig = aws::Sign(req, creds, params);
    EXPECT_TRUE(sig.has_value()) << sig.error();
    return Send(emulator_->port(), req);
  }

  Response Sso(const std::string& op, const json& body) {
    return Call("SWBExternalService." + op, body);
  }
  Response Ids(const std::string& op, const json& body) {
    return Call("AWSIdentityStore." + op, body);
  }

  Response Plain(const std::string& method, const std::string& path, const std::string& body,
                 std::vector<std::pair<std::string, std::string>> headers = {
                     {"Content-Type", "application/json"}}) {
    aws::HttpRequest req;
    req.method = method;
    req.path = path;
    req.headers = {{"Host", "127.0.0.1"}};
    for (auto& h : headers) req.headers.push_back(std::move(h));
    req.body = body;
    return Send(emulator_->port(), req);
  }

  static json Assignment(const std::string& account, const std::string& ps, const std::string& type,
                         const std::string& principal) {
    return {{"InstanceArn", kInstance}, {"TargetId", account},   {"TargetType", "AWS_ACCOUNT"},
            {"PermissionSetArn", ps},   {"PrincipalType", type}, {"PrincipalId", principal}};
  }

  // Creates (or deletes) and lets the operation finish; returns its final status object.
  json Settle(bool create, const json& assignment) {
    Response r = Sso(create ? "CreateAccountAssignment" : "DeleteAccountAssignment", assignment);
    EXPECT_EQ(r.status, 200) << r.raw;
    const char* member =
        create ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus";
    std::string id = r.body[member]["RequestId"];
    clock_.Advance(options_.completion_delay);
    Response d =
        Sso(create ? "DescribeAccountAssignmentCreationStatus"
                   : "DescribeAccountAssignmentDeletionStatus",
            {{"InstanceArn", kInstance},
             {create ? "AccountAssignmentCreationRequestId" : "AccountAssignmentDeletionRequestId",
              id}});
    EXPECT_EQ(d.status, 200) << d.raw;
    return d.body[member];
  }

  FakeClock clock_;
  EmulatorOptions options_;
  std::unique_ptr<Emulator> emulator_;
};

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

// --- sso-admin ---------------------------------------------------------------------------------

TEST_F(EmulatorTest, ListInstancesReturnsTheSeedInstanceWithAwsJsonHeaders) {
  Response r = Sso("ListInstances", json::object());
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_TRUE(std::regex_match(r.headers["x-amzn-requestid"], kUuid))
      << r.headers["x-amzn-requestid"];
  ASSERT_THAT(r.body["Instances"], SizeIs(1));
  EXPECT_EQ(r.body["Instances"][0]["InstanceArn"], kInstance);
  EXPECT_EQ(r.body["Instances"][0]["IdentityStoreId"], kStore);
  EXPECT_EQ(r.body["Instances"][0]["Status"], "ACTIVE");
  EXPECT_FALSE(r.body.contains("NextToken"));
}

TEST_F(EmulatorTest, ListPermissionSetsPagesThroughAllThree) {
  Response first = Sso("ListPermissionSets", {{"InstanceArn", kInstance}, {"MaxResults", 2}});
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body["PermissionSets"], json({kReadOnly, kAdmin}));
  ASSERT_TRUE(first.body["NextToken"].is_string());
  Response second =
      Sso("ListPermissionSets",
          {{"InstanceArn", kInstance}, {"MaxResults", 2}, {"NextToken", first.body["NextToken"]}});
  ASSERT_EQ(second.status, 200) << second.raw;
  EXPECT_EQ(second.body["PermissionSets"], json({kBreakGlass}));
  EXPECT_FALSE(second.body.contains("NextToken"));
  Response all = Sso("ListPermissionSets", {{"InstanceArn", kInstance}});
  EXPECT_THAT(all.body["PermissionSets"], SizeIs(3));
}

TEST_F(EmulatorTest, DescribePermissionSetReturnsNameAndSessionDuration) {
  Response r =
      Sso("DescribePermissionSet", {{"InstanceArn", kInstance}, {"PermissionSetArn", kAdmin}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["PermissionSet"]["Name"], "Admin");
  EXPECT_EQ(r.body["PermissionSet"]["PermissionSetArn"], kAdmin);
  EXPECT_EQ(r.body["PermissionSet"]["SessionDuration"], "PT1H");
  EXPECT_TRUE(r.body["PermissionSet"]["CreatedDate"].is_number());
}

TEST_F(EmulatorTest, UnknownInstanceAndPermissionSetAreResourceNotFound) {
  Response r = Sso("DescribePermissionSet",
                   {{"InstanceArn", kInstance},
                    {"PermissionSetArn",
                     "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Type(), "ResourceNotFoundException");
  Response i = Sso("ListPermissionSets",
                   {{"InstanceArn", "arn:aws:sso:::instance/ssoins-2222222222222222"}});
  EXPECT_EQ(i.status, 400);
  EXPECT_EQ(i.Type(), "ResourceNotFoundException");
  Response a = Sso("CreateAccountAssignment", Assignment("333333333333", kAdmin, "USER", kAlice));
  EXPECT_EQ(a.Type(), "ResourceNotFoundException");
  Response p = Sso("CreateAccountAssignment", Assignment("222222222222", kAdmin, "USER",
                                                         "00000000-0000-4000-8000-000000000000"));
  EXPECT_EQ(p.Type(), "ResourceNotFoundException");
  Response d =
      Sso("DescribeAccountAssignmentCreationStatus",
          {{"InstanceArn", kInstance},
           {"AccountAssignmentCreationRequestId", "00000000-0000-4000-8000-000000000000"}});
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.Type(), "ResourceNotFoundException");
}

TEST_F(EmulatorTest, CreateIsInProgressUntilTheDelayThenSucceeds) {
  Response r = Sso("CreateAccountAssignment", Assignment("222222222222", kAdmin, "USER", kAlice));
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& s = r.body["AccountAssignmentCreationStatus"];
  EXPECT_EQ(s["Status"], "IN_PROGRESS");
  EXPECT_EQ(s["TargetId"], "222222222222");
  EXPECT_EQ(s["TargetType"], "AWS_ACCOUNT");
  EXPECT_EQ(s["PermissionSetArn"], kAdmin);
  EXPECT_EQ(s["PrincipalType"], "USER");
  EXPECT_EQ(s["PrincipalId"], kAlice);
  EXPECT_DOUBLE_EQ(s["CreatedDate"].get<double>(),
                   static_cast<double>(ToUnixMillis(clock_.Now())) / 1000.0);
  std::string id = s["RequestId"];
  EXPECT_TRUE(std::regex_match(id, kUuid)) << id;
  json describe = {{"InstanceArn", kInstance}, {"AccountAssignmentCreationRequestId", id}};

  clock_.Advance(Duration(199));
  Response early = Sso("DescribeAccountAssignmentCreationStatus", describe);
  EXPECT_EQ(early.body["AccountAssignmentCreationStatus"]["Status"], "IN_PROGRESS");
  json list = {
      {"InstanceArn", kInstance}, {"AccountId", "222222222222"}, {"PermissionSetArn", kAdmin}};
  EXPECT_THAT(Sso("ListAccountAssignments", list).body["AccountAssignments"], SizeIs(0));

  clock_.Advance(Duration(1));
  Response done = Sso("DescribeAccountAssignmentCreationStatus", describe);
  ASSERT_EQ(done.status, 200) << done.raw;
  EXPECT_EQ(done.body["AccountAssignmentCreationStatus"]["Status"], "SUCCEEDED");
  EXPECT_FALSE(done.body["AccountAssignmentCreationStatus"].contains("FailureReason"));
  Response listed = Sso("ListAccountAssignments", list);
  EXPECT_EQ(listed.body["AccountAssignments"], json::array({{{"AccountId", "222222222222"},
                                                             {"PermissionSetArn", kAdmin},
                                                             {"PrincipalType", "USER"},
                                                             {"PrincipalId", kAlice}}}));
  // A deletion request id is not a creation request id.
  Response wrong_kind =
      Sso("DescribeAccountAssignmentDeletionStatus",
          {{"InstanceArn", kInstance}, {"AccountAssignmentDeletionRequestId", id}});
  EXPECT_EQ(wrong_kind.Type(), "ResourceNotFoundException");
}

TEST_F(EmulatorTest, DeleteRemovesTheAssignmentWhenItSucceeds) {
  json a = Assignment("111111111111", kReadOnly, "GROUP", "e0000000-0000-4000-8000-000000000011");
  EXPECT_EQ(Settle(true, a)["Status"], "SUCCEEDED");
  ASSERT_THAT(emulator_->State()["assignments"], SizeIs(1));
  Response r = Sso("DeleteAccountAssignment", a);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["AccountAssignmentDeletionStatus"]["Status"], "IN_PROGRESS");
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(1));
  clock_.Advance(options_.completion_delay);
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(0));
  Response d = Sso("DescribeAccountAssignmentDeletionStatus",
                   {{"InstanceArn", kInstance},
                    {"AccountAssignmentDeletionRequestId",
                     r.body["AccountAssignmentDeletionStatus"]["RequestId"]}});
  EXPECT_EQ(d.body["AccountAssignmentDeletionStatus"]["Status"], "SUCCEEDED");
}

TEST_F(EmulatorTest, CreatingAnExistingAssignmentAndDeletingAMissingOneSucceed) {
  json a = Assignment("111111111111", kReadOnly, "USER", kBob);
  EXPECT_EQ(Settle(true, a)["Status"], "SUCCEEDED");
  EXPECT_EQ(Settle(true, a)["Status"], "SUCCEEDED");
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(1));
  EXPECT_EQ(Settle(false, a)["Status"], "SUCCEEDED");
  EXPECT_EQ(Settle(false, a)["Status"], "SUCCEEDED");
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(0));
}

TEST_F(EmulatorTest, FailedRateOneEndsEveryOperationFailedWithAReason) {
  Faults f;
  f.failed_rate = 1;
  emulator_->SetFaults(f);
  json s = Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  EXPECT_EQ(s["Status"], "FAILED");
  EXPECT_THAT(s["FailureReason"].get<std::string>(), HasSubstr("emulated"));
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(0));
  EXPECT_EQ(emulator_->State()["operations"]["create"]["failed"], 1);
}

TEST_F(EmulatorTest, OverlappingCreateAndDeleteConflict) {
  json a = Assignment("222222222222", kAdmin, "USER", kAlice);
  ASSERT_EQ(Sso("CreateAccountAssignment", a).status, 200);
  Response conflict = Sso("DeleteAccountAssignment", a);
  EXPECT_EQ(conflict.status, 400);
  EXPECT_EQ(conflict.Type(), "ConflictException");
  // Another principal's assignment is not in the way.
  EXPECT_EQ(Sso("DeleteAccountAssignment", Assignment("222222222222", kAdmin, "USER", kBob)).status,
            200);
  clock_.Advance(options_.completion_delay);
  Response after = Sso("DeleteAccountAssignment", a);
  EXPECT_EQ(after.status, 200) << after.raw;
  // And the other way round.
  EXPECT_EQ(Sso("CreateAccountAssignment", a).Type(), "ConflictException");
}

TEST_F(EmulatorTest, ConflictsCanBeSwitchedOff) {
  Faults f;
  f.conflicts = false;
  emulator_->SetFaults(f);
  json a = Assignment("222222222222", kAdmin, "USER", kAlice);
  ASSERT_EQ(Sso("CreateAccountAssignment", a).status, 200);
  EXPECT_EQ(Sso("DeleteAccountAssignment", a).status, 200);
}

// --- inline policies and provisioning (issue 14) ---------------------------------------------

constexpr char kPolicy[] =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"JitCutoff1","Effect":"Deny","Action":"*","Resource":"*"}]})";

json PermissionSetRequest(const std::string& ps) {
  return {{"InstanceArn", kInstance}, {"PermissionSetArn", ps}};
}

// The entry of `ps` in the state's "permission_sets".
json StatePermissionSet(const json& state, const std::string& ps) {
  for (const json& p : state["permission_sets"]) {
    if (p["PermissionSetArn"] == ps) return p;
  }
  ADD_FAILURE() << "no " << ps << " in " << state.dump();
  return json::object();
}

TEST_F(EmulatorTest, InlinePolicyIsPutReadAndDeleted) {
  Response none = Sso("GetInlinePolicyForPermissionSet", PermissionSetRequest(kAdmin));
  ASSERT_EQ(none.status, 200) << none.raw;
  EXPECT_EQ(none.body, json({{"InlinePolicy", ""}}));

  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kPolicy;
  Response p = Sso("PutInlinePolicyToPermissionSet", put);
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.body, json::object());
  Response got = Sso("GetInlinePolicyForPermissionSet", PermissionSetRequest(kAdmin));
  EXPECT_EQ(got.body["InlinePolicy"], kPolicy);
  // Per permission set.
  EXPECT_EQ(
      Sso("GetInlinePolicyForPermissionSet", PermissionSetRequest(kReadOnly)).body["InlinePolicy"],
      "");
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["InlinePolicy"], kPolicy);

  Response d = Sso("DeleteInlinePolicyFromPermissionSet", PermissionSetRequest(kAdmin));
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body, json::object());
  EXPECT_EQ(
      Sso("GetInlinePolicyForPermissionSet", PermissionSetRequest(kAdmin)).body["InlinePolicy"],
      "");
  // Deleting none succeeds.
  EXPECT_EQ(Sso("DeleteInlinePolicyFromPermissionSet", PermissionSetRequest(kAdmin)).status, 200);
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["InlinePolicy"], "");
}

TEST_F(EmulatorTest, PutRefusesWhatAwsRefusesAndKeepsThePolicy) {
  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kPolicy;
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);

  auto refused = [&](const json& policy, const std::string& expect) {
    json bad = PermissionSetRequest(kAdmin);
    if (!policy.is_null()) bad["InlinePolicy"] = policy;
    Response r = Sso("PutInlinePolicyToPermissionSet", bad);
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_EQ(r.Type(), "ValidationException") << r.raw;
    EXPECT_THAT(r.body.value("message", ""), HasSubstr(expect));
  };
  refused(nullptr, "InlinePolicy");
  refused("", "InlinePolicy");
  refused("[1]", "JSON object");
  refused("{not json", "JSON object");
  refused(42, "InlinePolicy");
  refused("{\"a\":\"\x01\"}", "regular expression");
  refused("{\"a\":\"\xe2\x82\xac\"}", "regular expression");  // U+20AC
  std::string filler(32768 - 8, 'x');
  refused("{\"a\":\"" + filler + "x\"}", "32768");
  EXPECT_EQ(
      Sso("GetInlinePolicyForPermissionSet", PermissionSetRequest(kAdmin)).body["InlinePolicy"],
      kPolicy);

  // Exactly 32,768 characters is allowed, and characters are counted, not bytes.
  put["InlinePolicy"] = "{\"a\":\"" + filler + "\"}";
  EXPECT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  std::string wide;
  for (std::size_t i = 0; i < filler.size(); ++i) wide += "\xc3\xa9";  // U+00E9
  put["InlinePolicy"] = "{\"a\":\"" + wide + "\"}";
  Response w = Sso("PutInlinePolicyToPermissionSet", put);
  EXPECT_EQ(w.status, 200) << w.raw.substr(0, 300);
}

TEST_F(EmulatorTest, PolicyCallsCheckTheInstanceAndThePermissionSet) {
  const std::string unknown =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999";
  json put = PermissionSetRequest(unknown);
  put["InlinePolicy"] = kPolicy;
  json provision = PermissionSetRequest(unknown);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "111111111111";
  for (const auto& [op, body] : std::vector<std::pair<std::string, json>>{
           {"GetInlinePolicyForPermissionSet", PermissionSetRequest(unknown)},
           {"PutInlinePolicyToPermissionSet", put},
           {"DeleteInlinePolicyFromPermissionSet", PermissionSetRequest(unknown)},
           {"ProvisionPermissionSet", provision}}) {
    Response r = Sso(op, body);
    EXPECT_EQ(r.status, 400) << op;
    EXPECT_EQ(r.Type(), "ResourceNotFoundException") << op << " " << r.raw;
    json bad_arn = body;
    bad_arn["PermissionSetArn"] = "arn:aws:sso:::permissionSet/ps-1";
    EXPECT_EQ(Sso(op, bad_arn).Type(), "ValidationException") << op;
    json other_instance = body;
    other_instance["InstanceArn"] = "arn:aws:sso:::instance/ssoins-2222222222222222";
    other_instance["PermissionSetArn"] = kAdmin;
    EXPECT_EQ(Sso(op, other_instance).Type(), "ResourceNotFoundException") << op;
  }
}

TEST_F(EmulatorTest, ProvisioningIsInProgressThenCopiesThePolicyAsItWasAtTheCall) {
  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kPolicy;
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "222222222222";
  Response r = Sso("ProvisionPermissionSet", provision);
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& s = r.body["PermissionSetProvisioningStatus"];
  EXPECT_EQ(s["Status"], "IN_PROGRESS");
  EXPECT_EQ(s["AccountId"], "222222222222");
  EXPECT_EQ(s["PermissionSetArn"], kAdmin);
  EXPECT_DOUBLE_EQ(s["CreatedDate"].get<double>(),
                   static_cast<double>(ToUnixMillis(clock_.Now())) / 1000.0);
  std::string id = s["RequestId"];
  EXPECT_TRUE(std::regex_match(id, kUuid)) << id;

  // A change after the call is not part of it.
  put["InlinePolicy"] = R"({"Version":"2012-10-17","Statement":[]})";
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);

  json describe = {{"InstanceArn", kInstance}, {"ProvisionPermissionSetRequestId", id}};
  clock_.Advance(options_.completion_delay - Duration(1));
  Response early = Sso("DescribePermissionSetProvisioningStatus", describe);
  ASSERT_EQ(early.status, 200) << early.raw;
  EXPECT_EQ(early.body["PermissionSetProvisioningStatus"]["Status"], "IN_PROGRESS");
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["provisioned"], json::object());

  clock_.Advance(Duration(1));
  Response done = Sso("DescribePermissionSetProvisioningStatus", describe);
  ASSERT_EQ(done.status, 200) << done.raw;
  EXPECT_EQ(done.body["PermissionSetProvisioningStatus"]["Status"], "SUCCEEDED");
  EXPECT_EQ(done.body["PermissionSetProvisioningStatus"]["RequestId"], id);
  EXPECT_FALSE(done.body["PermissionSetProvisioningStatus"].contains("FailureReason"));
  json state = emulator_->State();
  EXPECT_EQ(StatePermissionSet(state, kAdmin)["provisioned"], json({{"222222222222", kPolicy}}));
  ASSERT_THAT(state["provisioning"], SizeIs(1));
  EXPECT_EQ(state["provisioning"][0]["RequestId"], id);
  EXPECT_EQ(state["provisioning"][0]["Status"], "SUCCEEDED");
  EXPECT_EQ(state["provisioning"][0]["Accounts"], json::array({"222222222222"}));
  EXPECT_EQ(state["provisioning"][0]["InlinePolicy"], kPolicy);
  EXPECT_EQ(state["calls"]["ProvisionPermissionSet"], 1);

  // Unknown request ids, and an assignment's, are not provisioning requests.
  json a = Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  for (const std::string& other :
       {std::string("00000000-0000-4000-8000-000000000000"), a["RequestId"].get<std::string>()}) {
    Response nf = Sso("DescribePermissionSetProvisioningStatus",
                      {{"InstanceArn", kInstance}, {"ProvisionPermissionSetRequestId", other}});
    EXPECT_EQ(nf.Type(), "ResourceNotFoundException") << nf.raw;
  }
  EXPECT_EQ(Sso("DescribeAccountAssignmentCreationStatus",
                {{"InstanceArn", kInstance}, {"AccountAssignmentCreationRequestId", id}})
                .Type(),
            "ResourceNotFoundException");
}

TEST_F(EmulatorTest, ProvisionChecksItsTarget) {
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  Response no_target = Sso("ProvisionPermissionSet", provision);
  EXPECT_EQ(no_target.Type(), "ValidationException");
  EXPECT_THAT(no_target.body.value("message", ""), HasSubstr("TargetId"));
  provision["TargetId"] = "333333333333";
  EXPECT_EQ(Sso("ProvisionPermissionSet", provision).Type(), "ResourceNotFoundException");
  provision["TargetId"] = "1234";
  EXPECT_EQ(Sso("ProvisionPermissionSet", provision).Type(), "ValidationException");
  provision["TargetType"] = "ORGANIZATION";
  provision["TargetId"] = "111111111111";
  EXPECT_EQ(Sso("ProvisionPermissionSet", provision).Type(), "ValidationException");
  Response bad_id = Sso("DescribePermissionSetProvisioningStatus",
                        {{"InstanceArn", kInstance}, {"ProvisionPermissionSetRequestId", "x"}});
  EXPECT_EQ(bad_id.Type(), "ValidationException");
  EXPECT_THAT(emulator_->State()["provisioning"], SizeIs(0));
}

TEST_F(EmulatorTest, ProvisioningToAllProvisionedAccountsReachesEveryAssignedAccount) {
  Settle(true, Assignment("111111111111", kAdmin, "USER", kAlice));
  Settle(true, Assignment("222222222222", kAdmin, "USER", kBob));
  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kPolicy;
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "ALL_PROVISIONED_ACCOUNTS";
  Response r = Sso("ProvisionPermissionSet", provision);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_FALSE(r.body["PermissionSetProvisioningStatus"].contains("AccountId"));
  clock_.Advance(options_.completion_delay);
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["provisioned"],
            json({{"111111111111", kPolicy}, {"222222222222", kPolicy}}));
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kReadOnly)["provisioned"], json::object());
  provision["TargetId"] = "111111111111";
  EXPECT_EQ(Sso("ProvisionPermissionSet", provision).Type(), "ValidationException");
}

TEST_F(EmulatorTest, ProvisioningAPermissionSetTwiceAtOnceConflicts) {
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "222222222222";
  ASSERT_EQ(Sso("ProvisionPermissionSet", provision).status, 200);
  // Another account, or all of them: the same permission set is busy.
  json other = provision;
  other["TargetId"] = "111111111111";
  Response conflict = Sso("ProvisionPermissionSet", other);
  EXPECT_EQ(conflict.status, 400) << conflict.raw;
  EXPECT_EQ(conflict.Type(), "ConflictException");
  EXPECT_THAT(conflict.body.value("message", ""), HasSubstr(kAdmin));
  json all = PermissionSetRequest(kAdmin);
  all["TargetType"] = "ALL_PROVISIONED_ACCOUNTS";
  EXPECT_EQ(Sso("ProvisionPermissionSet", all).Type(), "ConflictException");
  // Another permission set is not in the way.
  json read_only = provision;
  read_only["PermissionSetArn"] = kReadOnly;
  EXPECT_EQ(Sso("ProvisionPermissionSet", read_only).status, 200);
  // The refused call started nothing.
  EXPECT_THAT(emulator_->State()["provisioning"], SizeIs(2));
  clock_.Advance(options_.completion_delay);
  EXPECT_EQ(Sso("ProvisionPermissionSet", other).status, 200);

  // Without conflicts both run.
  Faults f;
  f.conflicts = false;
  emulator_->SetFaults(f);
  EXPECT_EQ(Sso("ProvisionPermissionSet", provision).status, 200);
}

TEST_F(EmulatorTest, FailedProvisioningHasAReasonAndChangesNoAccount) {
  Faults f;
  f.failed_rate = 1;
  emulator_->SetFaults(f);
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "222222222222";
  Response r = Sso("ProvisionPermissionSet", provision);
  ASSERT_EQ(r.status, 200) << r.raw;
  clock_.Advance(options_.completion_delay);
  Response d = Sso("DescribePermissionSetProvisioningStatus",
                   {{"InstanceArn", kInstance},
                    {"ProvisionPermissionSetRequestId",
                     r.body["PermissionSetProvisioningStatus"]["RequestId"]}});
  EXPECT_EQ(d.body["PermissionSetProvisioningStatus"]["Status"], "FAILED");
  EXPECT_THAT(d.body["PermissionSetProvisioningStatus"]["FailureReason"].get<std::string>(),
              HasSubstr("emulated"));
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["provisioned"], json::object());
}

TEST_F(EmulatorTest, ResetForgetsInlinePoliciesAndProvisioning) {
  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kPolicy;
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "222222222222";
  ASSERT_EQ(Sso("ProvisionPermissionSet", provision).status, 200);
  clock_.Advance(options_.completion_delay);
  emulator_->Reset();
  json state = emulator_->State();
  EXPECT_EQ(StatePermissionSet(state, kAdmin)["InlinePolicy"], "");
  EXPECT_EQ(StatePermissionSet(state, kAdmin)["provisioned"], json::object());
  EXPECT_THAT(state["provisioning"], SizeIs(0));
}

// --- permission sets as code (issue 14) ---------------------------------------------------------

json CreateRequest(const std::string& name) { return {{"InstanceArn", kInstance}, {"Name", name}}; }

TEST_F(EmulatorTest, CreatePermissionSetAnswersItAndListAndDescribeSeeIt) {
  json create = CreateRequest("JitExtra");
  create["Description"] = "Extra access";
  create["SessionDuration"] = "PT2H";
  create["RelayState"] = "https://console.aws.amazon.com/";
  create["Tags"] = json::array({{{"Key", "team"}, {"Value", "security"}}});
  Response r = Sso("CreatePermissionSet", create);
  ASSERT_EQ(r.status, 200) << r.raw;
  const json& ps = r.body["PermissionSet"];
  std::string arn = ps["PermissionSetArn"];
  EXPECT_TRUE(std::regex_match(
      arn, std::regex("arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-[0-9a-f]{16}")))
      << arn;
  EXPECT_EQ(ps["Name"], "JitExtra");
  EXPECT_EQ(ps["Description"], "Extra access");
  EXPECT_EQ(ps["SessionDuration"], "PT2H");
  EXPECT_EQ(ps["RelayState"], "https://console.aws.amazon.com/");
  EXPECT_DOUBLE_EQ(ps["CreatedDate"].get<double>(),
                   static_cast<double>(ToUnixMillis(clock_.Now())) / 1000.0);

  Response d = Sso("DescribePermissionSet", PermissionSetRequest(arn));
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body["PermissionSet"], ps);
  Response list = Sso("ListPermissionSets", {{"InstanceArn", kInstance}});
  EXPECT_EQ(list.body["PermissionSets"], json({kReadOnly, kAdmin, kBreakGlass, arn}));
  Response tags = Sso("ListTagsForResource", {{"InstanceArn", kInstance}, {"ResourceArn", arn}});
  EXPECT_EQ(tags.body["Tags"], json::array({{{"Key", "team"}, {"Value", "security"}}}));

  // Defaults: PT1H, no description or relay state.
  Response bare = Sso("CreatePermissionSet", CreateRequest("Bare"));
  ASSERT_EQ(bare.status, 200) << bare.raw;
  EXPECT_EQ(bare.body["PermissionSet"]["SessionDuration"], "PT1H");
  EXPECT_FALSE(bare.body["PermissionSet"].contains("Description"));
  EXPECT_FALSE(bare.body["PermissionSet"].contains("RelayState"));
  EXPECT_NE(bare.body["PermissionSet"]["PermissionSetArn"], arn);

  // Created sets take assignments; Reset forgets them.
  EXPECT_EQ(Settle(true, Assignment("222222222222", arn, "USER", kAlice))["Status"], "SUCCEEDED");
  emulator_->Reset();
  EXPECT_THAT(Sso("ListPermissionSets", {{"InstanceArn", kInstance}}).body["PermissionSets"],
              SizeIs(3));
  EXPECT_EQ(Sso("DescribePermissionSet", PermissionSetRequest(arn)).Type(),
            "ResourceNotFoundException");
}

TEST_F(EmulatorTest, CreatePermissionSetRefusesWhatAwsRefuses) {
  auto type = [&](const json& body) { return Sso("CreatePermissionSet", body).Type(); };
  EXPECT_EQ(type(CreateRequest("ReadOnly")), "ConflictException");  // a seeded name
  ASSERT_EQ(Sso("CreatePermissionSet", CreateRequest("Mine")).status, 200);
  EXPECT_EQ(type(CreateRequest("Mine")), "ConflictException");
  EXPECT_EQ(type(CreateRequest("has space")), "ValidationException");
  EXPECT_EQ(type(CreateRequest(std::string(33, 'a'))), "ValidationException");
  EXPECT_EQ(type(CreateRequest("")), "ValidationException");
  EXPECT_EQ(type({{"InstanceArn", kInstance}}), "ValidationException");
  for (const char* d : {"PT59M", "PT13H", "P1D", "1h", "PT20S"}) {
    json b = CreateRequest("D");
    b["SessionDuration"] = d;
    Response r = Sso("CreatePermissionSet", b);
    EXPECT_EQ(r.Type(), "ValidationException") << d;
    EXPECT_THAT(r.body.value("message", ""), HasSubstr("SessionDuration")) << d;
  }
  for (const char* d : {"PT1H", "PT12H", "PT90M", "PT3600S"}) {
    json b = CreateRequest(std::string("D") + std::to_string(std::string(d).size()) + d);
    b["SessionDuration"] = d;
    EXPECT_EQ(Sso("CreatePermissionSet", b).status, 200) << d;
  }
  json bad_tag = CreateRequest("T");
  bad_tag["Tags"] = json::array({{{"Key", "a<b"}, {"Value", "x"}}});
  EXPECT_EQ(type(bad_tag), "ValidationException");
  bad_tag["Tags"] = json::array({{{"Key", "aws:x"}, {"Value", "x"}}});
  EXPECT_EQ(type(bad_tag), "ValidationException");
  bad_tag["Tags"] = json::array({{{"Value", "x"}}});
  EXPECT_EQ(type(bad_tag), "ValidationException");
  json bad_relay = CreateRequest("R");
  bad_relay["RelayState"] = "https://x/\x01";
  EXPECT_EQ(type(bad_relay), "ValidationException");
  json bad_description = CreateRequest("R");
  bad_description["Description"] = "\xe2\x82\xac";  // U+20AC
  EXPECT_EQ(type(bad_description), "ValidationException");
  json other_instance = CreateRequest("Other");
  other_instance["InstanceArn"] = "arn:aws:sso:::instance/ssoins-2222222222222222";
  EXPECT_EQ(type(other_instance), "ResourceNotFoundException");
  EXPECT_THAT(Sso("ListPermissionSets", {{"InstanceArn", kInstance}}).body["PermissionSets"],
              SizeIs(3 + 1 + 4));
}

TEST_F(EmulatorTest, UpdatePermissionSetChangesOnlyWhatItIsGiven) {
  json update = PermissionSetRequest(kAdmin);
  update["SessionDuration"] = "PT4H";
  ASSERT_EQ(Sso("UpdatePermissionSet", update).status, 200);
  json ps = Sso("DescribePermissionSet", PermissionSetRequest(kAdmin)).body["PermissionSet"];
  EXPECT_EQ(ps["SessionDuration"], "PT4H");
  EXPECT_EQ(ps["Description"], "Administrator access");
  update = PermissionSetRequest(kAdmin);
  update["Description"] = "Admins";
  update["RelayState"] = "https://console.aws.amazon.com/ec2/";
  ASSERT_EQ(Sso("UpdatePermissionSet", update).status, 200);
  ps = Sso("DescribePermissionSet", PermissionSetRequest(kAdmin)).body["PermissionSet"];
  EXPECT_EQ(ps["SessionDuration"], "PT4H");
  EXPECT_EQ(ps["Description"], "Admins");
  EXPECT_EQ(ps["RelayState"], "https://console.aws.amazon.com/ec2/");
  update["SessionDuration"] = "PT20S";
  EXPECT_EQ(Sso("UpdatePermissionSet", update).Type(), "ValidationException");
  EXPECT_EQ(Sso("UpdatePermissionSet",
                PermissionSetRequest(
                    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999"))
                .Type(),
            "ResourceNotFoundException");
}

TEST_F(EmulatorTest, ManagedPoliciesAttachOnceAndDetachWhenAttached) {
  const std::string read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  const std::string view_only = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
  json attach = PermissionSetRequest(kAdmin);
  attach["ManagedPolicyArn"] = read_only;
  ASSERT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).status, 200);
  EXPECT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).Type(), "ConflictException");
  attach["ManagedPolicyArn"] = view_only;
  ASSERT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).status, 200);
  json list = PermissionSetRequest(kAdmin);
  list["MaxResults"] = 1;
  Response first = Sso("ListManagedPoliciesInPermissionSet", list);
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body["AttachedManagedPolicies"],
            json::array({{{"Arn", read_only}, {"Name", "ReadOnlyAccess"}}}));
  list["NextToken"] = first.body["NextToken"];
  EXPECT_EQ(Sso("ListManagedPoliciesInPermissionSet", list).body["AttachedManagedPolicies"],
            json::array({{{"Arn", view_only}, {"Name", "ViewOnlyAccess"}}}));

  json detach = PermissionSetRequest(kAdmin);
  detach["ManagedPolicyArn"] = read_only;
  ASSERT_EQ(Sso("DetachManagedPolicyFromPermissionSet", detach).status, 200);
  EXPECT_EQ(Sso("DetachManagedPolicyFromPermissionSet", detach).Type(),
            "ResourceNotFoundException");
  EXPECT_THAT(Sso("ListManagedPoliciesInPermissionSet", PermissionSetRequest(kAdmin))
                  .body["AttachedManagedPolicies"],
              SizeIs(1));
  // Customer managed policies go by reference, not by ARN.
  attach["ManagedPolicyArn"] = "arn:aws:iam::111111111111:policy/Mine";
  EXPECT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).Type(), "ValidationException");

  // At most 20.
  for (int i = 0; i < 19; ++i) {
    attach["ManagedPolicyArn"] = "arn:aws:iam::aws:policy/P" + std::to_string(i);
    ASSERT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).status, 200) << i;
  }
  attach["ManagedPolicyArn"] = "arn:aws:iam::aws:policy/OneTooMany";
  Response quota = Sso("AttachManagedPolicyToPermissionSet", attach);
  EXPECT_EQ(quota.status, 402);
  EXPECT_EQ(quota.Type(), "ServiceQuotaExceededException");
}

TEST_F(EmulatorTest, CustomerManagedPolicyReferencesDefaultToTheRootPath) {
  json attach = PermissionSetRequest(kAdmin);
  attach["CustomerManagedPolicyReference"] = {{"Name", "JitExtra"}};
  ASSERT_EQ(Sso("AttachCustomerManagedPolicyReferenceToPermissionSet", attach).status, 200);
  EXPECT_EQ(Sso("AttachCustomerManagedPolicyReferenceToPermissionSet", attach).Type(),
            "ConflictException");
  json with_path = PermissionSetRequest(kAdmin);
  with_path["CustomerManagedPolicyReference"] = {{"Name", "JitExtra"}, {"Path", "/jit/"}};
  ASSERT_EQ(Sso("AttachCustomerManagedPolicyReferenceToPermissionSet", with_path).status, 200);
  EXPECT_EQ(Sso("ListCustomerManagedPolicyReferencesInPermissionSet", PermissionSetRequest(kAdmin))
                .body["CustomerManagedPolicyReferences"],
            json::array({{{"Name", "JitExtra"}, {"Path", "/"}},
                         {{"Name", "JitExtra"}, {"Path", "/jit/"}}}));
  ASSERT_EQ(Sso("DetachCustomerManagedPolicyReferenceFromPermissionSet", with_path).status, 200);
  EXPECT_EQ(Sso("DetachCustomerManagedPolicyReferenceFromPermissionSet", with_path).Type(),
            "ResourceNotFoundException");
  for (const json& bad : {json{{"Name", "a b"}}, json{{"Name", "x"}, {"Path", "jit"}},
                          json{{"Name", "x"}, {"Path", "/a//"}}, json{{"Path", "/"}}}) {
    json b = PermissionSetRequest(kAdmin);
    b["CustomerManagedPolicyReference"] = bad;
    EXPECT_EQ(Sso("AttachCustomerManagedPolicyReferenceToPermissionSet", b).Type(),
              "ValidationException")
        << bad.dump();
  }
}

TEST_F(EmulatorTest, PermissionsBoundaryIsPutReadReplacedAndDeleted) {
  Response none = Sso("GetPermissionsBoundaryForPermissionSet", PermissionSetRequest(kAdmin));
  EXPECT_EQ(none.Type(), "ResourceNotFoundException");
  EXPECT_EQ(Sso("DeletePermissionsBoundaryFromPermissionSet", PermissionSetRequest(kAdmin)).Type(),
            "ResourceNotFoundException");
  json put = PermissionSetRequest(kAdmin);
  put["PermissionsBoundary"] = {{"ManagedPolicyArn", "arn:aws:iam::aws:policy/PowerUserAccess"}};
  ASSERT_EQ(Sso("PutPermissionsBoundaryToPermissionSet", put).status, 200);
  EXPECT_EQ(Sso("GetPermissionsBoundaryForPermissionSet", PermissionSetRequest(kAdmin))
                .body["PermissionsBoundary"],
            put["PermissionsBoundary"]);
  put["PermissionsBoundary"] = {{"CustomerManagedPolicyReference", {{"Name", "Boundary"}}}};
  ASSERT_EQ(Sso("PutPermissionsBoundaryToPermissionSet", put).status, 200);
  EXPECT_EQ(Sso("GetPermissionsBoundaryForPermissionSet", PermissionSetRequest(kAdmin))
                .body["PermissionsBoundary"],
            json({{"CustomerManagedPolicyReference", {{"Name", "Boundary"}, {"Path", "/"}}}}));
  put["PermissionsBoundary"] = json::object();
  EXPECT_EQ(Sso("PutPermissionsBoundaryToPermissionSet", put).Type(), "ValidationException");
  put["PermissionsBoundary"] = {{"ManagedPolicyArn", "arn:aws:iam::aws:policy/PowerUserAccess"},
                                {"CustomerManagedPolicyReference", {{"Name", "Boundary"}}}};
  EXPECT_EQ(Sso("PutPermissionsBoundaryToPermissionSet", put).Type(), "ValidationException");
  ASSERT_EQ(Sso("DeletePermissionsBoundaryFromPermissionSet", PermissionSetRequest(kAdmin)).status,
            200);
  EXPECT_EQ(Sso("GetPermissionsBoundaryForPermissionSet", PermissionSetRequest(kAdmin)).Type(),
            "ResourceNotFoundException");
}

TEST_F(EmulatorTest, TagsAreSetReplacedListedAndRemoved) {
  json tag = {{"ResourceArn", kAdmin},
              {"Tags", json::array({{{"Key", "team"}, {"Value", "security"}},
                                    {{"Key", "env"}, {"Value", "prod"}}})}};
  ASSERT_EQ(Sso("TagResource", tag).status, 200);  // InstanceArn is optional
  tag["InstanceArn"] = kInstance;
  tag["Tags"] = json::array({{{"Key", "team"}, {"Value", "platform"}}});
  ASSERT_EQ(Sso("TagResource", tag).status, 200);
  json list = {{"InstanceArn", kInstance}, {"ResourceArn", kAdmin}};
  EXPECT_EQ(
      Sso("ListTagsForResource", list).body["Tags"],
      json::array({{{"Key", "env"}, {"Value", "prod"}}, {{"Key", "team"}, {"Value", "platform"}}}));
  json untag = {{"InstanceArn", kInstance},
                {"ResourceArn", kAdmin},
                {"TagKeys", json::array({"env", "never-set"})}};
  ASSERT_EQ(Sso("UntagResource", untag).status, 200);
  EXPECT_EQ(Sso("ListTagsForResource", list).body["Tags"],
            json::array({{{"Key", "team"}, {"Value", "platform"}}}));
  EXPECT_EQ(Sso("ListTagsForResource", {{"ResourceArn", kReadOnly}}).body["Tags"], json::array());
  const std::string unknown =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999";
  EXPECT_EQ(Sso("ListTagsForResource", {{"ResourceArn", unknown}}).Type(),
            "ResourceNotFoundException");
  EXPECT_EQ(Sso("TagResource", {{"ResourceArn", kAdmin}}).Type(), "ValidationException");
  // At most 50 a permission set.
  json many = {{"ResourceArn", kAdmin}, {"Tags", json::array()}};
  for (int i = 0; i < 50; ++i) {
    many["Tags"].push_back({{"Key", "k" + std::to_string(i)}, {"Value", ""}});
  }
  EXPECT_EQ(Sso("TagResource", many).Type(), "ServiceQuotaExceededException");
  EXPECT_THAT(Sso("ListTagsForResource", list).body["Tags"], SizeIs(1));
}

TEST_F(EmulatorTest, ProvisionedAccountsAreListedWithWhetherTheyHaveTheLatestVersion) {
  json list = PermissionSetRequest(kAdmin);
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).body["AccountIds"], json::array());
  Settle(true, Assignment("111111111111", kAdmin, "USER", kAlice));
  json provision = PermissionSetRequest(kAdmin);
  provision["TargetType"] = "AWS_ACCOUNT";
  provision["TargetId"] = "222222222222";
  ASSERT_EQ(Sso("ProvisionPermissionSet", provision).status, 200);
  clock_.Advance(options_.completion_delay);
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).body["AccountIds"],
            json({"111111111111", "222222222222"}));
  list["ProvisioningStatus"] = "LATEST_PERMISSION_SET_PROVISIONED";
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).body["AccountIds"],
            json({"222222222222"}));
  list["ProvisioningStatus"] = "LATEST_PERMISSION_SET_NOT_PROVISIONED";
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).body["AccountIds"],
            json({"111111111111"}));
  // A change makes 222222222222 out of date until it is provisioned again.
  json attach = PermissionSetRequest(kAdmin);
  attach["ManagedPolicyArn"] = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  ASSERT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).status, 200);
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).body["AccountIds"],
            json({"111111111111", "222222222222"}));
  list["ProvisioningStatus"] = "SOMETHING";
  EXPECT_EQ(Sso("ListAccountsForProvisionedPermissionSet", list).Type(), "ValidationException");
  list.erase("ProvisioningStatus");
  list["MaxResults"] = 1;
  Response page = Sso("ListAccountsForProvisionedPermissionSet", list);
  EXPECT_EQ(page.body["AccountIds"], json({"111111111111"}));
  EXPECT_TRUE(page.body.contains("NextToken"));

  Response sets = Sso("ListPermissionSetsProvisionedToAccount",
                      {{"InstanceArn", kInstance}, {"AccountId", "222222222222"}});
  ASSERT_EQ(sets.status, 200) << sets.raw;
  EXPECT_EQ(sets.body["PermissionSets"], json({kAdmin}));
  EXPECT_EQ(Sso("ListPermissionSetsProvisionedToAccount",
                {{"InstanceArn", kInstance}, {"AccountId", "333333333333"}})
                .Type(),
            "ResourceNotFoundException");
}

TEST_F(EmulatorTest, StateCountsCallsAndShowsThePermissionSetsDefinition) {
  json attach = PermissionSetRequest(kAdmin);
  attach["ManagedPolicyArn"] = "arn:aws:iam::aws:policy/ReadOnlyAccess";
  ASSERT_EQ(Sso("AttachManagedPolicyToPermissionSet", attach).status, 200);
  ASSERT_EQ(Sso("ListManagedPoliciesInPermissionSet", PermissionSetRequest(kAdmin)).status, 200);
  json state = emulator_->State();
  EXPECT_EQ(state["calls"]["AttachManagedPolicyToPermissionSet"], 1);
  EXPECT_EQ(state["calls"]["ListManagedPoliciesInPermissionSet"], 1);
  json admin = StatePermissionSet(state, kAdmin);
  EXPECT_EQ(admin["ManagedPolicies"], json({"arn:aws:iam::aws:policy/ReadOnlyAccess"}));
  EXPECT_EQ(admin["SessionDuration"], "PT1H");
  EXPECT_EQ(admin["PermissionsBoundary"], nullptr);
  EXPECT_EQ(admin["Tags"], json::object());
}

// --- sessions and access evaluation (issue 14) ------------------------------------------------

constexpr char kEngineers[] = "e0000000-0000-4000-8000-000000000011";

// A cut-off statement for alice in 222222222222, sessions issued before 2026-12-05T00:15:00Z.
constexpr char kCutoffPolicy[] = R"({"Version":"2012-10-17","Statement":[
  {"Sid":"JitCutoff222222222222T20261205001500","Effect":"Deny","Action":"*","Resource":"*",
   "Condition":{"StringEquals":{"identitystore:userId":["a11ce000-0000-4000-8000-000000000001"],
                                "aws:PrincipalAccount":"222222222222"},
                "DateLessThan":{"aws:TokenIssueTime":"2026-12-05T00:15:00Z"}}}]})";

class SessionTest : public EmulatorTest {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.seed.permission_sets[1].session_duration = "PT20S";  // Admin
    StartWith(options);
    clock_.SetTime(*ParseRfc3339("2026-12-05T00:00:00Z"));
  }

  Response Open(const json& body) { return Plain("POST", "/_emulator/sessions", body.dump()); }
  Response CallIn(const std::string& session, const json& body) {
    return Plain("POST", "/_emulator/sessions/" + session + "/calls", body.dump());
  }
  // Puts `policy` on Admin and provisions it to 222222222222 (done at once).
  void ProvisionAdmin(const std::string& policy) {
    json put = PermissionSetRequest(kAdmin);
    put["InlinePolicy"] = policy;
    ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
    json provision = PermissionSetRequest(kAdmin);
    provision["TargetType"] = "AWS_ACCOUNT";
    provision["TargetId"] = "222222222222";
    ASSERT_EQ(Sso("ProvisionPermissionSet", provision).status, 200);
    clock_.Advance(options_.completion_delay);
  }
  std::string OpenAdmin(const std::string& user_name, const std::string& at) {
    Response r = Open({{"user_name", user_name},
                       {"account_id", "222222222222"},
                       {"permission_set_arn", kAdmin},
                       {"at", at}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("session_id", "");
  }
};

TEST_F(SessionTest, ASessionNeedsAnAssignmentDirectlyOrThroughAGroup) {
  json body = {
      {"user_name", "alice"}, {"account_id", "222222222222"}, {"permission_set_arn", kAdmin}};
  Response none = Open(body);
  EXPECT_EQ(none.status, 403) << none.raw;
  EXPECT_THAT(none.body.value("error", ""), HasSubstr("no assignment"));

  Settle(true, Assignment("222222222222", kAdmin, "GROUP", kEngineers));  // alice is an engineer
  Response r = Open(body);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_THAT(r.body["session_id"].get<std::string>(), ::testing::StartsWith("sess-"));
  EXPECT_EQ(r.body["user_id"], kAlice);
  EXPECT_EQ(r.body["issued_at"], FormatRfc3339(clock_.Now()));
  EXPECT_EQ(r.body["expires_at"], FormatRfc3339(clock_.Now() + std::chrono::seconds(20)));
  // bob is not an engineer; by user id, and at a given time.
  Response bob = Open({{"user_id", kBob},
                       {"account_id", "222222222222"},
                       {"permission_set_arn", kAdmin},
                       {"at", "2026-12-05T00:10:00.250Z"}});
  EXPECT_EQ(bob.status, 403) << bob.raw;
  Settle(true, Assignment("222222222222", kAdmin, "USER", kBob));
  bob = Open({{"user_id", kBob},
              {"account_id", "222222222222"},
              {"permission_set_arn", kAdmin},
              {"at", "2026-12-05T00:10:00.250Z"}});
  ASSERT_EQ(bob.status, 201) << bob.raw;
  EXPECT_EQ(bob.body["issued_at"], "2026-12-05T00:10:00.250Z");
  EXPECT_EQ(bob.body["expires_at"], "2026-12-05T00:10:20.250Z");
  // Another account or permission set is another assignment.
  json other = body;
  other["account_id"] = "111111111111";
  EXPECT_EQ(Open(other).status, 403);

  json listed = Plain("GET", "/_emulator/sessions", "").body;
  ASSERT_THAT(listed["sessions"], SizeIs(2));
  EXPECT_EQ(listed["sessions"][1], json({{"session_id", bob.body["session_id"]},
                                         {"user_id", kBob},
                                         {"account_id", "222222222222"},
                                         {"permission_set_arn", kAdmin},
                                         {"issued_at", "2026-12-05T00:10:00.250Z"},
                                         {"expires_at", "2026-12-05T00:10:20.250Z"}}));
  EXPECT_EQ(emulator_->State()["sessions"], listed["sessions"]);
}

// `at` in the past: the assignments as they were then.
TEST_F(SessionTest, ASessionInThePastNeedsTheAssignmentAsItWasThen) {
  Time before = clock_.Now();
  clock_.Advance(std::chrono::seconds(10));
  Settle(true, Assignment("222222222222", kAdmin, "GROUP", kEngineers));  // done at +10.2 s
  Time during = clock_.Now();
  clock_.Advance(std::chrono::seconds(10));
  Settle(false, Assignment("222222222222", kAdmin, "GROUP", kEngineers));  // done at +20.4 s
  auto open_at = [&](Time at) {
    return Open({{"user_name", "alice"},
                 {"account_id", "222222222222"},
                 {"permission_set_arn", kAdmin},
                 {"at", FormatRfc3339(at)}})
        .status;
  };
  EXPECT_EQ(open_at(before), 403);
  EXPECT_EQ(open_at(during), 201);
  EXPECT_EQ(open_at(during + std::chrono::seconds(10)), 201);  // the delete was not done yet
  EXPECT_EQ(open_at(clock_.Now()), 403);
  EXPECT_EQ(open_at(clock_.Now() + std::chrono::hours(1)), 403);
}

TEST_F(SessionTest, BadSessionRequestsAreRefusedAndOpenNothing) {
  auto status = [&](const json& body) { return Open(body).status; };
  json good = {
      {"user_name", "alice"}, {"account_id", "222222222222"}, {"permission_set_arn", kAdmin}};
  auto with = [&](const std::string& key, const json& value) {
    json b = good;
    if (value.is_null()) {
      b.erase(key);
    } else {
      b[key] = value;
    }
    return b;
  };
  EXPECT_EQ(status(with("user_name", "nobody")), 404);
  EXPECT_EQ(status(with("account_id", "333333333333")), 404);
  EXPECT_EQ(status(with("permission_set_arn",
                        "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999")),
            404);
  EXPECT_EQ(status(with("user_id", kAlice)), 400);  // both user_name and user_id
  EXPECT_EQ(status(with("user_name", nullptr)), 400);
  EXPECT_EQ(status(with("account_id", nullptr)), 400);
  EXPECT_EQ(status(with("permission_set_arn", nullptr)), 400);
  EXPECT_EQ(status(with("at", "yesterday")), 400);
  EXPECT_EQ(status(with("user_name", 7)), 400);
  EXPECT_EQ(status(with("colour", "red")), 400);
  EXPECT_EQ(status(json::array()), 400);
  EXPECT_EQ(Plain("POST", "/_emulator/sessions", "{not json").status, 400);
  EXPECT_EQ(Plain("DELETE", "/_emulator/sessions", "").status, 405);
  EXPECT_THAT(Plain("GET", "/_emulator/sessions", "").body["sessions"], SizeIs(0));

  Response unknown = CallIn("sess-0000000000000000", {{"action", "s3:ListBuckets"}});
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  EXPECT_THAT(unknown.body.value("error", ""), HasSubstr("session"));
  EXPECT_EQ(Plain("POST", "/_emulator/sessions//calls", "{}").status, 404);
  EXPECT_EQ(Plain("POST", "/_emulator/sessions/a/b/calls", "{}").status, 404);

  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  std::string id = OpenAdmin("alice", "2026-12-05T00:00:10Z");
  EXPECT_EQ(CallIn(id, json::object()).status, 400);  // no action
  EXPECT_EQ(CallIn(id, {{"action", "s3:ListBuckets"}, {"at", "soon"}}).status, 400);
  EXPECT_EQ(CallIn(id, {{"action", "s3:ListBuckets"}, {"region", ""}}).status, 400);
  EXPECT_EQ(CallIn(id, {{"action", "s3:ListBuckets"}, {"resource", "*"}}).status, 400);
  // Before the session was issued.
  EXPECT_EQ(CallIn(id, {{"action", "s3:ListBuckets"}, {"at", "2026-12-05T00:00:09Z"}}).status, 400);
  EXPECT_EQ(Plain("GET", "/_emulator/sessions/" + id + "/calls", "").status, 405);
}

TEST_F(SessionTest, CallsAreDeniedByThePolicyAsLastProvisionedToTheAccount) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  Settle(true, Assignment("222222222222", kAdmin, "USER", kBob));
  std::string alice = OpenAdmin("alice", "2026-12-05T00:00:05Z");
  std::string bob = OpenAdmin("bob", "2026-12-05T00:00:05Z");
  json call = {{"action", "s3:ListBuckets"}, {"at", "2026-12-05T00:00:10Z"}};
  Response r = CallIn(alice, call);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"allowed", true}, {"reason", "allowed"}}));

  // Put but not provisioned: the account does not have it yet.
  json put = PermissionSetRequest(kAdmin);
  put["InlinePolicy"] = kCutoffPolicy;
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  EXPECT_EQ(CallIn(alice, call).body["allowed"], true);

  ProvisionAdmin(kCutoffPolicy);
  r = CallIn(alice, call);
  EXPECT_EQ(r.body, json({{"allowed", false},
                          {"reason",
                           "explicit deny by statement "
                           "JitCutoff222222222222T20261205001500"}}));
  EXPECT_EQ(CallIn(bob, call).body["allowed"], true);
  // Deleting the assignment does not end a session; a session issued after the cut is allowed.
  Settle(false, Assignment("222222222222", kAdmin, "USER", kAlice));
  EXPECT_EQ(CallIn(alice, call).body["allowed"], false);
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  std::string later = OpenAdmin("alice", "2026-12-05T00:15:00Z");
  EXPECT_EQ(
      CallIn(later, {{"action", "s3:ListBuckets"}, {"at", "2026-12-05T00:15:01Z"}}).body["allowed"],
      true);

  // A later put without the statement changes nothing until it is provisioned.
  put["InlinePolicy"] = R"({"Version":"2012-10-17","Statement":[]})";
  ASSERT_EQ(Sso("PutInlinePolicyToPermissionSet", put).status, 200);
  EXPECT_EQ(CallIn(alice, call).body["allowed"], false);
  ProvisionAdmin(put["InlinePolicy"]);
  EXPECT_EQ(CallIn(alice, call).body["allowed"], true);
}

TEST_F(SessionTest, SessionsExpireAfterThePermissionSetsSessionDuration) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  Settle(true, Assignment("222222222222", kReadOnly, "USER", kAlice));
  std::string admin = OpenAdmin("alice", "2026-12-05T00:00:01Z");  // PT20S
  EXPECT_EQ(CallIn(admin, {{"action", "s3:ListBuckets"}, {"at", "2026-12-05T00:00:20.999Z"}})
                .body["allowed"],
            true);
  EXPECT_EQ(CallIn(admin, {{"action", "s3:ListBuckets"}, {"at", "2026-12-05T00:00:21Z"}}).body,
            json({{"allowed", false}, {"reason", "session expired"}}));
  // Without `at`, the emulator's clock.
  clock_.SetTime(*ParseRfc3339("2026-12-05T00:00:22Z"));
  EXPECT_EQ(CallIn(admin, {{"action", "s3:ListBuckets"}}).body["reason"], "session expired");
  Response ro = Open(
      {{"user_name", "alice"}, {"account_id", "222222222222"}, {"permission_set_arn", kReadOnly}});
  ASSERT_EQ(ro.status, 201) << ro.raw;
  EXPECT_EQ(ro.body["expires_at"], "2026-12-05T01:00:22.000Z");  // PT1H

  // Times finer than a millisecond are cut, so that the answered expires_at is the expiry.
  clock_.SetTime(*ParseRfc3339("2026-12-05T00:01:00.123Z") + std::chrono::microseconds(600));
  Response fine = Open(
      {{"user_name", "alice"}, {"account_id", "222222222222"}, {"permission_set_arn", kAdmin}});
  ASSERT_EQ(fine.status, 201) << fine.raw;
  EXPECT_EQ(fine.body["issued_at"], "2026-12-05T00:01:00.123Z");
  EXPECT_EQ(CallIn(fine.body["session_id"],
                   {{"action", "s3:ListBuckets"}, {"at", fine.body["expires_at"]}})
                .body["reason"],
            "session expired");
}

TEST_F(SessionTest, TheRegionIsTheEmulatorsUnlessTheCallNamesOne) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  ProvisionAdmin(R"({"Version":"2012-10-17","Statement":[{"Sid":"JitRegionGuardrail",
    "Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*",
    "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1"]}}}]})");
  std::string id = OpenAdmin("alice", FormatRfc3339(clock_.Now()));
  EXPECT_EQ(CallIn(id, {{"action", "ec2:RunInstances"}}).body["reason"],
            "explicit deny by statement JitRegionGuardrail");  // us-east-1
  EXPECT_EQ(
      CallIn(id, {{"action", "ec2:RunInstances"}, {"region", "eu-central-1"}}).body["allowed"],
      true);
  EXPECT_EQ(CallIn(id, {{"action", "iam:ListRoles"}}).body["allowed"], true);
}

TEST_F(SessionTest, AnUnreadablePolicyDeniesNothingAndTheAnswerSaysWhy) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  ProvisionAdmin(R"({"Version":"2012-10-17","Statement":[{"Sid":"Odd","Effect":"Deny",
    "Action":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"1"}}}]})");
  std::string id = OpenAdmin("alice", FormatRfc3339(clock_.Now()));
  Response r = CallIn(id, {{"action", "s3:ListBuckets"}});
  EXPECT_EQ(r.body["allowed"], true);
  EXPECT_EQ(r.body["reason"], "allowed");
  EXPECT_THAT(r.body.value("policy_problem", ""), HasSubstr("NumericLessThan"));
}

TEST_F(SessionTest, ResetForgetsSessions) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  std::string id = OpenAdmin("alice", FormatRfc3339(clock_.Now()));
  ASSERT_EQ(Plain("POST", "/_emulator/reset", "").status, 200);
  EXPECT_THAT(Plain("GET", "/_emulator/sessions", "").body["sessions"], SizeIs(0));
  EXPECT_EQ(CallIn(id, {{"action", "s3:ListBuckets"}}).status, 404);
}

TEST(Seed, SessionDurationsShorterThanAwsAllowsAreSeedable) {
  Seed seed = DefaultSeed();
  seed.permission_sets[0].session_duration = "PT20S";
  EXPECT_OK(seed.Validate());
  for (const char* bad : {"PT", "PT0S", "1h", "PT1X", "P1D", ""}) {
    seed.permission_sets[0].session_duration = bad;
    EXPECT_THAT(seed.Validate(), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST_F(EmulatorTest, ListAccountAssignmentsPagesAcrossPrincipals) {
  for (const char* user : {kAlice, kBob, kCarol}) {
    Settle(true, Assignment("111111111111", kReadOnly, "USER", user));
  }
  Settle(true,
         Assignment("111111111111", kReadOnly, "GROUP", "5e000000-0000-4000-8000-000000000013"));
  Settle(true, Assignment("222222222222", kReadOnly, "USER", kAlice));  // another account
  json list = {{"InstanceArn", kInstance},
               {"AccountId", "111111111111"},
               {"PermissionSetArn", kReadOnly},
               {"MaxResults", 3}};
  std::set<std::string> seen;
  int pages = 0;
  for (;;) {
    Response r = Sso("ListAccountAssignments", list);
    ASSERT_EQ(r.status, 200) << r.raw;
    ++pages;
    for (const json& a : r.body["AccountAssignments"]) {
      EXPECT_EQ(a["AccountId"], "111111111111");
      seen.insert(a["PrincipalId"].get<std::string>());
    }
    if (!r.body.contains("NextToken")) break;
    list["NextToken"] = r.body["NextToken"];
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(EmulatorTest, ListAccountAssignmentsForPrincipalFiltersByAccount) {
  Settle(true, Assignment("111111111111", kReadOnly, "USER", kCarol));
  Settle(true, Assignment("222222222222", kBreakGlass, "USER", kCarol));
  Settle(true, Assignment("222222222222", kBreakGlass, "USER", kBob));
  json q = {{"InstanceArn", kInstance}, {"PrincipalId", kCarol}, {"PrincipalType", "USER"}};
  Response all = Sso("ListAccountAssignmentsForPrincipal", q);
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_THAT(all.body["AccountAssignments"], SizeIs(2));
  q["Filter"] = {{"AccountId", "222222222222"}};
  Response prod = Sso("ListAccountAssignmentsForPrincipal", q);
  ASSERT_THAT(prod.body["AccountAssignments"], SizeIs(1));
  EXPECT_EQ(prod.body["AccountAssignments"][0]["PermissionSetArn"], kBreakGlass);
  q["Filter"] = {{"AccountId", "22"}};
  Response bad = Sso("ListAccountAssignmentsForPrincipal", q);
  EXPECT_EQ(bad.Type(), "ValidationException");
  EXPECT_THAT(bad.body["message"].get<std::string>(), HasSubstr("AccountId"));
}

TEST_F(EmulatorTest, NextTokensOnlyContinueTheirOwnList) {
  Response first = Sso("ListPermissionSets", {{"InstanceArn", kInstance}, {"MaxResults", 1}});
  ASSERT_TRUE(first.body.contains("NextToken"));
  Response other = Sso("ListAccountAssignments", {{"InstanceArn", kInstance},
                                                  {"AccountId", "111111111111"},
                                                  {"PermissionSetArn", kReadOnly},
                                                  {"NextToken", first.body["NextToken"]}});
  EXPECT_EQ(other.Type(), "ValidationException");
  EXPECT_THAT(other.body["message"].get<std::string>(), HasSubstr("NextToken"));
  Response garbage =
      Sso("ListPermissionSets", {{"InstanceArn", kInstance}, {"NextToken", "not-a-token"}});
  EXPECT_EQ(garbage.Type(), "ValidationException");
  Response too_long = Sso("ListPermissionSets",
                          {{"InstanceArn", kInstance}, {"NextToken", std::string(2049, 'A')}});
  EXPECT_EQ(too_long.Type(), "ValidationException");
  EXPECT_THAT(too_long.body["message"].get<std::string>(), HasSubstr("NextToken"));
}

struct BadInput {
  std::string op;
  json body;
  std::string field;
};

TEST_F(EmulatorTest, ValidationErrorsNameTheField) {
  json create = Assignment("222222222222", kAdmin, "USER", kAlice);
  auto with = [&](const char* key, json value) {
    json j = create;
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = std::move(value);
    }
    return j;
  };
  std::vector<BadInput> cases = {
      {"CreateAccountAssignment", with("InstanceArn", nullptr), "InstanceArn"},
      {"CreateAccountAssignment", with("InstanceArn", "arn:aws:sso:::instance/nope"),
       "InstanceArn"},
      {"CreateAccountAssignment", with("TargetId", "12345"), "TargetId"},
      {"CreateAccountAssignment", with("TargetType", "AWS_OU"), "TargetType"},
      {"CreateAccountAssignment", with("PermissionSetArn", "arn:aws:sso:::permissionSet/x"),
       "PermissionSetArn"},
      {"CreateAccountAssignment", with("PrincipalType", "ROLE"), "PrincipalType"},
      {"CreateAccountAssignment", with("PrincipalId", "alice"), "PrincipalId"},
      {"DeleteAccountAssignment", with("PrincipalId", nullptr), "PrincipalId"},
      {"CreateAccountAssignment", with("TargetId", 222222222222), "TargetId"},
      {"ListPermissionSets", {{"InstanceArn", kInstance}, {"MaxResults", 0}}, "MaxResults"},
      {"ListPermissionSets", {{"InstanceArn", kInstance}, {"MaxResults", 101}}, "MaxResults"},
      {"ListAccountAssignments",
       {{"InstanceArn", kInstance}, {"AccountId", "111111111111"}},
       "PermissionSetArn"},
      {"DescribeAccountAssignmentCreationStatus",
       {{"InstanceArn", kInstance}, {"AccountAssignmentCreationRequestId", "x"}},
       "AccountAssignmentCreationRequestId"},
      {"ListAccountAssignmentsForPrincipal",
       {{"InstanceArn", kInstance}, {"PrincipalId", kAlice}, {"PrincipalType", "user"}},
       "PrincipalType"},
  };
  for (const BadInput& c : cases) {
    Response r = Sso(c.op, c.body);
    EXPECT_EQ(r.status, 400) << c.op << " " << c.body.dump();
    EXPECT_EQ(r.Type(), "ValidationException") << c.op << " " << c.body.dump();
    EXPECT_THAT(r.body.value("message", ""), HasSubstr("'" + c.field + "'")) << r.raw;
  }
  EXPECT_EQ(emulator_->State()["assignments"].size(), 0u);
}

TEST_F(EmulatorTest, UnknownOperationAndBadBodiesAreClientErrors) {
  Response unknown = Sso("DeletePermissionSet", json::object());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Type(), "UnknownOperationException");
  Response other = Call("AWSEvents.PutRule", json::object(),
                        {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}}, "events");
  EXPECT_EQ(other.Type(), "UnknownOperationException");
  aws::HttpRequest form = Request("SWBExternalService.ListInstances", json::object());
  form.SetHeader("Content-Type", "application/x-www-form-urlencoded");
  ASSERT_TRUE(aws::Sign(form, {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}},
                        {"us-east-1", "sso", clock_.Now()})
                  .has_value());
  EXPECT_EQ(Send(emulator_->port(), form).Type(), "SerializationException");
  Response array = Sso("ListInstances", json::array());
  EXPECT_EQ(array.status, 400);
  EXPECT_EQ(array.Type(), "SerializationException");
}

// --- signatures --------------------------------------------------------------------------------

TEST_F(EmulatorTest, UnsignedCallsAreRefused) {
  aws::HttpRequest req = Request("SWBExternalService.ListInstances", json::object());
  Response r = Send(emulator_->port(), req);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Type(), "MissingAuthenticationTokenException");
  EXPECT_TRUE(std::regex_match(r.headers["x-amzn-requestid"], kUuid));
}

TEST_F(EmulatorTest, BadSignaturesAreRefusedWithAwsErrorTypes) {
  json body = json::object();
  Response wrong_secret =
      Call("SWBExternalService.ListInstances", body, {"AKIDJITEMULATOR", "not-the-secret", "", {}});
  EXPECT_EQ(wrong_secret.status, 403);
  EXPECT_EQ(wrong_secret.Type(), "InvalidSignatureException");
  Response unknown_key = Call("SWBExternalService.ListInstances", body,
                              {"AKIDSOMEONEELSE", "jit-emulator-secret", "", {}});
  EXPECT_EQ(unknown_key.status, 403);
  EXPECT_EQ(unknown_key.Type(), "UnrecognizedClientException");
  aws::Credentials good{"AKIDJITEMULATOR", "jit-emulator-secret", "", {}};
  Response wrong_service =
      Call("SWBExternalService.ListInstances", body, good, /*service=*/"identitystore");
  EXPECT_EQ(wrong_service.status, 403);
  EXPECT_EQ(wrong_service.Type(), "InvalidSignatureException");
  Response wrong_region = Call("SWBExternalService.ListInstances", body, good, "", "eu-west-1");
  EXPECT_EQ(wrong_region.status, 403);
  EXPECT_EQ(wrong_region.Type(), "InvalidSignatureException");
  Response stale =
      Call("SWBExternalService.ListInstances", body, good, "", "us-east-1", std::chrono::hours(-1));
  EXPECT_EQ(stale.status, 403);
  EXPECT_EQ(stale.Type(), "InvalidSignatureException");

  // A body changed after signing.
  aws::HttpRequest req = Request("SWBExternalService.ListInstances", body);
  aws::SigningParams params{"us-east-1", "sso", clock_.Now()};
  ASSERT_TRUE(aws::Sign(req, good, params).has_value());
  req.body = R"({"MaxResults": 1})";
  EXPECT_EQ(Send(emulator_->port(), req).Type(), "InvalidSignatureException");

  Response incomplete = [&] {
    aws::HttpRequest r = Request("SWBExternalService.ListInstances", body);
    r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDJITEMULATOR");
    return Send(emulator_->port(), r);
  }();
  EXPECT_EQ(incomplete.status, 403);
  EXPECT_EQ(incomplete.Type(), "IncompleteSignatureException");
  EXPECT_EQ(emulator_->State()["calls"], json::object());
}

TEST_F(EmulatorTest, SignedPayloadHashIsAccepted) {
  Response r = Call("SWBExternalService.ListInstances", json::object(),
                    {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}}, "", "us-east-1",
                    Duration(0), /*sign_body=*/true);
  EXPECT_EQ(r.status, 200) << r.raw;
}

TEST_F(EmulatorTest, OtherKeyPairsAreConfigurable) {
  EmulatorOptions o;
  o.access_key_id = "AKIDOTHER";
  o.secret_access_key = "other-secret";
  StartWith(o);
  EXPECT_EQ(Sso("ListInstances", json::object()).Type(), "UnrecognizedClientException");
  Response r = Call("SWBExternalService.ListInstances", json::object(),
                    {"AKIDOTHER", "other-secret", "", {}});
  EXPECT_EQ(r.status, 200) << r.raw;
}

// --- identitystore -----------------------------------------------------------------------------

TEST_F(EmulatorTest, GetUserIdByUserNameAndEmail) {
  json by_name = {
      {"IdentityStoreId", kStore},
      {"AlternateIdentifier",
       {{"UniqueAttribute", {{"AttributePath", "userName"}, {"AttributeValue", "bob"}}}}}};
  Response r = Ids("GetUserId", by_name);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json({{"IdentityStoreId", kStore}, {"UserId", kBob}}));
  json by_email = by_name;
  by_email["AlternateIdentifier"]["UniqueAttribute"] = {{"AttributePath", "emails.value"},
                                                        {"AttributeValue", "carol@example.com"}};
  EXPECT_EQ(Ids("GetUserId", by_email).body["UserId"], kCarol);

  json unknown = by_name;
  unknown["AlternateIdentifier"]["UniqueAttribute"]["AttributeValue"] = "mallory";
  Response nf = Ids("GetUserId", unknown);
  EXPECT_EQ(nf.status, 400);
  EXPECT_EQ(nf.Type(), "ResourceNotFoundException");
  json bad_path = by_name;
  bad_path["AlternateIdentifier"]["UniqueAttribute"]["AttributePath"] = "displayName";
  EXPECT_EQ(Ids("GetUserId", bad_path).Type(), "ValidationException");
  json other_store = by_name;
  other_store["IdentityStoreId"] = "d-2222222222";
  EXPECT_EQ(Ids("GetUserId", other_store).Type(), "ResourceNotFoundException");
  Response missing = Ids("GetUserId", {{"IdentityStoreId", kStore}});
  EXPECT_EQ(missing.Type(), "ValidationException");
  EXPECT_THAT(missing.body["message"].get<std::string>(), HasSubstr("AlternateIdentifier"));
}

TEST_F(EmulatorTest, DescribeUserReturnsNameAndPrimaryEmail) {
  Response r = Ids("DescribeUser", {{"IdentityStoreId", kStore}, {"UserId", kAlice}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["UserName"], "alice");
  EXPECT_EQ(r.body["UserId"], kAlice);
  EXPECT_EQ(r.body["IdentityStoreId"], kStore);
  EXPECT_EQ(r.body["DisplayName"], "Alice");
  EXPECT_EQ(r.body["Emails"][0]["Value"], "alice@example.com");
  EXPECT_EQ(r.body["Emails"][0]["Primary"], true);
  Response nf = Ids("DescribeUser", {{"IdentityStoreId", kStore},
                                     {"UserId", "00000000-0000-4000-8000-000000000000"}});
  EXPECT_EQ(nf.Type(), "ResourceNotFoundException");
}

TEST_F(EmulatorTest, ListGroupMembershipsForMemberPages) {
  json q = {{"IdentityStoreId", kStore}, {"MemberId", {{"UserId", kCarol}}}, {"MaxResults", 2}};
  Response first = Ids("ListGroupMembershipsForMember", q);
  ASSERT_EQ(first.status, 200) << first.raw;
  ASSERT_THAT(first.body["GroupMemberships"], SizeIs(2));
  const json& m = first.body["GroupMemberships"][0];
  EXPECT_EQ(m["IdentityStoreId"], kStore);
  EXPECT_EQ(m["MemberId"]["UserId"], kCarol);
  EXPECT_TRUE(std::regex_match(m["MembershipId"].get<std::string>(), kUuid));
  q["NextToken"] = first.body["NextToken"];
  Response second = Ids("ListGroupMembershipsForMember", q);
  ASSERT_EQ(second.status, 200) << second.raw;
  EXPECT_THAT(second.body["GroupMemberships"], SizeIs(1));
  EXPECT_FALSE(second.body.contains("NextToken"));
  std::set<std::string> groups;
  for (const Response* r : {&first, &second}) {
    for (const json& g : r->body["GroupMemberships"]) groups.insert(g["GroupId"]);
  }
  EXPECT_EQ(groups, (std::set<std::string>{"a0000000-0000-4000-8000-000000000012",
                                           "5e000000-0000-4000-8000-000000000013",
                                           "ad000000-0000-4000-8000-000000000014"}));
}

TEST_F(EmulatorTest, IsMemberInGroupsAnswersPerGroup) {
  Response r =
      Ids("IsMemberInGroups",
          {{"IdentityStoreId", kStore},
           {"MemberId", {{"UserId", kAlice}}},
           {"GroupIds",
            {"e0000000-0000-4000-8000-000000000011", "a0000000-0000-4000-8000-000000000012"}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_THAT(r.body["Results"], SizeIs(2));
  EXPECT_EQ(r.body["Results"][0]["GroupId"], "e0000000-0000-4000-8000-000000000011");
  EXPECT_EQ(r.body["Results"][0]["MemberId"]["UserId"], kAlice);
  EXPECT_EQ(r.body["Results"][0]["MembershipExists"], true);
  EXPECT_EQ(r.body["Results"][1]["MembershipExists"], false);
  Response empty = Ids("IsMemberInGroups", {{"IdentityStoreId", kStore},
                                            {"MemberId", {{"UserId", kAlice}}},
                                            {"GroupIds", json::array()}});
  EXPECT_EQ(empty.Type(), "ValidationException");
  EXPECT_THAT(empty.body["message"].get<std::string>(), HasSubstr("GroupIds"));
}

// --- faults ------------------------------------------------------------------------------------

TEST_F(EmulatorTest, ThrottlingShareFollowsTheRateAndTheSeed) {
  Faults f;
  f.throttle_rate = 0.3;
  f.seed = 42;
  emulator_->SetFaults(f);
  std::string pattern;
  for (int i = 0; i < 400; ++i) {
    Response r = Sso("ListInstances", json::object());
    if (r.Type() == "ThrottlingException") {
      EXPECT_EQ(r.status, 400);
      pattern += 'T';
    } else {
      EXPECT_EQ(r.status, 200) << r.raw;
      pattern += '.';
    }
  }
  auto throttled = std::count(pattern.begin(), pattern.end(), 'T');
  EXPECT_GT(throttled, 90);
  EXPECT_LT(throttled, 150);
  EXPECT_EQ(emulator_->State()["calls"]["ListInstances"], 400);
  // The same seed throttles the same calls.
  emulator_->SetFaults(f);
  std::string again;
  for (int i = 0; i < 40; ++i) {
    again += Sso("ListInstances", json::object()).Type() == "ThrottlingException" ? 'T' : '.';
  }
  EXPECT_EQ(again, pattern.substr(0, 40));
}

TEST_F(EmulatorTest, IdentityStoreThrottlingAndServerErrorsCarryRetryAfter) {
  Faults f;
  f.throttle_rate = 1;
  emulator_->SetFaults(f);
  Response t = Ids("DescribeUser", {{"IdentityStoreId", kStore}, {"UserId", kAlice}});
  EXPECT_EQ(t.status, 400);
  EXPECT_EQ(t.Type(), "ThrottlingException");
  EXPECT_EQ(t.body["RetryAfterSeconds"], 1);
  f.throttle_rate = 0;
  f.server_error_rate = 1;
  emulator_->SetFaults(f);
  Response e = Ids("DescribeUser", {{"IdentityStoreId", kStore}, {"UserId", kAlice}});
  EXPECT_EQ(e.status, 500);
  EXPECT_EQ(e.Type(), "InternalServerException");
  EXPECT_EQ(e.body["RetryAfterSeconds"], 1);
  Response s = Sso("ListInstances", json::object());
  EXPECT_EQ(s.status, 500);
  EXPECT_EQ(s.Type(), "InternalServerException");
  // Faulted calls change nothing.
  EXPECT_EQ(
      Sso("CreateAccountAssignment", Assignment("222222222222", kAdmin, "USER", kAlice)).status,
      500);
  clock_.Advance(Duration(1000));
  EXPECT_THAT(emulator_->State()["assignments"], SizeIs(0));
}

TEST_F(EmulatorTest, LatencyDelaysTheAnswer) {
  Faults f;
  f.latency = Duration(50);
  emulator_->SetFaults(f);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Sso("ListInstances", json::object()).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

// --- test endpoints ----------------------------------------------------------------------------

TEST_F(EmulatorTest, StateFaultsAndResetEndpoints) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  Response state = Plain("GET", "/_emulator/state", "");
  ASSERT_EQ(state.status, 200) << state.raw;
  EXPECT_EQ(state.body["assignments"], json::array({{{"AccountId", "222222222222"},
                                                     {"PermissionSetArn", kAdmin},
                                                     {"PrincipalType", "USER"},
                                                     {"PrincipalId", kAlice}}}));
  EXPECT_EQ(state.body["calls"]["CreateAccountAssignment"], 1);
  EXPECT_EQ(state.body["calls"]["DescribeAccountAssignmentCreationStatus"], 1);
  EXPECT_EQ(state.body["operations"]["create"]["succeeded"], 1);
  EXPECT_EQ(state.body["sns"], json::array());
  EXPECT_EQ(state.body["eventbridge"], json::array());
  EXPECT_EQ(state.body["securityhub"], json::array());

  Response faults = Plain("POST", "/_emulator/faults", R"({"throttle_rate": 1})");
  ASSERT_EQ(faults.status, 200) << faults.raw;
  EXPECT_EQ(Sso("ListInstances", json::object()).Type(), "ThrottlingException");
  // The test endpoints are never faulted.
  EXPECT_EQ(Plain("GET", "/_emulator/state", "").status, 200);
  EXPECT_EQ(Plain("POST", "/_emulator/faults", R"({"throttle_rate": 2})").status, 400);
  EXPECT_EQ(Plain("POST", "/_emulator/faults", R"({"nope": 1})").status, 400);

  Response reset = Plain("POST", "/_emulator/reset", "");
  ASSERT_EQ(reset.status, 200) << reset.raw;
  EXPECT_EQ(Sso("ListInstances", json::object()).status, 200);
  json after = emulator_->State();
  EXPECT_THAT(after["assignments"], SizeIs(0));
  EXPECT_EQ(after["calls"], json({{"ListInstances", 1}}));
  EXPECT_EQ(Plain("GET", "/_emulator/nope", "").status, 404);
}

// A page on another origin must not change the emulator: a browser's no-cors POST carries an
// Origin (and Sec-Fetch-Site) and can only send a text/plain or form body.
TEST_F(EmulatorTest, ControlEndpointsRefuseBrowsersOnOtherOrigins) {
  const std::string faults = R"({"throttle_rate": 1})";
  Response from_page = Plain("POST", "/_emulator/faults", faults,
                             {{"Content-Type", "text/plain"}, {"Origin", "http://evil.test"}});
  EXPECT_EQ(from_page.status, 403) << from_page.raw;
  EXPECT_EQ(Plain("POST", "/_emulator/faults", faults,
                  {{"Content-Type", "application/json"}, {"Origin", "http://evil.test"}})
                .status,
            403);
  EXPECT_EQ(Plain("POST", "/_emulator/reset", "", {{"Sec-Fetch-Site", "cross-site"}}).status, 403);
  EXPECT_EQ(Plain("GET", "/_emulator/state", "", {{"Sec-Fetch-Site", "same-site"}}).status, 403);
  Response plain_text =
      Plain("POST", "/_emulator/faults", faults, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(plain_text.status, 403);
  EXPECT_THAT(plain_text.raw, HasSubstr("application/json"));
  // None of them changed the faults; a tool's request does.
  EXPECT_EQ(Sso("ListInstances", json::object()).status, 200);
  EXPECT_EQ(Plain("GET", "/_emulator/state", "", {{"Sec-Fetch-Site", "none"}}).status, 200);
  EXPECT_EQ(Plain("POST", "/_emulator/faults", faults).status, 200);
  EXPECT_EQ(Sso("ListInstances", json::object()).Type(), "ThrottlingException");
}

// Beyond loopback (or with control_needs_key) the control endpoints need the secret key.
TEST_F(EmulatorTest, ControlEndpointsNeedTheSecretKeyWhenAskedTo) {
  EmulatorOptions options;
  options.access_key_id = "AKIDCUSTOM";
  options.secret_access_key = "custom-secret";
  options.control_needs_key = true;
  StartWith(options);
  EXPECT_TRUE(emulator_->control_needs_key());
  Response none = Plain("GET", "/_emulator/state", "");
  EXPECT_EQ(none.status, 403);
  EXPECT_THAT(none.raw, HasSubstr("Authorization: Bearer"));
  EXPECT_EQ(Plain("POST", "/_emulator/reset", "", {{"Authorization", "Bearer jit-emulator-secret"}})
                .status,
            403);
  EXPECT_EQ(Plain("POST", "/_emulator/reset", "", {{"Authorization", "custom-secret"}}).status,
            403);
  EXPECT_EQ(
      Plain("GET", "/_emulator/state", "", {{"Authorization", "Bearer custom-secret"}}).status,
      200);
  EXPECT_EQ(
      Plain("POST", "/_emulator/reset", "", {{"Authorization", "Bearer custom-secret"}}).status,
      200);
}

TEST_F(EmulatorTest, ReportsTheAddressItListensOn) {
  EXPECT_EQ(emulator_->listen_address(), "127.0.0.1:" + std::to_string(emulator_->port()));
  EXPECT_EQ(emulator_->url(), "http://" + emulator_->listen_address());
  EXPECT_FALSE(emulator_->control_needs_key());
}

// --- assignment history (the ground truth of tests/crash and tests/fault) --------------------

TEST_F(EmulatorTest, HistoryCountsEachCreateAndDeleteAndWhatItChanged) {
  json a = Assignment("111111111111", kReadOnly, "USER", kBob);
  const std::int64_t t0 = ToUnixMillis(clock_.Now());
  EXPECT_EQ(Settle(true, a)["Status"], "SUCCEEDED");   // added
  EXPECT_EQ(Settle(true, a)["Status"], "SUCCEEDED");   // there already
  EXPECT_EQ(Settle(false, a)["Status"], "SUCCEEDED");  // removed
  EXPECT_EQ(Settle(false, a)["Status"], "SUCCEEDED");  // gone already

  json h = emulator_->History();
  ASSERT_THAT(h["triples"], SizeIs(1));
  EXPECT_EQ(h["triples"][0], json({{"AccountId", "111111111111"},
                                   {"PermissionSetArn", kReadOnly},
                                   {"PrincipalType", "USER"},
                                   {"PrincipalId", kBob},
                                   {"create_calls", 2},
                                   {"creates_succeeded", 2},
                                   {"creates_failed", 0},
                                   {"added", 1},
                                   {"delete_calls", 2},
                                   {"deletes_succeeded", 2},
                                   {"deletes_failed", 0},
                                   {"removed", 1}}));
  ASSERT_THAT(h["events"], SizeIs(8));
  std::vector<std::string> effects;
  for (const json& e : h["events"]) {
    effects.push_back(e["operation"].get<std::string>() + ":" + e["phase"].get<std::string>() +
                      ":" + e["effect"].get<std::string>());
  }
  EXPECT_EQ(effects,
            (std::vector<std::string>{"create:accepted:none", "create:settled:added",
                                      "create:accepted:none", "create:settled:present_already",
                                      "delete:accepted:none", "delete:settled:removed",
                                      "delete:accepted:none", "delete:settled:absent_already"}));
  // Each operation ends `completion_delay` after it was accepted, by the emulator's clock, and
  // both phases name the same request id.
  const json& accepted = h["events"][0];
  const json& settled = h["events"][1];
  EXPECT_EQ(accepted["at_ms"], t0);
  EXPECT_EQ(settled["at_ms"], t0 + options_.completion_delay.count());
  EXPECT_EQ(accepted["request_id"], settled["request_id"]);
  EXPECT_EQ(accepted["status"], "IN_PROGRESS");
  EXPECT_EQ(settled["status"], "SUCCEEDED");
  EXPECT_EQ(h["events"][7]["seq"], 8);
  EXPECT_EQ(h["last_seq"], 8);
  EXPECT_EQ(h["dropped"], 0);
  // The same counts are part of the state.
  EXPECT_EQ(emulator_->State()["assignment_calls"], h["triples"]);
}

TEST_F(EmulatorTest, HistoryRecordsFailedOperationsAsChangingNothing) {
  Faults f;
  f.failed_rate = 1;
  emulator_->SetFaults(f);
  EXPECT_EQ(Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice))["Status"], "FAILED");
  json h = emulator_->History();
  ASSERT_THAT(h["triples"], SizeIs(1));
  EXPECT_EQ(h["triples"][0]["create_calls"], 1);
  EXPECT_EQ(h["triples"][0]["creates_failed"], 1);
  EXPECT_EQ(h["triples"][0]["creates_succeeded"], 0);
  EXPECT_EQ(h["triples"][0]["added"], 0);
  ASSERT_THAT(h["events"], SizeIs(2));
  EXPECT_EQ(h["events"][1]["status"], "FAILED");
  EXPECT_EQ(h["events"][1]["effect"], "none");
}

TEST_F(EmulatorTest, HistoryIsSettledWhenReadWithoutAnotherCall) {
  // The emulator settles lazily; reading the history settles what is due first, with the
  // operation's own due time (not the time of the read).
  json a = Assignment("111111111111", kReadOnly, "USER", kCarol);
  ASSERT_EQ(Sso("CreateAccountAssignment", a).status, 200);
  const std::int64_t due = ToUnixMillis(clock_.Now()) + options_.completion_delay.count();
  clock_.Advance(std::chrono::seconds(30));
  json h = emulator_->History();
  ASSERT_THAT(h["events"], SizeIs(2));
  EXPECT_EQ(h["events"][1]["effect"], "added");
  EXPECT_EQ(h["events"][1]["at_ms"], due);
}

TEST_F(EmulatorTest, HistoryEndpointReadsAfterASeqAndIsClearedByReset) {
  Settle(true, Assignment("222222222222", kAdmin, "USER", kAlice));
  Settle(false, Assignment("222222222222", kAdmin, "USER", kAlice));
  Response all = Plain("GET", "/_emulator/history", "");
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(all.headers["content-type"], "application/json");
  ASSERT_THAT(all.body["events"], SizeIs(4));
  Response tail = Plain("GET", "/_emulator/history?after=2", "");
  ASSERT_EQ(tail.status, 200) << tail.raw;
  ASSERT_THAT(tail.body["events"], SizeIs(2));
  EXPECT_EQ(tail.body["events"][0]["seq"], 3);
  EXPECT_EQ(tail.body["events"][0]["operation"], "delete");
  EXPECT_THAT(tail.body["triples"], SizeIs(1));  // the counts are always whole
  for (const char* bad : {"after=x", "after=-1", "after=", "after=1x"}) {
    EXPECT_EQ(Plain("GET", std::string("/_emulator/history?") + bad, "").status, 400) << bad;
  }
  EXPECT_EQ(Plain("POST", "/_emulator/history", "").status, 405);
  ASSERT_EQ(Plain("POST", "/_emulator/reset", "").status, 200);
  Response cleared = Plain("GET", "/_emulator/history", "");
  EXPECT_THAT(cleared.body["events"], SizeIs(0));
  EXPECT_THAT(cleared.body["triples"], SizeIs(0));
  EXPECT_EQ(cleared.body["last_seq"], 0);
}

TEST(AssignmentHistory, DropsTheOldestEventsButKeepsTheCounts) {
  AssignmentHistory h(/*max_events=*/3);
  AssignmentHistory::Key k{"111111111111", kReadOnly, "USER", kBob};
  FakeClock clock;
  for (int i = 0; i < 3; ++i) {
    h.Accepted(true, k, "r" + std::to_string(i), clock.Now());
    h.Settled(true, k, "r" + std::to_string(i), clock.Now(), true, i == 0);
  }
  json j = h.ToJson();
  ASSERT_THAT(j["events"], SizeIs(3));
  EXPECT_EQ(j["events"][0]["seq"], 4);
  EXPECT_EQ(j["dropped"], 3);
  EXPECT_EQ(j["last_seq"], 6);
  EXPECT_EQ(j["triples"][0]["create_calls"], 3);
  EXPECT_EQ(j["triples"][0]["added"], 1);
}

TEST_F(EmulatorTest, HandleRawAnswersAsTheServerDoes) {
  RawResponse unsigned_call = emulator_->HandleRaw(
      {"POST", "/", {{"X-Amz-Target", "SWBExternalService.ListInstances"}}, "{}"});
  EXPECT_EQ(unsigned_call.status, 403);
  EXPECT_EQ(unsigned_call.error_type, "MissingAuthenticationTokenException");
  RawResponse state = emulator_->HandleRaw({"GET", "/_emulator/state", {}, ""});
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.content_type, "application/json");
  EXPECT_TRUE(json::parse(state.body).contains("assignments"));
  // Whatever Beast will not carry is a 400, not an exception.
  RawResponse odd = emulator_->HandleRaw({"P O\r\nST", "/\r\n", {{"a\nb", "c\r\nd"}}, "x"});
  EXPECT_GE(odd.status, 400);
}

// --- the broker's own AWS client ---------------------------------------------------------------

TEST_F(EmulatorTest, TheAwsJsonClientOverCurlTalksToTheEmulator) {
  std::unique_ptr<aws::HttpTransport> http = aws::NewCurlTransport();
  std::unique_ptr<aws::CredentialSource> creds =
      aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
  std::unique_ptr<aws::Limiter> limiter = aws::NewLimiter(clock_, 0, 10);
  std::vector<Duration> sleeps;
  aws::RetryPolicy retry;
  retry.sleep = [&](Duration d) { sleeps.push_back(d); };
  aws::JsonClient sso({emulator_->url(), "us-east-1", "sso", "SWBExternalService"}, *http, *creds,
                      *limiter, clock_, retry);
  aws::JsonClient ids({emulator_->url(), "us-east-1", "identitystore", "AWSIdentityStore"}, *http,
                      *creds, *limiter, clock_, retry);

  Result<json> sets = sso.Call("ListPermissionSets", {{"InstanceArn", kInstance}});
  ASSERT_OK(sets);
  EXPECT_THAT((*sets)["PermissionSets"], SizeIs(3));
  Result<json> user = ids.Call(
      "GetUserId",
      {{"IdentityStoreId", kStore},
       {"AlternateIdentifier",
        {{"UniqueAttribute", {{"AttributePath", "userName"}, {"AttributeValue", "alice"}}}}}});
  ASSERT_OK(user);
  EXPECT_EQ((*user)["UserId"], kAlice);
  Result<json> created =
      sso.Call("CreateAccountAssignment", Assignment("222222222222", kAdmin, "USER", kAlice));
  ASSERT_OK(created);
  EXPECT_EQ((*created)["AccountAssignmentCreationStatus"]["Status"], "IN_PROGRESS");

  EXPECT_THAT(
      sso.Call("DescribePermissionSet",
               {{"InstanceArn", kInstance},
                {"PermissionSetArn",
                 "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999"}}),
      StatusIs(StatusCode::kNotFound, HasSubstr("ResourceNotFoundException")));
  EXPECT_THAT(sso.Call("ListPermissionSets", json::object()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InstanceArn")));
  EXPECT_THAT(
      sso.Call("DeleteAccountAssignment", Assignment("222222222222", kAdmin, "USER", kAlice)),
      StatusIs(StatusCode::kAborted, HasSubstr("ConflictException")));

  Faults f;
  f.throttle_rate = 1;
  emulator_->SetFaults(f);
  EXPECT_THAT(sso.Call("ListInstances", json::object()), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(emulator_->State()["calls"]["ListInstances"], retry.max_attempts);
  EXPECT_EQ(sleeps.size(), static_cast<std::size_t>(retry.max_attempts - 1));
}

// The provider's PermissionSetPolicies (provider/identity_center.h) over curl against the
// emulator: the calls session cut-off will make, end to end on the wire.
TEST_F(EmulatorTest, IdentityCenterProviderPutsReadsAndProvisionsInlinePolicies) {
  std::unique_ptr<aws::HttpTransport> http = aws::NewCurlTransport();
  std::unique_ptr<aws::CredentialSource> creds =
      aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
  std::unique_ptr<aws::Limiter> limiter = aws::NewLimiter(clock_, 0, 10);
  aws::RetryPolicy retry;
  retry.sleep = [](Duration) {};
  aws::JsonClient sso(provider::SsoAdminSpec(emulator_->url(), "us-east-1"), *http, *creds,
                      *limiter, clock_, retry);
  aws::JsonClient ids(provider::IdentityStoreSpec(emulator_->url(), "us-east-1"), *http, *creds,
                      *limiter, clock_, retry);
  provider::IdentityCenterOptions options;
  options.instance_arn = kInstance;
  options.identity_store_id = kStore;
  provider::IdentityCenterProvider p(options, sso, ids, *limiter, clock_);

  ASSERT_OK(p.GetInlinePolicy(kAdmin));
  EXPECT_EQ(*p.GetInlinePolicy(kAdmin), "");
  ASSERT_OK(p.PutInlinePolicy(kAdmin, kPolicy));
  EXPECT_EQ(*p.GetInlinePolicy(kAdmin), kPolicy);

  Result<provider::Operation> op = p.ProvisionPermissionSet(kAdmin, "222222222222");
  ASSERT_OK(op);
  EXPECT_EQ(op->state, provider::OperationState::kInProgress);
  EXPECT_TRUE(std::regex_match(op->id, kUuid)) << op->id;
  Result<provider::Operation> st = p.ProvisionStatus(op->id);
  ASSERT_OK(st);
  EXPECT_EQ(st->state, provider::OperationState::kInProgress);
  clock_.Advance(options_.completion_delay);
  st = p.ProvisionStatus(op->id);
  ASSERT_OK(st);
  EXPECT_EQ(st->state, provider::OperationState::kSucceeded);
  EXPECT_EQ(st->id, op->id);
  EXPECT_EQ(StatePermissionSet(emulator_->State(), kAdmin)["provisioned"],
            json({{"222222222222", kPolicy}}));

  ASSERT_OK(p.DeleteInlinePolicy(kAdmin));
  EXPECT_EQ(*p.GetInlinePolicy(kAdmin), "");

  const std::string unknown =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999";
  EXPECT_THAT(p.GetInlinePolicy(unknown), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.PutInlinePolicy(unknown, kPolicy), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.ProvisionPermissionSet(kAdmin, "333333333333"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(p.ProvisionStatus("00000000-0000-4000-8000-000000000000"),
              StatusIs(StatusCode::kNotFound));
  // Refused before the wire: the emulator never sees it.
  EXPECT_THAT(p.PutInlinePolicy(kAdmin, "[]"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(emulator_->State()["calls"]["PutInlinePolicyToPermissionSet"], 2);
}

// --- seed and options --------------------------------------------------------------------------

TEST(Seed, DefaultSeedMatchesTheDevUsersAndTheirGroups) {
  Seed seed = DefaultSeed();
  ASSERT_OK(seed.Validate());
  for (const auth::DevUser& dev : auth::DevUsers()) {
    const SeedUser* user = nullptr;
    for (const SeedUser& u : seed.users) {
      if (u.user_name == dev.username) user = &u;
    }
    ASSERT_NE(user, nullptr) << dev.username;
    EXPECT_EQ(user->user_id, dev.principal_id);
    std::set<std::string> groups;
    for (const SeedGroup& g : seed.groups) {
      for (const std::string& m : g.members) {
        if (m == dev.username) groups.insert(g.display_name);
      }
    }
    EXPECT_EQ(groups, std::set<std::string>(dev.groups.begin(), dev.groups.end())) << dev.username;
  }
  ASSERT_EQ(seed.accounts.size(), 2u);
  EXPECT_EQ(seed.accounts[0].id, "111111111111");
  EXPECT_EQ(seed.accounts[1].id, "222222222222");
  ASSERT_EQ(seed.permission_sets.size(), 3u);
  EXPECT_EQ(seed.permission_sets[2].name, "BreakGlass");
  EXPECT_EQ(seed.permission_sets[2].arn, kBreakGlass);
}

TEST(Seed, LoadSeedReadsAFileAndRefusesBadOnes) {
  testing::TempDir dir;
  std::string path = (dir.path() / "seed.json").string();
  std::ofstream(path) << R"({
    "accounts": [{"id": "333333333333", "name": "lab"}],
    "permission_sets": [{"name": "Dev",
      "arn": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-4444444444444444",
      "session_duration": "PT2H"}],
    "users": [{"user_name": "dave", "user_id": "da7e0000-0000-4000-8000-000000000004",
               "display_name": "Dave", "emails": ["dave@example.com"]}],
    "groups": [{"display_name": "lab", "group_id": "1ab00000-0000-4000-8000-000000000015",
                "members": ["dave"]}],
    "assignments": [{"account_id": "333333333333",
      "permission_set_arn": "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-4444444444444444",
      "principal_type": "GROUP", "principal_id": "1ab00000-0000-4000-8000-000000000015"}]
  })";
  Result<Seed> seed = LoadSeed(path);
  ASSERT_OK(seed);
  EXPECT_EQ(seed->instance.arn, kInstance);
  ASSERT_EQ(seed->users.size(), 1u);
  EXPECT_EQ(seed->users[0].user_name, "dave");
  EXPECT_EQ(seed->permission_sets[0].session_duration, "PT2H");
  ASSERT_EQ(seed->assignments.size(), 1u);

  EXPECT_THAT(LoadSeed((dir.path() / "missing.json").string()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(ParseSeed("{"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSeed(R"({"users": [{"user_name": "x", "user_id": "nope"}]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("users[0].user_id")));
  EXPECT_THAT(ParseSeed(R"({"groups": [{"display_name": "g",
                "group_id": "1ab00000-0000-4000-8000-000000000015", "members": ["ghost"]}]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("ghost")));
  EXPECT_THAT(ParseSeed(R"({"accounts": 3})"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSeed(R"({"extra": []})"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(SeedEmulator, ASeededAssignmentIsListedAndSurvivesReset) {
  FakeClock clock;
  EmulatorOptions o;
  o.seed.assignments.push_back({"111111111111", kReadOnly, "USER", kAlice});
  Emulator e(o, clock);
  ASSERT_OK(e.Start());
  EXPECT_THAT(e.State()["assignments"], SizeIs(1));
  e.Reset();
  EXPECT_THAT(e.State()["assignments"], SizeIs(1));
  e.Stop();
  e.Stop();  // idempotent
}

TEST(EmulatorOptionsTest, StartRefusesBadOptions) {
  FakeClock clock;
  EmulatorOptions o;
  o.listen = "0.0.0.0:0";
  Emulator open(o, clock);
  EXPECT_THAT(open.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("loopback")));
  o.listen = "127.0.0.1";
  EXPECT_THAT(Emulator(o, clock).Start(), StatusIs(StatusCode::kInvalidArgument));
  o.listen = "127.0.0.1:0";
  o.faults.throttle_rate = 1.5;
  EXPECT_THAT(Emulator(o, clock).Start(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("throttle_rate")));
  o.faults = Faults();
  o.seed.accounts.push_back({"1", "bad"});
  EXPECT_THAT(Emulator(o, clock).Start(), StatusIs(StatusCode::kInvalidArgument));
  Emulator ok(EmulatorOptions(), clock);
  ASSERT_OK(ok.Start());
  EXPECT_EQ(ok.url(), "http://127.0.0.1:" + std::to_string(ok.port()));
  EXPECT_THAT(ok.Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(FaultsJson, RoundTripsAndMergesOverABase) {
  Faults base;
  base.failed_rate = 0.5;
  Result<Faults> f = FaultsFromJson(json{{"throttle_rate", 0.25}, {"latency_ms", 10}}, base);
  ASSERT_OK(f);
  EXPECT_DOUBLE_EQ(f->throttle_rate, 0.25);
  EXPECT_DOUBLE_EQ(f->failed_rate, 0.5);
  EXPECT_EQ(f->latency, Duration(10));
  Result<Faults> back = FaultsFromJson(FaultsToJson(*f), Faults());
  ASSERT_OK(back);
  EXPECT_EQ(FaultsToJson(*back), FaultsToJson(*f));
  EXPECT_THAT(FaultsFromJson(json{{"conflicts", "yes"}}, base),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace jit::emulator
