// The organization refresher over the memory store and the fake provider: the scope it puts in
// force, what a failed read leaves alone, and the grants it ends when an account leaves the OU.

#include "org/refresher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/testing.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::org {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const model::Identity kAlice{"alice", {"engineers"}, "a11ce000-0000-4000-8000-000000000001"};

constexpr char kYaml[] = R"yaml(
accounts:
  - {id: "111111111111", name: sandbox}
  - {ou: ou-ab12-prod0000}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 1h
    approval: auto
  - name: eu
    requesters: {groups: [engineers]}
    accounts: {ous: [ou-ab12-prodeu00]}
    permission_sets: [ReadOnly]
    max_duration: 1h
    approval: auto
)yaml";

policy::Config Base(const char* yaml = kYaml) {
  Result<policy::Config> c = policy::ParseConfig(yaml, "test.yaml");
  EXPECT_TRUE(c.has_value()) << c.error().message();
  return c.value_or(policy::Config{});
}

provider::OrgAccount Account(std::string id, std::string name, std::string parent) {
  provider::OrgAccount a;
  a.id = std::move(id);
  a.name = std::move(name);
  a.status = "ACTIVE";
  a.parent_id = std::move(parent);
  return a;
}

// The organization the fake reader answers with; tests change it.
class FakeOrganization {
 public:
  FakeOrganization() {
    org_.roots.push_back({"r-ab12", "", "Root"});
    org_.organizational_units = {{"ou-ab12-prod0000", "", "prod", "r-ab12"},
                                 {"ou-ab12-prodeu00", "", "prod-eu", "ou-ab12-prod0000"},
                                 {"ou-ab12-dev00000", "", "dev", "r-ab12"}};
    org_.accounts = {Account("333333333301", "payments", "ou-ab12-prod0000"),
                     Account("333333333302", "ledger-eu", "ou-ab12-prodeu00"),
                     Account("333333333304", "sandbox-2", "ou-ab12-dev00000")};
  }
  SnapshotReader Reader() {
    return [this]() -> Result<provider::OrganizationSnapshot> {
      MutexLock lock(&mu_);
      ++reads_;
      if (!fail_.ok()) return fail_;
      return org_;
    };
  }
  void Move(const std::string& id, const std::string& parent) {
    MutexLock lock(&mu_);
    for (provider::OrgAccount& a : org_.accounts) {
      if (a.id == id) a.parent_id = parent;
    }
  }
  void Fail(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  int reads() {
    MutexLock lock(&mu_);
    return reads_;
  }

 private:
  Mutex mu_;
  provider::OrganizationSnapshot org_ GUARDED_BY(mu_);
  Status fail_ GUARDED_BY(mu_);
  int reads_ GUARDED_BY(mu_) = 0;
};

class RefresherTest : public ::testing::Test {
 protected:
  RefresherTest()
      : policy_(policy::Config{}),
        store_(clock_),
        workflow_(store_, policy_, provider_, clock_, {}),
        scheduler_(store_, workflow_, clock_, SchedulerOptions()) {}

  static scheduler::SchedulerOptions SchedulerOptions() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }
  void Settle() { clock_.Advance(Duration(0)); }

