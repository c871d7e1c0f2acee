// Who hears what, through the durable job queue: the workflow over the memory store, the fake
// provider and fake channels, with the scheduler running jobs inline as the fake clock moves.
#include "workflow/notifications.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/testing.h"
#include "model/identity.h"
#include "notify/fake_channel.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/reconciler.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kCarol;

using model::RequestState;
using notify::Audience;
using notify::Event;
using notify::FakeChannel;
using provider::FakeProvider;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;

// The dev policy, with a two-hour approval window so that reminders have room.
policy::Config TestConfig() {
  std::string yaml(policy::DevPolicyYaml());
  std::string from = "timeout: 15m";
  yaml.replace(yaml.find(from), from.size(), "timeout: 2h");
  auto c = policy::ParseConfig(yaml, "dev");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

notify::Filter Only(Audience a) {
  notify::Filter f;
  f.audiences = {a};
  return f;
}

std::vector<std::string> Events(const FakeChannel& c) {
  std::vector<std::string> out;
  for (const notify::Message& m : c.sent()) out.emplace_back(notify::EventName(m.event));
  return out;
}

class NotificationsTest : public ::testing::Test {
 protected:
  NotificationsTest()
      : config_(TestConfig()),
        store_(clock_),
        notifier_(Channels()),
        notifications_(notifier_, clock_, &metrics_,
                       NotificationOptions{.public_url = "https://jit.example.com"}),
        workflow_(store_, config_, provider_, clock_, Options()),
        scheduler_(store_, workflow_, clock_, SchedulerOptions()) {}

  std::vector<std::unique_ptr<notify::Channel>> Channels() {
    auto approvers = std::make_unique<FakeChannel>("approvers", Only(Audience::kApprovers));
    auto requester = std::make_unique<FakeChannel>("requester", Only(Audience::kRequester));
    auto security = std::make_unique<FakeChannel>("security", Only(Audience::kSecurity));
    approvers_ = approvers.get();
    requester_ = requester.get();
    security_ = security.get();
    std::vector<std::unique_ptr<notify::Channel>> out;
    out.push_back(std::move(approvers));
    out.push_back(std::move(requester));
    out.push_back(std::move(security));
    return out;
  }
  WorkflowOptions Options() {
    WorkflowOptions o;
    o.notifications = &notifications_;
    return o;
  }
  static scheduler::SchedulerOptions SchedulerOptions() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }

  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }
  void Settle() { clock_.Advance(Duration(0)); }

  model::Request Submit(const model::Identity& who, const std::string& account,
                        const std::string& ps, Duration d, const std::string& reason = "work") {
    auto r = workflow_.Submit(who, {account, ps, d, reason, ""});
    EXPECT_OK(r);
    return r.value_or(model::Request{});
  }
  RequestState StateOf(const std::string& id) { return store_.GetRequest(id)->state; }
  std::vector<std::string> Actions(const std::string& id) {
    std::vector<std::string> out;
    std::vector<model::AuditEvent> events =
        store_.ListAudit(0, 1000, id).value_or(std::vector<model::AuditEvent>{});
    for (const auto& e : events) out.push_back(e.action);
    return out;
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  FakeProvider provider_;
  store::MemoryStore store_;
  MetricsRegistry metrics_;
  FakeChannel* approvers_ = nullptr;
  FakeChannel* requester_ = nullptr;
  FakeChannel* security_ = nullptr;
  notify::Notifier notifier_;
  Notifications notifications_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

TEST_F(NotificationsTest, EachAudienceHearsItsPartOfALifecycle) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "rotate keys");
  Settle();
  EXPECT_THAT(Events(*approvers_), ElementsAre("request.created"));
  const notify::Message created = approvers_->sent()[0];
  EXPECT_EQ(created.request.id, r.id);
  EXPECT_EQ(created.request.state, RequestState::kPending);
  EXPECT_EQ(created.actor, "alice");
  EXPECT_EQ(created.public_url, "https://jit.example.com");
  EXPECT_TRUE(requester_->sent().empty());

  ASSERT_OK(workflow_.Approve(kBob, r.id, "go"));
  Settle();
  EXPECT_THAT(Events(*requester_), ElementsAre("request.approved", "grant.activated"));
  EXPECT_EQ(requester_->sent()[0].actor, "bob");

  // Ten minutes before the end, and at the end.
  clock_.Advance(minutes(20) - seconds(1));
  EXPECT_EQ(requester_->sent().size(), 2u);
  clock_.Advance(seconds(1));
  EXPECT_THAT(Events(*requester_),
              ElementsAre("request.approved", "grant.activated", "grant.expiring_soon"));
  clock_.Advance(minutes(10));
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_THAT(Events(*requester_), ElementsAre("request.approved", "grant.activated",
                                               "grant.expiring_soon", "grant.ended"));
  EXPECT_EQ(requester_->sent().back().detail, "expired");
  EXPECT_TRUE(security_->sent().empty());
  EXPECT_EQ(metrics_.CounterValue("jit_notifications_total", {"requester", "delivered"}), 4);
  EXPECT_TRUE(store_.ListJobs()->empty());  // nothing left waiting
}

