// Revocation on a threat finding (issue 17 item 3, docs/FINDINGS.md): Workflow::ActOnFindings
// ends every open request of the user a finding names, once per finding, and only for the
// automation identity and the findings the rules choose.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/testing.h"
#include "findings/finding.h"
#include "model/identity.h"
#include "model/request.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

// A namespace of this file's own: the unity build compiles it with the other workflow tests.
namespace jit::workflow::findings_test {
namespace {

using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kCarol;
using fixtures::kDave;
using ::jit::testing::StatusIs;
using model::RequestState;
using std::chrono::minutes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using json = nlohmann::json;

model::Identity Automation() {
  model::Identity who{"automation:eventbridge", {}, ""};
  who.automation = true;
  return who;
}

// A GuardDuty finding as findings::ParseEvent makes it.
findings::Event GuardDuty(std::string event_id, std::string finding_id,
                          std::vector<std::string> principals,
                          findings::Severity severity = findings::Severity::kHigh,
                          std::string type = "UnauthorizedAccess:IAMUser/MaliciousIPCaller") {
  findings::Finding f;
  f.source = findings::Source::kGuardDuty;
  f.id = std::move(finding_id);
  f.types = {std::move(type)};
  f.severity = severity;
  f.severity_text = std::string(findings::SeverityName(severity));
  f.title = "API called from a known malicious IP";
  f.account = "222222222222";
  f.region = "us-east-1";
  f.principals = std::move(principals);
  findings::Event e;
  e.event_id = std::move(event_id);
  e.detail_type = "GuardDuty Finding";
  e.findings.push_back(std::move(f));
  return e;
}

class FindingsTest : public fixtures::InlineWorkflowTest {
 protected:
  FindingsTest() : InlineWorkflowTest(fixtures::WithoutLimits(fixtures::DevConfig())) {
    finding_rules_.line = 1;  // an empty `findings:`: HIGH and above, any type
  }

