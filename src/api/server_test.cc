#include "api/server.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "net/test_http_client.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using ::jit::testing::StatusIs;
using net::testing::ClientRequest;
using net::testing::ClientResponse;
using net::testing::HttpConnection;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

struct Reply {
  int status = 0;
  json body;  // discarded when the body is not JSON
  ClientResponse raw;

  std::string Header(const char* name) const { return raw.Header(name); }
  std::string ErrorCode() const { return body.value("/error/code"_json_pointer, ""); }
  std::string ErrorMessage() const { return body.value("/error/message"_json_pointer, ""); }
};

struct Call {
  std::string method = "GET";
  std::string target;
  std::string token;                // empty: no Authorization header
  std::optional<std::string> body;  // sent as is
  std::vector<std::pair<std::string, std::string>> headers;
};

// A small synchronous client: one request, and its answer, on `stream`.
Reply RoundTrip(HttpConnection& connection, const Call& c) {
  ClientRequest req;
  req.method = c.method;
  req.target = c.target;
  req.Set("Host", "127.0.0.1");
  if (!c.token.empty()) req.Set("Authorization", "Bearer " + c.token);
  for (const auto& [name, value] : c.headers) req.Set(name, value);
  if (c.body) {
    req.Set("Content-Type", "application/json");
    req.body = *c.body;
  }
  Reply r;
  r.raw = connection.RoundTrip(req);
  r.status = r.raw.status;
  r.body = json::parse(r.raw.body, nullptr, /*allow_exceptions=*/false);
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest()
      : config_(*policy::ParseConfig(policy::DevPolicyYaml(), "dev")),
        workflow_(store_, config_, provider_, clock_),
        auth_(auth::NewStaticAuthenticator(auth::DevUsers(), {})) {}

  void SetUp() override {
    HttpServerOptions options;
    options.threads = 2;
    options.read_timeout = std::chrono::seconds(10);
    server_.emplace(
        options, workflow_, *auth_, config_,
        [this] {
          MutexLock lock(&mu_);
          return readiness_;
        },
        clock_, hooks_);
    ASSERT_OK(server_->Start());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override { server_->Stop(); }

  void SetReadiness(Status s) {
    MutexLock lock(&mu_);
    readiness_ = std::move(s);
  }

  Reply Send(Call c) {
    HttpConnection connection(server_->port());
    Reply r = RoundTrip(connection, c);
    connection.Shutdown();
    return r;
  }

  Reply Get(const std::string& target, const std::string& token) {
    return Send({"GET", target, token});
  }
  Reply Post(const std::string& target, const std::string& token, const std::string& body) {
    return Send({"POST", target, token, body});
  }

  // Submits and returns the new request's id; fails the test unless the answer is 201.
  std::string Submit(const std::string& token, const json& body) {
    Reply r = Post("/v1/requests", token, body.dump());
    EXPECT_EQ(r.status, 201) << r.raw.body;
    return r.body.value("id", "");
  }

  std::string SubmitProdAdmin() {
    return Submit("dev-alice", {{"account", "prod"},
                                {"permission_set", "Admin"},
                                {"duration", 1800},
                                {"reason", "deploy hotfix"}});
  }

  // Runs the jobs that are due (the grant of an approved request), as the scheduler would.
  void RunDueJobs() {
    auto jobs = store_.ListJobs();
    ASSERT_OK(jobs);
    for (const model::Job& j : *jobs) {
      if (j.due_at <= clock_.Now()) workflow_.Run(j);
    }
  }

  static void ExpectError(const Reply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.raw.body;
    EXPECT_EQ(r.ErrorCode(), code) << r.raw.body;
    EXPECT_FALSE(r.ErrorMessage().empty()) << r.raw.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
  }

  ApiHooks hooks_;  // set by fixtures that test the optional endpoints
  FakeClock clock_;
  store::MemoryStore store_{clock_};
  provider::FakeProvider provider_;
  policy::ConfigHolder config_;
  workflow::Workflow workflow_;
  std::unique_ptr<auth::Authenticator> auth_;
  Mutex mu_;
  Status readiness_ GUARDED_BY(mu_);
  std::optional<HttpServer> server_;
};

// ---- Liveness, readiness, request ids ----

TEST_F(ServerTest, HealthzAnswersOkWithoutAToken) {
  Reply r = Get("/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, (json{{"status", "ok"}}));
}

TEST_F(ServerTest, ReadyzFollowsReadiness) {
  Reply ready = Get("/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, (json{{"status", "ready"}}));

  SetReadiness(UnavailableError("store: disk I/O error at /var/lib/jit/jit.db"));
  Reply not_ready = Get("/readyz", "");
  ExpectError(not_ready, 503, "unavailable");
  EXPECT_THAT(not_ready.raw.body, Not(HasSubstr("/var/lib")));
}

TEST_F(ServerTest, EveryAnswerCarriesARequestId) {
  Reply generated = Get("/healthz", "");
  EXPECT_THAT(generated.Header("X-Request-Id"), HasSubstr("http_"));
  Reply error = Get("/nope", "");
  EXPECT_FALSE(error.Header("X-Request-Id").empty());

  Reply echoed = Send({"GET", "/healthz", "", std::nullopt, {{"X-Request-Id", "abc-123"}}});
  EXPECT_EQ(echoed.Header("X-Request-Id"), "abc-123");

  Reply insane = Send({"GET",
                       "/healthz",
                       "",
                       std::nullopt,
                       {{"X-Request-Id", "a b\"<script>" + std::string(100, 'x')}}});
  EXPECT_THAT(insane.Header("X-Request-Id"), HasSubstr("http_"));
}

TEST_F(ServerTest, KeepsConnectionsAlive) {
  HttpConnection connection(server_->port());
  Reply first = RoundTrip(connection, {"GET", "/healthz"});
  EXPECT_EQ(first.status, 200);
  EXPECT_TRUE(first.raw.keep_alive);
  Reply second = RoundTrip(connection, {"GET", "/v1/me", "dev-alice"});
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body["username"], "alice");
}

TEST_F(ServerTest, AnswersExpect100ContinueBeforeTheBody) {
  HttpConnection connection(server_->port());
  ClientRequest req;
  req.method = "POST";
  req.target = "/v1/requests";
  req.Set("Host", "127.0.0.1");
  req.Set("Authorization", "Bearer dev-alice");
  req.Set("Expect", "100-continue");
  req.body =
      json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}}.dump();
  connection.WriteHeader(req);
  ClientResponse go_ahead = connection.Read();
  EXPECT_EQ(go_ahead.status, 100);
  connection.WriteBody();
  ClientResponse res = connection.Read();
  EXPECT_EQ(res.status, 201) << res.body;
}

