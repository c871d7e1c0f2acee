// The standing-access inventory (workflow/standing.h; issue 13 deliverable 8): what jit offers,
// what it lists, what it leaves out, and who may ask.

#include "workflow/standing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow::standing_test {
namespace {

using fixtures::DevConfig;
using fixtures::kAdmin;
using fixtures::kAlice;
using fixtures::kCarol;
using fixtures::kReadOnly;
using ::jit::testing::StatusIs;
using provider::PrincipalType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSandbox[] = "111111111111";
constexpr char kProd[] = "222222222222";
constexpr char kBreakGlass[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333";
constexpr char kBobId[] = "b0b00000-0000-4000-8000-000000000002";
constexpr char kGone[] = "90000000-0000-4000-8000-000000000009";
constexpr char kOpsGroup[] = "0a500000-0000-4000-8000-000000000010";

// "account/permission set/type/name" of each row, for compact expectations.
std::vector<std::string> Rows(const StandingInventory& inv) {
  std::vector<std::string> out;
  for (const StandingAssignment& a : inv.assignments) {
    out.push_back(a.account_name + "/" + a.permission_set_name + "/" +
                  provider::PrincipalTypeName(a.principal_type) + "/" +
                  (a.principal_name.empty() ? "?" + a.principal_id : a.principal_name) +
                  (a.held_through_jit ? "/+jit" : ""));
  }
  return out;
}

model::LedgerEntry Entry(const std::string& principal, const std::string& account,
                         const std::string& ps, model::LedgerOrigin origin,
                         std::vector<std::string> holders) {
  model::LedgerEntry e;
  e.principal_id = principal;
  e.account_id = account;
  e.permission_set_arn = ps;
  e.origin = origin;
  e.state = model::LedgerState::kPresent;
  e.holders = std::move(holders);
  return e;
}

TEST(OfferedPairs, AreThePairsSomeRuleCoversInConfigOrder) {
  policy::Config c = DevConfig();
  std::vector<std::string> pairs;
  for (const auto& [account, ps] : OfferedPairs(c)) pairs.push_back(account->name + "/" + ps->name);
  // The dev policy offers Admin in prod only: sandbox/Admin is not jit's.
  EXPECT_THAT(pairs, ElementsAre("sandbox/ReadOnly", "sandbox/BreakGlass", "prod/ReadOnly",
                                 "prod/Admin", "prod/BreakGlass"));
  pairs.clear();
  for (const auto& [account, ps] : OfferedPairs(c, c.FindAccount("sandbox"))) {
    pairs.push_back(account->name + "/" + ps->name);
  }
  EXPECT_THAT(pairs, ElementsAre("sandbox/ReadOnly", "sandbox/BreakGlass"));
}

class ListStandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_.SetPrincipalName(PrincipalType::kUser, kAlice.principal_id, "alice");
    provider_.SetPrincipalName(PrincipalType::kUser, kBobId, "bob");
    provider_.SetPrincipalName(PrincipalType::kGroup, kOpsGroup, "ops");
  }
  Result<StandingInventory> List(std::string_view account = "") {
    return ListStanding(config_, account, ledger_, provider_);
  }
  policy::Config config_ = DevConfig();
  std::vector<model::LedgerEntry> ledger_;
  provider::FakeProvider provider_;
};

TEST_F(ListStandingTest, ListsUsersAndGroupsJitDidNotMakeSorted) {
  provider_.AddStanding({kBobId, kProd, kAdmin});
  provider_.AddGroupAssignment(kOpsGroup, kSandbox, kReadOnly);
  provider_.AddStanding({kAlice.principal_id, kProd, kAdmin});
  provider_.AddStanding({kGone, kProd, kBreakGlass});
  auto inv_or = List();
  ASSERT_OK(inv_or);
  StandingInventory inv = *std::move(inv_or);
  EXPECT_EQ(inv.pairs_listed, 5);
  EXPECT_THAT(Rows(inv), ElementsAre("prod/Admin/USER/alice", "prod/Admin/USER/bob",
                                     std::string("prod/BreakGlass/USER/?") + kGone,
                                     "sandbox/ReadOnly/GROUP/ops"));
  EXPECT_EQ(inv.assignments[3].principal_id, kOpsGroup);
  EXPECT_EQ(inv.assignments[3].account_id, kSandbox);
  EXPECT_EQ(inv.assignments[3].permission_set_arn, kReadOnly);
}

TEST_F(ListStandingTest, LeavesOutWhatJitMadeAndMarksStandingThatJitHoldsToo) {
  provider_.AddStanding({kAlice.principal_id, kProd, kReadOnly});  // made by jit (see ledger)
  provider_.AddStanding({kBobId, kProd, kReadOnly});               // standing, jit on top
  provider_.AddStanding({kBobId, kSandbox, kReadOnly});            // standing, no holder now
  ledger_.push_back(
      Entry(kAlice.principal_id, kProd, kReadOnly, model::LedgerOrigin::kJit, {"r1"}));
  ledger_.push_back(Entry(kBobId, kProd, kReadOnly, model::LedgerOrigin::kStanding, {"r2"}));
  ledger_.push_back(Entry(kBobId, kSandbox, kReadOnly, model::LedgerOrigin::kStanding, {}));
  auto inv_or = List();
  ASSERT_OK(inv_or);
  StandingInventory inv = *std::move(inv_or);
  EXPECT_THAT(Rows(inv), ElementsAre("prod/ReadOnly/USER/bob/+jit", "sandbox/ReadOnly/USER/bob"));
}

