// The emulator's STS AssumeRole and CloudTrail LookupEvents (emulator/cloudtrail.h), driven
// through jit's own signed clients over loopback: the temporary key is good for its account
// only, and LookupEvents filters, orders and pages as CloudTrail does.

#include "emulator/cloudtrail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "aws/assume_role.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/query_client.h"
#include "core/clock.h"
#include "core/testing.h"
#include "core/time_format.h"
#include "emulator/emulator.h"

namespace jit::emulator {
namespace cloudtrail_test {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kSandbox[] = "111111111111";
constexpr char kProd[] = "222222222222";

json Event(const std::string& account, const std::string& user, const std::string& ps,
           const std::string& name, const std::string& time) {
  return {{"account_id", account},
          {"user_name", user},
          {"permission_set", ps},
          {"event_name", name},
          {"event_source", "s3.amazonaws.com"},
          {"event_time", time}};
}

class CloudTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.seed.cloudtrail_events =
        json::array({Event(kProd, "alice", "Admin", "ListBuckets", "2026-12-05T11:00:00Z"),
                     Event(kProd, "bob", "Admin", "GetObject", "2026-12-05T11:10:00Z"),
                     Event(kSandbox, "alice", "Admin", "PutObject", "2026-12-05T11:20:00Z")});
    emulator_ = std::make_unique<Emulator>(options, clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    root_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    limiter_ = aws::NewLimiter(clock_, 0, 0);
  }

