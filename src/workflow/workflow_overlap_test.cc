// Two runners of one job at once: what a replica whose lease ran out while it still ran (a
// stalled process, a starved machine) does beside the replica that took the job over. The
// provider's create or delete may then be asked for twice (both are idempotent), but the ledger
// keeps one operation and the history says "started" once. Found by the PostgreSQL crash suite
// (tests/crash/crash_postgres_test.py) under load: "revoke.started 2 times".

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/testing.h"
#include "model/job.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/jobs.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

// A namespace of this file's own: the unity build compiles it with the other workflow tests.
namespace jit::workflow::overlap_test {
namespace {

using fixtures::kAlice;
using model::RequestState;
using std::chrono::minutes;

// Forwards to a FakeProvider; `before_grant` / `before_revoke` run once, inside the next Grant or
// Revoke call, before it is forwarded: there the test runs the same job again, as a second
// replica would while the first waits for AWS.
class OverlappingProvider final : public provider::Provider {
 public:
  explicit OverlappingProvider(provider::FakeProvider& inner) : inner_(inner) {}
  std::function<void()> before_grant;
  std::function<void()> before_revoke;

  Result<provider::Operation> Grant(const provider::Assignment& a) override {
    if (auto f = std::exchange(before_grant, nullptr)) f();
    return inner_.Grant(a);
  }
  Result<provider::Operation> GrantStatus(const std::string& id) override {
    return inner_.GrantStatus(id);
  }
  Result<provider::Operation> Revoke(const provider::Assignment& a) override {
    if (auto f = std::exchange(before_revoke, nullptr)) f();
    return inner_.Revoke(a);
  }
  Result<provider::Operation> RevokeStatus(const std::string& id) override {
    return inner_.RevokeStatus(id);
  }
  Result<std::vector<provider::Assignment>> ListAssignments(const std::string& account,
                                                            const std::string& ps) override {
    return inner_.ListAssignments(account, ps);
  }

 private:
  provider::FakeProvider& inner_;
};

class OverlapTest : public ::testing::Test {
 protected:
  OverlapTest()
      : config_(fixtures::WithoutLimits(fixtures::DevConfig())),
        store_(clock_),
        provider_(inner_),
        workflow_(store_, config_, provider_, clock_),
        scheduler_(store_, workflow_, clock_, Inline()) {
    inner_.SetAsyncPolls(1);  // creates and deletes are under way when first polled
  }
  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }

  static scheduler::SchedulerOptions Inline() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
  void Settle() {
    for (int i = 0; i < 6; ++i) clock_.Advance(std::chrono::milliseconds(600));
  }
  // Runs the request's job of `kind` once more, as another replica would.
  void RunAgain(model::JobKind kind, const std::string& request_id) {
    std::vector<model::Job> jobs = store_.ListJobs().value();
    for (const model::Job& j : jobs) {
      if (j.id == JobId(kind, request_id)) workflow_.Run(j);
    }
  }
  int Count(const std::string& id, const std::string& action) {
    std::vector<model::AuditEvent> events = store_.ListAudit(0, 1000, id).value();  // a copy
    return static_cast<int>(std::count_if(events.begin(), events.end(),
                                          [&](const auto& e) { return e.action == action; }));
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  store::MemoryStore store_;
  provider::FakeProvider inner_;
  OverlappingProvider provider_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

TEST_F(OverlapTest, TwoRunnersOfOneGrantRecordOneCreate) {
  std::string id;
  provider_.before_grant = [&] { RunAgain(model::JobKind::kGrant, id); };
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "x", ""});
  ASSERT_OK(r);
  id = r->id;
  Settle();
  EXPECT_EQ(store_.GetRequest(id)->state, RequestState::kActive);
  EXPECT_EQ(inner_.Calls(provider::FakeProvider::Op::kGrant), 2);  // both runners asked
  EXPECT_EQ(Count(id, "grant.started"), 1);
  EXPECT_EQ(Count(id, "grant.succeeded"), 1);
}

TEST_F(OverlapTest, TwoRunnersOfOneRevocationRecordOneDelete) {
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "x", ""});
  ASSERT_OK(r);
  Settle();
  ASSERT_EQ(store_.GetRequest(r->id)->state, RequestState::kActive);
  provider_.before_revoke = [&] { RunAgain(model::JobKind::kRevoke, r->id); };
  ASSERT_OK(workflow_.Revoke(kAlice, r->id, "done"));
  Settle();
  EXPECT_EQ(store_.GetRequest(r->id)->state, RequestState::kEnded);
  EXPECT_EQ(inner_.Calls(provider::FakeProvider::Op::kRevoke), 2);
  EXPECT_EQ(Count(r->id, "revoke.started"), 1);
  EXPECT_THAT(inner_.Assignments(), ::testing::IsEmpty());
}

TEST_F(OverlapTest, ACreateTheProviderForgotIsAskedAgainAndItsNewIdKept) {
  inner_.FailNext(provider::FakeProvider::Op::kGrantStatus, 1, NotFoundError("no such request"));
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "x", ""});
  ASSERT_OK(r);
  Settle();
  EXPECT_EQ(store_.GetRequest(r->id)->state, RequestState::kActive);
  EXPECT_EQ(inner_.Calls(provider::FakeProvider::Op::kGrant), 2);
  EXPECT_EQ(Count(r->id, "grant.started"), 2);  // two creates, each recorded
}

}  // namespace
}  // namespace jit::workflow::overlap_test
