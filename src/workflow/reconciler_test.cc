#include "workflow/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/ids.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using fixtures::DevConfig;
using fixtures::kAdmin;
using fixtures::kAlice;
using fixtures::kBob;
using fixtures::kReadOnly;

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using provider::Assignment;
using provider::FakeProvider;
using ::testing::ElementsAre;
using Op = provider::FakeProvider::Op;
using model::LedgerEntry;
using model::LedgerOrigin;
using model::LedgerState;
using model::RequestState;
using std::chrono::minutes;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSandbox[] = "111111111111";

// A provider that runs a hook before answering ListAssignments (to change the ledger while
// the reconciler looks), and otherwise passes to a FakeProvider.
class HookedProvider final : public provider::Provider {
 public:
  explicit HookedProvider(FakeProvider& inner) : inner_(inner) {}
  Result<provider::Operation> Grant(const Assignment& a) override { return inner_.Grant(a); }
  Result<provider::Operation> GrantStatus(const std::string& id) override {
    return inner_.GrantStatus(id);
  }
  Result<provider::Operation> Revoke(const Assignment& a) override { return inner_.Revoke(a); }
  Result<provider::Operation> RevokeStatus(const std::string& id) override {
    return inner_.RevokeStatus(id);
  }
  Result<std::vector<Assignment>> ListAssignments(const std::string& account,
                                                  const std::string& ps) override {
    if (before_list) before_list();
    return inner_.ListAssignments(account, ps);
  }
  std::function<void()> before_list;

 private:
  FakeProvider& inner_;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest()
      : config_(DevConfig()),
        store_(store::NewMemoryStore(clock_)),
        hooked_(provider_),
        workflow_(*store_, config_, hooked_, clock_),
        scheduler_(*store_, workflow_, clock_, InlineJobs()),
        reconciler_(*store_, hooked_, clock_, Options()) {}

  static scheduler::SchedulerOptions InlineJobs() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
  static ReconcilerOptions Options() {
    ReconcilerOptions o;
    o.revoke_polls = 3;
    o.revoke_poll_wait = Duration(0);
    o.settle_time = Duration(0);
    return o;
  }

  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override {
    reconciler_.Stop();
    scheduler_.Stop();
  }

  // A request as the workflow would have left it, straight into the store.
  std::string PutRequest(const model::Identity& who, const std::string& arn, RequestState state) {
    model::Request r;
    r.id = NewId("req_", clock_.Now());
    r.requester = who.username;
    r.principal_id = who.principal_id;
    r.account_id = kSandbox;
    r.account_name = "sandbox";
    r.permission_set_name = arn == kReadOnly ? "ReadOnly" : "Admin";
    r.permission_set_arn = arn;
    r.duration_seconds = 3600;
    r.rule = "readonly";
    r.state = state;
    r.created_at = clock_.Now();
    if (model::IsTerminal(state)) r.ended_at = clock_.Now();
    EXPECT_OK(store_->Transact([&](store::Tx& tx) { return tx.InsertRequest(r); }));
    return r.id;
  }

  void PutLedger(const Assignment& a, LedgerOrigin origin, std::vector<std::string> holders,
                 LedgerState state = LedgerState::kPresent) {
    LedgerEntry e;
    e.principal_id = a.principal_id;
    e.account_id = a.account_id;
    e.permission_set_arn = a.permission_set_arn;
    e.origin = origin;
    e.state = state;
    e.holders = std::move(holders);
    e.updated_at = clock_.Now();
    EXPECT_OK(store_->Transact([&](store::Tx& tx) { return tx.PutLedger(e); }));
  }

  std::optional<LedgerEntry> Ledger(const Assignment& a) {
    std::optional<LedgerEntry> out;
    EXPECT_OK(store_->Transact([&](store::Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(out, tx.GetLedger(a.principal_id, a.account_id, a.permission_set_arn));
      return OkStatus();
    }));
    return out;
  }

  std::vector<model::AuditEvent> Events(const std::string& action) {
    std::vector<model::AuditEvent> out;
    auto all = store_->ListAudit(0, 1000);
    EXPECT_OK(all);
    for (auto& e : *all) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  ReconcileReport Run() {
    auto r = reconciler_.RunOnce();
    EXPECT_OK(r);
    return r.value_or(ReconcileReport{});
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  FakeProvider provider_;
  std::unique_ptr<store::Store> store_;
  HookedProvider hooked_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
  Reconciler reconciler_;
};

const Assignment kAliceRo{kAlice.principal_id, kSandbox, kReadOnly};
const Assignment kBobRo{kBob.principal_id, kSandbox, kReadOnly};
const Assignment kAliceAdmin{kAlice.principal_id, kSandbox, kAdmin};

TEST_F(ReconcilerTest, DeletesAnAssignmentJitMadeWhoseHoldersHaveEnded) {
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended, "req_01JZZZZZZZZZZZZZZZZZZZZZZZ"});

