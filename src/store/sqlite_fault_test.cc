// The SQLite engine when its disk is full or another connection holds the write lock
// (issue 6, "Fault suite"): every failure is Unavailable, a failed transaction leaves nothing
// behind (not half a transition, not a gap or a fork in the audit chain), reads go on, and the
// store works again once the cause is gone. Also the FaultInjectingStore decorator that the
// workflow's fault tests build on.
//
// "Disk full" is hermetic: PRAGMA max_page_count (SqliteOptions::max_pages) caps the database,
// and a second connection fills it up with a junk table or frees it again, as a disk that
// fills and is cleaned up would.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/testing.h"
#include "store/fault_injecting_store.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace jit::store {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// A connection of the test's own to the store's file.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    JIT_CHECK(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    (void)sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // SQLite's result code.
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    JIT_CHECK(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    JIT_CHECK(sqlite3_step(stmt) == SQLITE_ROW);
    std::int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }

  // Fills the database with junk rows until SQLite says it is full (the cap of this
  // connection: the same max_page_count as the store's). Returns the rows written.
  int FillUp(std::int64_t max_pages) {
    JIT_CHECK(Exec("PRAGMA max_page_count = " + std::to_string(max_pages)) == SQLITE_OK);
    JIT_CHECK(Exec("CREATE TABLE IF NOT EXISTS junk (b BLOB)") == SQLITE_OK);
    int rows = 0;
    // Big rows first, then small ones, so that not even a small row fits afterwards.
    for (int size : {16384, 1024, 64, 1}) {
      while (Exec("INSERT INTO junk VALUES (zeroblob(" + std::to_string(size) + "))") ==
             SQLITE_OK) {
        ++rows;
      }
    }
    return rows;
  }
  void Free() { JIT_CHECK(Exec("DELETE FROM junk") == SQLITE_OK); }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteFaultTest : public ::testing::Test {
 protected:
  std::string Path() const { return (dir_.path() / "jit.db").string(); }

  std::unique_ptr<Store> Open(std::int64_t max_pages, Duration busy_timeout = Duration(5000)) {
    SqliteOptions o;
    o.path = Path();
    o.max_pages = max_pages;
    o.busy_timeout = busy_timeout;
    auto s = OpenSqliteStore(o, clock_);
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // One transition's worth of writes: a request, its event and a job.
  Status Insert(Store& store, const std::string& id, std::size_t reason_bytes = 100) {
    return store.Transact([&](Tx& tx) -> Status {
      model::Request r;
      r.id = id;
      r.requester = "alice";
      r.account_id = "111111111111";
      r.reason = std::string(reason_bytes, 'x');
      r.created_at = clock_.Now();
      JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
      model::AuditEvent e;
      e.at = clock_.Now();
      e.actor = "alice";
      e.action = "request.created";
      e.request_id = id;
      e.severity = "info";
      e.details = "{}";
      JIT_RETURN_IF_ERROR(tx.AppendAudit(e).error());
      model::Job j;
      j.id = "grant:" + id;
      j.kind = model::JobKind::kGrant;
      j.request_id = id;
      j.due_at = j.first_due_at = j.created_at = clock_.Now();
      j.payload = "{}";
      return tx.PutJob(j);
    });
  }

  std::string NextId() {
    clock_.Advance(Duration(1));
    return NewId("req_", clock_.Now());
  }

  void ExpectChainIntact(Store& store, std::int64_t events) {
    auto all = store.ListAudit(0, 1000);
    ASSERT_OK(all);
    EXPECT_THAT(*all, SizeIs(events));
    audit::ChainCheck check = audit::VerifyChain(*all);
    EXPECT_TRUE(check.ok) << check.problem << " at " << check.first_bad_seq << ": " << check.why;
  }

  FakeClock clock_;
  ::jit::testing::TempDir dir_;
};

TEST_F(SqliteFaultTest, DiskFullIsUnavailableAndLeavesNoHalfTransaction) {
  constexpr std::int64_t kMaxPages = 64;  // 256 KiB
  auto store = Open(kMaxPages);
  ASSERT_NE(store, nullptr);
  // Fill the disk from beside the store until the store's next transition cannot be written.
  std::vector<std::string> written;
  for (int i = 0; i < 3; ++i) {
    written.push_back(NextId());
    ASSERT_OK(Insert(*store, written.back()));
  }
  RawDb other(Path());
  ASSERT_GT(other.FillUp(kMaxPages), 0);

  std::string refused = NextId();
  Status full = Insert(*store, refused, /*reason_bytes=*/20000);
  ASSERT_THAT(full, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(full.message(), HasSubstr("full"));
  // Nothing of it is there: not the request, not its event, not its job.
  EXPECT_THAT(store->GetRequest(refused), StatusIs(StatusCode::kNotFound));
  auto jobs = store->ListJobs();
  ASSERT_OK(jobs);
  EXPECT_THAT(*jobs, SizeIs(3));
  // Reads go on.
  for (const std::string& id : written) EXPECT_OK(store->GetRequest(id));
  ExpectChainIntact(*store, 3);

  // The disk is cleaned up: the same store writes again, and the chain goes on from the last
  // event that committed (seq 4 after seq 3: no gap, no fork).
  other.Free();
  std::string after = NextId();
  ASSERT_OK(Insert(*store, after, 20000));
  EXPECT_OK(store->GetRequest(after));
  ExpectChainIntact(*store, 4);
}

TEST_F(SqliteFaultTest, DiskFullInAGroupCommitFailsEveryCallerOfTheBatchOrNone) {
  constexpr std::int64_t kMaxPages = 64;
  auto store = Open(kMaxPages);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(Insert(*store, NextId()));
  RawDb other(Path());
  ASSERT_GT(other.FillUp(kMaxPages), 0);
  // Several callers at once: they land in one or more batches; a batch whose commit cannot be
  // written fails for all of its callers. Whatever succeeded is whole.
  std::vector<std::string> ids;
  ids.reserve(8);
  for (int i = 0; i < 8; ++i) ids.push_back(NextId());
  std::vector<Status> results(ids.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Insert(*store, ids[i], 5000); });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (results[i].ok()) {
      ++ok;
      EXPECT_OK(store->GetRequest(ids[i]));
    } else {
      EXPECT_THAT(results[i], StatusIs(StatusCode::kUnavailable));
      EXPECT_THAT(store->GetRequest(ids[i]), StatusIs(StatusCode::kNotFound));
    }
  }
  EXPECT_LT(ok, static_cast<int>(ids.size()));
  ExpectChainIntact(*store, 1 + ok);
  other.Free();
  ASSERT_OK(Insert(*store, NextId()));
  ExpectChainIntact(*store, 2 + ok);
}