  void SettleAll() {
    for (int i = 0; i < 6; ++i) Settle();
  }
  std::string Active(const model::Identity& who, const std::string& account) {
    auto r = workflow_.Submit(who, {account, "ReadOnly", minutes(30), "look", ""});
    EXPECT_OK(r);
    SettleAll();
    EXPECT_EQ(State(r->id), RequestState::kActive);
    return r->id;
  }
  std::string Pending(const model::Identity& who) {
    auto r = workflow_.Submit(who, {"prod", "Admin", minutes(30), "deploy", ""});
    EXPECT_OK(r);
    EXPECT_EQ(r->state, RequestState::kPending);
    return r->id;
  }
  RequestState State(const std::string& id) { return store_.GetRequest(id)->state; }
  std::vector<model::AuditEvent> Trail() { return store_.ListAudit(0, 1000).value(); }
  std::vector<model::AuditEvent> Events(const std::string& action) {
    std::vector<model::AuditEvent> out;
    for (model::AuditEvent& e : Trail()) {
      if (e.action == action) out.push_back(std::move(e));
    }
    return out;
  }
};

TEST_F(FindingsTest, AFindingEndsBothActiveGrantsAndDeniesThePendingRequest) {
  std::string sandbox = Active(kAlice, "sandbox");
  std::string prod = Active(kAlice, "prod");
  std::string waiting = Pending(kAlice);
  std::string daves = Active(kDave, "sandbox");
  ASSERT_EQ(provider_.Assignments().size(), 3u);

  auto done = workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {"alice"}));
  ASSERT_OK(done);
  EXPECT_FALSE(done->duplicate);
  ASSERT_EQ(done->findings.size(), 1u);
  const FindingOutcome& o = done->findings[0];
  EXPECT_EQ(o.outcome, "acted");
  EXPECT_THAT(o.users, ElementsAre("alice"));
  EXPECT_THAT(o.revoked, UnorderedElementsAre(sandbox, prod));
  EXPECT_THAT(o.denied, ElementsAre(waiting));
  EXPECT_EQ(State(sandbox), RequestState::kRevoking);
  EXPECT_EQ(State(waiting), RequestState::kDenied);

  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kEnded);
  EXPECT_EQ(State(prod), RequestState::kEnded);
  EXPECT_EQ(State(daves), RequestState::kActive);  // dave is not named
  ASSERT_EQ(provider_.Assignments().size(), 1u);
  EXPECT_EQ(provider_.Assignments()[0].principal_id, kDave.principal_id);
  EXPECT_THAT(store_.GetRequest(prod)->end_reason,
              HasSubstr("revoked on a threat finding: guardduty finding gd-1"));

  // Audited with the finding's id, by the automation identity; high (the trail's highest severity).
  std::vector<model::AuditEvent> acted = Events("finding.acted");
  ASSERT_EQ(acted.size(), 1u);
  EXPECT_EQ(acted[0].severity, "high");
  EXPECT_EQ(acted[0].actor, "automation:eventbridge");
  json d = json::parse(acted[0].details);
  EXPECT_EQ(d["finding_id"], "gd-1");
  EXPECT_EQ(d["event_id"], "ev-1");
  EXPECT_EQ(d["severity"], "HIGH");
  EXPECT_EQ(d["users"], json::array({"alice"}));
  for (const std::string& id : {sandbox, prod}) {
    std::vector<model::AuditEvent> mine = store_.ListAudit(0, 1000, id).value();
    auto revoked = std::find_if(mine.begin(), mine.end(), [](const model::AuditEvent& e) {
      return e.action == "request.revoked";
    });
    ASSERT_NE(revoked, mine.end()) << id;
    EXPECT_EQ(json::parse(revoked->details)["cause"], "finding");
    EXPECT_EQ(json::parse(revoked->details)["finding_id"], "gd-1");
  }
  // The security audience hears it once, with the users and requests in the detail.
  ASSERT_EQ(fixtures::Count(*webhook_, notify::Event::kFindingRevoked), 1);
  for (const notify::Message& m : webhook_->sent()) {
    if (m.event != notify::Event::kFindingRevoked) continue;
    EXPECT_THAT(m.detail, HasSubstr("guardduty finding gd-1"));
    EXPECT_THAT(m.detail, HasSubstr("about alice"));
    EXPECT_THAT(m.detail, HasSubstr(prod));
    EXPECT_THAT(m.detail, HasSubstr("denied " + waiting));
  }
}

TEST_F(FindingsTest, TheSameFindingOrEventAgainChangesNothing) {
  std::string sandbox = Active(kAlice, "sandbox");
  ASSERT_OK(workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {"alice"})));
  SettleAll();
  ASSERT_EQ(State(sandbox), RequestState::kEnded);
  // Alice is granted again after the first delivery: a re-delivery must not touch it.
  std::string again = Active(kAlice, "sandbox");
  std::size_t trail = Trail().size();
  std::size_t sent = webhook_->sent().size();

  for (const findings::Event& e :
       {GuardDuty("ev-1", "gd-1", {"alice"}),     // the same delivery
        GuardDuty("ev-2", "gd-1", {"alice"}),     // the same finding, sent again
        GuardDuty("ev-1", "gd-9", {"alice"})}) {  // the same event id
    auto done = workflow_.ActOnFindings(Automation(), e);
    ASSERT_OK(done);
    EXPECT_TRUE(done->duplicate) << e.event_id << " " << e.findings[0].id;
    EXPECT_EQ(done->findings[0].outcome, "duplicate");
  }
  SettleAll();
  EXPECT_EQ(State(again), RequestState::kActive);
  EXPECT_EQ(Trail().size(), trail);  // nothing audited
  EXPECT_EQ(webhook_->sent().size(), sent);
}