  ReconcileReport report = Run();
  EXPECT_EQ(report.deleted, 1);
  EXPECT_THAT(report.errors, IsEmpty());
  EXPECT_FALSE(provider_.Has(kAliceRo));
  EXPECT_FALSE(Ledger(kAliceRo).has_value());
  auto drift = Events("drift.deleted");
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].severity, "high");
  EXPECT_THAT(drift[0].details, HasSubstr(kAlice.principal_id));
  EXPECT_THAT(drift[0].details, HasSubstr(ended));

  // Nothing left to do the next time.
  report = Run();
  EXPECT_EQ(report.deleted, 0);
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 1);
}

// The wait between polls is timed by the Clock, not slept in real time: an hour's wait ends
// as soon as the FakeClock is moved on.
TEST_F(ReconcilerTest, WaitsBetweenPollsOnTheClock) {
  ReconcilerOptions o = Options();
  o.revoke_poll_wait = std::chrono::hours(1);
  Reconciler waiting(*store_, hooked_, clock_, o);
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  provider_.SetAsyncPolls(2);  // the third poll finds the delete done

  const Time start = clock_.Now();
  std::atomic<bool> done = false;
  Result<ReconcileReport> report = InternalError("not run");
  std::thread run([&] {
    report = waiting.RunOnce();
    done = true;
  });
  while (!done) {
    clock_.Advance(std::chrono::minutes(10));
    std::this_thread::yield();
  }
  run.join();
  ASSERT_OK(report);
  EXPECT_EQ(report->deleted, 1);
  EXPECT_GE(clock_.Now() - start, std::chrono::hours(3));  // three polls, an hour before each
}

TEST_F(ReconcilerTest, SlowDeleteIsFinishedByTheNextRunAndHoldsOffNewGrants) {
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  provider_.SetAsyncPolls(5);

  ReconcileReport report = Run();
  EXPECT_EQ(report.deleted, 0);
  EXPECT_EQ(report.delete_in_progress, 1);
  auto entry = Ledger(kAliceRo);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->state, LedgerState::kRevoking);
  EXPECT_FALSE(entry->operation_id.empty());

  // A new grant on the same assignment waits for the delete instead of joining it.
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "work", ""});
  ASSERT_OK(r);
  clock_.Advance(Duration(0));
  EXPECT_EQ(store_->GetRequest(r->id)->state, RequestState::kApproved);

  report = Run();  // polls 3 more: the 6th settles it
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 1);
  EXPECT_FALSE(provider_.Has(kAliceRo));
  EXPECT_FALSE(Ledger(kAliceRo).has_value());

  // The waiting grant now creates the assignment afresh.
  provider_.SetAsyncPolls(0);
  clock_.Advance(minutes(1));
  EXPECT_EQ(store_->GetRequest(r->id)->state, RequestState::kActive);
  EXPECT_TRUE(provider_.Has(kAliceRo));
}

TEST_F(ReconcilerTest, AssignmentRemovedOutsideJitEndsTheActiveRequest) {
  auto r = workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(30), "work", ""});
  ASSERT_OK(r);
  clock_.Advance(Duration(0));
  ASSERT_EQ(store_->GetRequest(r->id)->state, RequestState::kActive);
  ASSERT_TRUE(provider_.Has(kAliceRo));

  ASSERT_OK(provider_.Revoke(kAliceRo));  // someone deletes it in the AWS console
  ReconcileReport report = Run();
  EXPECT_EQ(report.missing, 1);
  EXPECT_EQ(report.requests_ended, 1);
  auto ended = store_->GetRequest(r->id);
  ASSERT_OK(ended);
  EXPECT_EQ(ended->state, RequestState::kEnded);
  EXPECT_EQ(ended->end_reason, "assignment removed outside jit");
  EXPECT_TRUE(ended->ended_at.has_value());
  EXPECT_FALSE(Ledger(kAliceRo).has_value());
  auto drift = Events("drift.assignment_missing");
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0].severity, "high");
  EXPECT_EQ(drift[0].request_id, r->id);

  // Its expiry timer is gone: nothing is deleted later.
  clock_.Advance(minutes(31));
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 1);
  EXPECT_EQ(store_->GetRequest(r->id)->state, RequestState::kEnded);
  auto jobs = store_->ListJobs();
  ASSERT_OK(jobs);
  EXPECT_THAT(*jobs, IsEmpty());
}

