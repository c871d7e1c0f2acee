// The emulator's SNS, STS, EventBridge and Security Hub stand-ins, driven through jit's own
// signed clients (aws/query_client.h, aws/json_client.h) over loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/query_client.h"
#include "core/clock.h"
#include "core/testing.h"
#include "emulator/emulator.h"

namespace jit::emulator {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kTopic[] = "arn:aws:sns:us-east-1:111111111111:jit";

class NotifyServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<Emulator>(EmulatorOptions(), clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    creds_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    wrong_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "not-the-secret", "", {}});
    limiter_ = aws::NewLimiter(clock_, 0, 0);
  }

  aws::QueryClient Sns(aws::CredentialSource* creds = nullptr, std::string region = "us-east-1") {
    return aws::QueryClient({emulator_->url(), std::move(region), "sns", "2010-03-31"}, *http_,
                            creds ? *creds : *creds_, *limiter_, clock_, {.max_attempts = 1});
  }
  aws::JsonClient Events(aws::CredentialSource* creds = nullptr, std::string signing = "events") {
    return aws::JsonClient({emulator_->url(), "us-east-1", std::move(signing), "AWSEvents"}, *http_,
                           creds ? *creds : *creds_, *limiter_, clock_, {.max_attempts = 1});
  }
  aws::JsonClient Hub(aws::CredentialSource* creds = nullptr) {
    return aws::JsonClient({emulator_->url(), "us-east-1", "securityhub", ""}, *http_,
                           creds ? *creds : *creds_, *limiter_, clock_, {.max_attempts = 1});
  }

  static json Finding(const std::string& id) {
    return {
        {"SchemaVersion", "2018-10-08"},
        {"Id", id},
        {"ProductArn", "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"},
        {"GeneratorId", "jit/breakglass"},
        {"AwsAccountId", "222222222222"},
        {"Types", {"Unusual Behaviors/User/Break-glass access"}},
        {"CreatedAt", "2026-01-01T00:00:00.000Z"},
        {"UpdatedAt", "2026-01-01T00:00:00.000Z"},
        {"Severity", {{"Label", "HIGH"}}},
        {"Title", "BREAK-GLASS"},
        {"Description", "carol used break-glass"},
        {"Resources", {{{"Type", "AwsAccount"}, {"Id", "AWS::::Account:222222222222"}}}}};
  }

  FakeClock clock_;
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> creds_;
  std::unique_ptr<aws::CredentialSource> wrong_;
  std::unique_ptr<aws::Limiter> limiter_;
};

TEST_F(NotifyServicesTest, SnsPublishRecordsTheMessageAndAnswersAMessageId) {
  aws::QueryClient sns = Sns();
  Result<std::string> xml =
      sns.Call("Publish", {{"TopicArn", kTopic},
                           {"Message", "{\"event\":\"request.created\"} & <more>"},
                           {"Subject", "Approval needed"},
                           {"MessageAttributes.entry.1.Name", "event"},
                           {"MessageAttributes.entry.1.Value.DataType", "String"},
                           {"MessageAttributes.entry.1.Value.StringValue", "request.created"}});
  ASSERT_OK(xml);
  std::optional<std::string> id = aws::XmlElementText(*xml, "MessageId");
  ASSERT_TRUE(id.has_value()) << *xml;
  json state = emulator_->State();
  ASSERT_THAT(state["sns"], SizeIs(1));
  EXPECT_EQ(state["sns"][0]["TopicArn"], kTopic);
  EXPECT_EQ(state["sns"][0]["Message"], "{\"event\":\"request.created\"} & <more>");
  EXPECT_EQ(state["sns"][0]["Subject"], "Approval needed");
  EXPECT_EQ(state["sns"][0]["MessageId"], *id);
  EXPECT_EQ(state["sns"][0]["MessageAttributes"]["event"]["StringValue"], "request.created");
}