  std::unique_ptr<Refresher> Make(policy::Config base = Base()) {
    RefresherOptions o;
    o.metrics = &metrics_;
    return std::make_unique<Refresher>(org_.Reader(), std::move(base), policy_, workflow_, store_,
                                       clock_, o);
  }
  std::vector<std::string> Offered() {
    std::vector<std::string> ids;
    for (const policy::Account& a : policy_.Get()->accounts) ids.push_back(a.id);
    return ids;
  }
  std::vector<model::AuditEvent> Events(const std::string& action) {
    std::vector<model::AuditEvent> out;
    Result<std::vector<model::AuditEvent>> all = store_.ListAudit(0, 1000, "");
    EXPECT_TRUE(all.has_value());
    for (const model::AuditEvent& e : all.value_or(std::vector<model::AuditEvent>{})) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  FakeClock clock_;
  FakeOrganization org_;
  MetricsRegistry metrics_;
  policy::ConfigHolder policy_;
  provider::FakeProvider provider_;
  store::MemoryStore store_;
  workflow::Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

// Waits (real time, bounded) until `done` holds.
template <typename Fn>
bool Eventually(Fn done) {
  for (int i = 0; i < 5000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

TEST_F(RefresherTest, StartPutsTheResolvedScopeInForce) {
  auto refresher = Make();
  EXPECT_THAT(Offered(), ElementsAre("111111111111"));  // before the first read
  ASSERT_OK(refresher->Start());
  ASSERT_TRUE(Eventually([&] { return refresher->runs() == 1; }));
  EXPECT_THAT(Offered(), ElementsAre("111111111111", "333333333301", "333333333302"));
  EXPECT_EQ(org_.reads(), 1);  // once at start; the thread waits for the interval
  EXPECT_EQ(metrics_.CounterValue("jit_organizations_refreshes_total", {"ok"}), 1);
  EXPECT_THAT(metrics_.Render(), HasSubstr("jit_organizations_accounts 2"));
  EXPECT_THAT(Events("accounts.scope_changed"), IsEmpty());  // the first refresh only sets it
  refresher->Stop();
}

TEST_F(RefresherTest, AFailedReadKeepsTheScopeAndEndsNothing) {
  auto refresher = Make();
  ASSERT_OK(refresher->RefreshNow());
  auto grant =
      workflow_.Submit(kAlice, {"ledger-eu", "ReadOnly", std::chrono::minutes(30), "x", ""});
  ASSERT_OK(grant);
  Settle();
  org_.Fail(UnavailableError("ListRoots: TooManyRequestsException: slow down"));
  EXPECT_THAT(refresher->RefreshNow(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Offered(), ElementsAre("111111111111", "333333333301", "333333333302"));
  EXPECT_EQ(workflow_.Get(kAlice, grant->id)->request.state, model::RequestState::kActive);
  EXPECT_EQ(metrics_.CounterValue("jit_organizations_refreshes_total", {"failed"}), 1);
}

TEST_F(RefresherTest, AnAccountMovedOutOfTheOuEndsItsGrantsAndIsAudited) {
  auto refresher = Make();
  ASSERT_OK(refresher->RefreshNow());
  auto eu = workflow_.Submit(kAlice, {"ledger-eu", "ReadOnly", std::chrono::minutes(30), "x", ""});
  auto sandbox =
      workflow_.Submit(kAlice, {"sandbox", "ReadOnly", std::chrono::minutes(30), "x", ""});
  ASSERT_OK(eu);
  ASSERT_OK(sandbox);
  Settle();
  ASSERT_EQ(workflow_.Get(kAlice, eu->id)->request.state, model::RequestState::kActive);
  ASSERT_EQ(provider_.Assignments().size(), 2u);

  org_.Move("333333333302", "ou-ab12-dev00000");
  auto report = refresher->RefreshNow();
  ASSERT_OK(report);
  EXPECT_THAT(report->removed, ElementsAre("333333333302"));
  EXPECT_THAT(report->ended, ElementsAre(eu->id));
  Settle();
  auto ended = workflow_.Get(kAlice, eu->id);
  ASSERT_OK(ended);
  EXPECT_EQ(ended->request.state, model::RequestState::kEnded);
  EXPECT_THAT(ended->request.end_reason, HasSubstr("no longer in jit's scope"));
  EXPECT_EQ(workflow_.Get(kAlice, sandbox->id)->request.state, model::RequestState::kActive);
  EXPECT_EQ(provider_.Assignments().size(), 1u);  // the sandbox grant's
  auto changed = Events("accounts.scope_changed");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_THAT(changed[0].details, HasSubstr("\"removed\":[\"333333333302\"]"));
  auto revoked = Events("request.revoked");
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_EQ(revoked[0].actor, "jit");
  EXPECT_THAT(revoked[0].details, HasSubstr("account_scope"));
  // The next refresh finds nothing more to do.
  report = refresher->RefreshNow();
  ASSERT_OK(report);
  EXPECT_THAT(report->ended, IsEmpty());
  EXPECT_THAT(report->removed, IsEmpty());
}

TEST_F(RefresherTest, ARuleByOuEndsAGrantWhoseAccountLeftThatOu) {
  constexpr char kByOu[] = R"yaml(
accounts:
  - {organization: true}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
rules:
  - name: eu
    requesters: {groups: [engineers]}
    accounts: {ous: [ou-ab12-prodeu00]}
    permission_sets: [ReadOnly]
    max_duration: 1h
    approval: auto
)yaml";
  auto refresher = Make(Base(kByOu));
  ASSERT_OK(refresher->RefreshNow());
  EXPECT_THAT(workflow_.Submit(kAlice, {"payments", "ReadOnly", std::chrono::minutes(30), "x", ""}),
              StatusIs(StatusCode::kPermissionDenied));
  auto eu = workflow_.Submit(kAlice, {"ledger-eu", "ReadOnly", std::chrono::minutes(30), "x", ""});
  ASSERT_OK(eu);
  Settle();
  org_.Move("333333333302", "ou-ab12-prod0000");  // still in the organization
  auto report = refresher->RefreshNow();
  ASSERT_OK(report);
  EXPECT_THAT(report->removed, IsEmpty());
  EXPECT_THAT(report->ended, ElementsAre(eu->id));
  Settle();
  EXPECT_EQ(workflow_.Get(kAlice, eu->id)->request.state, model::RequestState::kEnded);
}

TEST_F(RefresherTest, SetBaseAppliesAtOnceAgainstTheLastSnapshot) {
  auto refresher = Make();
  ASSERT_OK(refresher->RefreshNow());
  policy::Config next = Base();
  next.account_sources[0].recursive = false;  // the OU alone
  refresher->SetBase(next);                   // not started: no refresh of its own
  EXPECT_THAT(Offered(), ElementsAre("111111111111", "333333333301"));
  EXPECT_EQ(org_.reads(), 1);
  // A config without sources reads nothing and serves its listed accounts.
  policy::Config plain = Base();
  plain.account_sources.clear();
  plain.rules.pop_back();  // the rule by OU
  refresher->SetBase(plain);
  auto report = refresher->RefreshNow();
  ASSERT_OK(report);
  EXPECT_FALSE(report->read);
  EXPECT_EQ(org_.reads(), 1);
  EXPECT_THAT(Offered(), ElementsAre("111111111111"));
}

TEST_F(RefresherTest, RefreshesOnTheIntervalAndSoonAfterSetBase) {
  auto refresher = Make();
  ASSERT_OK(refresher->Start());
  ASSERT_TRUE(Eventually([&] { return refresher->runs() == 1; }));  // armed the interval
  EXPECT_EQ(org_.reads(), 1);
  clock_.Advance(std::chrono::minutes(15));
  ASSERT_TRUE(Eventually([&] { return refresher->runs() == 2; }));
  EXPECT_EQ(org_.reads(), 2);
  refresher->SetBase(Base());
  ASSERT_TRUE(Eventually([&] { return refresher->runs() == 3; }));
  EXPECT_EQ(org_.reads(), 3);
  refresher->Stop();
}

TEST_F(RefresherTest, ARestartOffersTheCachedAccountsBeforeItsFirstRead) {
  testing::TempDir dir;
  RefresherOptions o;
  o.cache_file = dir.path() / "organization.json";
  {
    Refresher first(org_.Reader(), Base(), policy_, workflow_, store_, clock_, o);
    ASSERT_OK(first.RefreshNow());
  }
  policy_.Set(policy::Config{});
  org_.Fail(UnavailableError("no network"));
  Refresher second(org_.Reader(), Base(), policy_, workflow_, store_, clock_, o);
  EXPECT_THAT(Offered(), ElementsAre("111111111111", "333333333301", "333333333302"));
  EXPECT_THAT(second.RefreshNow(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Offered(), ElementsAre("111111111111", "333333333301", "333333333302"));
}

}  // namespace
}  // namespace jit::org