TEST_F(ServerTest, OversizeBodyIs413BeforeTheBodyIsSent) {
  HttpConnection connection(server_->port());
  ClientRequest req;
  req.method = "POST";
  req.target = "/v1/requests";
  req.Set("Host", "127.0.0.1");
  req.Set("Authorization", "Bearer dev-alice");
  req.Set("Expect", "100-continue");
  req.body = std::string(65 * 1024, ' ');
  connection.WriteHeader(req);
  ClientResponse res = connection.Read();
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(json::parse(res.body, nullptr, false).value("/error/code"_json_pointer, ""),
            "payload_too_large");
}

// ---- Refusals in the audit trail (issue 15, finding 4) ----

// The "access.refused" events in the store, oldest first.
std::vector<json> RefusalEvents(store::Store& store) {
  std::vector<json> out;
  auto events = store.ListAudit(0, 1000, "");
  EXPECT_TRUE(events.has_value());
  if (!events.has_value()) return out;
  for (const model::AuditEvent& e : *events) {
    if (e.action != "access.refused") continue;
    json details = json::parse(e.details);
    details["actor"] = e.actor;
    details["severity"] = e.severity;
    details["request_id"] = e.request_id;
    out.push_back(std::move(details));
  }
  return out;
}

TEST_F(ServerTest, RefusalsThatMatterForSecurityAreAudited) {
  std::string id = SubmitProdAdmin();
  // A bad token.
  ExpectError(Get("/v1/me", "not-a-token"), 401, "unauthenticated");
  // Self-approval.
  EXPECT_EQ(Post("/v1/requests/" + id + "/approve", "dev-alice", "{}").status, 403);
  // Acting on someone else's request: bob may see it but not cancel it; a request alice cannot
  // see reads as not found.
  EXPECT_EQ(Post("/v1/requests/" + id + "/cancel", "dev-bob", "{}").status, 403);
  EXPECT_EQ(Post("/v1/requests/req_01JD3Q8W5C2M7X9K4T6B1N0R8P/approve", "dev-alice", "{}").status,
            404);
  // A policy refusal: alice is not in sre.
  EXPECT_EQ(Post("/v1/requests", "dev-alice",
                 json{{"account", "prod"},
                      {"permission_set", "BreakGlass"},
                      {"duration", 600},
                      {"reason", "x"}}
                     .dump())
                .status,
            403);
  // A non-auditor reading the audit trail.
  EXPECT_EQ(Get("/v1/audit", "dev-alice").status, 403);
  // Not refusals: an unknown route, a bad duration, a successful read.
  EXPECT_EQ(Get("/v1/nothing-here", "dev-alice").status, 404);
  EXPECT_EQ(Get("/v1/me", "dev-alice").status, 200);

  std::vector<json> events = RefusalEvents(store_);
  ASSERT_EQ(events.size(), 6u) << json(events).dump(2);
  EXPECT_EQ(events[0]["actor"], "anonymous");
  EXPECT_EQ(events[0]["status"], 401);
  EXPECT_EQ(events[0]["path"], "/v1/me");
  EXPECT_EQ(events[0]["source"], "127.0.0.1");
  EXPECT_EQ(events[1]["actor"], "alice");
  EXPECT_EQ(events[1]["status"], 403);
  EXPECT_EQ(events[1]["request_id"], id);
  EXPECT_EQ(events[1]["method"], "POST");
  EXPECT_FALSE(events[1]["message"].get<std::string>().empty());
  EXPECT_EQ(events[2]["actor"], "bob");
  EXPECT_EQ(events[2]["status"], 403);
  EXPECT_EQ(events[2]["request_id"], id);
  EXPECT_EQ(events[3]["actor"], "alice");
  EXPECT_EQ(events[3]["status"], 404);
  EXPECT_EQ(events[3]["request_id"], "req_01JD3Q8W5C2M7X9K4T6B1N0R8P");
  EXPECT_EQ(events[4]["actor"], "alice");
  EXPECT_EQ(events[4]["path"], "/v1/requests");
  EXPECT_EQ(events[5]["path"], "/v1/audit");
  for (const json& e : events) EXPECT_EQ(e["severity"], "warning");
}

TEST_F(ServerTest, AFloodOfRefusalsIsCutToTenASourceAMinuteAndCounted) {
  for (int i = 0; i < 25; ++i) EXPECT_EQ(Get("/v1/me", "bad-token").status, 401);
  std::vector<json> events = RefusalEvents(store_);
  EXPECT_EQ(events.size(), 10u);
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(Get("/v1/me", "bad-token").status, 401);
  events = RefusalEvents(store_);
  ASSERT_EQ(events.size(), 11u);
  EXPECT_EQ(events.back()["suppressed"], 15);
}

// ---- Error answers ----

TEST_F(ServerTest, MissingTokenIs401WithBearerChallenge) {
  Reply r = Get("/v1/requests", "");
  ExpectError(r, 401, "unauthenticated");
  EXPECT_EQ(r.ErrorMessage(), "missing or unknown bearer token");
  EXPECT_THAT(r.Header("WWW-Authenticate"), HasSubstr("Bearer"));
}