TEST_F(FindingsTest, AFindingBelowTheBarIsAuditedAsIgnoredAndMayActLater) {
  std::string sandbox = Active(kAlice, "sandbox");
  auto medium = GuardDuty("ev-1", "gd-1", {"alice"}, findings::Severity::kMedium);
  auto done = workflow_.ActOnFindings(Automation(), medium);
  ASSERT_OK(done);
  EXPECT_FALSE(done->duplicate);
  EXPECT_EQ(done->findings[0].outcome, "ignored");
  EXPECT_EQ(done->findings[0].why, "severity MEDIUM is below HIGH");
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kActive);
  std::vector<model::AuditEvent> ignored = Events("finding.ignored");
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_EQ(ignored[0].severity, "info");
  EXPECT_EQ(json::parse(ignored[0].details)["why"], "severity MEDIUM is below HIGH");
  EXPECT_EQ(fixtures::Count(*webhook_, notify::Event::kFindingRevoked), 0);

  // Not remembered: with the bar lowered, the same delivery acts.
  finding_rules_.min_severity = findings::Severity::kMedium;
  done = workflow_.ActOnFindings(Automation(), medium);
  ASSERT_OK(done);
  EXPECT_EQ(done->findings[0].outcome, "acted");
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kEnded);
}

TEST_F(FindingsTest, TypesChooseWhichFindingsAct) {
  std::string sandbox = Active(kAlice, "sandbox");
  finding_rules_.types = {"CredentialAccess:*"};
  auto done = workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {"alice"}));
  ASSERT_OK(done);
  EXPECT_EQ(done->findings[0].outcome, "ignored");
  EXPECT_THAT(done->findings[0].why, HasSubstr("findings.types"));
  done = workflow_.ActOnFindings(Automation(),
                                 GuardDuty("ev-2", "gd-2", {"alice"}, findings::Severity::kCritical,
                                           "CredentialAccess:IAMUser/AnomalousBehavior"));
  ASSERT_OK(done);
  EXPECT_EQ(done->findings[0].outcome, "acted");
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kEnded);
}

TEST_F(FindingsTest, TheIdentityCenterUserIdNamesTheUserToo) {
  std::string sandbox = Active(kAlice, "sandbox");
  std::string daves = Active(kDave, "sandbox");
  auto done =
      workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {kAlice.principal_id}));
  ASSERT_OK(done);
  EXPECT_EQ(done->findings[0].outcome, "acted");
  EXPECT_THAT(done->findings[0].revoked, ElementsAre(sandbox));
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kEnded);
  EXPECT_EQ(State(daves), RequestState::kActive);
}

// A name differing only in case names the user: an identity provider may spell the username
// otherwise than the role session name does, and a finding must not miss the user for it.
TEST_F(FindingsTest, ANameThatDiffersOnlyInCaseNamesTheUser) {
  std::string sandbox = Active(kAlice, "sandbox");
  std::string daves = Active(kDave, "sandbox");
  auto done = workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {"ALICE"}));
  ASSERT_OK(done);
  EXPECT_EQ(done->findings[0].outcome, "acted");
  EXPECT_THAT(done->findings[0].revoked, ElementsAre(sandbox));
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kEnded);
  EXPECT_EQ(State(daves), RequestState::kActive);
}

TEST_F(FindingsTest, MatchingIsExactButForCase) {
  std::string sandbox = Active(kAlice, "sandbox");
  for (const char* near : {"alic", "alice ", "xalice", "AWSReservedSSO_ReadOnly_0123"}) {
    auto done = workflow_.ActOnFindings(Automation(), GuardDuty(near, near, {near}));
    ASSERT_OK(done);
    EXPECT_EQ(done->findings[0].outcome, "ignored") << near;
    EXPECT_EQ(done->findings[0].why, "it names nobody who holds or awaits access through jit");
  }
  auto none = workflow_.ActOnFindings(Automation(), GuardDuty("ev-x", "gd-x", {}));
  ASSERT_OK(none);
  EXPECT_EQ(none->findings[0].why, "it names no principal");
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kActive);
}

