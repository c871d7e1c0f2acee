// The route table of ApiHandler: which (method, path) reaches which handler, and the 404 and
// 405 answers around it. The endpoints' behaviour is tested in server_test.cc and
// authz_matrix_test.cc.

#include "api/handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http_error.h"
#include "api/router.h"
#include "auth/auth.h"
#include "core/clock.h"
#include "core/ids.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;

workflow::WorkflowOptions WithInventory(provider::FakeProvider& provider) {
  workflow::WorkflowOptions o;
  o.inventory = &provider;
  return o;
}

class HandlersTest : public ::testing::Test {
 protected:
  HandlersTest()
      : config_(*policy::ParseConfig(policy::DevPolicyYaml(), "dev")),
        workflow_(store_, config_, provider_, clock_, WithInventory(provider_)),
        auth_(auth::NewStaticAuthenticator(auth::DevUsers(), {})),
        handler_(workflow_, *auth_, config_, nullptr) {}

  ApiResponse Call(const std::string& method, const std::string& target, const std::string& token,
                   const std::string& body = "") {
    ApiRequest req;
    req.method = method;
    req.target = target;
    if (!token.empty()) req.authorization = "Bearer " + token;
    req.body = body;
    return handler_.Handle(req);
  }

  static json Body(const ApiResponse& r) { return json::parse(r.body); }
  static std::string Message(const ApiResponse& r) {
    return Body(r).value("/error/message"_json_pointer, "");
  }

  std::string UnknownId() { return NewId("req_", clock_.Now()); }

  FakeClock clock_;
  store::MemoryStore store_{clock_};
  provider::FakeProvider provider_;
  policy::ConfigHolder config_;
  workflow::Workflow workflow_;
  std::unique_ptr<auth::Authenticator> auth_;
  ApiHandler handler_;
};

// The HTTP contract: every route the API answers, in matching order.
TEST(RouteTable, IsTheApi) {
  std::vector<std::string> rows;
  for (const ApiHandler::RouteInfo& r : ApiHandler::RouteTable()) {
    rows.push_back(std::string(r.method) + " " + std::string(r.pattern) + " -> " +
                   std::string(r.handler) + (r.authenticated ? "" : " (public)") +
                   (r.automation ? " (automation)" : ""));
  }
  EXPECT_THAT(
      rows,
      ::testing::ElementsAre(
          "GET /healthz -> Healthz (public)", "GET /readyz -> Readyz (public)",
          "GET /metrics -> Metrics (public)",
          "POST /v1/slack/interactions -> SlackInteractions (public)",
          "POST /v1/slack/commands -> SlackCommands (public)", "GET /v1/requests -> ListRequests",
          "POST /v1/requests -> SubmitRequest", "GET /v1/requests/{id} -> GetRequest",
          "GET /v1/requests/{id}/activity -> GetActivity",
          "POST /v1/requests/{id}/approve -> ApproveRequest",
          "POST /v1/requests/{id}/deny -> DenyRequest",
          "POST /v1/requests/{id}/cancel -> CancelRequest",
          "POST /v1/requests/{id}/revoke -> RevokeRequest",
          "POST /v1/requests/{id}/extend -> ExtendRequest",
          "POST /v1/requests/{id}/review -> ReviewRequest", "GET /v1/catalog -> Catalog",
          "GET /v1/me -> Me", "GET /v1/audit -> Audit", "GET /v1/audit/verify -> AuditVerify",
          "POST /v1/policy/explain -> ExplainPolicy", "GET /v1/reports/summary -> ReportSummary",
          "GET /v1/assignments/standing -> StandingAssignments",
          "POST /v1/findings -> PostFindings (automation)"));
}