TEST_F(ServerTest, UnknownTokenIs401) {
  Reply r = Get("/v1/me", "dev-mallory");
  ExpectError(r, 401, "unauthenticated");
  EXPECT_THAT(r.Header("WWW-Authenticate"), HasSubstr("Bearer"));
  // A token under another scheme is no token.
  Reply basic =
      Send({"GET", "/v1/me", "", std::nullopt, {{"Authorization", "Basic ZGV2LWFsaWNlOg=="}}});
  ExpectError(basic, 401, "unauthenticated");
}

TEST_F(ServerTest, MalformedJsonIs400) {
  ExpectError(Post("/v1/requests", "dev-alice", "{\"account\": "), 400, "bad_request");
  ExpectError(Post("/v1/requests", "dev-alice", "[1, 2]"), 400, "bad_request");
  std::string id = SubmitProdAdmin();
  ExpectError(Post("/v1/requests/" + id + "/approve", "dev-bob", "not json"), 400, "bad_request");
}

TEST_F(ServerTest, FieldOfTheWrongTypeIs400) {
  Reply r = Post("/v1/requests", "dev-alice",
                 R"({"account": 111111111111, "permission_set": "ReadOnly", "duration": "30m"})");
  ExpectError(r, 400, "bad_request");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("account"));
  Reply d = Post("/v1/requests", "dev-alice",
                 R"({"account": "sandbox", "permission_set": "ReadOnly", "duration": 1.5})");
  ExpectError(d, 400, "bad_request");
  EXPECT_THAT(d.ErrorMessage(), HasSubstr("duration"));
}

TEST_F(ServerTest, UnknownFieldIs400NamingIt) {
  Reply r = Post("/v1/requests", "dev-alice",
                 R"({"account": "sandbox", "permission_set": "ReadOnly", "duraton": "30m"})");
  ExpectError(r, 400, "bad_request");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("\"duraton\""));
  std::string id = SubmitProdAdmin();
  Reply approve = Post("/v1/requests/" + id + "/approve", "dev-bob", R"({"coment": "ok"})");
  ExpectError(approve, 400, "bad_request");
  EXPECT_THAT(approve.ErrorMessage(), HasSubstr("coment"));
}

TEST_F(ServerTest, UnknownRouteIs404) {
  ExpectError(Get("/v1/nope", "dev-alice"), 404, "not_found");
  ExpectError(Get("/metrics", ""), 404, "not_found");
  ExpectError(Post("/v1/requests/req_01JD3Q8W5C2M7X9K4T6B1N0R8P/frobnicate", "dev-alice", "{}"),
              404, "not_found");
}

TEST_F(ServerTest, UnknownRequestIdIs404) {
  ExpectError(Get("/v1/requests/" + NewId("req_", clock_.Now()), "dev-alice"), 404, "not_found");
  ExpectError(Get("/v1/requests/not-an-id", "dev-alice"), 404, "not_found");
  ExpectError(Post("/v1/requests/" + NewId("req_", clock_.Now()) + "/approve", "dev-bob", "{}"),
              404, "not_found");
}

TEST_F(ServerTest, WrongMethodIs405) {
  Reply r = Send({"DELETE", "/v1/requests", "dev-alice"});
  ExpectError(r, 405, "method_not_allowed");
  EXPECT_EQ(r.Header("Allow"), "GET, POST");
  Reply approve = Get("/v1/requests/" + NewId("req_", clock_.Now()) + "/approve", "dev-bob");
  ExpectError(approve, 405, "method_not_allowed");
  EXPECT_EQ(approve.Header("Allow"), "POST");
  ExpectError(Post("/healthz", "", "{}"), 405, "method_not_allowed");
}

TEST_F(ServerTest, SelfApprovalIs403) {
  std::string id = SubmitProdAdmin();
  Reply r = Post("/v1/requests/" + id + "/approve", "dev-alice", "{}");
  ExpectError(r, 403, "permission_denied");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("your own request"));
}

TEST_F(ServerTest, AuditIsForAdminsAndAuditorsOnly) {
  ExpectError(Get("/v1/audit", "dev-alice"), 403, "permission_denied");
}

TEST_F(ServerTest, ApprovingACancelledRequestIs409) {
  std::string id = SubmitProdAdmin();
  Reply cancelled = Post("/v1/requests/" + id + "/cancel", "dev-alice", "{}");
  ASSERT_EQ(cancelled.status, 200) << cancelled.raw.body;
  EXPECT_EQ(cancelled.body["state"], "cancelled");
  ExpectError(Post("/v1/requests/" + id + "/approve", "dev-bob", "{}"), 409, "conflict");
}

TEST_F(ServerTest, OversizeBodyIs413) {
  json body = {{"account", "sandbox"},
               {"permission_set", "ReadOnly"},
               {"duration", "30m"},
               {"reason", std::string(70 * 1024, 'x')}};
  Reply r = Post("/v1/requests", "dev-alice", body.dump());
  ExpectError(r, 413, "payload_too_large");
  EXPECT_FALSE(r.Header("X-Request-Id").empty());
}

TEST_F(ServerTest, DurationAboveTheRuleIs422) {
  Reply r =
      Post("/v1/requests", "dev-alice",
           json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "9h"}}.dump());
  ExpectError(r, 422, "invalid_argument");
}

TEST_F(ServerTest, UnknownAccountIs422) {
  Reply r =
      Post("/v1/requests", "dev-alice",
           json{{"account", "nowhere"}, {"permission_set", "ReadOnly"}, {"duration", "1h"}}.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("nowhere"));
}

TEST_F(ServerTest, MissingReasonIs422) {
  Reply r =
      Post("/v1/requests", "dev-alice",
           json{{"account", "prod"}, {"permission_set", "Admin"}, {"duration", "30m"}}.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("reason"));

  std::string id = SubmitProdAdmin();
  Reply deny = Post("/v1/requests/" + id + "/deny", "dev-bob", "{}");
  ExpectError(deny, 422, "invalid_argument");
  EXPECT_EQ(deny.ErrorMessage(), "reason is required");
}

