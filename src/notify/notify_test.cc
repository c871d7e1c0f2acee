#include "notify/notify.h"

#include <fstream>
#include <regex>
#include <thread>

#include "aws/test_http_server.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/testing.h"
#include "core/time_format.h"
#include "notify/email.h"
#include "notify/fake_channel.h"
#include "notify/render.h"
#include "notify/slack.h"
#include "notify/test_util.h"
#include "notify/webhook.h"

namespace jit::notify {
namespace {

using ::jit::aws::testing::CannedResponse;
using ::jit::aws::testing::ReceivedRequest;
using ::jit::aws::testing::TestHttpServer;
using ::jit::notify::testing::SampleMessage;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

ChannelSettings Settings(std::string name, Duration timeout = Duration(2000)) {
  return ChannelSettings{std::move(name), Filter{}, timeout};
}

TEST(Events, NamesMatchTheConfigListAndRoundTrip) {
  // The names config files use in `events:` (docs/NOTIFY.md), in Event order.
  const std::vector<std::string> names = {
      "request.created",      "request.reminder",  "extension.requested", "request.approved",
      "request.denied",       "request.cancelled", "request.timed_out",   "grant.activated",
      "grant.expiring_soon",  "grant.extended",    "grant.ended",         "grant.failed",
      "breakglass.activated", "drift.detected",    "revocation.overdue",  "session_cutoff.failed",
      "finding.revoked"};
  ASSERT_EQ(names.size(), kAllEvents.size());
  for (std::size_t i = 0; i < kAllEvents.size(); ++i) {
    EXPECT_EQ(EventName(kAllEvents[i]), names[i]);
    EXPECT_EQ(ParseEvent(names[i]), kAllEvents[i]);
    EXPECT_EQ(i <= 2    ? "approvers"
              : i <= 11 ? "requester"
                        : "security",
              AudienceName(AudienceOf(kAllEvents[i])));
  }
  EXPECT_EQ(ParseEvent("request.nope"), std::nullopt);
  EXPECT_EQ(EventName(Event::kGrantExpiringSoon), "grant.expiring_soon");
  EXPECT_EQ(AudienceOf(Event::kRequestCreated), Audience::kApprovers);
  EXPECT_EQ(AudienceOf(Event::kApprovalReminder), Audience::kApprovers);
  EXPECT_EQ(AudienceOf(Event::kGrantEnded), Audience::kRequester);
  EXPECT_EQ(AudienceOf(Event::kRevocationOverdue), Audience::kSecurity);
}

TEST(Filter, AudiencesAndEventsFromConfig) {
  ChannelConfig c;
  Filter all = Filter::FromConfig(c, Filter{});
  for (Event e : kAllEvents) EXPECT_TRUE(all.Matches(e));

  c.audiences = {"security"};
  Filter security = Filter::FromConfig(c, Filter{});
  EXPECT_TRUE(security.Matches(Event::kDriftDetected));
  EXPECT_FALSE(security.Matches(Event::kRequestCreated));

  c.audiences.clear();
  c.events = {"request.created", "grant.ended"};
  Filter two = Filter::FromConfig(c, Filter{});
  EXPECT_TRUE(two.Matches(Event::kRequestCreated));
  EXPECT_TRUE(two.Matches(Event::kGrantEnded));
  EXPECT_FALSE(two.Matches(Event::kGrantActivated));
  EXPECT_FALSE(two.Matches(Event::kBreakGlassActivated));
}

TEST(Notifier, ChannelsForInConfigOrderAndDeliverByName) {
  FakeClock clock;
  std::vector<std::unique_ptr<Channel>> channels;
  Filter security;
  security.audiences = {Audience::kSecurity};
  auto* a = new FakeChannel("a");
  auto* b = new FakeChannel("b", security);
  auto* c = new FakeChannel("c");
  channels.emplace_back(a);
  channels.emplace_back(b);
  channels.emplace_back(c);
  Notifier n(std::move(channels));

  Message created = SampleMessage(Event::kRequestCreated, clock.Now());
  Message glass = SampleMessage(Event::kBreakGlassActivated, clock.Now());
  EXPECT_THAT(n.ChannelsFor(created), ElementsAre("a", "c"));
  EXPECT_THAT(n.ChannelsFor(glass), ElementsAre("a", "b", "c"));
  EXPECT_THAT(n.ChannelNames(), ElementsAre("a", "b", "c"));

  EXPECT_OK(n.Deliver("c", created));
  EXPECT_EQ(c->calls(), 1);
  ASSERT_EQ(c->sent().size(), 1u);
  EXPECT_EQ(c->sent()[0].request.id, created.request.id);
  EXPECT_EQ(a->calls(), 0);

  EXPECT_THAT(n.Deliver("zzz", created), StatusIs(StatusCode::kNotFound, HasSubstr("zzz")));
  // b does not take request.created: skipped, not sent.
  EXPECT_OK(n.Deliver("b", created));
  EXPECT_EQ(b->calls(), 0);

  a->FailNext(2);
  EXPECT_THAT(n.Deliver("a", created), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(n.Deliver("a", created), StatusIs(StatusCode::kUnavailable));
  EXPECT_OK(n.Deliver("a", created));
  EXPECT_EQ(a->calls(), 3);
  EXPECT_EQ(a->sent().size(), 1u);
  // A channel's NotFound must not read as "no such channel".
  a->FailNext(1, NotFoundError("topic gone"));
  EXPECT_THAT(n.Deliver("a", created), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(Notifier, ReloadedChannelsReplaceTheOldOnes) {
  FakeClock clock;
  std::vector<std::unique_ptr<Channel>> first;
  first.push_back(std::make_unique<FakeChannel>("old"));
  Notifier n(std::move(first));
  std::vector<std::unique_ptr<Channel>> second;
  second.push_back(std::make_unique<FakeChannel>("new"));
  n.SetChannels(std::move(second));
  Message m = SampleMessage(Event::kGrantEnded, clock.Now());
  EXPECT_THAT(n.Deliver("old", m), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(n.Deliver("new", m));
}

TEST(Render, EventJsonCarriesTheApiRequestShape) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestDenied, clock.Now());
  m.detail = "not during the freeze";
  json j = EventJson(m);
  EXPECT_EQ(j["event"], "request.denied");
  EXPECT_EQ(j["audience"], "requester");
  EXPECT_EQ(j["time"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j["actor"], "bob");
  EXPECT_EQ(j["detail"], "not during the freeze");
  EXPECT_EQ(j["url"], "https://jit.example.com/#/mine?request=" + m.request.id);
  EXPECT_EQ(j["request"]["id"], m.request.id);
  EXPECT_EQ(j["request"]["account"]["name"], "prod");
  EXPECT_EQ(j["request"]["permission_set"]["name"], "Admin");
  EXPECT_EQ(j["request"]["state"], "pending");
  EXPECT_THAT(j["id"].get<std::string>(), ::testing::MatchesRegex("evt_[0-9a-f]{32}"));
  // Stable for a re-delivery, different for another event.
  EXPECT_EQ(DeliveryId(m), DeliveryId(m));
  Message other = m;
  other.event = Event::kRequestApproved;
  EXPECT_NE(DeliveryId(other), DeliveryId(m));

  Message drift;
  drift.event = Event::kDriftDetected;
  drift.at = clock.Now();
  drift.actor = "jit";
  drift.detail = "an assignment nobody granted";
  json d = EventJson(drift);
  EXPECT_TRUE(d["request"].is_null());
  EXPECT_TRUE(d["url"].is_null());
  EXPECT_EQ(d["audience"], "security");
}

TEST(Render, TitlesAndTextKeepControlCharactersOut) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());
  m.request.requester = "alice\r\nBcc: x@example.com";
  std::string title = Title(m);
  EXPECT_EQ(title.find('\r'), std::string::npos);
  EXPECT_EQ(title.find('\n'), std::string::npos);
  EXPECT_THAT(title, HasSubstr("Approval needed: alice  Bcc: x@example.com requests Admin on prod "
                               "(222222222222) for 1h"));
  std::string text = PlainText(m);
  EXPECT_THAT(text, HasSubstr("Reason: rotate keys\n"));
  EXPECT_THAT(text, HasSubstr("Ticket: INC-42\n"));
  EXPECT_THAT(text, HasSubstr("Open in jit: https://jit.example.com/#/approvals?request="));
  EXPECT_EQ(OneLine(std::string(10, 'x') + "\xc3\xa9", 11), std::string(10, 'x') + "...");
}

TEST(Render, AGroupMembershipIsNamedAsTheGroup) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());
  m.request.account_id = "group";
  m.request.account_name = "group";
  m.request.permission_set_name = "sre";
  m.request.permission_set_arn = "5e000000-0000-4000-8000-000000000013";
  EXPECT_THAT(Title(m), HasSubstr("alice requests membership of the group sre for 1h"));
  std::string text = PlainText(m);
  EXPECT_THAT(text, HasSubstr("Group: sre (5e000000-0000-4000-8000-000000000013)\n"));
  EXPECT_THAT(text, Not(HasSubstr("Account:")));
}

TEST(Render, HttpOutcomeClassifiesStatuses) {
  auto with = [](long status) {
    return HttpOutcome("t", Result<aws::HttpResponse>(aws::HttpResponse{.status = status}));
  };
  EXPECT_OK(with(200));
  EXPECT_OK(with(204));
  for (long s : {408L, 425L, 429L, 500L, 502L, 503L}) {
    EXPECT_THAT(with(s), StatusIs(StatusCode::kUnavailable)) << s;
  }
  EXPECT_THAT(with(400), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with(413), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(with(401), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(with(403), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(with(404), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(with(410), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(with(301), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(HttpOutcome("t", Result<aws::HttpResponse>(UnavailableError("refused"))),
              StatusIs(StatusCode::kUnavailable));
}

// ---- Webhooks --------------------------------------------------------------------------------

TEST(Webhook, SignsWithTheExactHeaderAndAReceiverVerifiesIt) {
  FakeClock clock;
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{204}; });
  auto http = aws::NewCurlTransport();
  auto channel = NewWebhookChannel(Settings("hook"), server.url() + "/jit", "s3cr3t", *http, clock);
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());
  ASSERT_OK(channel->Send(m));

  ASSERT_EQ(server.requests().size(), 1u);
  ReceivedRequest r = server.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/jit");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-jit-event"), "request.created");
  EXPECT_EQ(r.Header("x-jit-delivery"), DeliveryId(m));
  std::string sig = r.Header("x-jit-signature");
  // docs/NOTIFY.md: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
  EXPECT_THAT(sig, ::testing::MatchesRegex("t=1767225600,v1=[0-9a-f]{64}"));
  std::string expected = "t=1767225600,v1=" + Hex(HmacSha256("s3cr3t", "1767225600." + r.body));
  EXPECT_EQ(sig, expected);
  json body = json::parse(r.body);
  EXPECT_EQ(body["event"], "request.created");
  EXPECT_EQ(body["request"]["id"], m.request.id);

  EXPECT_OK(VerifyWebhookSignature("s3cr3t", sig, r.body, clock.Now()));
  EXPECT_THAT(VerifyWebhookSignature("wrong", sig, r.body, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not match")));
  EXPECT_THAT(VerifyWebhookSignature("s3cr3t", sig, r.body + " ", clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(VerifyWebhookSignature("s3cr3t", sig, r.body, clock.Now() + std::chrono::minutes(6)),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("too far")));
  for (const char* bad : {"", "v1=abc", "t=,v1=00", "t=1767225600", "t=x,v1=00",
                          "t=1767225600,v2=00", "t=1,t=2,v1=00"}) {
    EXPECT_THAT(VerifyWebhookSignature("s3cr3t", bad, r.body, clock.Now()),
                StatusIs(StatusCode::kUnauthenticated))
        << bad;
  }
}

// Answers each status of `statuses` in turn; a negative one sleeps that many milliseconds
// before answering 200 (for time-outs).
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<int> statuses)
      : statuses_(std::move(statuses)), server_([this](const ReceivedRequest&) {
          int s = statuses_.at(std::min(next_++, statuses_.size() - 1));
          if (s < 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(-s));
            return CannedResponse{200, {}, "ok"};
          }
          return CannedResponse{s, {}, s >= 400 ? "no_service" : "ok"};
        }) {}
  std::string url() const { return server_.url(); }

 private:
  std::vector<int> statuses_;
  std::size_t next_ = 0;
  TestHttpServer server_;
};

TEST(Channels, ClassifyErrorsOfTheirServers) {
  FakeClock clock;
  auto http = aws::NewCurlTransport();
  ScriptedServer server({500, 503, 429, 400, 401, 404, 410, -550, 200});
  std::vector<std::unique_ptr<Channel>> channels;
  Duration timeout(400);
  channels.push_back(NewWebhookChannel(Settings("w", timeout), server.url(), "k", *http, clock));
  channels.push_back(NewSlackChannel(Settings("s", timeout), server.url(), *http));
  channels.push_back(NewTeamsChannel(Settings("t", timeout), server.url(), *http));
  Message m = SampleMessage(Event::kRequestApproved, clock.Now());
  // Each channel takes one answer of the script in turn: 3 channels x 9 answers would be slow,
  // so every channel sees a different part of the script.
  std::vector<StatusCode> expected = {StatusCode::kUnavailable,
                                      StatusCode::kUnavailable,
                                      StatusCode::kUnavailable,
                                      StatusCode::kInvalidArgument,
                                      StatusCode::kPermissionDenied,
                                      StatusCode::kFailedPrecondition,
                                      StatusCode::kFailedPrecondition,
                                      StatusCode::kUnavailable,
                                      StatusCode::kOk};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    Channel& c = *channels[i % channels.size()];
    Status s = c.Send(m);
    EXPECT_EQ(s.code(), expected[i]) << c.name() << " answer " << i << ": " << s.ToString();
  }
  // Nobody listening: Unavailable.
  int port;
  {
    TestHttpServer closed([](const ReceivedRequest&) { return CannedResponse{}; });
    port = closed.port();
  }
  auto gone = NewWebhookChannel(Settings("gone", timeout),
                                "http://127.0.0.1:" + std::to_string(port), "k", *http, clock);
  EXPECT_THAT(gone->Send(m), StatusIs(StatusCode::kUnavailable));
}

// ---- Slack -----------------------------------------------------------------------------------

TEST(Slack, AwaitingRequestsCarryApproveAndDenyButtons) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());
  m.request.reason = "<!channel> see <https://evil.example|here> & more";
  json j = SlackBlocks(m);
  EXPECT_EQ(j["text"], Title(m));
  ASSERT_TRUE(j["blocks"].is_array());
  ASSERT_EQ(j["blocks"].size(), 3u);
  const json& section = j["blocks"][0];
  EXPECT_EQ(section["type"], "section");
  EXPECT_EQ(section["text"]["type"], "mrkdwn");
  std::string fields = section["fields"].dump();
  EXPECT_THAT(fields,
              HasSubstr("&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more"));
  EXPECT_THAT(fields, Not(HasSubstr("<!channel>")));
  EXPECT_LE(section["fields"].size(), 10u);

  const json& actions = j["blocks"][1];
  EXPECT_EQ(actions["type"], "actions");
  ASSERT_EQ(actions["elements"].size(), 3u);
  const json& approve = actions["elements"][0];
  EXPECT_EQ(approve["type"], "button");
  EXPECT_EQ(approve["action_id"], "jit_approve");
  EXPECT_EQ(approve["value"], m.request.id);
  EXPECT_EQ(approve["style"], "primary");
  EXPECT_EQ(approve["text"]["type"], "plain_text");
  const json& deny = actions["elements"][1];
  EXPECT_EQ(deny["action_id"], "jit_deny");
  EXPECT_EQ(deny["value"], m.request.id);
  EXPECT_EQ(deny["style"], "danger");
  EXPECT_TRUE(deny["confirm"].is_object());
  const json& open = actions["elements"][2];
  EXPECT_EQ(open["url"], "https://jit.example.com/#/approvals?request=" + m.request.id);
  EXPECT_FALSE(open.contains("value"));
  EXPECT_EQ(j["blocks"][2]["type"], "context");

  // Decided requests have no decision buttons; without a public URL no link either.
  Message approved = SampleMessage(Event::kRequestApproved, clock.Now());
  approved.public_url.clear();
  json a = SlackBlocks(approved);
  for (const json& block : a["blocks"]) EXPECT_NE(block["type"], "actions");
  EXPECT_THAT(a.dump(), Not(HasSubstr("jit_approve")));
}