TEST_F(FindingsTest, OnlyAutomationMayAndOnlyWhenFindingsAreOn) {
  std::string sandbox = Active(kAlice, "sandbox");
  for (const model::Identity& person : {kAlice, kBob, kCarol}) {
    EXPECT_THAT(workflow_.ActOnFindings(person, GuardDuty("ev-1", "gd-1", {"alice"})),
                StatusIs(StatusCode::kPermissionDenied, HasSubstr("automation token")))
        << person.username;
  }
  findings::Event empty;
  empty.event_id = "ev-0";
  EXPECT_THAT(workflow_.ActOnFindings(Automation(), empty),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no finding")));
  finding_rules_ = findings::Settings{};  // no findings: section
  EXPECT_THAT(workflow_.ActOnFindings(Automation(), GuardDuty("ev-1", "gd-1", {"alice"})),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("off")));
  SettleAll();
  EXPECT_EQ(State(sandbox), RequestState::kActive);
  EXPECT_THAT(Events("finding.acted"), IsEmpty());
}

TEST_F(FindingsTest, SeveralFindingsOfOneEventAreJudgedEachAndTheEventIsRememberedOnce) {
  std::string alices = Active(kAlice, "sandbox");
  std::string daves = Active(kDave, "sandbox");
  findings::Event e = GuardDuty("ev-1", "sh-1", {"alice"});
  e.findings.push_back(GuardDuty("ev-1", "sh-2", {"dave"}, findings::Severity::kLow).findings[0]);
  e.findings.push_back(GuardDuty("ev-1", "sh-3", {"alice"}).findings[0]);
  auto done = workflow_.ActOnFindings(Automation(), e);
  ASSERT_OK(done);
  ASSERT_EQ(done->findings.size(), 3u);
  EXPECT_EQ(done->findings[0].outcome, "acted");
  EXPECT_EQ(done->findings[1].outcome, "ignored");  // LOW
  // Alice's access is already being revoked by the first.
  EXPECT_EQ(done->findings[2].outcome, "ignored");
  SettleAll();
  EXPECT_EQ(State(alices), RequestState::kEnded);
  EXPECT_EQ(State(daves), RequestState::kActive);
  auto again = workflow_.ActOnFindings(Automation(), e);
  ASSERT_OK(again);
  EXPECT_TRUE(again->duplicate);
}

TEST_F(FindingsTest, TwoReplicasReceivingOneDeliveryActOnce) {
  // EventBridge may deliver one event to two replicas at once (a retry after a time-out): two
  // workflows on one store, racing.
  WorkflowOptions options;
  options.notifications = &notifications_;
  options.finding_rules = [this] {
    return std::make_shared<const findings::Settings>(finding_rules_);
  };
  Workflow replica(store_, config_, targets_, clock_, options);
  for (int round = 0; round < 10; ++round) {
    std::string sandbox = Active(kAlice, "sandbox");
    std::string prod = Active(kAlice, "prod");
    const std::string n = std::to_string(round);
    const findings::Event e = GuardDuty("ev-" + n, "gd-" + n, {"alice"});
    Result<FindingsOutcome> one = InternalError("not run");
    Result<FindingsOutcome> two = InternalError("not run");
    std::thread a([&] { one = workflow_.ActOnFindings(Automation(), e); });
    std::thread b([&] { two = replica.ActOnFindings(Automation(), e); });
    a.join();
    b.join();
    ASSERT_OK(one);
    ASSERT_OK(two);
    std::vector<std::string> outcomes = {one->findings[0].outcome, two->findings[0].outcome};
    EXPECT_THAT(outcomes, UnorderedElementsAre("acted", "duplicate")) << "round " << round;
    SettleAll();
    EXPECT_EQ(State(sandbox), RequestState::kEnded);
    EXPECT_EQ(State(prod), RequestState::kEnded);
  }
  EXPECT_EQ(Events("finding.acted").size(), 10u);
  EXPECT_EQ(Events("request.revoked").size(), 20u);
  EXPECT_EQ(fixtures::Count(*webhook_, notify::Event::kFindingRevoked), 10);
}

}  // namespace
}  // namespace jit::workflow::findings_test