TEST_F(ServerTest, BadDurationIs422) {
  Reply r =
      Post("/v1/requests", "dev-alice",
           json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "5x"}}.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_THAT(r.ErrorMessage(), HasSubstr("5x"));
  ExpectError(
      Post("/v1/requests", "dev-alice",
           json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", -5}}.dump()),
      422, "invalid_argument");
  ExpectError(Post("/v1/requests", "dev-alice",
                   json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}}.dump()),
              422, "invalid_argument");
}

TEST_F(ServerTest, ScheduledStartIsKeptAndBadOnesAreRefused) {
  json body = {{"account", "sandbox"},
               {"permission_set", "ReadOnly"},
               {"duration", "30m"},
               {"start_at", "2026-01-02T09:00:00Z"}};
  Reply r = Post("/v1/requests", "dev-alice", body.dump());
  ASSERT_EQ(r.status, 201) << r.raw.body;
  EXPECT_EQ(r.body["state"], "approved");
  EXPECT_EQ(r.body["start_at"], "2026-01-02T09:00:00.000Z");
  RunDueJobs();
  r = Get("/v1/requests/" + r.body.value("id", ""), "dev-alice");
  EXPECT_EQ(r.body["state"], "approved");  // not before its start
  EXPECT_TRUE(r.body["activated_at"].is_null());

  body["start_at"] = "tomorrow";
  r = Post("/v1/requests", "dev-alice", body.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_EQ(r.ErrorMessage(), "start_at must be an RFC 3339 time like \"2026-12-01T09:00:00Z\"");
  body["start_at"] = 1767254400;
  ExpectError(Post("/v1/requests", "dev-alice", body.dump()), 400, "bad_request");
  body["start_at"] = "2025-12-31T00:00:00Z";  // the clock says 2026-01-01
  r = Post("/v1/requests", "dev-alice", body.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_EQ(r.ErrorMessage(), "start_at 2025-12-31T00:00:00.000Z is in the past");
  body["start_at"] = "2026-01-09T00:00:01Z";
  r = Post("/v1/requests", "dev-alice", body.dump());
  ExpectError(r, 422, "invalid_argument");
  EXPECT_EQ(r.ErrorMessage(),
            "start_at 2026-01-09T00:00:01.000Z is more than the 7d ahead that rule 'readonly' "
            "allows");
  body["start_at"] = nullptr;  // null: at once
  ASSERT_EQ(Post("/v1/requests", "dev-alice", body.dump()).status, 201);
}

TEST_F(ServerTest, CatalogSaysHowFarAheadAStartMayBe) {
  Reply r = Get("/v1/catalog", "dev-alice");
  ASSERT_EQ(r.status, 200);
  ASSERT_FALSE(r.body["items"].empty());
  for (const json& item : r.body["items"]) {
    EXPECT_EQ(item["schedule_window_seconds"], 7 * 24 * 3600) << item.dump();
    EXPECT_TRUE(item.contains("reason_min_length")) << item.dump();
    EXPECT_TRUE(item["hours"].is_null()) << item.dump();
  }
}

TEST_F(ServerTest, ExplainTakesAStartAt) {
  Reply r = Post("/v1/policy/explain", "dev-alice",
                 R"({"account": "sandbox", "permission_set": "ReadOnly", "duration": "1h",
                     "start_at": "2026-01-20T00:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["outcome"], "refused");
  EXPECT_EQ(r.body["request"]["start_at"], "2026-01-20T00:00:00.000Z");
  ExpectError(Post("/v1/policy/explain", "dev-alice",
                   R"({"account": "sandbox", "permission_set": "ReadOnly", "start_at": "x"})"),
              422, "invalid_argument");
}

TEST_F(ServerTest, ExtensionOfAnApprovedGrantWaitsForBob) {
  std::string id = SubmitProdAdmin();
  ASSERT_EQ(Post("/v1/requests/" + id + "/approve", "dev-bob", "{}").status, 200);
  RunDueJobs();
  Reply r = Post("/v1/requests/" + id + "/extend", "dev-alice", R"({"duration": "10m"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  std::string expires = r.body.value("expires_at", "");
  EXPECT_EQ(r.body["state"], "active");
  ASSERT_TRUE(r.body["extension"].is_object()) << r.raw.body;
  EXPECT_EQ(r.body["extension"]["duration_seconds"], 600);
  EXPECT_EQ(r.body["extension"]["approvals_required"], 1);
  EXPECT_EQ(r.body["history"].back()["action"], "extension.requested");
  ExpectError(Post("/v1/requests/" + id + "/extend", "dev-alice", R"({"duration": "5m"})"), 409,
              "conflict");
  ExpectError(Post("/v1/requests/" + id + "/approve", "dev-alice", "{}"), 403, "permission_denied");
  r = Post("/v1/requests/" + id + "/approve", "dev-bob", R"({"comment": "ok"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_TRUE(r.body["extension"].is_null());
  EXPECT_NE(r.body.value("expires_at", ""), expires);
  EXPECT_EQ(r.body["history"].back()["action"], "request.extended");
}

TEST_F(ServerTest, BadListFiltersAre422) {
  ExpectError(Get("/v1/requests?state=bogus", "dev-alice"), 422, "invalid_argument");
  ExpectError(Get("/v1/requests?limit=0", "dev-alice"), 422, "invalid_argument");
  ExpectError(Get("/v1/requests?limit=abc", "dev-alice"), 422, "invalid_argument");
  ExpectError(Get("/v1/requests?mine=maybe", "dev-alice"), 422, "invalid_argument");
  ExpectError(Get("/v1/requests?cursor=%zz", "dev-alice"), 400, "bad_request");
}

TEST_F(ServerTest, StoreOutageIs503WithoutItsDetails) {
  store_.FailTransactionsWith(UnavailableError("disk full at /var/lib/jit"));
  Reply r = Post(
      "/v1/requests", "dev-alice",
      json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}}.dump());
  ExpectError(r, 503, "unavailable");
  EXPECT_THAT(r.raw.body, Not(HasSubstr("disk full")));
}

TEST_F(ServerTest, AuditVerifyIs403ForOthersAnd501ForAuditors) {
  ExpectError(Get("/v1/audit/verify", "dev-alice"), 403, "permission_denied");
  ExpectError(Get("/v1/audit/verify", "dev-carol"), 501, "not_implemented");
}

// ---- Happy paths ----

TEST_F(ServerTest, AliceGetsReadOnlyAutomatically) {
  Reply r = Post("/v1/requests", "dev-alice",
                 json{{"account", "sandbox"},
                      {"permission_set", "ReadOnly"},
                      {"duration", "30m"},
                      {"reason", "look at logs"}}
                     .dump());
  ASSERT_EQ(r.status, 201) << r.raw.body;
  const json& b = r.body;
  EXPECT_TRUE(IsWellFormedId(b.value("id", ""), "req_"));
  EXPECT_EQ(r.Header("Location"), "/v1/requests/" + b.value("id", ""));
  EXPECT_EQ(b["requester"], "alice");
  EXPECT_EQ(b["account"], (json{{"id", "111111111111"}, {"name", "sandbox"}}));
  EXPECT_EQ(b["permission_set"]["name"], "ReadOnly");
  EXPECT_EQ(b["permission_set"]["arn"],
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111");
  EXPECT_EQ(b["duration_seconds"], 1800);
  EXPECT_EQ(b["duration"], "30m");
  EXPECT_EQ(b["reason"], "look at logs");
  EXPECT_TRUE(b["ticket"].is_null());
  EXPECT_EQ(b["rule"], "readonly");
  EXPECT_EQ(b["break_glass"], false);
  EXPECT_EQ(b["state"], "approved");
  EXPECT_EQ(b["approvals_required"], 0);
  EXPECT_EQ(b["created_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(b["decided_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_TRUE(b["activated_at"].is_null());
  ASSERT_TRUE(b["history"].is_array());
  ASSERT_GE(b["history"].size(), 2u);
  EXPECT_EQ(b["history"][0]["action"], "request.created");
  EXPECT_EQ(b["history"][0]["actor"], "alice");
  EXPECT_TRUE(b["history"][0]["details"].is_object());

  Reply got = Get("/v1/requests/" + b.value("id", ""), "dev-alice");
  ASSERT_EQ(got.status, 200) << got.raw.body;
  EXPECT_EQ(got.body["id"], b["id"]);
  EXPECT_EQ(got.body["history"].size(), b["history"].size());
}

TEST_F(ServerTest, BobApprovesAlicesProdAdmin) {
  std::string id = SubmitProdAdmin();
  Reply pending = Get("/v1/requests/" + id, "dev-alice");
  ASSERT_EQ(pending.status, 200);
  EXPECT_EQ(pending.body["state"], "pending");
  EXPECT_EQ(pending.body["approvals_required"], 1);
  EXPECT_EQ(pending.body["approval_deadline"], "2026-01-01T00:15:00.000Z");

  // Bob sees it among the pending requests.
  Reply list = Get("/v1/requests?state=pending", "dev-bob");
  ASSERT_EQ(list.status, 200) << list.raw.body;
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0]["id"], id);
  EXPECT_FALSE(list.body["items"][0].contains("history"));
  EXPECT_TRUE(list.body.contains("next_cursor"));

  clock_.Advance(std::chrono::minutes(2));
  Reply r = Post("/v1/requests/" + id + "/approve", "dev-bob", R"({"comment": "go ahead"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["state"], "approved");
  ASSERT_EQ(r.body["approvals"].size(), 1u);
  EXPECT_EQ(
      r.body["approvals"][0],
      (json{{"approver", "bob"}, {"comment", "go ahead"}, {"at", "2026-01-01T00:02:00.000Z"}}));
  EXPECT_EQ(r.body["decided_at"], "2026-01-01T00:02:00.000Z");
  ASSERT_TRUE(r.body["history"].is_array());
  EXPECT_EQ(r.body["history"].back()["action"], "request.approved");
  EXPECT_EQ(r.body["history"].back()["actor"], "bob");
}

TEST_F(ServerTest, BobDeniesWithAReason) {
  std::string id = SubmitProdAdmin();
  Reply r = Post("/v1/requests/" + id + "/deny", "dev-bob", R"({"reason": "not today"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["state"], "denied");
  EXPECT_EQ(r.body["decided_by"], "bob");
}

TEST_F(ServerTest, AliceRevokesHerAccess) {
  std::string id = Submit(
      "dev-alice", {{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "1h"}});
  Reply r = Post("/v1/requests/" + id + "/revoke", "dev-alice", R"({"reason": "done"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_NE(r.body["state"], "approved");
  ExpectError(Post("/v1/requests/" + id + "/revoke", "dev-alice", R"({"reason": 5})"), 400,
              "bad_request");
}

TEST_F(ServerTest, AliceExtendsHerReadOnly) {
  std::string id = Submit(
      "dev-alice", {{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}});
  RunDueJobs();
  std::string path = "/v1/requests/" + id + "/extend";
  Reply r = Post(path, "dev-alice", R"({"duration": "15m"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["state"], "active");
  EXPECT_EQ(r.body["duration_seconds"], 45 * 60);
  EXPECT_EQ(r.body["expires_at"], "2026-01-01T00:45:00.000Z");
  EXPECT_EQ(r.body["history"].back()["action"], "request.extended");
  r = Post(path, "dev-alice", R"({"duration": 600})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["expires_at"], "2026-01-01T00:55:00.000Z");

  ExpectError(Post(path, "dev-alice", "{}"), 422, "invalid_argument");
  ExpectError(Post(path, "dev-alice", R"({"duration": true})"), 400, "bad_request");
  ExpectError(Post(path, "dev-alice", R"({"duration": "1m", "x": 1})"), 400, "bad_request");
  ExpectError(Post(path, "dev-alice", R"({"duration": "8h"})"), 422, "invalid_argument");
  ExpectError(Post(path, "dev-bob", R"({"duration": "1m"})"), 404, "not_found");
  ExpectError(Post(path, "dev-carol", R"({"duration": "1m"})"), 403, "permission_denied");
  std::string pending = SubmitProdAdmin();
  ExpectError(Post("/v1/requests/" + pending + "/extend", "dev-alice", R"({"duration": "1m"})"),
              409, "conflict");
}

TEST_F(ServerTest, BobClosesTheReviewOfCarolsBreakGlass) {
  Reply created = Post("/v1/requests", "dev-carol",
                       json{{"account", "prod"},
                            {"permission_set", "BreakGlass"},
                            {"duration", "15m"},
                            {"reason", "outage"}}
                           .dump());
  ASSERT_EQ(created.status, 201) << created.raw.body;
  EXPECT_EQ(created.body["review_state"], "open");
  EXPECT_TRUE(created.body["reviewed_by"].is_null());
  std::string path = "/v1/requests/" + created.body.value("id", "") + "/review";
  ExpectError(Post(path, "dev-carol", R"({"comment": "me"})"), 403, "permission_denied");
  ExpectError(Post(path, "dev-alice", R"({"comment": "x"})"), 404, "not_found");
  ExpectError(Post(path, "dev-bob", R"({"comment": 1})"), 400, "bad_request");
  clock_.Advance(std::chrono::minutes(1));
  Reply r = Post(path, "dev-bob", R"({"comment": "keys rotated"})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["review_state"], "closed");
  EXPECT_EQ(r.body["reviewed_by"], "bob");
  EXPECT_EQ(r.body["review_comment"], "keys rotated");
  EXPECT_EQ(r.body["reviewed_at"], "2026-01-01T00:01:00.000Z");
  EXPECT_EQ(r.body["history"].back()["action"], "breakglass.reviewed");
  ExpectError(Post(path, "dev-bob", "{}"), 409, "conflict");

  Reply open = Get("/v1/requests?review=open", "dev-bob");
  ASSERT_EQ(open.status, 200) << open.raw.body;
  EXPECT_TRUE(open.body["items"].empty());
  Reply closed = Get("/v1/requests?review=closed", "dev-carol");
  ASSERT_EQ(closed.status, 200) << closed.raw.body;
  ASSERT_EQ(closed.body["items"].size(), 1u);
  EXPECT_EQ(closed.body["items"][0]["reviewed_by"], "bob");
  ExpectError(Get("/v1/requests?review=yes", "dev-bob"), 422, "invalid_argument");
}

TEST_F(ServerTest, AliceCannotReadCarolsRequest) {
  std::string id = Submit("dev-carol", {{"account", "prod"},
                                        {"permission_set", "BreakGlass"},
                                        {"duration", "15m"},
                                        {"reason", "outage"}});
  ExpectError(Get("/v1/requests/" + id, "dev-alice"), 404, "not_found");
  Reply mine = Get("/v1/requests", "dev-alice");
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(mine.body["items"], json::array());
  EXPECT_TRUE(mine.body["next_cursor"].is_null());
  // Carol is an admin and reads everything.
  std::string alices = SubmitProdAdmin();
  EXPECT_EQ(Get("/v1/requests/" + alices, "dev-carol").status, 200);
}

TEST_F(ServerTest, ListPagesWithACursor) {
  // Three targets: a second request for an open one would be a duplicate (policy::Limits).
  for (const char* account : {"sandbox", "prod"}) {
    Submit("dev-alice",
           {{"account", account}, {"permission_set", "ReadOnly"}, {"duration", "10m"}});
    clock_.Advance(std::chrono::seconds(1));
  }
  SubmitProdAdmin();
  Reply first = Get("/v1/requests?mine=true&limit=2", "dev-alice");
  ASSERT_EQ(first.status, 200) << first.raw.body;
  ASSERT_EQ(first.body["items"].size(), 2u);
  ASSERT_TRUE(first.body["next_cursor"].is_string());
  Reply second =
      Get("/v1/requests?mine=true&limit=2&cursor=" + first.body["next_cursor"].get<std::string>(),
          "dev-alice");
  ASSERT_EQ(second.status, 200) << second.raw.body;
  EXPECT_EQ(second.body["items"].size(), 1u);
}

TEST_F(ServerTest, CatalogListsWhatAliceMayRequest) {
  Reply r = Get("/v1/catalog", "dev-alice");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  const json& items = r.body["items"];
  ASSERT_EQ(items.size(), 3u) << items.dump();
  bool saw_prod_admin = false;
  for (const json& item : items) {
    EXPECT_TRUE(item["ticket_pattern"].is_null());
    if (item["permission_set"]["name"] == "Admin") {
      saw_prod_admin = true;
      EXPECT_EQ(item["account"]["name"], "prod");
      EXPECT_EQ(item["account"]["tags"], json::array({"prod"}));
      EXPECT_EQ(item["approval"], "approvers");
      EXPECT_EQ(item["approvals_required"], 1);
      EXPECT_EQ(item["reason_required"], true);
      EXPECT_EQ(item["max_duration"], "1h");
      EXPECT_EQ(item["max_duration_seconds"], 3600);
      EXPECT_EQ(item["min_duration_seconds"], 5);
      EXPECT_EQ(item["rule"], "prod-admin");
    } else {
      EXPECT_EQ(item["approval"], "auto");
    }
  }
  EXPECT_TRUE(saw_prod_admin);
  Reply carol = Get("/v1/catalog", "dev-carol");
  ASSERT_EQ(carol.status, 200);
  ASSERT_FALSE(carol.body["items"].empty());
  EXPECT_EQ(carol.body["items"][0]["approval"], "break_glass");
}

TEST_F(ServerTest, MeShowsIdentityAndRoles) {
  Reply alice = Get("/v1/me", "dev-alice");
  ASSERT_EQ(alice.status, 200);
  EXPECT_EQ(alice.body, (json{{"username", "alice"},
                              {"groups", {"engineers"}},
                              {"principal_id", "a11ce000-0000-4000-8000-000000000001"},
                              {"roles", json::array()},
                              {"may_request", true},
                              {"may_approve", false}}));
  Reply carol = Get("/v1/me", "dev-carol");
  ASSERT_EQ(carol.status, 200);
  EXPECT_THAT(carol.body["roles"].get<std::vector<std::string>>(), ::testing::Contains("admin"));
}

TEST_F(ServerTest, CarolReadsTheAuditTrail) {
  SubmitProdAdmin();
  Reply r = Get("/v1/audit?after=0&limit=10", "dev-carol");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  ASSERT_FALSE(r.body["items"].empty());
  const json& first = r.body["items"][0];
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["action"], "request.created");
  EXPECT_TRUE(first["request_id"].is_string());
  EXPECT_TRUE(first["details"].is_object());
  EXPECT_EQ(first["prev_hash"], std::string(64, '0'));
  EXPECT_EQ(first["hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(r.body["next_after"], r.body["items"].back()["seq"]);

  Reply rest =
      Get("/v1/audit?after=" + std::to_string(r.body["next_after"].get<int>()), "dev-carol");
  ASSERT_EQ(rest.status, 200);
  EXPECT_EQ(rest.body["items"], json::array());
  EXPECT_TRUE(rest.body["next_after"].is_null());
  ExpectError(Get("/v1/audit?limit=5000", "dev-carol"), 422, "invalid_argument");
}

// ---- Start ----

class HttpServerStartTest : public ::testing::Test {
 protected:
  HttpServerStartTest()
      : config_(*policy::ParseConfig(policy::DevPolicyYaml(), "dev")),
        workflow_(store_, config_, provider_, clock_),
        auth_(auth::NewStaticAuthenticator(auth::DevUsers(), {})) {}

  Status StartWith(HttpServerOptions options) {
    HttpServer server(
        std::move(options), workflow_, *auth_, config_, [] { return OkStatus(); }, clock_);
    Status s = server.Start();
    server.Stop();
    return s;
  }

  FakeClock clock_;
  store::MemoryStore store_{clock_};
  provider::FakeProvider provider_;
  policy::ConfigHolder config_;
  workflow::Workflow workflow_;
  std::unique_ptr<auth::Authenticator> auth_;
};

TEST_F(HttpServerStartTest, RefusesBadAddresses) {
  for (const char* bad :
       {"nonsense", "127.0.0.1:99999", "127.0.0.1:", "example.com:80", "::1:80", "127.0.0.1:8o"}) {
    HttpServerOptions o;
    o.listen = bad;
    EXPECT_THAT(StartWith(o), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST_F(HttpServerStartTest, DevModeListensOnLoopbackOnly) {
  HttpServerOptions o;
  o.loopback_only = true;
  o.listen = "0.0.0.0:0";
  EXPECT_THAT(StartWith(o),
              StatusIs(StatusCode::kInvalidArgument, "dev mode listens on loopback only"));
  o.listen = "127.0.0.1:0";
  EXPECT_OK(StartWith(o));
  o.listen = "localhost:0";
  EXPECT_OK(StartWith(o));
}

// DNS rebinding: a page whose own name came to resolve to 127.0.0.1 sends its own name as Host.
TEST_F(HttpServerStartTest, DevModeAnswersOnlyLoopbackHostNames) {
  HttpServerOptions o;
  o.loopback_only = true;
  HttpServer server(
      std::move(o), workflow_, *auth_, config_, [] { return OkStatus(); }, clock_);
  ASSERT_OK(server.Start());
  auto get = [&](std::optional<std::string> host) {
    HttpConnection connection(server.port());
    ClientRequest req;
    req.method = "GET";
    req.target = "/healthz";
    if (host) req.Set("Host", *host);
    return connection.RoundTrip(req);
  };
  for (const char* host :
       {"127.0.0.1", "127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]", "[::1]:8080"}) {
    EXPECT_EQ(get(host).status, 200) << host;
  }
  for (const char* host :
       {"evil.test", "evil.test:8080", "127.0.0.1.evil.test", "localhost.", "127.0.0.2", "[::2]:80",
        "127.0.0.1:80x", "localhost:", "[::1]x", "[::1", "127.0.0.1:123456"}) {
    ClientResponse r = get(host);
    EXPECT_EQ(r.status, 421) << host;
    EXPECT_THAT(r.body, HasSubstr("misdirected_request")) << host;
  }
  ClientResponse no_host = get(std::nullopt);
  EXPECT_EQ(no_host.status, 400);
  EXPECT_THAT(no_host.body, HasSubstr("Host"));
  server.Stop();
}

// Request smuggling: a Transfer-Encoding that is not "chunked" alone must not be read as "no
// body" with its remainder parsed as the next request.
TEST_F(ServerTest, TransferEncodingOtherThanChunkedIsRefusedAndTheConnectionClosed) {
  const std::string smuggled =
      "GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer dev-alice\r\n\r\n";
  for (const char* coding : {"xchunked", "chunked, gzip", "identity", ""}) {
    HttpConnection connection(server_->port());
    connection.WriteRaw(std::string("POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                        "Authorization: Bearer dev-alice\r\nContent-Type: application/json\r\n" +
                        "Transfer-Encoding: " + coding + "\r\n\r\n" + smuggled);
    ClientResponse r = connection.Read();
    EXPECT_EQ(r.status, 400) << coding;
    EXPECT_FALSE(r.keep_alive) << coding;
  }
  for (const char* coding : {"gzip, chunked", "deflate,chunked"}) {
    HttpConnection connection(server_->port());
    connection.WriteRaw(std::string("POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                        "Authorization: Bearer dev-alice\r\n" + "Transfer-Encoding: " + coding +
                        "\r\n\r\n0\r\n\r\n");
    ClientResponse r = connection.Read();
    EXPECT_EQ(r.status, 501) << coding;
    EXPECT_THAT(r.body, HasSubstr("not_implemented"));
    EXPECT_FALSE(r.keep_alive);
  }
  // Two fields make one list: "gzip" then "chunked".
  HttpConnection two_fields(server_->port());
  two_fields.WriteRaw(
      "POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev-alice\r\n"
      "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(two_fields.Read().status, 501);
}

TEST_F(ServerTest, ChunkedAloneIsReadAsTheBody) {
  std::string body =
      json{{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}}.dump();
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  HttpConnection connection(server_->port());
  connection.WriteRaw(std::string("POST /v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                      "Authorization: Bearer dev-alice\r\nContent-Type: application/json\r\n" +
                      "Transfer-Encoding: Chunked\r\n\r\n" + size + "\r\n" + body +
                      "\r\n0\r\n\r\n");
  ClientResponse r = connection.Read();
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ServerTest, OversizedHeaderFieldsAre431) {
  HttpConnection connection(server_->port());
  ClientRequest req;
  req.method = "GET";
  req.target = "/healthz";
  req.Set("Host", "127.0.0.1");
  req.Set("X-Padding", std::string(20 * 1024, 'a'));
  ClientResponse r = connection.RoundTrip(req);
  EXPECT_EQ(r.status, 431);
  EXPECT_THAT(r.body, HasSubstr("request_header_fields_too_large"));
}

TEST_F(ServerTest, Http11WithoutHostIs400AndAnyHostIsAnsweredOutsideDevMode) {
  HttpConnection connection(server_->port());
  ClientRequest req;
  req.method = "GET";
  req.target = "/healthz";
  EXPECT_EQ(connection.RoundTrip(req).status, 400);
  HttpConnection again(server_->port());
  req.Set("Host", "jit.example.test");
  EXPECT_EQ(again.RoundTrip(req).status, 200);
}

TEST_F(HttpServerStartTest, RefusesBadOptions) {
  HttpServerOptions o;
  o.threads = 0;
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("threads")));
  EXPECT_THAT(StartWith(o), StatusIs(StatusCode::kInvalidArgument));
  o = {};
  o.max_body_bytes = 0;
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
  o = {};
  o.read_timeout = Duration(0);
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(HttpServerOptions{}.Validate());
}

TEST_F(HttpServerStartTest, StartsOnceAndStopsTwice) {
  HttpServer server(HttpServerOptions{}, workflow_, *auth_, config_, {}, clock_);
  EXPECT_EQ(server.port(), 0);
  ASSERT_OK(server.Start());
  EXPECT_NE(server.port(), 0);
  EXPECT_THAT(server.Start(), StatusIs(StatusCode::kFailedPrecondition));
  server.Stop();
  server.Stop();
}

TEST_F(HttpServerStartTest, BusyPortIsUnavailable) {
  HttpServer first(HttpServerOptions{}, workflow_, *auth_, config_, {}, clock_);
  ASSERT_OK(first.Start());
  HttpServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(o, workflow_, *auth_, config_, {}, clock_);
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable));
}

// --- the optional endpoints: audit verification, OCSF, metrics ---------------------------------

class HookedServerTest : public ServerTest {
 protected:
  HookedServerTest() {
    hooks_.verify_audit = [this]() -> Result<audit::TrailReport> {
      ++verifications_;
      return audit::VerifyTrail(
          [this](std::int64_t after, int limit) { return store_.ListAudit(after, limit); }, {},
          nullptr);
    };
    hooks_.metrics = [] { return std::string("# HELP jit_x X.\n# TYPE jit_x gauge\njit_x 1\n"); };
  }
  int verifications_ = 0;
};

TEST_F(HookedServerTest, AuditVerifyReportsTheChainToAuditorsOnly) {
  Submit("dev-alice",
         {{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}});
  ExpectError(Get("/v1/audit/verify", "dev-alice"), 403, "permission_denied");
  ExpectError(Get("/v1/audit/verify", "dev-bob"), 403, "permission_denied");
  EXPECT_EQ(verifications_, 0);  // refused before any work
  Reply r = Get("/v1/audit/verify", "dev-carol");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["ok"], true);
  // The request's two events and the two refusals ("access.refused").
  EXPECT_EQ(r.body["events"], 4);
  EXPECT_EQ(r.body["last_seq"], 4);
  EXPECT_TRUE(r.body["first_bad_seq"].is_null());
  ASSERT_EQ(r.body["warnings"].size(), 1u);
  EXPECT_THAT(r.body["warnings"][0].get<std::string>(), HasSubstr("no signed checkpoints"));
}

TEST_F(HookedServerTest, AuditInOcsfForm) {
  Submit("dev-alice",
         {{"account", "sandbox"}, {"permission_set", "ReadOnly"}, {"duration", "30m"}});
  Reply r = Get("/v1/audit?format=ocsf", "dev-carol");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  ASSERT_EQ(r.body["items"].size(), 2u);
  EXPECT_EQ(r.body["items"][0]["class_uid"], 3005);
  EXPECT_EQ(r.body["items"][0]["unmapped"]["action"], "request.created");
  EXPECT_EQ(r.body["next_after"], 2);
  ExpectError(Get("/v1/audit?format=csv", "dev-carol"), 422, "invalid_argument");
}

TEST_F(HookedServerTest, MetricsAreTextWithoutAToken) {
  Reply r = Get("/metrics", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.raw.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.raw.body, "# HELP jit_x X.\n# TYPE jit_x gauge\njit_x 1\n");
  ExpectError(Send({"POST", "/metrics", ""}), 405, "method_not_allowed");
}

TEST_F(ServerTest, WithoutHooksVerifyIs501AndMetricsDoNotExist) {
  ExpectError(Get("/v1/audit/verify", "dev-carol"), 501, "not_implemented");
  ExpectError(Get("/metrics", ""), 404, "not_found");
}

}  // namespace
}  // namespace jit::api
