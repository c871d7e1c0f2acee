// POST /v1/slack/interactions through the real workflow (memory store, fake provider): Slack's
// signature and timestamp, replays and garbled payloads are refused; a good press approves or
// denies as the mapped user, with the API's authorization.

#include "api/slack.h"

#include <nlohmann/json.hpp>

#include "api/json.h"
#include "api/server.h"
#include "auth/auth.h"
#include "aws/sigv4.h"
#include "aws/test_http_server.h"
#include "core/testing.h"
#include "model/identity.h"
#include "model/request_json.h"
#include "net/test_http_client.h"
#include "notify/render.h"
#include "notify/slack.h"
#include "policy/config.h"
#include "provider/fake_directory.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using ::jit::aws::testing::CannedResponse;
using ::jit::aws::testing::ReceivedRequest;
using ::jit::aws::testing::TestHttpServer;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
const model::Identity kAlice{"alice", {"engineers"}, "a11ce000-0000-4000-8000-000000000001"};

// Slack's Web API (users.info) and the response_url sink, on one loopback server.
CannedResponse FakeSlack(const ReceivedRequest& r) {
  if (r.target.rfind("/respond/", 0) == 0) return CannedResponse{200, {}, "ok"};
  if (r.Header("authorization") != "Bearer xoxb-jit") {
    return CannedResponse{200, {}, R"({"ok":false,"error":"invalid_auth"})"};
  }
  static const std::map<std::string, std::string> kEmails = {{"UALICE", "alice@example.com"},
                                                             {"UBOB", "Bob@Example.com"},
                                                             {"UDAVE", "dave@example.com"},
                                                             {"UGHOST", "ghost@example.com"}};
  std::string user = r.target.substr(r.target.find("user=") + 5);
  auto it = kEmails.find(user);
  if (it == kEmails.end())
    return CannedResponse{200, {}, R"({"ok":false,"error":"user_not_found"})"};
  return CannedResponse{
      200,
      {},
      json{{"ok", true}, {"user", {{"id", user}, {"profile", {{"email", it->second}}}}}}.dump()};
}

class SlackInteractionsTest : public ::testing::Test {
 protected:
  SlackInteractionsTest()
      : config_(*policy::ParseConfig(policy::DevPolicyYaml(), "dev")),
        store_(store::NewMemoryStore(clock_)),
        workflow_(*store_, config_, provider_, clock_),
        slack_server_(FakeSlack),
        http_(aws::NewCurlTransport()) {
    directory_.AddUser(
        {"a11ce000-0000-4000-8000-000000000001", "alice", "Alice", {"alice@example.com"}},
        {"engineers"});
    directory_.AddUser({"b0b00000-0000-4000-8000-000000000002", "bob", "Bob", {"bob@example.com"}},
                       {"approvers"});
    directory_.AddUser(
        {"da7e0000-0000-4000-8000-000000000004", "dave", "Dave", {"dave@example.com"}},
        {"engineers"});
    notify::SlackApp app;
    app.channel = "slack";
    app.signing_secret = kSecret;
    app.bot_token = "xoxb-jit";
    app.api_url = slack_server_.url() + "/api";
    app.team_id = "T1";
    SlackInteractionsOptions options;
    options.response_url_prefix = slack_server_.url() + "/respond/";
    slack_ = std::make_unique<SlackInteractions>(std::vector<notify::SlackApp>{app}, workflow_,
                                                 directory_, *http_, clock_, options);
  }

  std::string Pending() {
    auto r = workflow_.Submit(kAlice, {"prod", "Admin", std::chrono::minutes(30), "rotate", ""});
    EXPECT_OK(r);
    return r.value_or(model::Request{}).id;
  }

  static std::string Form(const std::string& user, const std::string& action,
                          const std::string& request_id, const std::string& team = "T1") {
    json payload = {{"type", "block_actions"},
                    {"user", {{"id", user}, {"username", "u"}, {"team_id", team}}},
                    {"team", {{"id", team}}},
                    {"response_url", "RESPOND"},
                    {"actions", {{{"action_id", action}, {"value", request_id}}}}};
    return "payload=" + aws::UriEncode(payload.dump(), false);
  }

