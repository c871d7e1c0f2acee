// The pure parts of session activity: the window, which events belong to a grant, the summary
// and the cached JSON.

#include "activity/activity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"
#include "core/time_format.h"

namespace jit::activity {
namespace activity_test {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;

Time At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

model::Request Grant() {
  model::Request r;
  r.id = "req_01";
  r.requester = "alice";
  r.account_id = "222222222222";
  r.permission_set_name = "Admin";
  r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  r.state = model::RequestState::kEnded;
  r.activated_at = At("2026-12-05T10:00:00Z");
  r.ended_at = At("2026-12-05T11:00:00Z");
  return r;
}

// A LookupEvents event as CloudTrail answers it.
json Lookup(const std::string& id, const std::string& arn, const char* time, bool read_only = true,
            const std::string& error = "") {
  json record = {{"userIdentity", {{"type", "AssumedRole"}, {"arn", arn}}},
                 {"eventSource", "s3.amazonaws.com"},
                 {"readOnly", read_only},
                 {"awsRegion", "us-east-1"},
                 {"recipientAccountId", arn.substr(13, 12)}};
  if (!error.empty()) record["errorCode"] = error;
  return {{"EventId", id},
          {"EventName", "GetObject"},
          {"EventSource", "s3.amazonaws.com"},
          {"EventTime", static_cast<double>(ToUnixMillis(At(time))) / 1000.0},
          {"ReadOnly", read_only ? "true" : "false"},
          {"Username", "alice"},
          {"Resources", {{{"ResourceType", "AWS::S3::Bucket"}, {"ResourceName", "logs"}}}},
          {"CloudTrailEvent", record.dump()}};
}

constexpr char kAlice[] =
    "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice";

TEST(Window, ActiveGrantIsOpenUntilNow) {
  model::Request r = Grant();
  r.state = model::RequestState::kActive;
  r.ended_at.reset();
  Result<Window> w = WindowOf(r, {}, Duration(0), At("2026-12-05T10:30:00Z"));
  ASSERT_OK(w);
  EXPECT_FALSE(w->closed);
  EXPECT_EQ(w->start, At("2026-12-05T10:00:00Z"));
  EXPECT_EQ(w->end, At("2026-12-05T10:30:00Z"));
  EXPECT_EQ(w->ends_by, "open");
}

TEST(Window, EndedGrantClosesOneSessionDurationAfterItsEnd) {
  model::Request r = Grant();
  Result<Window> open = WindowOf(r, {}, std::chrono::hours(1), At("2026-12-05T11:59:59Z"));
  ASSERT_OK(open);
  EXPECT_FALSE(open->closed);
  Result<Window> w = WindowOf(r, {}, std::chrono::hours(1), At("2026-12-05T12:00:00Z"));
  ASSERT_OK(w);
  EXPECT_TRUE(w->closed);
  EXPECT_EQ(w->end, At("2026-12-05T12:00:00Z"));
  EXPECT_EQ(w->ends_by, "session_duration");
}

TEST(Window, ClosesOnlyOnceCloudTrailHadTimeToDeliver) {
  model::Request r = Grant();
  const Duration settle = std::chrono::minutes(15);
  Result<Window> ended = WindowOf(r, {}, std::chrono::hours(1), At("2026-12-05T12:14:59Z"), settle);
  ASSERT_OK(ended);
  EXPECT_FALSE(ended->closed);
  EXPECT_EQ(ended->end, At("2026-12-05T12:00:00Z"));  // the end is known
  EXPECT_EQ(ended->ends_by, "session_duration");
  Result<Window> w = WindowOf(r, {}, std::chrono::hours(1), At("2026-12-05T12:15:00Z"), settle);
  ASSERT_OK(w);
  EXPECT_TRUE(w->closed);
  EXPECT_EQ(w->end, At("2026-12-05T12:00:00Z"));
}

TEST(Window, SessionCutoffEndsItEarlier) {
  model::Request r = Grant();
  model::AuditEvent cut;
  cut.action = "session.cutoff.applied";
  cut.at = At("2026-12-05T11:00:05Z");
  Result<Window> w = WindowOf(r, {cut}, std::chrono::hours(1), At("2026-12-05T11:10:00Z"));
  ASSERT_OK(w);
  EXPECT_TRUE(w->closed);
  EXPECT_EQ(w->end, At("2026-12-05T11:00:05Z"));
  EXPECT_EQ(w->ends_by, "session_cutoff");
}

TEST(Window, NeverActiveAndGroupRequestsHaveNone) {
  model::Request r = Grant();
  r.activated_at.reset();
  EXPECT_THAT(WindowOf(r, {}, Duration(0), At("2026-12-05T12:00:00Z")),
              StatusIs(StatusCode::kFailedPrecondition));
  model::Request g = Grant();
  g.account_id = std::string(model::kGroupAccount);
  EXPECT_THAT(WindowOf(g, {}, Duration(0), At("2026-12-05T12:00:00Z")),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(Accept, KeepsOnlyTheRequestersSessionsOfThePermissionSetInTheAccountAndWindow) {
  model::Request r = Grant();
  Window w{At("2026-12-05T10:00:00Z"), At("2026-12-05T12:00:00Z"), true, "session_duration"};
  std::optional<Event> mine =
      Accept(Lookup("e1", kAlice, "2026-12-05T10:30:00Z", false, "AccessDenied"), r, w);
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->event_id, "e1");
  EXPECT_EQ(mine->event_name, "GetObject");
  EXPECT_FALSE(mine->read_only);
  EXPECT_EQ(mine->error_code, "AccessDenied");
  EXPECT_THAT(mine->resources, ElementsAre("logs"));
  // Both ends of the window count.
  EXPECT_TRUE(Accept(Lookup("e2", kAlice, "2026-12-05T10:00:00Z"), r, w).has_value());
  EXPECT_TRUE(Accept(Lookup("e3", kAlice, "2026-12-05T12:00:00Z"), r, w).has_value());

  // Not hers, not this account, not this permission set, not in the window.
  EXPECT_FALSE(Accept(Lookup("x1",
                             "arn:aws:sts::222222222222:assumed-role/"
                             "AWSReservedSSO_Admin_0123456789abcdef/bob",
                             "2026-12-05T10:30:00Z"),
                      r, w));
  EXPECT_FALSE(Accept(Lookup("x2",
                             "arn:aws:sts::111111111111:assumed-role/"
                             "AWSReservedSSO_Admin_0123456789abcdef/alice",
                             "2026-12-05T10:30:00Z"),
                      r, w));
  EXPECT_FALSE(Accept(Lookup("x3",
                             "arn:aws:sts::222222222222:assumed-role/"
                             "AWSReservedSSO_ReadOnly_0123456789abcdef/alice",
                             "2026-12-05T10:30:00Z"),
                      r, w));
  EXPECT_FALSE(Accept(Lookup("x4",
                             "arn:aws:sts::222222222222:assumed-role/"
                             "AWSReservedSSO_Admin_Extra_0123456789abcdef/alice",
                             "2026-12-05T10:30:00Z"),
                      r, w));
  EXPECT_FALSE(Accept(Lookup("x5", "arn:aws:sts::222222222222:assumed-role/jit-other-role/alice",
                             "2026-12-05T10:30:00Z"),
                      r, w));
  EXPECT_FALSE(Accept(Lookup("x6", kAlice, "2026-12-05T09:59:59Z"), r, w));
  EXPECT_FALSE(Accept(Lookup("x7", kAlice, "2026-12-05T12:00:01Z"), r, w));
}

TEST(Accept, RefusesMalformedEvents) {
  model::Request r = Grant();
  Window w{At("2026-12-05T10:00:00Z"), At("2026-12-05T12:00:00Z"), true, "session_duration"};
  json e = Lookup("e1", kAlice, "2026-12-05T10:30:00Z");
  EXPECT_TRUE(Accept(e, r, w));
  for (const char* key : {"CloudTrailEvent", "EventTime", "EventId"}) {
    json broken = e;
    broken.erase(key);
    EXPECT_FALSE(Accept(broken, r, w)) << key;
  }
  json not_json = e;
  not_json["CloudTrailEvent"] = "{not json";
  EXPECT_FALSE(Accept(not_json, r, w));
  json user = e;
  user["CloudTrailEvent"] = json{{"userIdentity", {{"type", "IAMUser"}, {"arn", kAlice}}}}.dump();
  EXPECT_FALSE(Accept(user, r, w));
  EXPECT_FALSE(Accept(json::array(), r, w));
}

TEST(Summary, CountsEventsServicesWritesAndErrors) {
  std::vector<Event> events(3);
  events[0].event_source = "s3.amazonaws.com";
  events[1].event_source = "ec2.amazonaws.com";
  events[1].read_only = false;
  events[2].event_source = "s3.amazonaws.com";
  events[2].error_code = "AccessDenied";
  Summary s = Summarize(events);
  EXPECT_EQ(s.events, 3);
  EXPECT_THAT(s.services, ElementsAre("ec2.amazonaws.com", "s3.amazonaws.com"));
  EXPECT_EQ(s.write_calls, 1);
  EXPECT_EQ(s.errors, 1);
}

TEST(ActivityJson, RoundTripsThroughTheCachedText) {
  model::Request r = Grant();
  Activity a;
  a.request_id = r.id;
  a.window = {At("2026-12-05T10:00:00Z"), At("2026-12-05T12:00:00Z"), true, "session_duration"};
  a.read_at = At("2026-12-05T12:00:01Z");
  a.truncated = true;
  Window w = a.window;
  a.events.push_back(*Accept(Lookup("e1", kAlice, "2026-12-05T10:30:00Z", false, "Denied"), r, w));
  json j = ActivityJson(a, "cloudtrail");
  EXPECT_EQ(j["summary"]["events"], 1);
  EXPECT_EQ(j["source"], "cloudtrail");
  Result<Activity> back = ActivityFromJson(j.dump());
  ASSERT_OK(back);
  EXPECT_EQ(ActivityJson(*back, "cloudtrail"), j);
  EXPECT_THAT(ActivityFromJson("{\"request_id\": 1}"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace activity_test
}  // namespace jit::activity