TEST_F(NotifyServicesTest, SnsRefusesBadSignaturesAndInvalidInput) {
  aws::QueryClient wrong = Sns(wrong_.get());
  EXPECT_THAT(wrong.Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("SignatureDoesNotMatch")));
  aws::QueryClient other_region = Sns(nullptr, "eu-west-1");
  EXPECT_THAT(other_region.Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}),
              StatusIs(StatusCode::kUnauthenticated));
  aws::QueryClient sns = Sns();
  struct Case {
    std::vector<std::pair<std::string, std::string>> params;
    std::string code;
  };
  for (const Case& c : std::vector<Case>{
           {{{"Message", "x"}}, "InvalidParameter"},
           {{{"TopicArn", "arn:aws:sns:us-east-1:111:jit"}, {"Message", "x"}}, "InvalidParameter"},
           {{{"TopicArn", "arn:aws:sns:eu-west-1:111111111111:jit"}, {"Message", "x"}},
            "InvalidParameter"},
           {{{"TopicArn", kTopic}}, "ValidationError"},
           {{{"TopicArn", kTopic}, {"Message", ""}}, "InvalidParameter"},
           {{{"TopicArn", kTopic}, {"Message", std::string(256 * 1024 + 1, 'x')}},
            "InvalidParameter"},
           {{{"TopicArn", kTopic}, {"Message", "x"}, {"Subject", "two\nlines"}},
            "InvalidParameter"},
           {{{"TopicArn", kTopic}, {"Message", "x"}, {"Subject", std::string(101, 's')}},
            "InvalidParameter"},
           {{{"TopicArn", kTopic}, {"Message", "x"}, {"MessageGroupId", "g"}}, "InvalidParameter"},
           {{{"TopicArn", "arn:aws:sns:us-east-1:111111111111:jit.fifo"}, {"Message", "x"}},
            "InvalidParameter"},
       }) {
    Result<std::string> r = sns.Call("Publish", c.params);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.code)))
        << c.params.front().first;
  }
  EXPECT_THAT(emulator_->State()["sns"], SizeIs(0));
}

TEST_F(NotifyServicesTest, SnsFifoTopicsDropDuplicates) {
  aws::QueryClient sns = Sns();
  std::vector<std::pair<std::string, std::string>> params = {
      {"TopicArn", "arn:aws:sns:us-east-1:111111111111:jit.fifo"},
      {"Message", "x"},
      {"MessageGroupId", "req_1"},
      {"MessageDeduplicationId", "evt_1"}};
  Result<std::string> first = sns.Call("Publish", params);
  Result<std::string> again = sns.Call("Publish", params);
  ASSERT_OK(first);
  ASSERT_OK(again);
  EXPECT_EQ(aws::XmlElementText(*first, "MessageId"), aws::XmlElementText(*again, "MessageId"));
  EXPECT_THAT(emulator_->State()["sns"], SizeIs(1));
}

TEST_F(NotifyServicesTest, StsTellsTheCallersAccount) {
  aws::QueryClient sts({emulator_->url(), "us-east-1", "sts", "2011-06-15"}, *http_, *creds_,
                       *limiter_, clock_, {.max_attempts = 1});
  Result<std::string> xml = sts.Call("GetCallerIdentity", {});
  ASSERT_OK(xml);
  EXPECT_EQ(aws::XmlElementText(*xml, "Account"), "111111111111");
}

