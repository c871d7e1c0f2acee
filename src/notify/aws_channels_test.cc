// The SNS, EventBridge and Security Hub channels against the emulator over loopback: what they
// sign arrives intact and shows in the emulator's state; refusals are classified.

#include "notify/aws_channels.h"

#include "aws/credentials.h"
#include "aws/http.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "notify/render.h"
#include "notify/test_util.h"

namespace jit::notify {
namespace {

using ::jit::notify::testing::SampleMessage;
using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class AwsChannelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<emulator::Emulator>(emulator::EmulatorOptions(), clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    creds_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    wrong_ = aws::NewStaticCredentials({"AKIDSOMEONEELSE", "jit-emulator-secret", "", {}});
  }

  AwsTarget Target(aws::CredentialSource* creds = nullptr) {
    return AwsTarget{*http_, creds ? *creds : *creds_, clock_, "us-east-1", emulator_->url()};
  }
  static ChannelSettings Settings(std::string name) {
    return ChannelSettings{std::move(name), Filter{}, Duration(2000)};
  }

  FakeClock clock_;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> creds_;
  std::unique_ptr<aws::CredentialSource> wrong_;
};

TEST_F(AwsChannelsTest, SnsPublishArrivesIntact) {
  auto sns =
      NewSnsChannel(Settings("sns"), Target(), "arn:aws:sns:us-east-1:111111111111:jit", "json");
  Message m = SampleMessage(Event::kGrantActivated, clock_.Now());
  m.request.reason = "naïve & <quoted> \"reason\"\nwith a line";
  ASSERT_OK(sns->Send(m));
  json state = emulator_->State();
  ASSERT_THAT(state["sns"], SizeIs(1));
  const json& got = state["sns"][0];
  EXPECT_EQ(json::parse(got["Message"].get<std::string>()), EventJson(m));
  EXPECT_EQ(got["Subject"], Title(m).substr(0, 100));
  EXPECT_EQ(got["MessageAttributes"]["event"]["StringValue"], "grant.activated");

  auto text =
      NewSnsChannel(Settings("text"), Target(), "arn:aws:sns:us-east-1:111111111111:jit", "text");
  ASSERT_OK(text->Send(m));
  EXPECT_EQ(emulator_->State()["sns"][1]["Message"], PlainText(m));
}

TEST_F(AwsChannelsTest, SnsFifoRedeliveryIsDroppedBySns) {
  auto sns = NewSnsChannel(Settings("fifo"), Target(),
                           "arn:aws:sns:us-east-1:111111111111:jit.fifo", "json");
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  ASSERT_OK(sns->Send(m));
  ASSERT_OK(sns->Send(m));
  json state = emulator_->State();
  ASSERT_THAT(state["sns"], SizeIs(1));
  EXPECT_EQ(state["sns"][0]["MessageGroupId"], m.request.id);
  EXPECT_EQ(state["sns"][0]["MessageDeduplicationId"], DeliveryId(m));
}

TEST_F(AwsChannelsTest, EventBridgePutEventsArrivesIntact) {
  auto events = NewEventBridgeChannel(Settings("eb"), Target(), "jit-events", "jit");
  Message m = SampleMessage(Event::kRequestApproved, clock_.Now());
  ASSERT_OK(events->Send(m));
  json state = emulator_->State();
  ASSERT_THAT(state["eventbridge"], SizeIs(1));
  const json& e = state["eventbridge"][0];
  EXPECT_EQ(e["Source"], "jit");
  EXPECT_EQ(e["DetailType"], "request.approved");
  EXPECT_EQ(e["EventBusName"], "jit-events");
  EXPECT_EQ(e["Detail"], EventJson(m));
  EXPECT_EQ(e["Resources"][0], m.request.permission_set_arn);
  EXPECT_DOUBLE_EQ(e["Time"].get<double>(), 1767225600.0);
}

TEST_F(AwsChannelsTest, SecurityHubImportsOneFindingPerRequestAndEvent) {
  // No account configured: asked of STS.
  auto hub = NewSecurityHubChannel(Settings("hub"), Target(), "", emulator_->url());
  Message glass = SampleMessage(Event::kBreakGlassActivated, clock_.Now());
  glass.request.break_glass = true;
  glass.actor = "alice";
  EXPECT_TRUE(hub->Wants(glass));
  EXPECT_FALSE(hub->Wants(SampleMessage(Event::kRequestCreated, clock_.Now())));
  ASSERT_OK(hub->Send(glass));
  ASSERT_OK(hub->Send(glass));  // a re-delivery updates, it does not duplicate
  Message overdue = SampleMessage(Event::kRevocationOverdue, clock_.Now());
  ASSERT_OK(hub->Send(overdue));
  Message drift;
  drift.event = Event::kDriftDetected;
  drift.at = clock_.Now();
  drift.actor = "jit";
  drift.detail = "assignment of Admin on 222222222222 to an unknown user";
  ASSERT_OK(hub->Send(drift));

  json state = emulator_->State();
  ASSERT_THAT(state["securityhub"], SizeIs(3));
  const json& f = state["securityhub"][0];
  EXPECT_EQ(f["Id"], "jit/" + glass.request.id + "/breakglass.activated");
  EXPECT_EQ(f["ProductArn"],
            "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default");
  EXPECT_EQ(f["AwsAccountId"], "222222222222");
  EXPECT_EQ(f["Severity"]["Label"], "HIGH");
  EXPECT_EQ(f["GeneratorId"], "jit/breakglass");
  EXPECT_EQ(f["SourceUrl"], "https://jit.example.com/#/audit?request=" + glass.request.id);
  EXPECT_EQ(state["securityhub"][1]["GeneratorId"], "jit/revocation-overdue");
  EXPECT_EQ(state["securityhub"][2]["GeneratorId"], "jit/drift");
  EXPECT_EQ(state["securityhub"][2]["AwsAccountId"], "111111111111");
  EXPECT_EQ(state["securityhub"][2]["Severity"]["Label"], "MEDIUM");

  // A product of another account is refused for good.
  auto other = NewSecurityHubChannel(Settings("other"), Target(), "333333333333", "");
  EXPECT_THAT(other->Send(glass), StatusIs(StatusCode::kInvalidArgument, HasSubstr("ProductArn")));
}

TEST_F(AwsChannelsTest, RefusalsAreClassifiedForTheJobQueue) {
  Message m = SampleMessage(Event::kBreakGlassActivated, clock_.Now());
  std::vector<std::unique_ptr<Channel>> refused;
  refused.push_back(NewSnsChannel(Settings("sns"), Target(wrong_.get()),
                                  "arn:aws:sns:us-east-1:111111111111:jit", "json"));
  refused.push_back(NewEventBridgeChannel(Settings("eb"), Target(wrong_.get()), "b", "jit"));
  refused.push_back(
      NewSecurityHubChannel(Settings("hub"), Target(wrong_.get()), "111111111111", ""));
  for (auto& c : refused) {
    EXPECT_THAT(c->Send(m), StatusIs(StatusCode::kPermissionDenied)) << c->name();
  }
  // An event the service refuses: not retryable.
  auto aws_source = NewEventBridgeChannel(Settings("eb"), Target(), "b", "aws.jit");
  EXPECT_THAT(aws_source->Send(m), StatusIs(StatusCode::kInvalidArgument, HasSubstr("Source")));

  std::vector<std::unique_ptr<Channel>> ok;
  ok.push_back(
      NewSnsChannel(Settings("sns"), Target(), "arn:aws:sns:us-east-1:111111111111:jit", "json"));
  ok.push_back(NewEventBridgeChannel(Settings("eb"), Target(), "b", "jit"));
  ok.push_back(NewSecurityHubChannel(Settings("hub"), Target(), "111111111111", ""));
  emulator::Faults f;
  f.throttle_rate = 1;
  emulator_->SetFaults(f);
  for (auto& c : ok) {
    EXPECT_THAT(c->Send(m), StatusIs(StatusCode::kUnavailable)) << c->name();
  }
  f.throttle_rate = 0;
  f.server_error_rate = 1;
  emulator_->SetFaults(f);
  for (auto& c : ok) {
    EXPECT_THAT(c->Send(m), StatusIs(StatusCode::kUnavailable)) << c->name();
  }
  emulator_->Stop();
  for (auto& c : ok) {
    EXPECT_THAT(c->Send(m), StatusIs(StatusCode::kUnavailable)) << c->name();
  }
}

TEST(SecurityHubFinding, HasEveryRequiredAsffField) {
  FakeClock clock;
  json f = SecurityHubFinding(SampleMessage(Event::kRevocationOverdue, clock.Now()), "eu-west-1",
                              "111111111111");
  for (const char* key :
       {"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt",
        "UpdatedAt", "Title", "Description", "Severity", "Types", "Resources"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }
  EXPECT_EQ(f["SchemaVersion"], "2018-10-08");
  EXPECT_EQ(f["ProductArn"],
            "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default");
  EXPECT_EQ(f["CreatedAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(f["Resources"][0]["Type"], "AwsAccount");
  EXPECT_EQ(f["Resources"][0]["Id"], "AWS::::Account:222222222222");
  EXPECT_LE(f["Title"].get<std::string>().size(), 256u);
  EXPECT_LE(f["Description"].get<std::string>().size(), 1024u);
  EXPECT_EQ(SecurityHubFinding(SampleMessage(Event::kRevocationOverdue, clock.Now()), "cn-north-1",
                               "111111111111")["ProductArn"],
            "arn:aws-cn:securityhub:cn-north-1:111111111111:product/111111111111/default");
}

TEST(SecurityHubFinding, AccessEndedOnAThreatFindingIsCriticalAndKeyedByItsDetail) {
  FakeClock clock;
  Message m;
  m.event = Event::kFindingRevoked;
  m.at = clock.Now();
  m.actor = "automation:eventbridge";
  m.detail = "guardduty finding 16afba5c (HIGH, 8) about alice: ended req_1, req_2";
  ASSERT_TRUE(IsSecurityHubEvent(Event::kFindingRevoked));
  json f = SecurityHubFinding(m, "us-east-1", "111111111111");
  EXPECT_EQ(f["Severity"]["Label"], "CRITICAL");
  EXPECT_EQ(f["GeneratorId"], "jit/finding");
  EXPECT_EQ(f["Types"][0], "Unusual Behaviors/User/Access ended on a threat finding");
  EXPECT_EQ(f["Id"].get<std::string>().rfind("jit/finding/", 0), 0u);
  EXPECT_EQ(f["AwsAccountId"], "111111111111");  // no request: the broker's account
  EXPECT_THAT(f["Description"].get<std::string>(), HasSubstr("about alice: ended req_1, req_2"));
  EXPECT_EQ(f["Title"], "THREAT FINDING: jit ended access");
  // The same detail again (a re-delivery) updates the same finding; another is another.
  EXPECT_EQ(SecurityHubFinding(m, "us-east-1", "111111111111")["Id"], f["Id"]);
  m.detail += ", req_3";
  EXPECT_NE(SecurityHubFinding(m, "us-east-1", "111111111111")["Id"], f["Id"]);
}

}  // namespace
}  // namespace jit::notify
