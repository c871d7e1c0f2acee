// The authorization matrix (issue 4, "Roles" and "Tests"): every endpoint of the API for every
// role, on requests of one's own and of others, with the exact HTTP status each cell answers.
//
// Roles (columns):
//   owner     alice (engineers, sre): made the fixture requests
//   engineer  erin (engineers): another requester
//   approver  bob (approvers): approves the prod-admin rule
//   admin     carol (admins): may revoke anything and read everything, approves nothing
//   auditor   dave (auditors): may read everything
//   anon      no token
// Fixtures, made afresh for every cell:
//   P  alice's pending prod / Admin (rule prod-admin, approvers: group approvers)
//   A  alice's active sandbox / ReadOnly (rule readonly, approval auto: nobody approves it)
//   B  alice's active sandbox / BreakGlass (rule break-glass), post-incident review open
//
// | endpoint                       | owner | engineer | approver | admin | auditor | anon |
// |--------------------------------|-------|----------|----------|-------|---------|------|
// | POST /v1/requests (ReadOnly)   |  201  |   201    |   403    |  403  |   403   | 401  |
// | GET  /v1/requests              |  200  |   200    |   200    |  200  |   200   | 401  |
// | GET  /v1/requests/P            |  200  |   404    |   200    |  200  |   200   | 401  |
// | GET  /v1/requests/A            |  200  |   404    |   404    |  200  |   200   | 401  |
// | GET  /v1/requests/B            |  200  |   404    |   200    |  200  |   200   | 401  |
// | GET  /v1/requests/P/activity   |  200  |   404    |   200    |  200  |   200   | 401  |
// | GET  /v1/requests/A/activity   |  200  |   404    |   404    |  200  |   200   | 401  |
// | POST /v1/requests/P/approve    |  403  |   404    |   200    |  403  |   403   | 401  |
// | POST /v1/requests/P/deny       |  403  |   404    |   200    |  200  |   403   | 401  |
// | POST /v1/requests/P/cancel     |  200  |   404    |   403    |  403  |   403   | 401  |
// | POST /v1/requests/A/revoke     |  200  |   404    |   404    |  200  |   403   | 401  |
// | POST /v1/requests/A/extend     |  200  |   404    |   404    |  403  |   403   | 401  |
// | POST /v1/requests/B/review     |  403  |   404    |   200    |  200  |   403   | 401  |
// | GET  /v1/catalog               |  200  |   200    |   200    |  200  |   200   | 401  |
// | GET  /v1/me                    |  200  |   200    |   200    |  200  |   200   | 401  |
// | GET  /v1/audit                 |  403  |   403    |   403    |  200  |   200   | 401  |
// | GET  /v1/audit/verify          |  403  |   403    |   403    |  501  |   501   | 401  |
// | GET  /v1/reports/summary       |  403  |   403    |   403    |  200  |   200   | 401  |
// | GET  /v1/assignments/standing  |  403  |   403    |   403    |  200  |   200   | 401  |
//
// An automation token (auth.automation) answers 403 on every row above and is the only caller
// that may POST /v1/findings (OnlyTheAutomationTokenPostsFindingsAndItDoesNothingElse).
//
// Read as: another's request that one may not see is 404 (ids cannot be probed); one that one
// sees but may not act on is 403. Nobody approves their own request (admins included: see
// AdminWhoApprovesCannotApproveTheirOwn). Approvers of any rule see break-glass requests, to
// review them. Only the requester cancels or extends; the requester or an admin revokes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "api/session.h"
#include "api/ui.h"
#include "auth/auth.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;
using std::chrono::minutes;

constexpr char kConfig[] = R"yaml(
admins: {groups: [admins]}
auditors: {groups: [auditors]}
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", max_duration: 1h}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    approval: auto
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    reason: required
    break_glass: true
)yaml";

enum Column { kOwner, kEngineer, kApprover, kAdmin, kAuditor, kAnon, kColumns };
constexpr std::array<const char*, kColumns> kColumnNames = {"owner", "engineer", "approver",
                                                            "admin", "auditor",  "anon"};