  ApiRequest Signed(std::string body, Duration age = Duration(0),
                    const std::string& secret = kSecret) {
    std::size_t at = body.find("RESPOND");
    if (at != std::string::npos) {
      body.replace(at, 7, aws::UriEncode(slack_server_.url() + "/respond/1", false));
    }
    std::int64_t ts =
        std::chrono::duration_cast<std::chrono::seconds>((clock_.Now() - age).time_since_epoch())
            .count();
    ApiRequest r;
    r.method = "POST";
    r.target = "/v1/slack/interactions";
    r.body = body;
    r.headers = {{"content-type", "application/x-www-form-urlencoded"},
                 {"x-slack-request-timestamp", std::to_string(ts)},
                 {"x-slack-signature", notify::SlackSignature(secret, std::to_string(ts), body)}};
    return r;
  }

  static json Body(const ApiResponse& r) { return json::parse(r.body); }

  model::Request Stored(const std::string& id) { return store_->GetRequest(id).value(); }

  FakeClock clock_;
  policy::ConfigHolder config_;
  std::unique_ptr<store::Store> store_;
  provider::FakeProvider provider_;
  workflow::Workflow workflow_;
  provider::FakeUserDirectory directory_;
  TestHttpServer slack_server_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<SlackInteractions> slack_;
};

TEST_F(SlackInteractionsTest, ApprovesAsTheMappedUser) {
  std::string id = Pending();
  ApiResponse r = slack_->Handle(Signed(Form("UBOB", "jit_approve", id)));
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["response_type"], "ephemeral");
  EXPECT_EQ(body["replace_original"], false);
  EXPECT_THAT(body["text"].get<std::string>(), HasSubstr("You approved " + id));
  EXPECT_FALSE(body.contains("error"));
  EXPECT_EQ(r.user, "bob");
  model::Request stored = Stored(id);
  EXPECT_EQ(stored.state, model::RequestState::kApproved);
  ASSERT_EQ(stored.approvals.size(), 1u);
  EXPECT_EQ(stored.approvals[0].approver, "bob");
  EXPECT_EQ(stored.approvals[0].comment, "approved in Slack");
  // The same text went to response_url.
  bool posted = false;
  for (const ReceivedRequest& req : slack_server_.requests()) {
    if (req.target == "/respond/1") {
      posted = true;
      EXPECT_EQ(json::parse(req.body)["text"], body["text"]);
    }
  }
  EXPECT_TRUE(posted);
}

TEST_F(SlackInteractionsTest, DeniesAsTheMappedUser) {
  std::string id = Pending();
  ApiResponse r = slack_->Handle(Signed(Form("UBOB", "jit_deny", id)));
  ASSERT_EQ(r.status, 200) << r.body;
  model::Request stored = Stored(id);
  EXPECT_EQ(stored.state, model::RequestState::kDenied);
  EXPECT_EQ(stored.end_reason, "denied in Slack by bob");
  EXPECT_EQ(stored.decided_by, "bob");
}

