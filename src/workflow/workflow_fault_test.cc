// The workflow and scheduler over the real SQLite engine when the store fails (issue 6, "Fault
// suite"): grants fail closed (no access that the store does not know of), revocations keep
// retrying and finish once the store is back, and every history stays one consistent path.
//
// Two ways to fail the store: a real full disk (SqliteOptions::max_pages, filled from a second
// connection; SQLite itself refuses the writes) and store::FaultInjectingStore, which undoes the
// chosen transactions after their function ran, as a failed COMMIT does. A sweep fails every
// transaction of a grant's life in turn.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/chain.h"
#include "core/check.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite_store.h"
#include "workflow/test_fixtures.h"
#include "workflow/workflow.h"

namespace jit::workflow {
namespace {

using fixtures::DevConfig;
using fixtures::kAlice;
using fixtures::kDave;
using fixtures::kReadOnly;

using ::jit::testing::StatusIs;
using model::RequestState;
using provider::FakeProvider;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kMaxPages = 96;

// Fills the database from a connection of its own until SQLite says it is full, and frees it.
class DiskFiller {
 public:
  explicit DiskFiller(const std::string& path) {
    JIT_CHECK(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    (void)sqlite3_busy_timeout(db_, 5000);
    JIT_CHECK(Exec("PRAGMA max_page_count = " + std::to_string(kMaxPages)));
    JIT_CHECK(Exec("CREATE TABLE IF NOT EXISTS junk (b BLOB)"));
  }
  ~DiskFiller() { sqlite3_close_v2(db_); }
  DiskFiller(const DiskFiller&) = delete;
  DiskFiller& operator=(const DiskFiller&) = delete;

  void Fill() {
    for (int size : {16384, 1024, 64, 1}) {
      while (Exec("INSERT INTO junk VALUES (zeroblob(" + std::to_string(size) + "))")) {
      }
    }
  }
  void Free() { JIT_CHECK(Exec("DELETE FROM junk")); }

 private:
  bool Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3* db_ = nullptr;
};

// One broker's worth of parts on a SQLite file in a folder of its own, the scheduler running
// jobs inline when the fake clock moves (and with the lease `jit serve` gives SQLite).
class Broker {
 public:
  explicit Broker(const std::filesystem::path& dir)
      : config_(fixtures::WithoutLimits(DevConfig())),  // FillUp piles up one user's requests
        sqlite_(Open(dir, clock_)),
        store_(*sqlite_),
        workflow_(store_, config_, provider_, clock_),
        scheduler_(store_, workflow_, clock_, Options()) {
    JIT_CHECK(scheduler_.Start().ok());
  }
  ~Broker() { scheduler_.Stop(); }

  static std::unique_ptr<store::Store> Open(const std::filesystem::path& dir, Clock& clock) {
    store::SqliteOptions o;
    o.path = (dir / "jit.db").string();
    o.max_pages = kMaxPages;
    auto s = store::OpenSqliteStore(o, clock);
    JIT_CHECK(s.has_value());
    return std::move(s).value();
  }
  static scheduler::SchedulerOptions Options() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }

  RequestState StateOf(const std::string& id) {
    auto r = sqlite_->GetRequest(id);
    JIT_CHECK(r.has_value());
    return r->state;
  }
  model::Request Get(const std::string& id) { return *sqlite_->GetRequest(id); }
  std::vector<std::string> Actions(const std::string& id) {
    std::vector<std::string> out;
    auto events = sqlite_->ListAudit(0, 1000, id);
    JIT_CHECK(events.has_value());
    for (const auto& e : *events) out.push_back(e.action);
    return out;
  }

  // No access that the store does not know of: every assignment the provider holds has a
  // ledger entry (the intent is recorded before the create, and kept until the delete ends),
  // and every active request's assignment exists.
  std::string CheckNoUnrecordedAccess() {
    auto ledger = sqlite_->ListLedger();
    if (!ledger.has_value()) return "cannot read the ledger";
    for (const auto& a : provider_.Assignments()) {
      bool known = std::any_of(ledger->begin(), ledger->end(), [&](const model::LedgerEntry& e) {
        return e.principal_id == a.principal_id && e.account_id == a.account_id &&
               e.permission_set_arn == a.permission_set_arn;
      });
      if (!known)
        return "the provider holds " + a.account_id + " for " + a.principal_id +
               " with no ledger entry";
    }
    store::RequestFilter f;
    f.state = RequestState::kActive;
    auto active = sqlite_->ListRequests(f);
    if (!active.has_value()) return "cannot list";
    for (const auto& r : active->items) {
      if (!provider_.Has({r.principal_id, r.account_id, r.permission_set_arn})) {
        return r.id + " is active without its assignment";
      }
    }
    return "";
  }

  std::string CheckChain() {
    auto all = sqlite_->ListAudit(0, 1000);
    if (!all.has_value()) return "cannot read the audit trail";
    audit::ChainCheck c = audit::VerifyChain(*all);
    return c.ok ? "" : c.problem + " at " + std::to_string(c.first_bad_seq) + ": " + c.why;
  }