TEST(RouteTable, EachRouteReachesItsHandler) {
  std::vector<ApiHandler::RouteInfo> table = ApiHandler::RouteTable();
  std::vector<RoutePattern> patterns;
  for (const ApiHandler::RouteInfo& r : table) patterns.push_back({r.method, r.pattern});
  struct Case {
    const char* method;
    const char* path;
    const char* handler;
  };
  for (const Case& c : std::vector<Case>{
           {"GET", "/healthz", "Healthz"},
           {"GET", "/readyz", "Readyz"},
           {"GET", "/metrics", "Metrics"},
           {"POST", "/v1/slack/interactions", "SlackInteractions"},
           {"POST", "/v1/slack/commands", "SlackCommands"},
           {"GET", "/v1/requests", "ListRequests"},
           {"POST", "/v1/requests", "SubmitRequest"},
           {"GET", "/v1/requests/req_1", "GetRequest"},
           {"GET", "/v1/requests/req_1/activity", "GetActivity"},
           {"POST", "/v1/requests/req_1/approve", "ApproveRequest"},
           {"POST", "/v1/requests/req_1/deny", "DenyRequest"},
           {"POST", "/v1/requests/req_1/cancel", "CancelRequest"},
           {"POST", "/v1/requests/req_1/revoke", "RevokeRequest"},
           {"POST", "/v1/requests/req_1/extend", "ExtendRequest"},
           {"POST", "/v1/requests/req_1/review", "ReviewRequest"},
           {"GET", "/v1/catalog", "Catalog"},
           {"GET", "/v1/me", "Me"},
           {"GET", "/v1/audit", "Audit"},
           {"GET", "/v1/audit/verify", "AuditVerify"},
           {"POST", "/v1/policy/explain", "ExplainPolicy"},
           {"GET", "/v1/reports/summary", "ReportSummary"},
           {"GET", "/v1/assignments/standing", "StandingAssignments"},
           {"POST", "/v1/findings", "PostFindings"},
       }) {
    RouteMatch m = MatchRoute(patterns, c.method, c.path);
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::kFound) << c.method << " " << c.path;
    EXPECT_EQ(table[m.index].handler, c.handler) << c.method << " " << c.path;
  }
}

TEST_F(HandlersTest, AGroupIsAskedForByNameAndNamedInTheAnswer) {
  policy::Config c = *policy::ParseConfig(std::string(policy::DevPolicyYaml()) + R"yaml(
  - name: responders
    requesters: {groups: [engineers]}
    identity_center_groups: [sre]
    max_duration: 1h
    approval: {approvers: {groups: [approvers]}, required: 1}
identity_center_groups:
  - {name: sre, id: "5e000000-0000-4000-8000-000000000013"}
)yaml",
                                          "groups.yaml");
  config_.Set(std::move(c));
  ApiResponse made = Call("POST", "/v1/requests", "dev-alice",
                          R"({"group": "sre", "duration": "30m", "reason": "incident"})");
  ASSERT_EQ(made.status, 201) << made.body;
  json r = Body(made);
  EXPECT_EQ(r["group"], json({{"id", "5e000000-0000-4000-8000-000000000013"}, {"name", "sre"}}));
  EXPECT_EQ(r["account"]["id"], "group");
  EXPECT_EQ(r["state"], "pending");

  ApiResponse both = Call("POST", "/v1/requests", "dev-alice",
                          R"({"group": "sre", "account": "prod", "duration": "30m"})");
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(Message(both), "give group, or account and permission_set, not both");
  ApiResponse shape =
      Call("POST", "/v1/requests", "dev-alice", R"({"group": 7, "duration": "30m"})");
  EXPECT_EQ(shape.status, 400);
  ApiResponse unknown =
      Call("POST", "/v1/requests", "dev-alice", R"({"group": "nope", "duration": "30m"})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(Message(unknown), "unknown Identity Center group 'nope'");
}

TEST_F(HandlersTest, ThePostAnswerIsWhatAGetAnswersJustAfter) {
  // The POST answer is built from the submit (issue 18), not read back: it must say exactly
  // what GET says while nothing else has happened to the request (pending, needs approval).
  ApiResponse made = Call("POST", "/v1/requests", "dev-alice",
                          R"({"account": "prod", "permission_set": "Admin", "duration": "30m",
                              "reason": "deploy"})");
  ASSERT_EQ(made.status, 201) << made.body;
  json posted = Body(made);
  ASSERT_EQ(posted["state"], "pending");
  ASSERT_FALSE(posted["history"].empty());
  ApiResponse got = Call("GET", "/v1/requests/" + posted["id"].get<std::string>(), "dev-alice");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(posted, Body(got));

  // A request for several accounts still answers with its batch.
  ApiResponse batch = Call("POST", "/v1/requests", "dev-alice",
                           R"({"accounts": ["sandbox", "prod"], "permission_set": "ReadOnly",
                               "duration": "30m", "reason": "audit"})");
  ASSERT_EQ(batch.status, 201) << batch.body;
  json b = Body(batch);
  EXPECT_EQ(b["targets"].size(), 2u) << batch.body;
  EXPECT_FALSE(b["history"].empty());
}