std::vector<auth::DevUser> Users() {
  return {
      {"alice", {"engineers", "sre"}, "tok-alice", "a11ce000-0000-4000-8000-000000000001"},
      {"erin", {"engineers"}, "tok-erin", "e414000-0000-4000-8000-000000000005"},
      {"bob", {"approvers"}, "tok-bob", "b0b00000-0000-4000-8000-000000000002"},
      {"carol", {"admins"}, "tok-carol", "ca401000-0000-4000-8000-000000000003"},
      {"dave", {"auditors"}, "tok-dave", "da7e0000-0000-4000-8000-000000000004"},
      {"olga", {"admins", "approvers", "engineers"}, "tok-olga", "01ga0000-0000-4000-8000-0000006"},
  };
}

constexpr std::array<const char*, kColumns> kTokens = {"tok-alice", "tok-erin", "tok-bob",
                                                       "tok-carol", "tok-dave", ""};

policy::Config MatrixConfig() {
  auto c = policy::ParseConfig(kConfig, "matrix.yaml");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

ApiHooks HooksWithSessions(const CookieSessions* sessions) {
  ApiHooks hooks;
  hooks.sessions = sessions;
  // Session activity is not what this file tests: who reaches it is. The hook answers which
  // request it was handed.
  hooks.activity = [](const workflow::RequestView& view) -> Result<json> {
    return json{{"request_id", view.request.id}};
  };
  return hooks;
}

// The automation token (auth.automation) every matrix broker also accepts: it may post findings
// and nothing else (docs/FINDINGS.md).
constexpr char kAutomationToken[] = "tok-automation-0123456789abcdef0123456789";

workflow::WorkflowOptions MatrixOptions(provider::FakeProvider& provider) {
  workflow::WorkflowOptions o;
  o.inventory = &provider;
  o.finding_rules = [] {
    findings::Settings on;  // HIGH and above, any type
    on.line = 1;
    return std::make_shared<const findings::Settings>(on);
  };
  return o;
}

// A GuardDuty finding (severity 8: HIGH) about alice's role session, as EventBridge posts it.
constexpr char kFinding[] = R"({
  "version": "0", "id": "e0e0e0e0-0000-4000-8000-000000000001",
  "detail-type": "GuardDuty Finding", "source": "aws.guardduty", "account": "222222222222",
  "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
  "detail": {"id": "f00d", "type": "UnauthorizedAccess:IAMUser/MaliciousIPCaller",
             "severity": 8, "accountId": "222222222222", "region": "us-east-1",
             "resource": {"resourceType": "AccessKey",
                          "accessKeyDetails": {"principalId": "AROAEXAMPLE:alice",
                                               "userType": "AssumedRole",
                                               "userName": "AWSReservedSSO_ReadOnly_0123"}}}})";

// One broker (memory store, fake provider, fake clock) behind the API handler, with alice's
// fixture requests P, A and B.
class Broker {
 public:
  Broker()
      : config_(MatrixConfig()),
        workflow_(store_, config_, provider_, clock_, MatrixOptions(provider_)),
        auth_(
            auth::NewStaticAuthenticator(Users(), {}, {{"eventbridge", Sha256(kAutomationToken)}})),
        ui_(UiOptions{Users(), std::chrono::hours(1), ""}, signer_, nullptr, clock_),
        handler_(workflow_, *auth_, config_, nullptr, HooksWithSessions(&ui_)) {
    model::Identity alice{"alice", {"engineers", "sre"}, "a11ce000-0000-4000-8000-000000000001"};
    pending_ = Submit(alice, "prod", "Admin", "deploy");
    active_ = Submit(alice, "sandbox", "ReadOnly", "logs");
    break_glass_ = Submit(alice, "sandbox", "BreakGlass", "outage");
    RunDueJobs();
  }

  // Submits through the workflow; aborts when the fixture cannot be made.
  std::string Submit(const model::Identity& who, const std::string& account, const std::string& ps,
                     const std::string& reason) {
    auto r = workflow_.Submit(who, {account, ps, minutes(30), reason, ""});
    JIT_CHECK(r.has_value());
    return r->id;
  }

  // Runs the due jobs (the grants of approved requests), as the scheduler would.
  void RunDueJobs() {
    auto jobs = store_.ListJobs();
    JIT_CHECK(jobs.has_value());
    for (const model::Job& j : *jobs) {
      if (j.due_at <= clock_.Now()) workflow_.Run(j);
    }
  }

  ApiResponse Call(const std::string& method, std::string target, const std::string& token,
                   const std::string& body) {
    Replace(target, "{P}", pending_);
    Replace(target, "{A}", active_);
    Replace(target, "{B}", break_glass_);
    ApiRequest req;
    req.method = method;
    req.target = std::move(target);
    if (!token.empty()) req.authorization = "Bearer " + token;
    req.body = body;
    return handler_.Handle(req);
  }