TEST(Slack, PostsBlocksToTheIncomingWebhook) {
  FakeClock clock;
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, "ok"}; });
  auto http = aws::NewCurlTransport();
  auto channel = NewSlackChannel(Settings("slack"), server.url() + "/services/T/B/X", *http);
  Message m = SampleMessage(Event::kApprovalReminder, clock.Now());
  ASSERT_OK(channel->Send(m));
  ASSERT_EQ(server.requests().size(), 1u);
  json body = json::parse(server.requests()[0].body);
  EXPECT_EQ(body, SlackBlocks(m));
  EXPECT_THAT(body.dump(), HasSubstr("jit_approve"));
}

TEST(Slack, VerifiesTheSigningSecretAndTimestamp) {
  FakeClock clock;
  std::string ts = "1767225600";  // the FakeClock's start
  std::string body = "payload=%7B%7D";
  std::string sig = SlackSignature("shh", ts, body);
  EXPECT_EQ(sig, "v0=" + Hex(HmacSha256("shh", "v0:" + ts + ":" + body)));
  EXPECT_OK(VerifySlackSignature("shh", ts, sig, body, clock.Now()));
  EXPECT_OK(VerifySlackSignature("shh", ts, sig, body, clock.Now() + std::chrono::seconds(299)));
  EXPECT_THAT(VerifySlackSignature("other", ts, sig, body, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("does not match")));
  EXPECT_THAT(VerifySlackSignature("shh", ts, sig, body + "x", clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(VerifySlackSignature("shh", ts, sig, body, clock.Now() + std::chrono::minutes(6)),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("5 minutes")));
  EXPECT_THAT(VerifySlackSignature("shh", ts, sig, body, clock.Now() - std::chrono::minutes(6)),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(VerifySlackSignature("shh", "", sig, body, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(VerifySlackSignature("shh", "12ab", sig, body, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(VerifySlackSignature("shh", ts, "v0=" + std::string(64, '0'), body, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST(Slack, ParsesBlockActionPayloads) {
  std::string payload =
      R"({"type":"block_actions","user":{"id":"U123","username":"bob","team_id":"T1"},)"
      R"("team":{"id":"T1"},"response_url":"https://hooks.slack.com/actions/x",)"
      R"("actions":[{"action_id":"jit_approve","value":"req_01JD3Q8W5C2M7X9K4T6B1N0R8P"}]})";
  std::string form = "payload=" + aws::UriEncode(payload, false);
  Result<SlackAction> a = ParseSlackAction(form);
  ASSERT_OK(a);
  EXPECT_EQ(a->user_id, "U123");
  EXPECT_EQ(a->user_name, "bob");
  EXPECT_EQ(a->team_id, "T1");
  EXPECT_EQ(a->action_id, "jit_approve");
  EXPECT_EQ(a->request_id, "req_01JD3Q8W5C2M7X9K4T6B1N0R8P");
  EXPECT_EQ(a->response_url, "https://hooks.slack.com/actions/x");

  for (const std::string& bad :
       {std::string(""), std::string("payload="), std::string("payload=%7"),
        std::string("payload=not-json"), std::string("payload=%5B%5D"),
        "payload=" + aws::UriEncode(R"({"type":"view_submission","user":{"id":"U1"}})", false),
        "payload=" + aws::UriEncode(R"({"type":"block_actions","actions":[]})", false),
        "payload=" + aws::UriEncode(R"({"type":"block_actions","user":{"id":"U1"}})", false)}) {
    EXPECT_THAT(ParseSlackAction(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(Slack, WebApiLooksUpTheEmailOnceAndCachesIt) {
  FakeClock clock;
  TestHttpServer server([](const ReceivedRequest& r) {
    if (r.Header("authorization") != "Bearer xoxb-test") {
      return CannedResponse{200, {}, R"({"ok":false,"error":"invalid_auth"})"};
    }
    if (r.target == "/api/users.info?user=U1") {
      return CannedResponse{
          200, {}, R"({"ok":true,"user":{"id":"U1","profile":{"email":"bob@example.com"}}})"};
    }
    if (r.target == "/api/users.info?user=U2") {
      return CannedResponse{200, {}, R"({"ok":true,"user":{"id":"U2","profile":{}}})"};
    }
    if (r.target == "/api/users.info?user=U5") return CannedResponse{503, {}, "down"};
    return CannedResponse{200, {}, R"({"ok":false,"error":"user_not_found"})"};
  });
  auto http = aws::NewCurlTransport();
  SlackWebApi api(server.url() + "/api", "xoxb-test", *http, clock);
  EXPECT_EQ(api.UserEmail("U1").value_or(""), "bob@example.com");
  EXPECT_EQ(api.UserEmail("U1").value_or(""), "bob@example.com");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_THAT(api.UserEmail("U2"), StatusIs(StatusCode::kNotFound, HasSubstr("users:read.email")));
  EXPECT_THAT(api.UserEmail("U3"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(api.UserEmail("U5"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(api.UserEmail("U1&x=1"), StatusIs(StatusCode::kInvalidArgument));
  SlackWebApi wrong(server.url() + "/api", "xoxb-wrong", *http, clock);
  EXPECT_THAT(wrong.UserEmail("U1"), StatusIs(StatusCode::kPermissionDenied));
}

TEST(Slack, WebApiRefusesAnAnswerWhoseOkIsNotABooleanInsteadOfThrowing) {
  // Found writing fuzz/slack_fuzzer's users.info mode: {"ok":1} made nlohmann's value("ok", false)
  // throw, which the interactions endpoint turned into a 500.
  FakeClock clock;
  TestHttpServer server([](const ReceivedRequest& r) {
    if (r.target == "/api/users.info?user=U1") {
      return CannedResponse{200, {}, R"({"ok":1,"user":{"profile":{"email":"bob@example.com"}}})"};
    }
    return CannedResponse{200, {}, R"({"ok":"true","user":{"profile":{"email":"b@example.com"}}})"};
  });
  auto http = aws::NewCurlTransport();
  SlackWebApi api(server.url() + "/api", "xoxb-test", *http, clock);
  EXPECT_THAT(api.UserEmail("U1"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(api.UserEmail("U2"), StatusIs(StatusCode::kPermissionDenied));
}

// ---- Teams -----------------------------------------------------------------------------------

TEST(Teams, SendsAnAdaptiveCardWithALinkButton) {
  FakeClock clock;
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{200, {}, "1"}; });
  auto http = aws::NewCurlTransport();
  auto channel = NewTeamsChannel(Settings("teams"), server.url(), *http);
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());
  ASSERT_OK(channel->Send(m));
  json body = json::parse(server.requests().at(0).body);
  EXPECT_EQ(body["type"], "message");
  const json& attachment = body["attachments"][0];
  EXPECT_EQ(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
  const json& card = attachment["content"];
  EXPECT_EQ(card["type"], "AdaptiveCard");
  EXPECT_EQ(card["version"], "1.4");
  EXPECT_EQ(card["body"][0]["text"], Title(m));
  EXPECT_EQ(card["body"][1]["type"], "FactSet");
  EXPECT_EQ(card["actions"][0]["type"], "Action.OpenUrl");
  EXPECT_EQ(card["actions"][0]["url"],
            "https://jit.example.com/#/approvals?request=" + m.request.id);
}

// ---- E-mail text -----------------------------------------------------------------------------

TEST(Email, BuildsMimeWithoutHeaderInjection) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestApproved, clock.Now());
  m.request.requester = "alice\r\nBcc: victim@example.com";
  m.request.permission_set_name = "Admin\nX-Evil: 1";
  std::string mail = BuildMail(m, "mail", "jit@example.com", {"ops@example.com"}, clock.Now());
  std::string headers = mail.substr(0, mail.find("\r\n\r\n") + 2);
  EXPECT_THAT(headers, HasSubstr("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"));
  EXPECT_THAT(headers, HasSubstr("From: jit@example.com\r\n"));
  EXPECT_THAT(headers, HasSubstr("To: ops@example.com\r\n"));
  EXPECT_THAT(headers, HasSubstr("MIME-Version: 1.0\r\n"));
  EXPECT_THAT(headers, HasSubstr("Content-Type: text/plain; charset=UTF-8\r\n"));
  EXPECT_THAT(headers, HasSubstr("Message-ID: <" + DeliveryId(m) + ".mail@example.com>\r\n"));
  // Every header line is one of ours or a folded continuation: the CR/LF of the request
  // fields did not start a header of their own.
  std::regex line_re(
      "(Date|From|To|Subject|Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|"
      "X-Jit-Event|Auto-Submitted): .*| [^ ].*");
  std::size_t pos = 0;
  int lines = 0;
  while (pos + 2 < headers.size()) {
    std::size_t end = headers.find("\r\n", pos);
    std::string line = headers.substr(pos, end - pos);
    EXPECT_TRUE(std::regex_match(line, line_re)) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
    pos = end + 2;
    ++lines;
  }
  EXPECT_EQ(lines, 10);
  // Non-ASCII subjects are RFC 2047 words.
  m.request.requester = "jürgen";
  std::string encoded = BuildMail(m, "mail", "jit@example.com", {"ops@example.com"}, clock.Now());
  EXPECT_THAT(encoded, HasSubstr("Subject: =?UTF-8?B?"));
  EXPECT_FALSE(IsMailAddress("a@b\r\nBcc: c@d"));
  EXPECT_FALSE(IsMailAddress("<a@b>"));
  EXPECT_FALSE(IsMailAddress("a@@b"));
  EXPECT_TRUE(IsMailAddress("ops+jit@example.com"));
}

// ---- Building from the config ----------------------------------------------------------------

TEST(NewChannels, BuildsEachTypeFromTheConfigAndReadsItsFiles) {
  ::jit::testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::string path = (dir.path() / name).string();
    std::ofstream(path) << text;
    return path;
  };
  std::string secret = write("secret", "s3cr3t\n");
  std::string slack_url = write("slack-url", "https://hooks.slack.com/services/T/B/X\n");
  std::string bad_url = write("bad-url", "http://example.com/x\n");
  std::string empty = write("empty", "\n");
  std::string yaml =
      "notify:\n"
      "  - {type: webhook, url: \"https://hooks.example.com/jit\", secret_file: " +
      secret + "}\n  - {type: slack, webhook_url_file: " + slack_url +
      ", audiences: [approvers]}\n"
      "  - {type: teams, url: \"https://example.webhook.office.com/x\"}\n"
      "  - {type: email, smtp_url: \"smtp://mail.example.com:587\", from: "
      "jit@example.com, to: [ops@example.com]}\n"
      "  - {type: sns, topic_arn: \"arn:aws:sns:us-east-1:111111111111:jit\"}\n";
  Result<std::vector<ChannelConfig>> config =
      ::jit::notify::testing::ParseNotifySection(yaml, "t.yaml");
  ASSERT_OK(config);
  FakeClock clock;
  auto http = aws::NewCurlTransport();
  NotifierDeps deps{.http = *http, .clock = clock};
  // No AWS credentials: the sns channel cannot be built.
  EXPECT_THAT(NewChannels(*config, deps),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("sns")));
  auto creds = aws::NewStaticCredentials({"AKIDTEST", "secret", "", {}});
  deps.aws_credentials = creds.get();
  Result<std::unique_ptr<Notifier>> n = NewNotifier(*config, deps);
  ASSERT_OK(n);
  EXPECT_THAT((*n)->ChannelNames(), ElementsAre("webhook", "slack", "teams", "email", "sns"));
  Message created = SampleMessage(Event::kRequestCreated, clock.Now());
  Message ended = SampleMessage(Event::kGrantEnded, clock.Now());
  EXPECT_THAT((*n)->ChannelsFor(created), ElementsAre("webhook", "slack", "teams", "email", "sns"));
  EXPECT_THAT((*n)->ChannelsFor(ended), ElementsAre("webhook", "teams", "email", "sns"));

  for (const std::string& file : {bad_url, empty, (dir.path() / "missing").string()}) {
    Result<std::vector<ChannelConfig>> c = ::jit::notify::testing::ParseNotifySection(
        "notify:\n  - {type: slack, webhook_url_file: " + file + "}\n", "t");
    ASSERT_OK(c);
    EXPECT_THAT(NewChannels(*c, deps), StatusIs(StatusCode::kInvalidArgument, HasSubstr("slack")))
        << file;
  }
}

}  // namespace
}  // namespace jit::notify