// Counts the transactions that committed audit events, and the events of each.
class CountingObserver final : public WorkflowObserver {
 public:
  void OnCommitted(const std::vector<model::AuditEvent>& events) override {
    MutexLock lock(&mu_);
    sizes_.push_back(events.size());
  }
  void OnRevokeIssued(const model::Request&, Time) override {}
  std::vector<std::size_t> sizes() {
    MutexLock lock(&mu_);
    return sizes_;
  }

 private:
  Mutex mu_;
  std::vector<std::size_t> sizes_ GUARDED_BY(mu_);
};

TEST_F(ReconcilerTest, ManyGrantsOfAMissingAssignmentEndInBoundedBatches) {
  // Five active grants share one assignment, which is removed outside jit.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(PutRequest(kAlice, kReadOnly, RequestState::kActive));
  PutLedger(kAliceRo, LedgerOrigin::kJit, ids);
  CountingObserver seen;
  ReconcilerOptions o = Options();
  o.max_ends_per_transaction = 2;
  o.observer = &seen;
  Reconciler batched(*store_, hooked_, clock_, o);
  auto report = batched.RunOnce();
  ASSERT_OK(report);
  EXPECT_EQ(report->missing, 1);
  EXPECT_EQ(report->requests_ended, 5);
  for (const std::string& id : ids) {
    EXPECT_EQ(store_->GetRequest(id)->state, RequestState::kEnded) << id;
  }
  EXPECT_FALSE(Ledger(kAliceRo).has_value());
  // Three transactions of 2, 2 and 1 grants, each with its two events per grant.
  EXPECT_THAT(seen.sizes(), ElementsAre(4u, 4u, 2u));
  // The details name a bounded number of holders, and how many there are.
  auto drift = Events("drift.assignment_missing");
  ASSERT_EQ(drift.size(), 5u);
  auto details = nlohmann::json::parse(drift[0].details);
  EXPECT_EQ(details["holder_count"], 5);
  EXPECT_EQ(details["holders"].size(), 5u);
  ReconcilerOptions none = Options();
  none.max_ends_per_transaction = 0;
  EXPECT_EQ(none.Validate().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReconcilerTest, StandingAssignmentsAreNeverDeleted) {
  provider_.AddStanding(kAliceRo);
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  PutLedger(kAliceRo, LedgerOrigin::kStanding, {ended});

  ReconcileReport report = Run();
  EXPECT_EQ(report.deleted, 0);
  EXPECT_TRUE(provider_.Has(kAliceRo));
  EXPECT_TRUE(Ledger(kAliceRo).has_value());
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 0);
}

TEST_F(ReconcilerTest, AssignmentsTheLedgerDoesNotNameAreUntouched) {
  provider_.AddStanding(kBobRo);
  provider_.AddStanding(kAliceAdmin);
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});

  ReconcileReport report = Run();
  EXPECT_EQ(report.deleted, 1);
  EXPECT_TRUE(provider_.Has(kBobRo));
  EXPECT_TRUE(provider_.Has(kAliceAdmin));
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 1);
}

TEST_F(ReconcilerTest, LiveHoldersKeepTheAssignment) {
  std::string active = PutRequest(kAlice, kReadOnly, RequestState::kActive);
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended, active});
  ReconcileReport report = Run();
  EXPECT_EQ(report.deleted, 0);
  EXPECT_EQ(report.missing, 0);
  EXPECT_TRUE(provider_.Has(kAliceRo));
  EXPECT_EQ(store_->GetRequest(active)->state, RequestState::kActive);
}