TEST_F(HandlersTest, ActivityIsAConflictWhenSessionActivityIsOff) {
  ApiResponse submitted = Call("POST", "/v1/requests", "dev-alice",
                               R"({"account": "sandbox", "permission_set": "ReadOnly",
                                   "duration": "30m", "reason": "logs"})");
  ASSERT_EQ(submitted.status, 201) << submitted.body;
  std::string id = Body(submitted)["id"];
  ApiResponse r = Call("GET", "/v1/requests/" + id + "/activity", "dev-alice");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(Message(r), ::testing::HasSubstr("activity.role_name"));
  // Another's request stays hidden: 404 before anything is said about activity.
  EXPECT_EQ(Call("GET", "/v1/requests/" + UnknownId() + "/activity", "dev-alice").status, 404);
}

TEST_F(HandlersTest, UnknownPathIs404BeforeAuthentication) {
  for (const char* target : {"/v1/nope", "/v1/requests/", "/v1/requests/req_1/frobnicate",
                             "/healthz/", "", "/v1/audit/verify/x"}) {
    ApiResponse r = Call("GET", target, "");
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(Body(r), json::parse(R"({"error": {"code": "not_found",
                                                  "message": "no such endpoint"}})"))
        << target;
  }
}

TEST_F(HandlersTest, WrongMethodIs405WithAllowBeforeAuthentication) {
  ApiResponse r = Call("DELETE", "/v1/requests?state=pending", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Body(r), json::parse(R"({"error": {"code": "method_not_allowed",
      "message": "method DELETE is not allowed here; use GET, POST"}})"));
  EXPECT_THAT(r.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Allow", "GET, POST")));
  r = Call("GET", "/v1/requests/req_1/approve", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Message(r), "method GET is not allowed here; use POST");
  r = Call("POST", "/healthz", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Message(r), "method POST is not allowed here; use GET");
}

TEST_F(HandlersTest, PublicRoutesNeedNoCaller) {
  EXPECT_EQ(Body(Call("GET", "/healthz", "")), json({{"status", "ok"}}));
  EXPECT_EQ(Body(Call("GET", "/readyz", "")), json({{"status", "ready"}}));
  EXPECT_EQ(Call("GET", "/metrics", "").status, 404);  // no metrics hook
  ApiResponse slack = Call("POST", "/v1/slack/interactions", "");
  EXPECT_EQ(slack.status, 404);
  EXPECT_THAT(Message(slack), ::testing::HasSubstr("Slack interactions are not configured"));
}

TEST_F(HandlersTest, V1RoutesNeedACaller) {
  for (const ApiHandler::RouteInfo& r : ApiHandler::RouteTable()) {
    if (!r.authenticated) continue;
    std::string path(r.pattern);
    std::size_t at = path.find("{id}");
    if (at != std::string::npos) path.replace(at, 4, UnknownId());
    ApiResponse answer = Call(std::string(r.method), path, "");
    EXPECT_EQ(answer.status, 401) << r.method << " " << path;
    EXPECT_EQ(answer.user, "");
  }
}