TEST_F(NotificationsTest, ApproversAreRemindedAfterFifteenMinutesThenDoubling) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "rotate keys");
  Settle();
  clock_.Advance(minutes(15) - seconds(1));
  EXPECT_THAT(Events(*approvers_), ElementsAre("request.created"));
  clock_.Advance(seconds(1));
  EXPECT_THAT(Events(*approvers_), ElementsAre("request.created", "request.reminder"));
  clock_.Advance(minutes(30));  // 45m
  EXPECT_EQ(approvers_->sent().size(), 3u);
  clock_.Advance(minutes(59));  // 104m: the next is at 105m
  EXPECT_EQ(approvers_->sent().size(), 3u);
  clock_.Advance(minutes(1));
  EXPECT_EQ(approvers_->sent().size(), 4u);
  // 225m would be past the 2h deadline: the request times out instead.
  clock_.Advance(hours(3));
  EXPECT_EQ(StateOf(r.id), RequestState::kTimedOut);
  EXPECT_THAT(Events(*approvers_), ElementsAre("request.created", "request.reminder",
                                               "request.reminder", "request.reminder"));
  EXPECT_THAT(Events(*requester_), ElementsAre("request.timed_out"));
  EXPECT_TRUE(store_.ListJobs()->empty());
}

TEST_F(NotificationsTest, NoReminderOnceDecided) {
  auto r = Submit(kAlice, "prod", "Admin", minutes(30), "rotate keys");
  ASSERT_OK(workflow_.Deny(kBob, r.id, "not now"));
  clock_.Advance(hours(1));
  EXPECT_THAT(Events(*approvers_), ElementsAre("request.created"));
  EXPECT_THAT(Events(*requester_), ElementsAre("request.denied"));
  EXPECT_EQ(requester_->sent()[0].detail, "not now");
}

TEST_F(NotificationsTest, AReceiverThatFailsForAWhileGetsEverythingOnceItRecovers) {
  requester_->FailNext(6, UnavailableError("503 from the receiver"));
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30), "look");
  Settle();
  EXPECT_EQ(StateOf(r.id), RequestState::kActive);  // the failures held nothing up
  EXPECT_TRUE(requester_->sent().empty());
  for (int i = 0; i < 30 && requester_->sent().empty(); ++i) clock_.Advance(seconds(30));
  EXPECT_THAT(Events(*requester_), ElementsAre("grant.activated"));
  EXPECT_EQ(requester_->calls(), 7);
  EXPECT_EQ(metrics_.CounterValue("jit_notifications_total", {"requester", "retried"}), 6);
}

TEST_F(NotificationsTest, ADeliveryThatCannotSucceedIsGivenUpAndAudited) {
  requester_->FailNext(-1, InvalidArgumentError("404 from the receiver"));
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30), "look");
  Settle();
  EXPECT_EQ(requester_->calls(), 1);  // no retry for a 4xx
  EXPECT_THAT(Actions(r.id), ::testing::Contains("notify.failed"));
  EXPECT_EQ(metrics_.CounterValue("jit_notifications_total", {"requester", "failed"}), 1);
}