  FakeClock clock_;
  policy::ConfigHolder config_;
  FakeProvider provider_;
  std::unique_ptr<store::Store> sqlite_;
  store::FaultInjectingStore store_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;
};

provider::Assignment AliceSandbox() {
  return {kAlice.principal_id, "111111111111", std::string(kReadOnly)};
}

// Fills the disk: junk from beside the store, then requests of `who` until the store refuses
// one (a full disk bites when a write needs a new page, so the store's own tables must be full
// too). Returns the requests that were accepted meanwhile.
std::vector<std::string> FillUp(Broker& b, DiskFiller& disk, const model::Identity& who) {
  disk.Fill();
  std::vector<std::string> accepted;
  // Long reasons first, then the shortest, so that little room is left in any page.
  for (std::size_t reason : {400, 1}) {
    for (int i = 0; i < 500; ++i) {
      auto r =
          b.workflow_.Submit(who, {"prod", "ReadOnly", minutes(10), std::string(reason, 'r'), ""});
      if (!r.has_value()) {
        JIT_CHECK(r.error().code() == StatusCode::kUnavailable);
        break;
      }
      accepted.push_back(r->id);
    }
  }
  // Then single small events: pending requests, cancelled one by one until that is refused too.
  std::vector<std::string> pending;
  for (int i = 0; i < 500; ++i) {
    auto r = b.workflow_.Submit(who, {"prod", "Admin", minutes(10), "x", ""});
    if (!r.has_value()) break;
    pending.push_back(r->id);
  }
  for (const std::string& id : pending) {
    if (!b.workflow_.Cancel(who, id).has_value()) break;
  }
  return accepted;
}

TEST(WorkflowDiskFull, GrantsFailClosedWhileTheDiskIsFullAndHappenOnceItIsFreed) {
  ::jit::testing::TempDir dir;
  Broker b(dir.path());
  DiskFiller disk((dir.path() / "jit.db").string());
  std::vector<std::string> ids = FillUp(b, disk, kAlice);
  ASSERT_FALSE(ids.empty());
  // New requests are refused whole (nothing of them is stored); approved ones whose intent
  // cannot be recorded never reach Identity Center.
  auto refused = b.workflow_.Submit(kAlice, {"prod", "ReadOnly", minutes(10), "work", ""});
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnavailable));
  for (int i = 0; i < 60; ++i) {
    b.clock_.Advance(seconds(1));
    ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
  }
  // A full SQLite database refuses only the writes that need a new page: some grants may still
  // fit (the sweep below fails each step for certain). Those that do not stay approved.
  int stuck = 0;
  for (const std::string& id : ids) stuck += b.StateOf(id) == RequestState::kApproved ? 1 : 0;

  disk.Free();
  const Time freed = b.clock_.Now();
  auto all_active = [&] {
    return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
      return b.StateOf(id) == RequestState::kActive;
    });
  };
  while (!all_active() && b.clock_.Now() < freed + minutes(10)) {
    b.clock_.Advance(seconds(1));
    ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
  }
  ASSERT_TRUE(all_active());
  std::printf(
      "disk full: %zu grants, %d of them held back while full; all active %lld ms after "
      "the disk was freed\n",
      ids.size(), stuck,
      static_cast<long long>(std::chrono::duration_cast<Duration>(b.clock_.Now() - freed).count()));
  EXPECT_LE(b.clock_.Now() - freed, seconds(2)) << "granted long after the disk was freed";
  // The access clock starts at activation: the full ten minutes, from then.
  model::Request active = b.Get(ids.back());
  EXPECT_EQ(*active.expires_at, *active.activated_at + minutes(10));
  // One assignment, shared by every grant, created once.
  EXPECT_EQ(b.provider_.Calls(FakeProvider::Op::kGrant), 1);
  EXPECT_EQ(b.CheckChain(), "");
}

TEST(WorkflowDiskFull, RevocationDueWhileTheDiskIsFullFinishesOnceItIsFreed) {
  ::jit::testing::TempDir dir;
  Broker b(dir.path());
  DiskFiller disk((dir.path() / "jit.db").string());
  auto r = b.workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(5), "work", ""});
  ASSERT_OK(r);
  b.clock_.Advance(Duration(0));
  ASSERT_EQ(b.StateOf(r->id), RequestState::kActive);
  const Time expires = *b.Get(r->id).expires_at;
  b.clock_.Advance(minutes(4));
  FillUp(b, disk, kDave);
  // Ten minutes of full disk across the expiry: the revocation is tried and tried again, the
  // access is never unrecorded, the request never ends without its delete.
  for (int i = 0; i < 600; ++i) {
    b.clock_.Advance(seconds(1));
    ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
  }
  EXPECT_NE(b.StateOf(r->id), RequestState::kEnded) << "the full disk stopped nothing";
  disk.Free();
  const Time freed = b.clock_.Now();
  while (b.StateOf(r->id) != RequestState::kEnded && b.clock_.Now() < freed + minutes(30)) {
    b.clock_.Advance(seconds(1));
    ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
  }
  ASSERT_EQ(b.StateOf(r->id), RequestState::kEnded);
  EXPECT_FALSE(b.provider_.Has(AliceSandbox()));
  EXPECT_GT(freed, expires);
  const Duration waited = std::chrono::duration_cast<Duration>(b.clock_.Now() - freed);
  std::printf("disk full: the revocation ended %lld ms after the disk was freed\n",
              static_cast<long long>(waited.count()));
  EXPECT_LE(waited, seconds(31));
  EXPECT_EQ(b.CheckChain(), "");
  EXPECT_THAT(b.Actions(r->id),
              ::testing::ElementsAre("request.created", "request.approved", "grant.succeeded",
                                     "request.activated", "request.expired", "revoke.succeeded",
                                     "request.ended"));
}