TEST_F(ListStandingTest, AssignmentsOfPairsJitDoesNotOfferAreNotItsBusiness) {
  provider_.AddStanding({kBobId, kSandbox, kAdmin});  // no rule offers Admin in sandbox
  auto inv_or = List();
  ASSERT_OK(inv_or);
  StandingInventory inv = *std::move(inv_or);
  EXPECT_THAT(inv.assignments, IsEmpty());
}

TEST_F(ListStandingTest, OneAccountByIdOrNameAndAnUnknownOneIsRefused) {
  provider_.AddStanding({kBobId, kProd, kAdmin});
  provider_.AddStanding({kBobId, kSandbox, kReadOnly});
  auto by_name_or = List("sandbox");
  ASSERT_OK(by_name_or);
  StandingInventory by_name = *std::move(by_name_or);
  EXPECT_THAT(Rows(by_name), ElementsAre("sandbox/ReadOnly/USER/bob"));
  EXPECT_EQ(by_name.pairs_listed, 2);
  auto by_id_or = List(kProd);
  ASSERT_OK(by_id_or);
  StandingInventory by_id = *std::move(by_id_or);
  EXPECT_THAT(Rows(by_id), ElementsAre("prod/Admin/USER/bob"));
  EXPECT_THAT(List("staging"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("'staging'")));
  EXPECT_EQ(provider_.Calls(provider::FakeProvider::Op::kListAll), 5);
}

TEST_F(ListStandingTest, ProviderErrorsAreReturnedAndNamesAskedOncePerPrincipal) {
  provider_.AddStanding({kBobId, kProd, kAdmin});
  provider_.AddStanding({kBobId, kProd, kReadOnly});
  provider_.FailNext(provider::FakeProvider::Op::kListAll, 1, UnavailableError("throttled"));
  EXPECT_THAT(List(), StatusIs(StatusCode::kUnavailable));
  auto inv_or = List();
  ASSERT_OK(inv_or);
  StandingInventory inv = *std::move(inv_or);
  EXPECT_EQ(inv.assignments.size(), 2u);
  EXPECT_EQ(provider_.Calls(provider::FakeProvider::Op::kName), 1);
  provider_.FailNext(provider::FakeProvider::Op::kName, 1, UnavailableError("throttled"));
  EXPECT_THAT(List(), StatusIs(StatusCode::kUnavailable));
}

// Through the workflow: who may ask, and a grant jit made is not standing access.
class StandingAccessTest : public ::testing::Test {
 protected:
  StandingAccessTest()
      : config_(DevConfig()),
        store_(clock_),
        workflow_(store_, config_, provider_, clock_, Options()),
        scheduler_(store_, workflow_, clock_, SchedulerOptions()) {}
  WorkflowOptions Options() {
    WorkflowOptions o;
    o.inventory = &provider_;
    return o;
  }
  static scheduler::SchedulerOptions SchedulerOptions() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }

  FakeClock clock_;
  policy::ConfigHolder config_;
  provider::FakeProvider provider_;
  store::MemoryStore store_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

TEST_F(StandingAccessTest, AdminsAndAuditorsOnlyAndJitsOwnGrantIsNotListed) {
  provider_.AddStanding({kBobId, kSandbox, kReadOnly});
  auto r_or =
      workflow_.Submit(kAlice, {"sandbox", "ReadOnly", std::chrono::minutes(30), "work", ""});
  ASSERT_OK(r_or);
  model::Request r = *std::move(r_or);
  clock_.Advance(Duration(0));  // the grant job runs
  auto v_or = workflow_.Get(kAlice, r.id);
  ASSERT_OK(v_or);
  RequestView v = *std::move(v_or);
  ASSERT_EQ(v.request.state, model::RequestState::kActive);
  ASSERT_TRUE(provider_.Has({kAlice.principal_id, kSandbox, kReadOnly}));

  EXPECT_THAT(workflow_.StandingAccess(kAlice, ""),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("only admins and auditors")));
  auto inv_or = workflow_.StandingAccess(kCarol, "");
  ASSERT_OK(inv_or);
  StandingInventory inv = *std::move(inv_or);
  ASSERT_EQ(inv.assignments.size(), 1u);
  EXPECT_EQ(inv.assignments[0].principal_id, kBobId);
}

TEST(StandingAccessWithoutInventory, IsAFailedPrecondition) {
  FakeClock clock;
  policy::ConfigHolder config(DevConfig());
  provider::FakeProvider provider;
  store::MemoryStore store(clock);
  Workflow workflow(store, config, provider, clock);
  EXPECT_THAT(workflow.StandingAccess(kCarol, ""), StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace jit::workflow::standing_test