TEST_F(SlackInteractionsTest, SelfApprovalAndNonApproversAreRefused) {
  std::string id = Pending();
  ApiResponse self = slack_->Handle(Signed(Form("UALICE", "jit_approve", id)));
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_EQ(Body(self)["error"]["code"], "permission_denied");
  EXPECT_EQ(Body(self)["response_type"], "ephemeral");
  ApiResponse dave = slack_->Handle(Signed(Form("UDAVE", "jit_approve", id)));
  EXPECT_EQ(dave.status, 403) << dave.body;
  EXPECT_EQ(Body(dave)["error"]["code"], "permission_denied");
  ApiResponse dave_deny = slack_->Handle(Signed(Form("UDAVE", "jit_deny", id)));
  EXPECT_EQ(dave_deny.status, 403) << dave_deny.body;
  // Slack users jit cannot map.
  ApiResponse ghost = slack_->Handle(Signed(Form("UGHOST", "jit_approve", id)));
  EXPECT_EQ(ghost.status, 403) << ghost.body;
  EXPECT_THAT(Body(ghost)["error"]["message"].get<std::string>(), HasSubstr("Identity Center"));
  ApiResponse nobody = slack_->Handle(Signed(Form("UNOBODY", "jit_approve", id)));
  EXPECT_EQ(nobody.status, 403) << nobody.body;
  // Another workspace.
  ApiResponse team = slack_->Handle(Signed(Form("UBOB", "jit_approve", id, "T2")));
  EXPECT_EQ(team.status, 403) << team.body;
  EXPECT_EQ(Stored(id).state, model::RequestState::kPending);
  EXPECT_TRUE(Stored(id).approvals.empty());
  // A request that is decided already.
  ASSERT_EQ(slack_->Handle(Signed(Form("UBOB", "jit_deny", id))).status, 200);
  ApiResponse again = slack_->Handle(Signed(Form("UBOB", "jit_approve", id)));
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(SlackInteractionsTest, BadSignaturesOldTimestampsAndReplaysAreRefused) {
  std::string id = Pending();
  std::string form = Form("UBOB", "jit_approve", id);
  ApiResponse wrong = slack_->Handle(Signed(form, Duration(0), "not-the-secret"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Body(wrong)["error"]["code"], "unauthenticated");
  ApiResponse old = slack_->Handle(Signed(form, std::chrono::minutes(6)));
  EXPECT_EQ(old.status, 401);
  EXPECT_THAT(Body(old)["error"]["message"].get<std::string>(), HasSubstr("5 minutes"));
  ApiRequest tampered = Signed(form);
  tampered.body += "x";
  EXPECT_EQ(slack_->Handle(tampered).status, 401);
  ApiRequest unsigned_req = Signed(form);
  unsigned_req.headers.pop_back();
  EXPECT_EQ(slack_->Handle(unsigned_req).status, 401);
  EXPECT_EQ(Stored(id).state, model::RequestState::kPending);

  ApiRequest good = Signed(Form("UBOB", "jit_deny", id));
  ASSERT_EQ(slack_->Handle(good).status, 200);
  ApiResponse replay = slack_->Handle(good);
  EXPECT_EQ(replay.status, 401);
  EXPECT_THAT(Body(replay)["error"]["message"].get<std::string>(), HasSubstr("replay"));
}

// A SIGHUP hands the endpoint the secrets read now (Broker::Reload): the rotated secret is
// accepted at once and the old one refused; with no app left every press is refused.
TEST_F(SlackInteractionsTest, SetAppsRotatesTheSigningSecret) {
  std::string id = Pending();
  notify::SlackApp app;
  app.channel = "slack";
  app.signing_secret = "rotated-secret";
  app.bot_token = "xoxb-jit";
  app.api_url = slack_server_.url() + "/api";
  app.team_id = "T1";
  slack_->SetApps({app});
  EXPECT_EQ(slack_->Handle(Signed(Form("UBOB", "jit_approve", id))).status, 401);
  EXPECT_EQ(Stored(id).state, model::RequestState::kPending);
  ApiResponse ok =
      slack_->Handle(Signed(Form("UBOB", "jit_deny", id), Duration(0), "rotated-secret"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Stored(id).state, model::RequestState::kDenied);

  slack_->SetApps({});
  ApiResponse none =
      slack_->Handle(Signed(Form("UBOB", "jit_approve", Pending()), Duration(0), "rotated-secret"));
  EXPECT_EQ(none.status, 401);
  EXPECT_THAT(Body(none)["error"]["message"].get<std::string>(),
              HasSubstr("no Slack app is configured"));
}

TEST_F(SlackInteractionsTest, GarbledPayloadsAreBadRequests) {
  for (const std::string& body :
       {std::string("payload=%7Bnot-json"), std::string("nothing=here"),
        "payload=" + aws::UriEncode(R"({"type":"block_actions","user":{"id":"UBOB"}})", false),
        Form("UBOB", "jit_approve", "not-a-request-id"), Form("UBOB", "jit_frobnicate", "x")}) {
    ApiResponse r = slack_->Handle(Signed(body));
    EXPECT_EQ(r.status, 400) << body;
    json j = Body(r);
    EXPECT_EQ(j["error"]["code"], "bad_request") << body;
  }
}

TEST_F(SlackInteractionsTest, TheServerRoutesSignedPostsWithTheirHeaders) {
  auto authenticator = auth::NewStaticAuthenticator(auth::DevUsers(), {});
  HttpServerOptions options;
  options.threads = 1;
  ApiHooks hooks;
  hooks.slack = slack_.get();
  HttpServer server(options, workflow_, *authenticator, config_, nullptr, clock_, hooks);
  ASSERT_OK(server.Start());
  std::string id = Pending();
  ApiRequest req = Signed(Form("UBOB", "jit_approve", id));

  net::testing::ClientRequest hr;
  hr.method = "POST";
  hr.target = req.target;
  hr.Set("Host", "127.0.0.1");
  hr.Set("Content-Type", "application/x-www-form-urlencoded");
  hr.Set("X-Slack-Request-Timestamp", req.Header("x-slack-request-timestamp"));
  hr.Set("X-Slack-Signature", req.Header("x-slack-signature"));
  hr.body = req.body;
  net::testing::HttpConnection connection(server.port());
  net::testing::ClientResponse res = connection.RoundTrip(hr);
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(Stored(id).state, model::RequestState::kApproved);

  // A forged interaction (a bad signature) is refused and audited.
  hr.Set("X-Slack-Signature", "v0=" + std::string(64, '0'));
  net::testing::HttpConnection forged(server.port());
  EXPECT_EQ(forged.RoundTrip(hr).status, 401);
  bool audited = false;
  auto events = store_->ListAudit(0, 1000, "");
  ASSERT_TRUE(events.has_value());
  for (const model::AuditEvent& e : *events) {
    if (e.action == "access.refused" && e.severity == "warning" &&
        e.details.find("/v1/slack") != std::string::npos) {
      audited = true;
    }
  }
  EXPECT_TRUE(audited);
  server.Stop();

  // Without Slack configured the path does not exist.
  ApiHandler plain(workflow_, *authenticator, config_, nullptr);
  ApiResponse r = plain.Handle(req);
  EXPECT_EQ(r.status, 404);
}

// ---- /jit, the slash command (POST /v1/slack/commands) ----

// Slack's slash command payload for `/jit <text>` typed by `user`.
std::string Command(const std::string& user, const std::string& text,
                    const std::string& team = "T1") {
  return "token=legacy&team_id=" + team + "&channel_id=C1&user_id=" + user +
         "&user_name=u&command=%2Fjit&text=" + aws::UriEncode(text, false) +
         "&response_url=RESPOND&trigger_id=1.2.3";
}

TEST_F(SlackInteractionsTest, CommandRequestFilesARequestAsTheMappedUser) {
  ApiResponse r =
      slack_->HandleCommand(Signed(Command("UALICE", "request prod Admin 30m rotate the keys")));
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["response_type"], "ephemeral");
  std::string text = body["text"];
  ASSERT_THAT(text, HasSubstr("Filed req_"));
  EXPECT_THAT(text, HasSubstr("Admin on prod for alice, 30m): pending."));
  std::string id = text.substr(text.find("req_"), 30);
  model::Request stored = Stored(id);
  EXPECT_EQ(stored.requester, "alice");
  EXPECT_EQ(stored.reason, "rotate the keys");
  EXPECT_EQ(stored.duration_seconds, 1800);
  EXPECT_EQ(r.user, "alice");
  // The answer went to response_url too, where Slack shows it.
  bool posted = false;
  for (const ReceivedRequest& got : slack_server_.requests()) {
    posted =
        posted || (got.target == "/respond/1" && got.body.find("Filed req_") != std::string::npos);
  }
  EXPECT_TRUE(posted);
}

TEST_F(SlackInteractionsTest, CommandLsShowsOpenRequestsAndWhatWaitsForTheCaller) {
  std::string id = Pending();
  ApiResponse mine = slack_->HandleCommand(Signed(Command("UALICE", "ls")));
  ASSERT_EQ(mine.status, 200) << mine.body;
  std::string text = Body(mine)["text"];
  EXPECT_THAT(text,
              HasSubstr("Your open requests:\n• " + id + " Admin on prod for alice: pending"));
  EXPECT_THAT(text, HasSubstr("Waiting for your approval:\nnone"));

  ApiResponse bobs = slack_->HandleCommand(Signed(Command("UBOB", "ls")));
  ASSERT_EQ(bobs.status, 200) << bobs.body;
  text = Body(bobs)["text"];
  EXPECT_THAT(text, HasSubstr("Your open requests:\nnone"));
  EXPECT_THAT(text, HasSubstr("Waiting for your approval:\n• " + id));
}

TEST_F(SlackInteractionsTest, CommandApproveApprovesWithTheApisRules) {
  std::string id = Pending();
  ApiResponse self = slack_->HandleCommand(Signed(Command("UALICE", "approve " + id)));
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_EQ(Stored(id).state, model::RequestState::kPending);

  ApiResponse r = slack_->HandleCommand(Signed(Command("UBOB", "approve " + id)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(Body(r)["text"].get<std::string>(), HasSubstr("You approved " + id));
  EXPECT_EQ(Stored(id).approvals.at(0).approver, "bob");
  EXPECT_EQ(Stored(id).approvals.at(0).comment, "approved in Slack");

  clock_.Advance(std::chrono::seconds(1));  // a new signature: not a replay
  ApiResponse again = slack_->HandleCommand(Signed(Command("UBOB", "approve " + id)));
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(SlackInteractionsTest, CommandsThatJitCannotReadGetTheUsageLine) {
  for (const char* text :
       {"", "help", "approve", "approve req_1 now", "ls mine", "request prod Admin 30m",
        "request prod Admin soon rotate", "approve not-an-id"}) {
    ApiResponse r = slack_->HandleCommand(Signed(Command("UALICE", text)));
    EXPECT_EQ(r.status, 400) << text;
    json body = Body(r);
    EXPECT_EQ(body["error"]["code"], "bad_request") << text;
    EXPECT_THAT(body["text"].get<std::string>(), HasSubstr("usage: /jit request")) << text;
  }
  EXPECT_TRUE(store_->ListRequests({}).value().items.empty());
}

TEST_F(SlackInteractionsTest, CommandsAreSignedCheckedLikeInteractions) {
  std::string body = Command("UBOB", "ls");
  EXPECT_EQ(slack_->HandleCommand(Signed(body, Duration(0), "wrong-secret")).status, 401);
  EXPECT_EQ(slack_->HandleCommand(Signed(body, std::chrono::minutes(6))).status, 401);
  ApiRequest once = Signed(body);
  EXPECT_EQ(slack_->HandleCommand(once).status, 200);
  EXPECT_EQ(slack_->HandleCommand(once).status, 401);  // a replay
  EXPECT_EQ(slack_->HandleCommand(Signed(Command("UBOB", "ls", "T2"))).status, 403);
  EXPECT_EQ(slack_->HandleCommand(Signed(Command("UGHOST", "ls"))).status, 403);
}

// Notifications carry the request object exactly as the API shows it.
TEST(NotifyRequestJson, IsTheApisRequestObject) {
  FakeClock clock;
  model::Request r;
  r.id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  r.requester = "alice";
  r.account_id = "222222222222";
  r.account_name = "prod";
  r.permission_set_name = "Admin";
  r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  r.duration_seconds = 5400;
  r.reason = "rotate";
  r.ticket = "INC-1";
  r.rule = "prod-admin";
  r.break_glass = true;
  r.approvals_required = 1;
  r.approvals = {{"bob", "ok", clock.Now()}};
  r.state = model::RequestState::kEnded;
  r.created_at = clock.Now();
  r.approval_deadline = clock.Now() + std::chrono::minutes(15);
  r.decided_at = clock.Now() + std::chrono::minutes(1);
  r.activated_at = clock.Now() + std::chrono::minutes(2);
  r.expires_at = clock.Now() + std::chrono::minutes(92);
  r.ended_at = clock.Now() + std::chrono::minutes(92);
  r.decided_by = "bob";
  r.end_reason = "expired";
  r.failure_reason = "x";
  r.review_state = "closed";
  r.reviewed_by = "carol";
  r.review_comment = "fine";
  r.reviewed_at = clock.Now() + std::chrono::hours(3);
  notify::Message m;
  m.request = r;
  m.at = clock.Now();
  EXPECT_EQ(notify::EventJson(m)["request"], model::RequestToJson(r));
}

}  // namespace
}  // namespace jit::api