TEST_F(HandlersTest, EachV1RouteAnswersFromItsHandler) {
  EXPECT_EQ(Body(Call("GET", "/v1/me", "dev-alice"))["username"], "alice");
  EXPECT_TRUE(Body(Call("GET", "/v1/catalog", "dev-alice"))["items"].is_array());
  EXPECT_TRUE(Body(Call("GET", "/v1/requests", "dev-alice")).contains("next_cursor"));
  EXPECT_TRUE(Body(Call("GET", "/v1/audit", "dev-carol")).contains("next_after"));
  EXPECT_EQ(Call("GET", "/v1/audit/verify", "dev-carol").status, 501);  // no verify hook
  EXPECT_TRUE(Body(Call("GET", "/v1/assignments/standing", "dev-carol")).contains("pairs_listed"));
  ApiResponse explain = Call("POST", "/v1/policy/explain", "dev-alice",
                             R"({"account": "sandbox", "permission_set": "ReadOnly"})");
  EXPECT_EQ(explain.status, 200) << explain.body;
  EXPECT_TRUE(Body(explain).contains("text"));
  ApiResponse submit =
      Call("POST", "/v1/requests", "dev-alice",
           R"({"account": "sandbox", "permission_set": "ReadOnly", "duration": "30m"})");
  ASSERT_EQ(submit.status, 201) << submit.body;
  std::string id = Body(submit)["id"];
  EXPECT_EQ(submit.request_id, id);
  ApiResponse got = Call("GET", "/v1/requests/" + id, "dev-alice");
  EXPECT_EQ(Body(got)["id"], id);
  EXPECT_EQ(got.user, "alice");
  EXPECT_EQ(got.request_id, id);

  // Each decision's handler, told apart by the fields it takes.
  std::string decide = "/v1/requests/" + UnknownId() + "/";
  EXPECT_EQ(Message(Call("POST", decide + "approve", "dev-bob", R"({"reason": "x"})")),
            "unknown field \"reason\"");
  EXPECT_EQ(Message(Call("POST", decide + "deny", "dev-bob", "{}")), "reason is required");
  EXPECT_EQ(Message(Call("POST", decide + "cancel", "dev-alice", R"({"reason": "x"})")),
            "unknown field \"reason\"");
  EXPECT_EQ(Message(Call("POST", decide + "revoke", "dev-alice", R"({"comment": "x"})")),
            "unknown field \"comment\"");
  EXPECT_EQ(Message(Call("POST", decide + "extend", "dev-alice", "{}")), "duration is required");
  EXPECT_EQ(Message(Call("POST", decide + "review", "dev-bob", R"({"reason": "x"})")),
            "unknown field \"reason\"");
  EXPECT_EQ(Call("POST", decide + "approve", "dev-bob", "{}").status, 404);
}

// Issue #15 finding 2 and #16 "Limits": a submission over a per-user limit answers 429 with
// Retry-After and the JSON error body; a duplicate answers 409 naming the request it duplicates.
TEST_F(HandlersTest, SubmissionOverALimitIs429WithRetryAfterAndADuplicateIs409) {
  policy::Config limited = *config_.Get();
  limited.limits.requests_per_minute_per_user = 2;
  config_.Set(std::move(limited));
  const std::string prod_admin =
      R"({"account": "prod", "permission_set": "Admin", "duration": "30m", "reason": "deploy"})";
  ApiResponse first = Call("POST", "/v1/requests", "dev-alice", prod_admin);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = Body(first)["id"];

  ApiResponse again = Call("POST", "/v1/requests", "dev-alice", prod_admin);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Body(again)["error"]["code"], "conflict");
  EXPECT_THAT(Message(again), ::testing::HasSubstr("you already have request " + id));
  EXPECT_THAT(again.headers, ::testing::Not(::testing::Contains(::testing::Key("Retry-After"))));

  // The refused duplicate did not count: a second request fits, the third is one too many.
  ApiResponse second =
      Call("POST", "/v1/requests", "dev-alice",
           R"({"account": "sandbox", "permission_set": "ReadOnly", "duration": "30m"})");
  ASSERT_EQ(second.status, 201) << second.body;
  clock_.Advance(std::chrono::seconds(20));
  ApiResponse third =
      Call("POST", "/v1/requests", "dev-alice",
           R"({"account": "prod", "permission_set": "ReadOnly", "duration": "30m"})");
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.content_type, "application/json");
  EXPECT_EQ(Body(third)["error"]["code"], "resource_exhausted");
  EXPECT_THAT(Message(third), ::testing::HasSubstr("try again in 40s"));
  EXPECT_THAT(third.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "40")));
  EXPECT_EQ(third.user, "alice");

  clock_.Advance(std::chrono::seconds(40));
  EXPECT_EQ(Call("POST", "/v1/requests", "dev-alice",
                 R"({"account": "prod", "permission_set": "ReadOnly", "duration": "30m"})")
                .status,
            201);
}