  // Call, as the web UI would make it: signed in as the user of `token` (a session cookie and
  // its CSRF token), no Authorization header.
  ApiResponse CallWithCookie(const std::string& method, std::string target,
                             const std::string& token, const std::string& body,
                             bool with_csrf = true) {
    Replace(target, "{P}", pending_);
    Replace(target, "{A}", active_);
    Replace(target, "{B}", break_glass_);
    ApiRequest req;
    req.method = method;
    req.target = std::move(target);
    req.body = body;
    for (const auth::DevUser& u : Users()) {
      if (u.token != token || token.empty()) continue;
      UiSession session;
      auto value = signer_.IssueSession({u.username, u.groups, u.principal_id}, "dev", clock_.Now(),
                                        std::chrono::hours(1), &session);
      JIT_CHECK(value.has_value());
      req.cookie = ui_.SessionCookieName() + "=" + *value;
      if (with_csrf) req.csrf_token = signer_.CsrfToken(session);
    }
    return handler_.Handle(req);
  }

  model::RequestState StateOf(const std::string& id) { return store_.GetRequest(id)->state; }
  std::vector<model::Request> ListAll() {
    auto page = workflow_.List({"carol", {"admins"}, ""}, workflow::ListInput{});
    JIT_CHECK(page.has_value());
    return page->items;
  }
  const std::string& pending() const { return pending_; }
  const std::string& active() const { return active_; }
  const std::string& break_glass() const { return break_glass_; }

 private:
  static void Replace(std::string& s, const std::string& from, const std::string& to) {
    std::size_t at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
  }

  FakeClock clock_;
  store::MemoryStore store_{clock_};
  provider::FakeProvider provider_;
  policy::ConfigHolder config_;
  workflow::Workflow workflow_;
  std::unique_ptr<auth::Authenticator> auth_;
  CookieSigner signer_ = CookieSigner::WithRandomKey();
  Ui ui_;
  ApiHandler handler_;
  std::string pending_;
  std::string active_;
  std::string break_glass_;
};

struct Row {
  const char* method;
  const char* target;
  const char* body;
  std::array<int, kColumns> want;
};

// The table at the top of this file, cell for cell.
const std::vector<Row>& Matrix() {
  static const std::vector<Row> rows = {
      {"POST",
       "/v1/requests",
       // prod: alice's A is sandbox / ReadOnly, and another would be a duplicate (409).
       R"({"account": "prod", "permission_set": "ReadOnly", "duration": "30m"})",
       {201, 201, 403, 403, 403, 401}},
      {"GET", "/v1/requests", "", {200, 200, 200, 200, 200, 401}},
      {"GET", "/v1/requests/{P}", "", {200, 404, 200, 200, 200, 401}},
      {"GET", "/v1/requests/{A}", "", {200, 404, 404, 200, 200, 401}},
      {"GET", "/v1/requests/{B}", "", {200, 404, 200, 200, 200, 401}},
      // Session activity: whoever sees the request (the requester, its approvers, admins,
      // auditors), as Workflow::Get decides.
      {"GET", "/v1/requests/{P}/activity", "", {200, 404, 200, 200, 200, 401}},
      {"GET", "/v1/requests/{A}/activity", "", {200, 404, 404, 200, 200, 401}},
      {"POST", "/v1/requests/{P}/approve", "{}", {403, 404, 200, 403, 403, 401}},
      {"POST", "/v1/requests/{P}/deny", R"({"reason": "no"})", {403, 404, 200, 200, 403, 401}},
      {"POST", "/v1/requests/{P}/cancel", "{}", {200, 404, 403, 403, 403, 401}},
      {"POST", "/v1/requests/{A}/revoke", "{}", {200, 404, 404, 200, 403, 401}},
      {"POST", "/v1/requests/{A}/extend", R"({"duration": "10m"})", {200, 404, 404, 403, 403, 401}},
      {"POST", "/v1/requests/{B}/review", R"({"comment": "ok"})", {403, 404, 200, 200, 403, 401}},
      {"GET", "/v1/catalog", "", {200, 200, 200, 200, 200, 401}},
      {"GET", "/v1/me", "", {200, 200, 200, 200, 200, 401}},
      {"GET", "/v1/audit", "", {403, 403, 403, 200, 200, 401}},
      {"GET", "/v1/audit/verify", "", {403, 403, 403, 501, 501, 401}},
      {"GET", "/v1/reports/summary?since=7d", "", {403, 403, 403, 200, 200, 401}},
      {"GET", "/v1/assignments/standing", "", {403, 403, 403, 200, 200, 401}},
  };
  return rows;
}

