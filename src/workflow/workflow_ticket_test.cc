// Ticket checks (docs/POLICY.md "Ticket checks"): a rule with `ticket_check` files a request
// only when the checker passes its ticket, and the check's result lands in the request's
// history as `ticket.checked`.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/testing.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "tickets/jira.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

// A namespace of this file's own: the unity build compiles it with the other workflow tests.
namespace jit::workflow::ticket_test {
namespace {

using fixtures::kAlice;
using fixtures::kCarol;
using jit::testing::StatusIs;
using model::RequestState;
using std::chrono::minutes;
using ::testing::HasSubstr;
using json = nlohmann::json;

// Answers every check with `answer`, and keeps what it was asked.
class FakeChecker final : public tickets::TicketChecker {
 public:
  Result<tickets::TicketStatus> Check(std::string_view ticket, const model::Identity& requester,
                                      tickets::Requirement requirement) override {
    MutexLock lock(&mu_);
    asked.push_back({std::string(ticket), requester.username, requirement});
    if (!answer.ok()) return answer;
    tickets::TicketStatus s;
    s.key = std::string(ticket);
    s.status = "In Progress";
    s.assignee = requester.username;
    s.assigned_to_requester = true;
    return s;
  }
  struct Asked {
    std::string ticket;
    std::string requester;
    tickets::Requirement requirement;
  };
  Mutex mu_;
  Status answer = OkStatus();
  std::vector<Asked> asked;
};

// The dev policy with prod-admin checking that its ticket is assigned to the requester, and
// break-glass checking that its ticket is open.
policy::Config CheckingConfig() {
  policy::Config c = fixtures::WithoutLimits(fixtures::DevConfig());
  for (policy::Rule& rule : c.rules) {
    if (rule.name == "prod-admin") rule.ticket_check = policy::TicketCheck::kAssigned;
    if (rule.name == "break-glass") rule.ticket_check = policy::TicketCheck::kOpen;
  }
  return c;
}

class TicketTest : public ::testing::Test {
 protected:
  TicketTest()
      : config_(CheckingConfig()),
        store_(clock_),
        workflow_(store_, config_, provider_, clock_, Options()) {}

  WorkflowOptions Options() {
    WorkflowOptions o;
    o.tickets = &checker_;
    return o;
  }

  Result<model::Request> Submit(const model::Identity& who, const std::string& account,
                                const std::string& ps, const std::string& ticket) {
    SubmitInput in;
    in.account = account;
    in.permission_set = ps;
    in.duration = minutes(30);
    in.reason = "deploy";
    in.ticket = ticket;
    return workflow_.Submit(who, in);
  }