  aws::QueryClient Sts(aws::CredentialSource& creds) {
    return aws::QueryClient({emulator_->url(), "us-east-1", "sts", "2011-06-15"}, *http_, creds,
                            *limiter_, clock_, {.max_attempts = 1});
  }
  aws::JsonClient CloudTrail(aws::CredentialSource& creds) {
    return aws::JsonClient({emulator_->url(), "us-east-1", "cloudtrail",
                            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"},
                           *http_, creds, *limiter_, clock_, {.max_attempts = 1});
  }
  std::unique_ptr<aws::CredentialSource> Role(const std::string& account) {
    aws::AssumeRoleSpec spec;
    spec.role_arn = "arn:aws:iam::" + std::string(account) + ":role/jit-activity-reader";
    spec.sts = {emulator_->url(), "us-east-1", "sts", "2011-06-15"};
    return aws::NewAssumeRoleCredentials(spec, *http_, *root_, *limiter_, clock_,
                                         {.max_attempts = 1});
  }
  static json ByUser(const std::string& user) {
    return {{"LookupAttributes", {{{"AttributeKey", "Username"}, {"AttributeValue", user}}}}};
  }
  static std::vector<std::string> Names(const json& answer) {
    std::vector<std::string> out;
    for (const json& e : answer["Events"]) out.push_back(e["EventName"].get<std::string>());
    return out;
  }

  // Control endpoint calls (no socket needed).
  RawResponse Control(const std::string& method, const json& body) {
    RawRequest req{method, "/_emulator/cloudtrail/events", {}, ""};
    if (!body.is_null()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body.dump();
    }
    return emulator_->HandleRaw(req);
  }

  FakeClock clock_{ParseRfc3339("2026-12-05T12:00:00Z").value()};
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> root_;
  std::unique_ptr<aws::Limiter> limiter_;
};

TEST_F(CloudTrailTest, AssumeRoleAnswersTemporaryCredentialsOfThatAccount) {
  aws::QueryClient sts = Sts(*root_);
  Result<std::string> xml =
      sts.Call("AssumeRole", {{"RoleArn", "arn:aws:iam::222222222222:role/jit-activity-reader"},
                              {"RoleSessionName", "jit-activity"},
                              {"DurationSeconds", "900"}});
  ASSERT_OK(xml);
  EXPECT_THAT(*xml, HasSubstr("<Arn>arn:aws:sts::222222222222:assumed-role/jit-activity-reader/"
                              "jit-activity</Arn>"));
  Result<aws::Credentials> creds = aws::ParseAssumeRoleResponse(*xml);
  ASSERT_OK(creds);
  EXPECT_EQ(creds->access_key_id.substr(0, 4), "ASIA");
  EXPECT_FALSE(creds->session_token.empty());
  EXPECT_EQ(*creds->expiration, clock_.Now() + std::chrono::seconds(900));

  // GetCallerIdentity with the temporary key names the assumed role.
  auto temp = aws::NewStaticCredentials(*creds);
  aws::QueryClient as_role = Sts(*temp);
  Result<std::string> who = as_role.Call("GetCallerIdentity", {});
  ASSERT_OK(who);
  EXPECT_THAT(*who, HasSubstr("<Account>222222222222</Account>"));
  EXPECT_THAT(emulator_->State()["assumed_roles"], SizeIs(1));
}

TEST_F(CloudTrailTest, AssumeRoleRefusesUnknownAccountsAndBadInput) {
  aws::QueryClient sts = Sts(*root_);
  EXPECT_THAT(sts.Call("AssumeRole", {{"RoleArn", "arn:aws:iam::333333333333:role/reader"},
                                      {"RoleSessionName", "jit"}}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("AccessDenied")));
  EXPECT_THAT(
      sts.Call("AssumeRole", {{"RoleArn", "not-an-arn-at-all-really"}, {"RoleSessionName", "jit"}}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("ValidationError")));
  EXPECT_THAT(sts.Call("AssumeRole", {{"RoleArn", "arn:aws:iam::222222222222:role/reader"},
                                      {"RoleSessionName", "j"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("roleSessionName")));
  EXPECT_THAT(sts.Call("AssumeRole", {{"RoleArn", "arn:aws:iam::222222222222:role/reader"},
                                      {"RoleSessionName", "jit"},
                                      {"DurationSeconds", "60"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("durationSeconds")));
}

TEST_F(CloudTrailTest, TheAssumedRoleReadsOnlyItsOwnAccount) {
  auto prod = Role(kProd);
  aws::JsonClient trail = CloudTrail(*prod);
  Result<json> answer = trail.Call("LookupEvents", ByUser("alice"));
  ASSERT_OK(answer);
  // alice's sandbox event is in another account: not answered here.
  EXPECT_EQ(Names(*answer), std::vector<std::string>{"ListBuckets"});
  const json& e = (*answer)["Events"][0];
  EXPECT_EQ(e["Username"], "alice");
  EXPECT_EQ(e["ReadOnly"], "true");
  EXPECT_EQ(e["EventSource"], "s3.amazonaws.com");
  EXPECT_DOUBLE_EQ(
      e["EventTime"].get<double>(),
      static_cast<double>(ToUnixMillis(ParseRfc3339("2026-12-05T11:00:00Z").value())) / 1000.0);
  json record = json::parse(e["CloudTrailEvent"].get<std::string>());
  EXPECT_EQ(record["userIdentity"]["type"], "AssumedRole");
  EXPECT_EQ(record["userIdentity"]["arn"], "arn:aws:sts::222222222222:assumed-role/" +
                                               ReservedSsoRoleName(kProd, "Admin") + "/alice");
  EXPECT_EQ(record["recipientAccountId"], kProd);

  auto sandbox = Role(kSandbox);
  aws::JsonClient sandbox_trail = CloudTrail(*sandbox);
  Result<json> other = sandbox_trail.Call("LookupEvents", ByUser("alice"));
  ASSERT_OK(other);
  EXPECT_EQ(Names(*other), std::vector<std::string>{"PutObject"});

  // The temporary key is for CloudTrail only, and not without its session token.
  aws::JsonClient sso({emulator_->url(), "us-east-1", "sso", "SWBExternalService"}, *http_, *prod,
                      *limiter_, clock_, {.max_attempts = 1});
  EXPECT_THAT(sso.Call("ListInstances", json::object()),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("AccessDeniedException")));
  Result<aws::Credentials> keys = prod->Get();
  ASSERT_OK(keys);
  aws::Credentials no_token = *keys;
  no_token.session_token.clear();
  auto bare = aws::NewStaticCredentials(no_token);
  EXPECT_THAT(CloudTrail(*bare).Call("LookupEvents", ByUser("alice")),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("security token")));
}

TEST_F(CloudTrailTest, TheTemporaryKeyExpires) {
  auto prod = Role(kProd);
  Result<aws::Credentials> keys = prod->Get();
  ASSERT_OK(keys);
  auto fixed = aws::NewStaticCredentials(*keys);
  clock_.Advance(std::chrono::seconds(901));
  EXPECT_THAT(CloudTrail(*fixed).Call("LookupEvents", ByUser("alice")),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("ExpiredToken")));
  // The source asks again in time: its key works.
  EXPECT_OK(CloudTrail(*prod).Call("LookupEvents", ByUser("alice")));
}

TEST_F(CloudTrailTest, LookupEventsFiltersByTimeNewestFirstAndPages) {
  std::vector<json> added;
  for (int i = 0; i < 7; ++i) {
    added.push_back(Event(kProd, "carol", "ReadOnly", "Describe" + std::to_string(i),
                          "2026-12-05T10:0" + std::to_string(i) + ":00Z"));
  }
  RawResponse res = Control("POST", json{{"events", added}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_THAT(json::parse(res.body)["event_ids"], SizeIs(7));

  auto prod = Role(kProd);
  aws::JsonClient trail = CloudTrail(*prod);
  json in = ByUser("carol");
  in["StartTime"] = ToUnixMillis(ParseRfc3339("2026-12-05T10:01:00Z").value()) / 1000;
  in["EndTime"] = ToUnixMillis(ParseRfc3339("2026-12-05T10:05:00Z").value()) / 1000;
  in["MaxResults"] = 2;
  std::vector<std::string> names;
  int pages = 0;
  while (true) {
    Result<json> page = trail.Call("LookupEvents", in);
    ASSERT_OK(page);
    ++pages;
    for (const std::string& n : Names(*page)) names.push_back(n);
    if (!page->contains("NextToken")) break;
    in["NextToken"] = (*page)["NextToken"];
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"Describe5", "Describe4", "Describe3", "Describe2",
                                             "Describe1"}));

  // A token of other inputs, more than one attribute, a bad range or page size are refused.
  json other = ByUser("alice");
  other["NextToken"] = "2:0000000000000000";
  EXPECT_THAT(trail.Call("LookupEvents", other),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidNextTokenException")));
  json two = ByUser("alice");
  two["LookupAttributes"].push_back({{"AttributeKey", "EventName"}, {"AttributeValue", "X"}});
  EXPECT_THAT(
      trail.Call("LookupEvents", two),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidLookupAttributesException")));
  json range = {{"StartTime", 200}, {"EndTime", 100}};
  EXPECT_THAT(trail.Call("LookupEvents", range),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidTimeRangeException")));
  json many = {{"MaxResults", 51}};
  EXPECT_THAT(trail.Call("LookupEvents", many),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidMaxResultsException")));
}

TEST_F(CloudTrailTest, TestEndpointsAddClearAndResetEvents) {
  RawResponse bad = Control(
      "POST", json{{"events", {Event("999999999999", "a", "Admin", "X", "2026-12-05T10:00:00Z")}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("names no seed account"));
  EXPECT_EQ(emulator_->State()["cloudtrail_events"], 3);
  RawResponse cleared = Control("DELETE", nullptr);
  EXPECT_EQ(cleared.status, 200);
  EXPECT_EQ(emulator_->State()["cloudtrail_events"], 0);
  emulator_->Reset();
  EXPECT_EQ(emulator_->State()["cloudtrail_events"], 3);
}

TEST_F(CloudTrailTest, CallsMadeWithASessionAreRecorded) {
  // A seed where alice holds prod Admin, so that a session can be opened.
  EmulatorOptions options;
  const std::string admin =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  std::string alice_id;
  for (const SeedUser& u : options.seed.users) {
    if (u.user_name == "alice") alice_id = u.user_id;
  }
  options.seed.assignments.push_back({kProd, admin, "USER", alice_id});
  Emulator emulator(options, clock_);
  auto raw = [&](const std::string& target, const json& body) {
    return emulator.HandleRaw(
        {"POST", target, {{"Content-Type", "application/json"}}, body.dump()});
  };
  RawResponse opened =
      raw("/_emulator/sessions",
          {{"user_name", "alice"}, {"account_id", kProd}, {"permission_set_arn", admin}});
  ASSERT_EQ(opened.status, 201) << opened.body;
  std::string session = json::parse(opened.body)["session_id"];
  for (const char* action : {"ec2:DescribeInstances", "ec2:TerminateInstances"}) {
    RawResponse called = raw("/_emulator/sessions/" + session + "/calls", {{"action", action}});
    ASSERT_EQ(called.status, 200) << called.body;
  }
  EXPECT_EQ(emulator.State()["cloudtrail_events"], 2);
  // Read back through the wire, as the broker would: the prod role's key.
  ASSERT_OK(emulator.Start());
  aws::AssumeRoleSpec spec;
  spec.role_arn = "arn:aws:iam::222222222222:role/jit-activity-reader";
  spec.sts = {emulator.url(), "us-east-1", "sts", "2011-06-15"};
  auto role =
      aws::NewAssumeRoleCredentials(spec, *http_, *root_, *limiter_, clock_, {.max_attempts = 1});
  aws::JsonClient trail({emulator.url(), "us-east-1", "cloudtrail",
                         "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"},
                        *http_, *role, *limiter_, clock_, {.max_attempts = 1});
  Result<json> answer = trail.Call("LookupEvents", ByUser("alice"));
  ASSERT_OK(answer);
  ASSERT_EQ((*answer)["Events"].size(), 2u);
  std::map<std::string, std::string> read_only;
  for (const json& e : (*answer)["Events"]) {
    EXPECT_EQ(e["EventSource"], "ec2.amazonaws.com");
    read_only[e["EventName"]] = e["ReadOnly"];
    json record = json::parse(e["CloudTrailEvent"].get<std::string>());
    EXPECT_EQ(record["userIdentity"]["arn"], "arn:aws:sts::222222222222:assumed-role/" +
                                                 ReservedSsoRoleName(kProd, "Admin") + "/alice");
  }
  EXPECT_EQ(read_only, (std::map<std::string, std::string>{{"DescribeInstances", "true"},
                                                           {"TerminateInstances", "false"}}));
  emulator.Stop();
}

TEST(CloudTrailSeed, RefusesBadEvents) {
  Result<Seed> ok = ParseSeed(R"({"accounts": [{"id": "111111111111"}],
      "cloudtrail_events": [{"account_id": "111111111111", "user_name": "alice",
        "permission_set": "Admin", "event_name": "ListBuckets",
        "event_source": "s3.amazonaws.com", "event_time": "2026-12-05T10:00:00Z",
        "read_only": false, "error_code": "AccessDenied",
        "resources": [{"type": "AWS::S3::Bucket", "name": "logs"}]}]})");
  EXPECT_OK(ok);
  EXPECT_THAT(ParseSeed(R"({"accounts": [{"id": "111111111111"}],
      "cloudtrail_events": [{"account_id": "111111111111", "user_name": "alice",
        "permission_set": "Admin", "event_name": "ListBuckets",
        "event_source": "s3.amazonaws.com", "event_time": "yesterday"}]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("event_time")));
  EXPECT_THAT(ParseSeed(R"({"accounts": [{"id": "111111111111"}],
      "cloudtrail_events": [{"account_id": "111111111111", "user": "alice"}]})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown member \"user\"")));
}

}  // namespace
}  // namespace cloudtrail_test
}  // namespace jit::emulator