TEST(AuthzMatrix, EveryEndpointAnswersEveryRoleWithTheExactStatus) {
  int cells = 0;
  for (const Row& row : Matrix()) {
    for (int col = 0; col < kColumns; ++col) {
      Broker broker;  // fresh for every cell: no cell sees another's effects
      ApiResponse r = broker.Call(row.method, row.target, kTokens[col], row.body);
      EXPECT_EQ(r.status, row.want[col])
          << row.method << " " << row.target << " as " << kColumnNames[col] << ": " << r.body;
      ++cells;
    }
  }
  EXPECT_EQ(cells, 19 * kColumns);
}

// The web UI's session cookies go through exactly the same checks: every cell answers the
// same status, and the same body, as with the user's bearer token.
TEST(AuthzMatrix, SessionCookiesAnswerEveryCellLikeTheUsersBearerToken) {
  int cells = 0;
  for (const Row& row : Matrix()) {
    for (int col = 0; col < kColumns; ++col) {
      Broker by_token;
      Broker by_cookie;
      ApiResponse t = by_token.Call(row.method, row.target, kTokens[col], row.body);
      ApiResponse c = by_cookie.CallWithCookie(row.method, row.target, kTokens[col], row.body);
      EXPECT_EQ(c.status, row.want[col])
          << row.method << " " << row.target << " as " << kColumnNames[col] << ": " << c.body;
      // Ids and times differ between the two brokers; the error, when there is one, does not.
      auto error = [](const std::string& body) {
        static const std::regex kId("req_[0-9A-Z]{26}");
        json j = json::parse(body, nullptr, false);
        return j.contains("error") ? std::regex_replace(j["error"].dump(), kId, "req_ID")
                                   : std::string();
      };
      EXPECT_EQ(error(c.body), error(t.body))
          << row.method << " " << row.target << " as " << kColumnNames[col];
      EXPECT_EQ(c.user, t.user);
      ++cells;
    }
  }
  EXPECT_EQ(cells, 19 * kColumns);
}

TEST(AuthzMatrix, SessionCookiesWithoutTheCsrfTokenChangeNothing) {
  // Every state change the matrix allows, sent as a cross-site form would: the cookie goes
  // along, the CSRF token cannot.
  int refused = 0;
  for (const Row& row : Matrix()) {
    if (std::string(row.method) != "POST") continue;
    for (int col = 0; col < kAnon; ++col) {
      if (row.want[col] >= 300) continue;
      Broker broker;
      ApiResponse r = broker.CallWithCookie(row.method, row.target, kTokens[col], row.body,
                                            /*with_csrf=*/false);
      EXPECT_EQ(r.status, 403) << row.method << " " << row.target << " as " << kColumnNames[col];
      EXPECT_THAT(r.body, ::testing::HasSubstr("csrf_failed"));
      EXPECT_EQ(broker.StateOf(broker.pending()), model::RequestState::kPending);
      EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kActive);
      EXPECT_EQ(broker.ListAll().size(), 3u) << "nothing was submitted";
      ++refused;
    }
  }
  EXPECT_GE(refused, 10);
}

TEST(AuthzMatrix, RefusalsChangeNothing) {
  // The forbidden decisions of the matrix leave the requests as they were.
  Broker broker;
  EXPECT_EQ(broker.Call("POST", "/v1/requests/{P}/approve", "tok-alice", "{}").status, 403);
  EXPECT_EQ(broker.Call("POST", "/v1/requests/{P}/cancel", "tok-carol", "{}").status, 403);
  EXPECT_EQ(broker.Call("POST", "/v1/requests/{A}/revoke", "tok-dave", "{}").status, 403);
  EXPECT_EQ(broker.StateOf(broker.pending()), model::RequestState::kPending);
  EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kActive);
}