  std::vector<model::AuditEvent> Events(const std::string& id, const std::string& action) {
    std::vector<model::AuditEvent> out;
    auto view = workflow_.Get(kCarol, id);
    EXPECT_OK(view);
    if (!view.ok()) return out;
    for (const model::AuditEvent& e : view->history) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  store::MemoryStore store_;
  provider::FakeProvider provider_;
  FakeChecker checker_;
  Workflow workflow_;
};

TEST_F(TicketTest, APassingCheckIsInTheRequestsHistory) {
  Result<model::Request> r = Submit(kAlice, "prod", "Admin", "OPS-42");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kPending);
  ASSERT_EQ(checker_.asked.size(), 1u);
  EXPECT_EQ(checker_.asked[0].ticket, "OPS-42");
  EXPECT_EQ(checker_.asked[0].requester, "alice");
  EXPECT_EQ(checker_.asked[0].requirement, tickets::Requirement::kAssigned);
  std::vector<model::AuditEvent> checked = Events(r->id, "ticket.checked");
  ASSERT_EQ(checked.size(), 1u);
  json d = json::parse(checked[0].details);
  EXPECT_EQ(d["result"], "passed");
  EXPECT_EQ(d["system"], "jira");
  EXPECT_EQ(d["ticket"], "OPS-42");
  EXPECT_EQ(d["check"], "assigned");
  EXPECT_EQ(d["status"], "In Progress");
  EXPECT_EQ(d["assignee"], "alice");
  EXPECT_EQ(d["assigned_to_requester"], true);
  EXPECT_EQ(checked[0].severity, "info");
}

TEST_F(TicketTest, AFailingCheckFilesNothing) {
  checker_.answer =
      InvalidArgumentError("ticket OPS-42 is closed in Jira (Done): name an open ticket");
  EXPECT_THAT(Submit(kAlice, "prod", "Admin", "OPS-42"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("closed in Jira")));
  checker_.answer = UnavailableError("the Jira ticket OPS-42 could not be checked: HTTP 503");
  EXPECT_THAT(Submit(kAlice, "prod", "Admin", "OPS-42"), StatusIs(StatusCode::kUnavailable));
  auto listed = store_.ListRequests({});
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->items.empty());
}

TEST_F(TicketTest, ARuleWithACheckNeedsATicketAndOthersAreNotChecked) {
  EXPECT_THAT(Submit(kAlice, "prod", "Admin", ""),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a Jira ticket is required")));
  ASSERT_OK(Submit(kAlice, "sandbox", "ReadOnly", ""));  // readonly checks nothing
  EXPECT_TRUE(checker_.asked.empty());
}

TEST_F(TicketTest, BreakGlassGoesAheadWhenJiraCannotAnswerAndSaysSoLoudly) {
  checker_.answer = UnavailableError("the Jira ticket INC-9 could not be checked: HTTP 503");
  Result<model::Request> r = Submit(kCarol, "prod", "BreakGlass", "INC-9");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kApproved);
  std::vector<model::AuditEvent> checked = Events(r->id, "ticket.checked");
  ASSERT_EQ(checked.size(), 1u);
  json d = json::parse(checked[0].details);
  EXPECT_EQ(d["result"], "not_checked");
  EXPECT_THAT(d["error"].get<std::string>(), HasSubstr("HTTP 503"));
  EXPECT_EQ(checked[0].severity, "high");
  // A ticket Jira says is wrong is refused even so: the requester can name the right one.
  checker_.answer = InvalidArgumentError("ticket INC-9 does not exist in Jira");
  EXPECT_THAT(Submit(kCarol, "sandbox", "BreakGlass", "INC-9"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TicketTest, OneRequestForSeveralAccountsIsCheckedOnceAndEachRequestSaysSo) {
  // break-glass in two accounts: one check, as the strictest rule asks (open).
  SubmitInput in;
  in.accounts = {"prod", "sandbox"};
  in.permission_set = "BreakGlass";
  in.duration = minutes(30);
  in.reason = "outage";
  in.ticket = "INC-7";
  Result<model::Request> r = workflow_.Submit(kCarol, in);
  ASSERT_OK(r);
  ASSERT_EQ(checker_.asked.size(), 1u);
  EXPECT_EQ(checker_.asked[0].requirement, tickets::Requirement::kOpen);
  ASSERT_EQ(r->batch.size(), 2u);
  for (const std::string& id : r->batch) EXPECT_EQ(Events(id, "ticket.checked").size(), 1u) << id;
}

TEST(TicketWithoutChecker, ARuleWithACheckIsRefusedWhenNoCheckerIsSetUp) {
  FakeClock clock;
  policy::ConfigHolder config(CheckingConfig());
  store::MemoryStore store(clock);
  provider::FakeProvider provider;
  Workflow workflow(store, config, provider, clock);
  SubmitInput in;
  in.account = "prod";
  in.permission_set = "Admin";
  in.duration = minutes(30);
  in.reason = "deploy";
  in.ticket = "OPS-1";
  EXPECT_THAT(workflow.Submit(kAlice, in),
              StatusIs(StatusCode::kUnavailable, HasSubstr("no 'jira' set up")));
}

}  // namespace
}  // namespace jit::workflow::ticket_test