TEST_F(SqliteFaultTest, ReopeningAFullDatabaseWorksAndKeepsEverything) {
  constexpr std::int64_t kMaxPages = 64;
  std::string first = NextId();
  {
    auto store = Open(kMaxPages);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(Insert(*store, first));
    RawDb other(Path());
    other.FillUp(kMaxPages);
    EXPECT_THAT(Insert(*store, NextId(), 20000), StatusIs(StatusCode::kUnavailable));
  }
  // A restart on the full disk: opening needs no new page (the schema is current).
  auto store = Open(kMaxPages);
  ASSERT_NE(store, nullptr);
  EXPECT_OK(store->GetRequest(first));
  EXPECT_THAT(Insert(*store, NextId(), 20000), StatusIs(StatusCode::kUnavailable));
  ExpectChainIntact(*store, 1);
}

TEST_F(SqliteFaultTest, AnotherConnectionHoldingTheWriteLockIsUnavailableAfterTheBusyTimeout) {
  auto store = Open(0, /*busy_timeout=*/Duration(300));
  ASSERT_NE(store, nullptr);
  std::string first = NextId();
  ASSERT_OK(Insert(*store, first));
  RawDb other(Path());
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);  // holds the write lock

  auto start = std::chrono::steady_clock::now();
  Status busy = Insert(*store, NextId());
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(busy, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(busy.message(), HasSubstr("locked"));
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_THAT(store->ClaimDueJobs(clock_.Now(), "jit", clock_.Now() + Duration(1000), 10),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store->Ping(), StatusIs(StatusCode::kUnavailable));
  // WAL readers do not wait for writers.
  EXPECT_OK(store->GetRequest(first));
  EXPECT_OK(store->ListAudit(0, 10));

  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  EXPECT_OK(store->Ping());
  ASSERT_OK(Insert(*store, NextId()));
  ExpectChainIntact(*store, 2);
}

TEST_F(SqliteFaultTest, MaxPagesIsValidated) {
  SqliteOptions o;
  o.path = Path();
  o.max_pages = -1;
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
}

// --- FaultInjectingStore ------------------------------------------------------------------

TEST_F(SqliteFaultTest, InjectedCommitFailureRunsTheFunctionThenUndoesIt) {
  auto inner = Open(0);
  ASSERT_NE(inner, nullptr);
  FaultInjectingStore store(*inner);
  store.SetFaults(
      {[](std::int64_t n) { return n == 2 ? UnavailableError("injected: disk full") : OkStatus(); },
       {},
       {}});
  std::string a = NextId();
  std::string b = NextId();
  std::string c = NextId();
  ASSERT_OK(Insert(store, a));
  bool ran = false;
  Status s = store.Transact([&](Tx& tx) -> Status {
    ran = true;
    model::Request r;
    r.id = b;
    r.created_at = clock_.Now();
    return tx.InsertRequest(r);
  });
  EXPECT_TRUE(ran);
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, HasSubstr("injected")));
  EXPECT_THAT(inner->GetRequest(b), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(Insert(store, c));
  EXPECT_EQ(store.transactions(), 3);
  EXPECT_EQ(store.failed(), 1);
  // The function's own error wins over the injected one.
  store.SetFaults({[](std::int64_t) { return UnavailableError("injected"); }, {}, {}, {}});
  EXPECT_THAT(store.Transact([](Tx&) { return FailedPreconditionError("mine"); }),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(SqliteFaultTest, FailEverythingFailsReadsAndLeasesUntilCleared) {
  auto inner = Open(0);
  ASSERT_NE(inner, nullptr);
  FaultInjectingStore store(*inner);
  std::string a = NextId();
  ASSERT_OK(Insert(store, a));
  store.FailEverythingWith(UnavailableError("injected: connection lost"));
  EXPECT_THAT(store.GetRequest(a), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ListJobs(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ClaimDueJobs(clock_.Now(), "jit", clock_.Now(), 1),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.Ping(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Insert(store, NextId()), StatusIs(StatusCode::kUnavailable));
  store.SetFaults({});
  EXPECT_OK(store.GetRequest(a));
  auto claimed = store.ClaimDueJobs(clock_.Now(), "jit", clock_.Now() + Duration(1000), 10);
  ASSERT_OK(claimed);
  EXPECT_THAT(*claimed, SizeIs(1));
}

}  // namespace
}  // namespace jit::store