TEST(AuthzMatrix, AdminWhoApprovesCannotApproveTheirOwn) {
  Broker broker;
  model::Identity olga{"olga", {"admins", "approvers", "engineers"}, "01ga0000-0000-4000"};
  std::string own = broker.Submit(olga, "prod", "Admin", "mine");
  ApiResponse r = broker.Call("POST", "/v1/requests/" + own + "/approve", "tok-olga", "{}");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(broker.StateOf(own), model::RequestState::kPending);
  // She approves alice's, as an approver.
  r = broker.Call("POST", "/v1/requests/{P}/approve", "tok-olga", "{}");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(AuthzMatrix, ListsShowOnlyWhatEachRoleMaySee) {
  Broker broker;
  auto ids = [&broker](const char* token) {
    ApiResponse r = broker.Call("GET", "/v1/requests", token, "");
    std::vector<std::string> out;
    json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    for (const json& item : body.value("items", json::array())) out.push_back(item["id"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> all = {broker.pending(), broker.active(), broker.break_glass()};
  std::sort(all.begin(), all.end());
  std::vector<std::string> bobs = {broker.pending(), broker.break_glass()};
  std::sort(bobs.begin(), bobs.end());
  EXPECT_EQ(ids("tok-alice"), all);
  EXPECT_EQ(ids("tok-erin"), std::vector<std::string>{});
  EXPECT_EQ(ids("tok-bob"), bobs);
  EXPECT_EQ(ids("tok-carol"), all);
  EXPECT_EQ(ids("tok-dave"), all);
}

// POST /v1/findings: only the automation token (200), which reaches no other route (403); people
// of every role are refused (403), with their tokens or their sessions; no token or a wrong one
// is 401.
TEST(AuthzMatrix, OnlyTheAutomationTokenPostsFindingsAndItDoesNothingElse) {
  const std::array<int, kColumns> want = {403, 403, 403, 403, 403, 401};
  for (int col = 0; col < kColumns; ++col) {
    Broker broker;
    ApiResponse r = broker.Call("POST", "/v1/findings", kTokens[col], kFinding);
    EXPECT_EQ(r.status, want[col]) << "as " << kColumnNames[col] << ": " << r.body;
    if (col != kAnon) {
      Broker by_cookie;
      ApiResponse c = by_cookie.CallWithCookie("POST", "/v1/findings", kTokens[col], kFinding);
      EXPECT_EQ(c.status, 403) << "session of " << kColumnNames[col] << ": " << c.body;
      EXPECT_EQ(by_cookie.StateOf(by_cookie.active()), model::RequestState::kActive);
    }
    EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kActive);
  }
  {
    Broker broker;
    ApiResponse wrong = broker.Call("POST", "/v1/findings", "tok-automation-wrong", kFinding);
    EXPECT_EQ(wrong.status, 401) << wrong.body;
    EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kActive);
  }
  for (const Row& row : Matrix()) {
    Broker broker;
    ApiResponse r = broker.Call(row.method, row.target, kAutomationToken, row.body);
    EXPECT_EQ(r.status, 403) << row.method << " " << row.target << ": " << r.body;
    EXPECT_THAT(r.body, ::testing::HasSubstr("an automation token may only post findings"));
  }
  Broker broker;
  // What is not a finding event is refused before anything is done.
  for (const char* bad : {"", "[]", "{\"id\": \"x\", \"source\": \"aws.ec2\"}", "{"}) {
    ApiResponse r = broker.Call("POST", "/v1/findings", kAutomationToken, bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["code"], "bad_request") << r.body;
  }
  EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kActive);
  ApiResponse posted = broker.Call("POST", "/v1/findings", kAutomationToken, kFinding);
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(posted.user, "automation:eventbridge");
  json body = json::parse(posted.body);
  EXPECT_EQ(body["findings"][0]["outcome"], "acted") << posted.body;
  EXPECT_EQ(broker.StateOf(broker.active()), model::RequestState::kRevoking);
  EXPECT_EQ(broker.StateOf(broker.pending()), model::RequestState::kDenied);
  EXPECT_EQ(broker.StateOf(broker.break_glass()), model::RequestState::kRevoking);
  // Again: a duplicate, which changes nothing.
  ApiResponse again = broker.Call("POST", "/v1/findings", kAutomationToken, kFinding);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json::parse(again.body)["duplicate"], true) << again.body;
  EXPECT_EQ(json::parse(again.body)["findings"][0]["outcome"], "duplicate") << again.body;
}

}  // namespace
}  // namespace jit::api