TEST_F(NotificationsTest, RetriesStopAtTheLimit) {
  requester_->FailNext(-1, UnavailableError("down for good"));
  auto r = Submit(kAlice, "sandbox", "ReadOnly", hours(8), "look");
  for (int i = 0; i < 60; ++i) clock_.Advance(minutes(5));
  EXPECT_EQ(requester_->calls(), 20);
  EXPECT_THAT(Actions(r.id), ::testing::Contains("notify.failed"));
}

TEST_F(NotificationsTest, BreakGlassGoesToSecurity) {
  auto r = Submit(kCarol, "prod", "BreakGlass", minutes(30), "outage");
  Settle();
  EXPECT_THAT(Events(*security_), ElementsAre("breakglass.activated"));
  EXPECT_EQ(security_->sent()[0].request.id, r.id);
  EXPECT_TRUE(approvers_->sent().empty());
}

TEST_F(NotificationsTest, AnOverdueRevocationIsReportedOnce) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(5), "look");
  Settle();
  provider_.FailNext(FakeProvider::Op::kRevoke, 30, UnavailableError("ThrottlingException"));
  clock_.Advance(minutes(5));
  for (int i = 0; i < 5; ++i) clock_.Advance(seconds(10));
  EXPECT_TRUE(security_->sent().empty());  // under a minute late: still quiet
  for (int i = 0; i < 60; ++i) clock_.Advance(minutes(1));
  EXPECT_THAT(Events(*security_), ElementsAre("revocation.overdue"));
  EXPECT_THAT(security_->sent()[0].detail, ::testing::HasSubstr("ThrottlingException"));
  for (int i = 0; i < 200 && StateOf(r.id) != RequestState::kEnded; ++i) {
    clock_.Advance(minutes(5));
  }
  EXPECT_EQ(StateOf(r.id), RequestState::kEnded);
  EXPECT_EQ(security_->sent().size(), 1u);
  auto actions = Actions(r.id);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "revoke.overdue"), 1);
}

TEST_F(NotificationsTest, DriftGoesToSecurity) {
  auto r = Submit(kAlice, "sandbox", "ReadOnly", minutes(30), "look");
  Settle();
  ASSERT_EQ(StateOf(r.id), RequestState::kActive);
  // Someone removes the assignment behind jit's back.
  ASSERT_OK(provider_.Revoke({kAlice.principal_id, "111111111111",
                              "arn:aws:sso:::permissionSet/ssoins-1111111111111111/"
                              "ps-1111111111111111"}));
  ReconcilerOptions o;
  o.notifications = &notifications_;
  o.revoke_poll_wait = Duration(0);
  o.settle_time = Duration(0);
  Reconciler reconciler(store_, provider_, clock_, o);
  ASSERT_OK(reconciler.RunOnce());
  Settle();
  EXPECT_THAT(Events(*security_), ElementsAre("drift.detected"));
  EXPECT_THAT(security_->sent()[0].detail, ::testing::HasSubstr("removed outside jit"));
  EXPECT_THAT(Events(*requester_), ElementsAre("grant.activated", "grant.ended"));
}

TEST_F(NotificationsTest, AChannelRemovedByAReloadDropsItsJobs) {
  requester_->FailNext(1, UnavailableError("blip"));
  Submit(kAlice, "sandbox", "ReadOnly", minutes(30), "look");
  Settle();
  notifier_.SetChannels({});
  clock_.Advance(minutes(5));
  std::vector<model::Job> jobs = store_.ListJobs().value_or(std::vector<model::Job>{});
  EXPECT_LE(jobs.size(), 2u);  // the revoke (and the expiry warning) only
  for (const model::Job& j : jobs) EXPECT_NE(j.id.rfind("notify:", 0), 0u) << j.id;
}

}  // namespace
}  // namespace jit::workflow
