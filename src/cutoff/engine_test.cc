#include "cutoff/engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"

namespace jit::cutoff {
namespace {

using provider::FakeProvider;

constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr char kProd[] = "222222222222";

class CutoffEngineTest : public ::testing::Test {
 protected:
  CutoffEngineTest() : store_(clock_) {
    config_.session_cutoff = true;
    StartEngine();
  }
  ~CutoffEngineTest() override { StopEngine(); }

  void StartEngine() {
    EngineOptions o;
    o.poll_interval = Duration(1000);
    o.max_policy_size = max_size_;
    engine_ = std::make_unique<Engine>(store_, fake_, fake_, clock_, o);
    scheduler::SchedulerOptions so;
    so.workers = 0;
    scheduler_ = std::make_unique<scheduler::Scheduler>(store_, *engine_, clock_, so);
    ASSERT_TRUE(scheduler_->Start().ok());
  }
  void StopEngine() {
    if (scheduler_) scheduler_->Stop();
    store_.SetJobListener(nullptr);
    scheduler_.reset();
    engine_.reset();
  }

  // A grant of `user` in prod whose assignment jit saw deleted now.
  void Ended(const std::string& request_id, const std::string& user) {
    model::Request r;
    r.id = request_id;
    r.principal_id = user;
    r.account_id = kProd;
    r.permission_set_arn = kPs;
    r.rule = "prod-admin";
    Time now = clock_.Now();
    ASSERT_TRUE(
        store_.Transact([&](store::Tx& tx) { return ScheduleCutoff(tx, config_, r, now, now); })
            .ok());
  }

  std::vector<std::string> Actions() {
    std::vector<std::string> out;
    std::vector<model::AuditEvent> events = store_.ListAudit(0, 1000).value();
    for (const model::AuditEvent& e : events) out.push_back(e.action);
    return out;
  }
  int Count(const std::string& action) {
    int n = 0;
    for (const std::string& a : Actions()) n += a == action;
    return n;
  }
  std::string Provisioned() { return fake_.ProvisionedPolicy(kPs, kProd).value_or(""); }