TEST_F(ReconcilerTest, EntryChangedWhileLookingIsSkipped) {
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  std::string fresh = PutRequest(kAlice, kReadOnly, RequestState::kActive);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  // A grant job joins the assignment between the reconciler's read and its transaction.
  hooked_.before_list = [&] {
    clock_.Advance(Duration(1));
    PutLedger(kAliceRo, LedgerOrigin::kJit, {ended, fresh});
  };
  ReconcileReport report = Run();
  EXPECT_EQ(report.skipped, 1);
  EXPECT_EQ(report.deleted, 0);
  EXPECT_TRUE(provider_.Has(kAliceRo));
  EXPECT_EQ(provider_.Calls(Op::kRevoke), 0);
  auto entry = Ledger(kAliceRo);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->holders.size(), 2u);
  EXPECT_EQ(entry->state, LedgerState::kPresent);

  // Likewise for a missing assignment: a revoke job that starts meanwhile wins.
  hooked_.before_list = nullptr;
  ASSERT_OK(provider_.Revoke(kAliceRo));
  hooked_.before_list = [&] {
    clock_.Advance(Duration(1));
    PutLedger(kAliceRo, LedgerOrigin::kJit, {ended, fresh}, LedgerState::kRevoking);
  };
  report = Run();
  EXPECT_EQ(report.missing, 0);
  EXPECT_EQ(store_->GetRequest(fresh)->state, RequestState::kActive);
}

TEST_F(ReconcilerTest, ListsEachAccountAndPermissionSetOncePerRun) {
  std::string a = PutRequest(kAlice, kReadOnly, RequestState::kActive);
  std::string b = PutRequest(kBob, kReadOnly, RequestState::kActive);
  std::string c = PutRequest(kAlice, kAdmin, RequestState::kActive);
  ASSERT_OK(provider_.Grant(kAliceRo));
  ASSERT_OK(provider_.Grant(kBobRo));
  ASSERT_OK(provider_.Grant(kAliceAdmin));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {a});
  PutLedger(kBobRo, LedgerOrigin::kJit, {b});
  PutLedger(kAliceAdmin, LedgerOrigin::kJit, {c});
  ReconcileReport report = Run();
  EXPECT_EQ(report.entries_checked, 3);
  EXPECT_EQ(report.pairs_listed, 2);
  EXPECT_EQ(provider_.Calls(Op::kList), 2);
}

TEST_F(ReconcilerTest, ProviderTroubleIsReportedAndChangesNothing) {
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  provider_.FailNext(Op::kList, 1, UnavailableError("throttled"));
  ReconcileReport report = Run();
  EXPECT_EQ(report.errors.size(), 1u);
  EXPECT_TRUE(provider_.Has(kAliceRo));

  provider_.FailNext(Op::kRevoke, 1, UnavailableError("throttled"));
  report = Run();
  EXPECT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(Ledger(kAliceRo)->state, LedgerState::kRevoking);  // marked, delete not yet done
  report = Run();                                              // the next run deletes it
  EXPECT_EQ(report.deleted, 1);
  EXPECT_FALSE(provider_.Has(kAliceRo));
}

TEST_F(ReconcilerTest, LeavesRecentlyChangedEntriesToSettle) {
  ReconcilerOptions o = Options();
  o.settle_time = minutes(1);
  Reconciler patient(*store_, hooked_, clock_, o);
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  auto report = patient.RunOnce();
  ASSERT_OK(report);
  EXPECT_EQ(report->deleted, 0);
  clock_.Advance(minutes(1));
  report = patient.RunOnce();
  ASSERT_OK(report);
  EXPECT_EQ(report->deleted, 1);
}

TEST_F(ReconcilerTest, RunsAtStartAndThenEveryInterval) {
  std::string ended = PutRequest(kAlice, kReadOnly, RequestState::kEnded);
  auto wait_for = [&](std::int64_t n) {
    for (int i = 0; i < 500 && reconciler_.runs() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reconciler_.runs();
  };
  ASSERT_OK(reconciler_.Start());
  EXPECT_THAT(reconciler_.Start(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(wait_for(1), 1);
  EXPECT_EQ(provider_.Calls(Op::kList), 0);  // an empty ledger needs no list

  ASSERT_OK(provider_.Grant(kAliceRo));
  PutLedger(kAliceRo, LedgerOrigin::kJit, {ended});
  clock_.Advance(minutes(4));
  EXPECT_TRUE(provider_.Has(kAliceRo));
  clock_.Advance(minutes(1));
  EXPECT_EQ(wait_for(2), 2);
  EXPECT_FALSE(provider_.Has(kAliceRo));
  reconciler_.Stop();
  clock_.Advance(minutes(10));
  EXPECT_EQ(reconciler_.runs(), 2);
}

}  // namespace
}  // namespace jit::workflow