// Fails every transaction of one grant's life in turn (from the k-th on, for two minutes), and
// checks after every simulated second that no access is unrecorded; once the store is back the
// request ends, its assignment is gone, its history is one path and the chain holds.
TEST(WorkflowFaultSweep, AnOutageStartingAtAnyTransactionOfAGrantsLifeLeavesNothingBehind) {
  // The transactions of one clean life: submit, intent, activation, expiry, end (and the
  // scheduler's bookkeeping); a few more so that the sweep also covers "after the end".
  constexpr int kTransactions = 14;
  Duration worst_grant{0};
  Duration worst_revoke{0};
  for (int k = 1; k <= kTransactions; ++k) {
    SCOPED_TRACE("outage from transaction " + std::to_string(k));
    ::jit::testing::TempDir dir;
    Broker b(dir.path());
    std::atomic<bool> outage{false};
    std::optional<Time> outage_started;
    b.store_.SetFaults({[&](std::int64_t n) -> Status {
                          if (n == k && !outage_started) {
                            outage = true;
                            outage_started = b.clock_.Now();
                          }
                          return outage ? UnavailableError("injected: disk full at commit")
                                        : OkStatus();
                        },
                        {},
                        {},
                        {}});
    auto r = b.workflow_.Submit(kAlice, {"sandbox", "ReadOnly", minutes(5), "work", ""});
    if (k == 1) {
      EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
      auto page = b.sqlite_->ListRequests({});
      ASSERT_OK(page);
      EXPECT_TRUE(page->items.empty());
      EXPECT_EQ(b.provider_.Calls(FakeProvider::Op::kGrant), 0);
      continue;
    }
    ASSERT_OK(r);
    const std::string id = r->id;
    const Time start = b.clock_.Now();
    // Run the life until the outage has lasted two minutes (or the life is over without one).
    while (b.clock_.Now() < start + minutes(20)) {
      b.clock_.Advance(seconds(1));
      ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
      if (outage_started && b.clock_.Now() >= *outage_started + minutes(2)) break;
      if (!outage_started && b.StateOf(id) == RequestState::kEnded) break;
    }
    outage = false;
    const Time back = b.clock_.Now();
    const bool was_active = b.Get(id).activated_at.has_value();
    while (b.StateOf(id) != RequestState::kEnded && b.clock_.Now() < back + minutes(30)) {
      b.clock_.Advance(seconds(1));
      ASSERT_EQ(b.CheckNoUnrecordedAccess(), "");
      if (!b.Get(id).activated_at && b.clock_.Now() - back > worst_grant) {
        worst_grant = std::chrono::duration_cast<Duration>(b.clock_.Now() - back);
      }
    }
    ASSERT_EQ(b.StateOf(id), RequestState::kEnded)
        << "not ended 30 minutes after the store came back";
    model::Request ended = b.Get(id);
    ASSERT_TRUE(ended.expires_at.has_value());
    // From the later of the expiry and the store's return to the end.
    if (was_active || *ended.expires_at < back) {
      worst_revoke =
          std::max(worst_revoke, std::chrono::duration_cast<Duration>(
                                     *ended.ended_at - std::max(back, *ended.expires_at)));
    }
    EXPECT_FALSE(b.provider_.Has(AliceSandbox()));
    EXPECT_EQ(b.CheckChain(), "");
    std::vector<std::string> actions = b.Actions(id);
    for (const std::string& a : actions) {
      EXPECT_EQ(std::count(actions.begin(), actions.end(), a), 1) << a << " twice";
    }
    EXPECT_EQ(actions.back(), "request.ended");
  }
  // A job whose run could not be recorded is claimed again when its lease (5 minutes with
  // SQLite) runs out; its back-off may be as long.
  std::printf(
      "fault sweep: worst wait for a grant after the store came back %lld ms, for a "
      "revocation %lld ms\n",
      static_cast<long long>(worst_grant.count()), static_cast<long long>(worst_revoke.count()));
  EXPECT_LE(worst_revoke, seconds(5));
  EXPECT_LE(worst_grant, seconds(5));
}

}  // namespace
}  // namespace jit::workflow