TEST(RetryAfterSeconds, RoundsUpToAWholeSecondOfAtLeastOne) {
  EXPECT_EQ(RetryAfterSeconds(Duration(0)), "1");
  EXPECT_EQ(RetryAfterSeconds(Duration(1)), "1");
  EXPECT_EQ(RetryAfterSeconds(Duration(1000)), "1");
  EXPECT_EQ(RetryAfterSeconds(Duration(1001)), "2");
  EXPECT_EQ(RetryAfterSeconds(std::chrono::minutes(15)), "900");
}

TEST_F(HandlersTest, MalformedIdIs404AfterAuthentication) {
  ApiResponse r = Call("POST", "/v1/requests/not-an-id/approve", "dev-bob", "not json");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Message(r), "no such request");
  EXPECT_EQ(r.user, "bob");
  EXPECT_EQ(r.request_id, "");
  EXPECT_EQ(Call("GET", "/v1/requests/not-an-id", "").status, 401);
}

TEST_F(HandlersTest, MalformedQueryIs400) {
  ApiResponse r = Call("GET", "/v1/requests?state=%zz", "dev-alice");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Message(r), "malformed query string");
}

TEST_F(HandlersTest, BothAuditEndpointsRefuseANonReaderAlike) {
  ApiResponse trail = Call("GET", "/v1/audit", "dev-alice");
  ApiResponse verify = Call("GET", "/v1/audit/verify", "dev-alice");
  EXPECT_EQ(trail.status, 403);
  EXPECT_EQ(verify.status, 403);
  EXPECT_EQ(trail.body, verify.body);
  EXPECT_EQ(Message(verify), "only admins and auditors can read the audit trail");
}

TEST_F(HandlersTest, PageLimitsAreTheWorkflowsAndWordedAsBefore) {
  EXPECT_EQ(Message(Call("GET", "/v1/requests?limit=0", "dev-alice")),
            "limit must be a whole number from 1 to 500");
  EXPECT_EQ(Message(Call("GET", "/v1/requests?limit=abc", "dev-alice")),
            "limit must be a whole number from 1 to 500");
  EXPECT_EQ(Message(Call("GET", "/v1/audit?limit=5000", "dev-carol")),
            "limit must be a whole number from 1 to 1000");
  // A bad page size is refused before the caller's permission is: as before.
  EXPECT_EQ(Call("GET", "/v1/audit?limit=5000", "dev-alice").status, 422);
  EXPECT_EQ(Message(Call("GET", "/v1/requests?review=maybe", "dev-alice")),
            "review must be open or closed");
}

TEST_F(HandlersTest, ReportSummaryIsForAdminsAndAuditorsWithAThirtyDayDefault) {
  ApiResponse r = Call("GET", "/v1/reports/summary", "dev-carol");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["window"], "30d");
  EXPECT_EQ(body["requests"]["total"], 0);
  EXPECT_EQ(body["requests"]["by_state"].size(), 9u);
  EXPECT_TRUE(body["time_to_approve"]["p50_seconds"].is_null());
  EXPECT_TRUE(body["decisions"]["denial_rate"].is_null());
  EXPECT_EQ(body["revoke_lag"]["objective_seconds"], 5);
  EXPECT_EQ(Body(Call("GET", "/v1/reports/summary?since=12h", "dev-carol"))["window"], "12h");

  r = Call("GET", "/v1/reports/summary", "dev-alice");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r), "only admins and auditors can read reports");
  EXPECT_EQ(Call("GET", "/v1/reports/summary", "dev-bob").status, 403);
  EXPECT_EQ(Call("GET", "/v1/reports/summary", "").status, 401);
}