TEST_F(NotifyServicesTest, PutEventsRecordsEntriesAndReportsFailedOnes) {
  aws::JsonClient events = Events();
  json ok = {{"Source", "jit"},
             {"DetailType", "grant.activated"},
             {"Detail", R"({"event":"grant.activated"})"},
             {"EventBusName", "jit-events"}};
  json no_detail = {{"Source", "jit"}, {"DetailType", "grant.activated"}};
  json bad_detail = {{"Source", "jit"}, {"DetailType", "x"}, {"Detail", "[1,2]"}};
  Result<json> r = events.Call("PutEvents", {{"Entries", {ok, no_detail, bad_detail}}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["FailedEntryCount"], 2);
  ASSERT_THAT((*r)["Entries"], SizeIs(3));
  EXPECT_TRUE((*r)["Entries"][0].contains("EventId"));
  EXPECT_EQ((*r)["Entries"][1]["ErrorCode"], "InvalidArgument");
  EXPECT_EQ((*r)["Entries"][2]["ErrorCode"], "MalformedDetail");
  json state = emulator_->State();
  ASSERT_THAT(state["eventbridge"], SizeIs(1));
  EXPECT_EQ(state["eventbridge"][0]["EventBusName"], "jit-events");
  EXPECT_EQ(state["eventbridge"][0]["Detail"]["event"], "grant.activated");

  EXPECT_THAT(events.Call("PutEvents", json::object()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("ValidationException")));
  EXPECT_THAT(events.Call("PutEvents", {{"Entries", json::array()}}),
              StatusIs(StatusCode::kInvalidArgument));
  json eleven = json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back(ok);
  EXPECT_THAT(events.Call("PutEvents", {{"Entries", eleven}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("between 1 and 10")));
  // Signed for another service, or with the wrong secret.
  EXPECT_THAT(Events(nullptr, "sso").Call("PutEvents", {{"Entries", {ok}}}),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Events(wrong_.get()).Call("PutEvents", {{"Entries", {ok}}}),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("InvalidSignatureException")));
  EXPECT_THAT(emulator_->State()["eventbridge"], SizeIs(1));
}

TEST_F(NotifyServicesTest, BatchImportFindingsChecksAsffAndUpdatesById) {
  aws::JsonClient hub = Hub();
  json missing_title = Finding("jit/b");
  missing_title.erase("Title");
  json bad_severity = Finding("jit/c");
  bad_severity["Severity"]["Label"] = "SEVERE";
  json other_product = Finding("jit/d");
  other_product["ProductArn"] =
      "arn:aws:securityhub:us-east-1:333333333333:product/333333333333/default";
  Result<json> r =
      hub.CallRest("BatchImportFindings", "POST", "/findings/import",
                   {{"Findings", {Finding("jit/a"), missing_title, bad_severity, other_product}}});
  ASSERT_OK(r);
  EXPECT_EQ((*r)["SuccessCount"], 1);
  EXPECT_EQ((*r)["FailedCount"], 3);
  EXPECT_EQ((*r)["FailedFindings"][0]["Id"], "jit/b");
  EXPECT_THAT((*r)["FailedFindings"][0]["ErrorMessage"].get<std::string>(),
              HasSubstr("data.Title is required"));
  // The same Id again updates the finding.
  json updated = Finding("jit/a");
  updated["UpdatedAt"] = "2026-01-01T00:05:00.000Z";
  ASSERT_OK(
      hub.CallRest("BatchImportFindings", "POST", "/findings/import", {{"Findings", {updated}}}));
  json state = emulator_->State();
  ASSERT_THAT(state["securityhub"], SizeIs(1));
  EXPECT_EQ(state["securityhub"][0]["UpdatedAt"], "2026-01-01T00:05:00.000Z");

  EXPECT_THAT(hub.CallRest("BatchImportFindings", "POST", "/findings/import", json::object()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidInputException")));
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back(Finding("jit/" + std::to_string(i)));
  EXPECT_THAT(hub.CallRest("BatchImportFindings", "POST", "/findings/import", {{"Findings", many}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1 to 100")));
  EXPECT_THAT(Hub(wrong_.get())
                  .CallRest("BatchImportFindings", "POST", "/findings/import",
                            {{"Findings", {Finding("jit/z")}}}),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(emulator_->State()["securityhub"], SizeIs(1));
}

TEST_F(NotifyServicesTest, EachServiceWantsItsOwnSigningName) {
  // Security Hub's path signed for EventBridge, and a form post signed for sso-admin.
  aws::JsonClient hub_as_events({emulator_->url(), "us-east-1", "events", ""}, *http_, *creds_,
                                *limiter_, clock_, {.max_attempts = 1});
  EXPECT_THAT(hub_as_events.CallRest("BatchImportFindings", "POST", "/findings/import",
                                     {{"Findings", {Finding("jit/a")}}}),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("InvalidSignatureException")));
  aws::QueryClient sns_as_sso({emulator_->url(), "us-east-1", "sso", "2010-03-31"}, *http_, *creds_,
                              *limiter_, clock_, {.max_attempts = 1});
  EXPECT_THAT(sns_as_sso.Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidAction")));
  json state = emulator_->State();
  EXPECT_THAT(state["sns"], SizeIs(0));
  EXPECT_THAT(state["securityhub"], SizeIs(0));
}

TEST_F(NotifyServicesTest, FaultsThrottleTheNotificationServicesToo) {
  Faults f;
  f.throttle_rate = 1;
  emulator_->SetFaults(f);
  EXPECT_THAT(Sns().Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}),
              StatusIs(StatusCode::kUnavailable, HasSubstr("Throttled")));
  EXPECT_THAT(Events().Call("PutEvents", {{"Entries", json::array()}}),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Hub().CallRest("BatchImportFindings", "POST", "/findings/import",
                             {{"Findings", {Finding("jit/a")}}}),
              StatusIs(StatusCode::kUnavailable));
  f.throttle_rate = 0;
  f.server_error_rate = 1;
  emulator_->SetFaults(f);
  EXPECT_THAT(Sns().Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}),
              StatusIs(StatusCode::kUnavailable, HasSubstr("InternalError")));
  emulator_->Reset();
  EXPECT_OK(Sns().Call("Publish", {{"TopicArn", kTopic}, {"Message", "x"}}));
}

}  // namespace
}  // namespace jit::emulator