  FakeClock clock_;
  store::MemoryStore store_;
  FakeProvider fake_;
  policy::Config config_;
  std::size_t max_size_ = provider::kMaxProvisionedPolicySize;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
};

TEST_F(CutoffEngineTest, EndedGrantsOfOneSetShareOneWriteAndOneProvisioningThenLift) {
  fake_.SetAsyncPolls(1);
  Ended("req_1", "alice-id");
  Ended("req_2", "dave-id");
  clock_.Advance(Duration(0));
  for (int i = 0; i < 4; ++i) clock_.Advance(Duration(1000));

  EXPECT_EQ(Count("session.cutoff.applied"), 2);
  EXPECT_EQ(fake_.Calls(FakeProvider::Op::kPutInlinePolicy), 1);
  EXPECT_EQ(fake_.Calls(FakeProvider::Op::kProvision), 1);
  EXPECT_NE(Provisioned().find("alice-id"), std::string::npos);
  EXPECT_NE(Provisioned().find("dave-id"), std::string::npos);

  // An hour (the session duration) later the statement goes, and is provisioned away.
  clock_.Advance(std::chrono::hours(1));
  for (int i = 0; i < 4; ++i) clock_.Advance(Duration(1000));
  EXPECT_EQ(Count("session.cutoff.lifted"), 2);
  EXPECT_EQ(fake_.GetInlinePolicy(kPs).value(), "");
  EXPECT_EQ(Provisioned(), "");
  EXPECT_TRUE(store_.ListJobs().value().empty());
}

TEST_F(CutoffEngineTest, OffByDefaultAndTheMostSpecificSettingWins) {
  policy::Config c;
  model::Request r;
  r.rule = "prod-admin";
  r.permission_set_arn = kPs;
  EXPECT_FALSE(CutoffEnabled(c, r));
  c.session_cutoff = true;
  EXPECT_TRUE(CutoffEnabled(c, r));
  policy::PermissionSet ps;
  ps.arn = kPs;
  ps.session_cutoff = false;
  c.permission_sets.push_back(ps);
  EXPECT_FALSE(CutoffEnabled(c, r));
  policy::Rule rule;
  rule.name = "prod-admin";
  rule.session_cutoff = true;
  c.rules.push_back(rule);
  EXPECT_TRUE(CutoffEnabled(c, r));
}

TEST_F(CutoffEngineTest, AnotherWritersChangeIsMergedNotOverwritten) {
  const std::string theirs =
      R"({"Version":"2012-10-17","Statement":[{"Sid":"Ops","Effect":"Deny","Action":"ec2:*","Resource":"*"}]})";
  int gets = 0;
  fake_.SetAfterGetInlinePolicy([&](const std::string& arn) {
    if (++gets == 1) {
      ASSERT_TRUE(fake_.PutInlinePolicy(arn, theirs).ok());
    }
  });
  Ended("req_1", "alice-id");
  clock_.Advance(Duration(0));
  for (int i = 0; i < 3; ++i) clock_.Advance(Duration(1000));
  fake_.SetAfterGetInlinePolicy(nullptr);
  EXPECT_EQ(Count("session.cutoff.applied"), 1);
  EXPECT_NE(Provisioned().find("\"Sid\":\"Ops\""), std::string::npos);
  EXPECT_NE(Provisioned().find("alice-id"), std::string::npos);
  EXPECT_GE(engine_->stats().merges, 1);
}

TEST_F(CutoffEngineTest, FailuresAreRetriedAndAuditedOnceUntilTheCutOffHolds) {
  fake_.FailNext(FakeProvider::Op::kPutInlinePolicy, 4, UnavailableError("throttled"));
  Ended("req_1", "alice-id");
  clock_.Advance(Duration(0));
  for (int i = 0; i < 40 && Count("session.cutoff.applied") == 0; ++i) {
    clock_.Advance(Duration(5000));
  }
  EXPECT_EQ(Count("session.cutoff.applied"), 1);
  EXPECT_EQ(Count("session.cutoff.failed"), 1);
  EXPECT_NE(Provisioned().find("alice-id"), std::string::npos);
}

TEST_F(CutoffEngineTest, ARestartBetweenTheWriteAndTheProvisioningStillProvisions) {
  fake_.SetAsyncPolls(5);
  Ended("req_1", "alice-id");
  clock_.Advance(Duration(0));
  clock_.Advance(Duration(600));  // past the round's gathering
  EXPECT_EQ(fake_.Calls(FakeProvider::Op::kProvision), 1);
  EXPECT_EQ(Provisioned(), "");
  StopEngine();  // the broker dies while the provisioning runs
  fake_.SetAsyncPolls(0);
  StartEngine();
  clock_.Advance(Duration(0));
  for (int i = 0; i < 3; ++i) clock_.Advance(Duration(1000));
  EXPECT_EQ(Count("session.cutoff.applied"), 1);
  EXPECT_EQ(fake_.Calls(FakeProvider::Op::kPutInlinePolicy), 1);  // found in place, not rewritten
  EXPECT_EQ(fake_.Calls(FakeProvider::Op::kProvision), 2);
  EXPECT_NE(Provisioned().find("alice-id"), std::string::npos);
}

TEST_F(CutoffEngineTest, ThePolicyOfOthersStaysWhenTheLastCutOffIsLifted) {
  const std::string theirs =
      R"({"Version":"2012-10-17","Statement":[{"Sid":"Ops","Effect":"Deny","Action":"ec2:*","Resource":"*"}]})";
  ASSERT_TRUE(fake_.PutInlinePolicy(kPs, theirs).ok());
  fake_.SetSessionDuration(kPs, std::chrono::seconds(20));
  Ended("req_1", "alice-id");
  clock_.Advance(Duration(0));
  for (int i = 0; i < 30; ++i) clock_.Advance(Duration(1000));
  EXPECT_EQ(Count("session.cutoff.lifted"), 1);
  std::string now = fake_.GetInlinePolicy(kPs).value();
  EXPECT_NE(now.find("\"Sid\":\"Ops\""), std::string::npos);
  EXPECT_EQ(now.find("JitCutoff"), std::string::npos);
}

}  // namespace
}  // namespace jit::cutoff