TEST_F(HandlersTest, ABadSinceIs400WithAJsonErrorBeforeThePermissionCheck) {
  for (const char* since : {"", "abc", "30x", "0d", "0s", "-1d", "367d", "400d", "1d1d", "%20"}) {
    for (const char* token : {"dev-carol", "dev-alice"}) {
      ApiResponse r = Call("GET", std::string("/v1/reports/summary?since=") + since, token);
      EXPECT_EQ(r.status, 400) << since << ": " << r.body;
      EXPECT_EQ(Body(r)["error"]["code"], "bad_request") << since;
      EXPECT_THAT(Message(r), ::testing::StartsWith("since must be a duration such as 30d"))
          << since;
    }
  }
  EXPECT_EQ(Call("GET", "/v1/reports/summary?since=366d", "dev-carol").status, 200);
  EXPECT_EQ(Call("GET", "/v1/reports/summary?since=1d12h", "dev-carol").status, 200);
}

}  // namespace
}  // namespace jit::api

namespace jit::api {
namespace {

// GET /v1/assignments/standing (issue 13 deliverable 8): the standing access of the pairs jit
// offers, as JSON; the account filter's bad input; who may ask.
TEST_F(HandlersTest, StandingAssignmentsListsWhatJitDidNotMake) {
  const std::string ro = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
  provider_.AddStanding({"b0b00000-0000-4000-8000-000000000002", "111111111111", ro});
  provider_.SetPrincipalName(provider::PrincipalType::kUser, "b0b00000-0000-4000-8000-000000000002",
                             "bob\x1b[31m");
  provider_.AddGroupAssignment("0a500000-0000-4000-8000-000000000010", "222222222222", ro);
  ApiResponse r = Call("GET", "/v1/assignments/standing", "dev-carol");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["pairs_listed"], 5);
  ASSERT_EQ(body["items"].size(), 2u);
  EXPECT_EQ(body["items"][0], json::parse(R"({"account_id": "222222222222", "account_name": "prod",
      "permission_set": "ReadOnly", "permission_set_arn": ")" +
                                          ro + R"(",
      "principal_type": "GROUP", "principal_id": "0a500000-0000-4000-8000-000000000010",
      "principal_name": null, "held_through_jit": false})"));
  EXPECT_EQ(body["items"][1]["principal_name"], "bob\x1b[31m");  // JSON escapes it

  ApiResponse one = Call("GET", "/v1/assignments/standing?account=sandbox", "dev-carol");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Body(one)["items"].size(), 1u);
  EXPECT_EQ(Body(one)["pairs_listed"], 2);

  ApiResponse unknown = Call("GET", "/v1/assignments/standing?account=staging", "dev-carol");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_THAT(Message(unknown), ::testing::HasSubstr("'staging' is not in the catalog"));
  ApiResponse bad = Call("GET", "/v1/assignments/standing?account=a%0Ab", "dev-carol");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(Message(bad), "account must be an account id or name");
  EXPECT_EQ(Call("GET", "/v1/assignments/standing", "dev-alice").status, 403);

  provider_.FailNext(provider::FakeProvider::Op::kListAll, 1, UnavailableError("throttled"));
  EXPECT_EQ(Call("GET", "/v1/assignments/standing", "dev-carol").status, 503);
}

// The web UI picks a first screen and counts what waits for an approver from these.
TEST_F(HandlersTest, MeSaysWhetherTheCallerMayRequestOrApprove) {
  json alice = Body(Call("GET", "/v1/me", "dev-alice"));
  EXPECT_EQ(alice["may_request"], true);
  EXPECT_EQ(alice["may_approve"], false);
  json bob = Body(Call("GET", "/v1/me", "dev-bob"));
  EXPECT_EQ(bob["may_request"], false);
  EXPECT_EQ(bob["may_approve"], true);
}

TEST_F(HandlersTest, AwaitingTakesOnlyMeAndNoOtherFilter) {
  ApiResponse ok = Call("GET", "/v1/requests?awaiting=me&limit=10", "dev-bob");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(Body(ok)["items"].is_array());
  ApiResponse other = Call("GET", "/v1/requests?awaiting=carol", "dev-bob");
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(Message(other), "awaiting must be me");
  ApiResponse mixed = Call("GET", "/v1/requests?awaiting=me&state=pending", "dev-bob");
  EXPECT_EQ(mixed.status, 422) << mixed.body;
  EXPECT_EQ(Body(mixed)["error"]["code"], "invalid_argument");
}

}  // namespace
}  // namespace jit::api
