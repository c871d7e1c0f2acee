// What only the SQLite engine has: a file that outlives the process, schema versions, group
// commit and append-only triggers. The shared behaviour is in store_conformance_test.cc.

#include "store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "store/ledger_migration_check.h"
#include "store/memory_store.h"

namespace jit::store {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteOptions Options() {
    SqliteOptions o;
    o.path = (dir_.path() / "jit.db").string();
    return o;
  }

  std::unique_ptr<Store> Open(const SqliteOptions& o) {
    Result<std::unique_ptr<Store>> s = OpenSqliteStore(o, clock_);
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }

  model::Request MakeRequest(std::string requester = "alice") {
    clock_.Advance(Duration(1));
    model::Request r;
    r.id = NewId("req_", clock_.Now());
    r.requester = std::move(requester);
    r.account_id = "111111111111";
    r.created_at = clock_.Now();
    return r;
  }

  model::AuditEvent MakeEvent(std::string action, std::string request_id = "") {
    model::AuditEvent e;
    e.at = clock_.Now();
    e.actor = "jit";
    e.action = std::move(action);
    e.request_id = std::move(request_id);
    e.severity = "info";
    e.details = "{}";
    return e;
  }

  // Runs `sql` on a connection of our own, beside the store's.
  Status RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(Options().path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    Status s;
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      char* err = nullptr;
      rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
      if (rc != SQLITE_OK) s = InternalError(err != nullptr ? err : "sqlite error");
      sqlite3_free(err);
    } else {
      s = InternalError("cannot open");
    }
    sqlite3_close_v2(db);
    return s;
  }

  // Column `column` (the first by default) of each row `sql` returns, read on a connection of
  // our own.
  Result<std::vector<std::string>> RawQuery(const std::string& sql, int column = 0) {
    sqlite3* db = nullptr;
    struct Out {
      int column;
      std::vector<std::string> rows;
    } out{column, {}};
    int rc = sqlite3_open_v2(Options().path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_exec(
          db, sql.c_str(),
          [](void* p, int n, char** values, char**) {
            Out* o = static_cast<Out*>(p);
            const char* v = o->column < n ? values[o->column] : nullptr;
            o->rows.push_back(v != nullptr ? v : "");
            return 0;
          },
          &out, nullptr);
    }
    std::vector<std::string>& rows = out.rows;
    sqlite3_close_v2(db);
    if (rc != SQLITE_OK) return InternalError("raw query failed");
    return rows;
  }

  FakeClock clock_;
  ::jit::testing::TempDir dir_;
};

// Holds the writer inside one caller's function until released, so that the callers that
// come meanwhile queue up and land in the next batch together.
class WriterGate {
 public:
  // Starts a transaction that waits in its function; returns once the writer is in it.
  void Close(Store& store) {
    thread_ = std::thread([this, &store] {
      EXPECT_OK(store.Transact([this](Tx&) {
        MutexLock lock(&mu_);
        entered_ = true;
        cv_.SignalAll();
        while (!open_) cv_.Wait(mu_);
        return OkStatus();
      }));
    });
    MutexLock lock(&mu_);
    while (!entered_) cv_.Wait(mu_);
  }
  void Open() {
    {
      MutexLock lock(&mu_);
      open_ = true;
    }
    cv_.SignalAll();
    thread_.join();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool entered_ GUARDED_BY(mu_) = false;
  bool open_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Starts `n` threads that call Transact, and returns once they have all been started. There
// is no way to observe the writer's queue from outside, so the caller gives them a moment to
// reach it before opening the gate.
void WaitForCallersToQueue() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  model::Request r = MakeRequest();
  model::Job job;
  job.id = NewId("job_", clock_.Now());
  job.kind = model::JobKind::kRevoke;
  job.request_id = r.id;
  job.due_at = clock_.Now() + Duration(3600000);
  job.first_due_at = job.due_at;
  job.payload = "{}";
  job.created_at = clock_.Now();
  model::LedgerEntry entry{
      "user-1", r.account_id, "arn:ps",    model::LedgerOrigin::kJit, model::LedgerState::kPresent,
      {r.id},   "",           clock_.Now()};
  {
    std::unique_ptr<Store> store = Open(Options());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->Transact([&](Tx& tx) -> Status {
      JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
      JIT_RETURN_IF_ERROR(tx.AppendAudit(MakeEvent("request.created", r.id)).error());
      JIT_RETURN_IF_ERROR(tx.AppendAudit(MakeEvent("grant.succeeded", r.id)).error());
      JIT_RETURN_IF_ERROR(tx.PutJob(job));
      return tx.PutLedger(entry);
    }));
  }
  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  Result<model::Request> got = store->GetRequest(r.id);
  ASSERT_OK(got);
  EXPECT_EQ(got->requester, "alice");
  EXPECT_EQ(got->version, 1);
  Result<std::vector<model::Job>> jobs = store->ListJobs();
  ASSERT_OK(jobs);
  ASSERT_THAT(*jobs, SizeIs(1));
  EXPECT_EQ((*jobs)[0].id, job.id);
  EXPECT_EQ((*jobs)[0].due_at, job.due_at);
  EXPECT_THAT(*store->ListLedger(), SizeIs(1));

  // The chain goes on from the last event on disk.
  ASSERT_OK(store->Transact(
      [&](Tx& tx) { return tx.AppendAudit(MakeEvent("request.ended", r.id)).error(); }));
  Result<std::vector<model::AuditEvent>> events = store->ListAudit(0, 100);
  ASSERT_OK(events);
  ASSERT_THAT(*events, SizeIs(3));
  EXPECT_EQ((*events)[2].seq, 3);
  audit::ChainCheck check = audit::VerifyChain(*events);
  EXPECT_TRUE(check.ok) << check.why;
}

TEST_F(SqliteStoreTest, ANewerSchemaIsFailedPrecondition) {
  { ASSERT_NE(Open(Options()), nullptr); }
  ASSERT_OK(
      RawExec("UPDATE schema_version SET version = " + std::to_string(SqliteSchemaVersion() + 1)));
  EXPECT_THAT(OpenSqliteStore(Options(), clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("schema version")));
}

TEST_F(SqliteStoreTest, ReopeningAtTheSameVersionKeepsOneVersionRow) {
  { ASSERT_NE(Open(Options()), nullptr); }
  { ASSERT_NE(Open(Options()), nullptr); }
  Result<std::vector<std::string>> rows = RawQuery("SELECT version FROM schema_version");
  ASSERT_OK(rows);
  EXPECT_THAT(*rows, ElementsAre(std::to_string(SqliteSchemaVersion())));
}

// The claim reads through the partial indexes in claim order: a SEARCH on due_at_ms that
// needs no sort, however many jobs are due (it used to sort every due job on each claim).
TEST_F(SqliteStoreTest, ClaimQueriesSearchTheirIndexInClaimOrder) {
  { ASSERT_NE(Open(Options()), nullptr); }
  std::vector<std::string> queries = SqliteClaimQueriesForTesting();
  ASSERT_THAT(queries, SizeIs(2));
  const char* indexes[] = {"jobs_revocations_by_due", "jobs_others_by_due"};
  for (std::size_t i = 0; i < queries.size(); ++i) {
    // EXPLAIN QUERY PLAN's rows: id, parent, notused, detail.
    Result<std::vector<std::string>> plan = RawQuery("EXPLAIN QUERY PLAN " + queries[i], 3);
    ASSERT_OK(plan);
    EXPECT_THAT(
        *plan, ElementsAre(std::string("SEARCH jobs USING INDEX ") + indexes[i] + " (due_at_ms<?)"))
        << queries[i];
  }
}

// A database of schema version 1 (no claim indexes) is brought to the current version on
// open: the indexes are made, its jobs stay and are claimed in claim order.
TEST_F(SqliteStoreTest, VersionOneDatabaseGainsTheClaimIndexesOnOpen) {
  Time now = clock_.Now();
  model::Job grant;
  grant.id = "job_a";
  grant.kind = model::JobKind::kGrant;
  grant.request_id = "req_a";
  grant.due_at = grant.first_due_at = now - Duration(2000);
  grant.created_at = now;
  model::Job revoke = grant;
  revoke.id = "job_b";
  revoke.kind = model::JobKind::kRevoke;
  revoke.request_id = "req_b";
  revoke.due_at = revoke.first_due_at = now - Duration(1000);
  {
    std::unique_ptr<Store> store = Open(Options());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->Transact([&](Tx& tx) -> Status {
      JIT_RETURN_IF_ERROR(tx.PutJob(grant));
      return tx.PutJob(revoke);
    }));
  }
  // What version 1 left: the same tables without the two indexes (nor step 3's ledger
  // changes, nor step 4's records).
  ASSERT_OK(RawExec(
      "DROP INDEX jobs_revocations_by_due; DROP INDEX jobs_others_by_due; "
      "DROP TABLE records; DROP TABLE ledger_holders; ALTER TABLE ledger DROP COLUMN holder_count; "
      "UPDATE schema_version SET version = 1"));
  Result<std::vector<std::string>> before = RawQuery(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'jobs_%' "
      "ORDER BY name");
  ASSERT_OK(before);
  EXPECT_THAT(*before, ElementsAre("jobs_by_due", "jobs_by_request"));

  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  Result<std::vector<std::string>> after = RawQuery(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'jobs_%' "
      "ORDER BY name");
  ASSERT_OK(after);
  EXPECT_THAT(*after, ElementsAre("jobs_by_due", "jobs_by_request", "jobs_others_by_due",
                                  "jobs_revocations_by_due"));
  Result<std::vector<std::string>> version = RawQuery("SELECT version FROM schema_version");
  ASSERT_OK(version);
  EXPECT_THAT(*version, ElementsAre(std::to_string(SqliteSchemaVersion())));
  Result<std::vector<model::Job>> claimed = store->ClaimDueJobs(now, "w", now + Duration(1000), 10);
  ASSERT_OK(claimed);
  ASSERT_THAT(*claimed, SizeIs(2));
  EXPECT_EQ((*claimed)[0].id, "job_b");
  EXPECT_EQ((*claimed)[1].id, "job_a");
}

// A database of schema version 2 (each ledger entry's holders a JSON list in ledger.holders)
// gets its holders as rows on open: same holders, same order, a repeat kept once; the old
// column keeps '[]' from then on.
TEST_F(SqliteStoreTest, VersionTwoDatabaseGetsItsLedgerHoldersAsRowsOnOpen) {
  ASSERT_NE(Open(Options()), nullptr);
  // What version 2 left: no ledger_holders table, no holder_count, the lists in JSON.
  ASSERT_OK(RawExec(std::string("DROP TABLE records; DROP TABLE ledger_holders; ALTER TABLE ledger "
                                "DROP COLUMN holder_count; ") +
                    testing::kVersionTwoLedgerRows + "UPDATE schema_version SET version = 2"));

  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  Result<std::vector<std::string>> version = RawQuery("SELECT version FROM schema_version");
  ASSERT_OK(version);
  EXPECT_THAT(*version, ElementsAre(std::to_string(SqliteSchemaVersion())));
  Result<std::vector<std::string>> columns = RawQuery("SELECT DISTINCT holders FROM ledger");
  ASSERT_OK(columns);
  EXPECT_THAT(*columns, ElementsAre("[]"));

  testing::ExpectLedgerHoldersMigrated(*store);
}

TEST_F(SqliteStoreTest, OptionsAreValidated) {
  SqliteOptions o = Options();
  o.synchronous = "OFF";
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
  o = Options();
  o.path = "";
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
  o = Options();
  o.max_batch = 0;
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
  o = Options();
  o.busy_timeout = Duration(-1);
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(SqliteStoreTest, AFileThatCannotBeOpenedIsUnavailable) {
  SqliteOptions o = Options();
  o.path = (dir_.path() / "no-such-folder" / "jit.db").string();
  EXPECT_THAT(OpenSqliteStore(o, clock_), StatusIs(StatusCode::kUnavailable));
}

TEST_F(SqliteStoreTest, SynchronousNormalWorks) {
  SqliteOptions o = Options();
  o.synchronous = "NORMAL";
  std::unique_ptr<Store> store = Open(o);
  ASSERT_NE(store, nullptr);
  model::Request r = MakeRequest();
  ASSERT_OK(store->Transact([&](Tx& tx) { return tx.InsertRequest(r); }));
  EXPECT_OK(store->GetRequest(r.id));
  EXPECT_OK(store->Ping());
}

TEST_F(SqliteStoreTest, AuditRowsCannotBeUpdatedOrDeletedThroughSql) {
  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Transact([&](Tx& tx) { return tx.AppendAudit(MakeEvent("x")).error(); }));

  EXPECT_THAT(RawExec("UPDATE audit_events SET actor = 'mallory'"),
              StatusIs(StatusCode::kInternal, HasSubstr("append-only")));
  EXPECT_THAT(RawExec("DELETE FROM audit_events"),
              StatusIs(StatusCode::kInternal, HasSubstr("append-only")));
  Result<std::vector<model::AuditEvent>> events = store->ListAudit(0, 10);
  ASSERT_OK(events);
  ASSERT_THAT(*events, SizeIs(1));
  EXPECT_EQ((*events)[0].actor, "jit");
}

TEST_F(SqliteStoreTest, GroupCommitSharesCommitsBetweenCallers) {
  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::vector<std::vector<model::Request>> requests(kThreads);
  for (auto& mine : requests) {
    for (int i = 0; i < kPerThread; ++i) mine.push_back(MakeRequest());
  }
  const SqliteStats before = GetSqliteStats(*store);

  WriterGate gate;
  gate.Close(*store);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (const model::Request& r : requests[t]) {
        EXPECT_OK(store->Transact([&](Tx& tx) -> Status {
          JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
          return tx.AppendAudit(MakeEvent("request.created", r.id)).error();
        }));
      }
    });
  }
  WaitForCallersToQueue();
  gate.Open();
  for (std::thread& th : threads) th.join();

  const SqliteStats after = GetSqliteStats(*store);
  const std::int64_t transactions = after.transactions - before.transactions;
  const std::int64_t commits = after.commits - before.commits;
  EXPECT_EQ(transactions, kThreads * kPerThread + 1);  // + the gate
  EXPECT_LT(commits, transactions);
  EXPECT_GE(commits, 1);

  std::vector<model::AuditEvent> all;
  for (std::int64_t after_seq = 0;;) {
    Result<std::vector<model::AuditEvent>> page = store->ListAudit(after_seq, 1000);
    ASSERT_OK(page);
    if (page->empty()) break;
    after_seq = page->back().seq;
    all.insert(all.end(), page->begin(), page->end());
  }
  EXPECT_THAT(all, SizeIs(kThreads * kPerThread));
  audit::ChainCheck check = audit::VerifyChain(all);
  EXPECT_TRUE(check.ok) << check.why;
}

TEST_F(SqliteStoreTest, StatsAreZeroForOtherEngines) {
  std::unique_ptr<Store> memory = NewMemoryStore(clock_);
  ASSERT_OK(memory->Transact([](Tx&) { return OkStatus(); }));
  SqliteStats stats = GetSqliteStats(*memory);
  EXPECT_EQ(stats.transactions, 0);
  EXPECT_EQ(stats.commits, 0);
}

TEST_F(SqliteStoreTest, ACallersErrorInABatchLeavesTheOthersAlone) {
  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  model::Request before = MakeRequest();
  ASSERT_OK(store->Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.InsertRequest(before));
    return tx.AppendAudit(MakeEvent("request.created", before.id)).error();
  }));
  const SqliteStats stats_before = GetSqliteStats(*store);

  constexpr int kCallers = 9;  // every third one fails after writing
  std::vector<model::Request> requests;
  for (int i = 0; i < kCallers; ++i) requests.push_back(MakeRequest());
  std::vector<Status> results(kCallers);

  WriterGate gate;
  gate.Close(*store);
  // Reads go on beside a writer that is in the middle of a transaction.
  EXPECT_OK(store->GetRequest(before.id));
  EXPECT_THAT(*store->ListAudit(0, 10), SizeIs(1));

  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      const model::Request& r = requests[i];
      results[i] = store->Transact([&](Tx& tx) -> Status {
        JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
        JIT_RETURN_IF_ERROR(tx.AppendAudit(MakeEvent("request.created", r.id)).error());
        if (i % 3 == 0) return FailedPreconditionError("caller " + std::to_string(i) + " gave up");
        return OkStatus();
      });
    });
  }
  WaitForCallersToQueue();
  gate.Open();
  for (std::thread& th : threads) th.join();

  // They really shared a commit: the gate's batch, then (nearly always) one for all nine.
  const SqliteStats stats_after = GetSqliteStats(*store);
  EXPECT_LT(stats_after.commits - stats_before.commits, kCallers);

  for (int i = 0; i < kCallers; ++i) {
    if (i % 3 == 0) {
      EXPECT_THAT(results[i], StatusIs(StatusCode::kFailedPrecondition, HasSubstr("gave up")));
      EXPECT_THAT(store->GetRequest(requests[i].id), StatusIs(StatusCode::kNotFound));
    } else {
      EXPECT_OK(results[i]);
      EXPECT_OK(store->GetRequest(requests[i].id));
    }
  }
  Result<std::vector<model::AuditEvent>> events = store->ListAudit(0, 100);
  ASSERT_OK(events);
  EXPECT_THAT(*events, SizeIs(1 + 6));
  audit::ChainCheck check = audit::VerifyChain(*events);
  EXPECT_TRUE(check.ok) << check.why << " at " << check.first_bad_seq;
  for (const model::AuditEvent& e : *events) EXPECT_NE(e.request_id, requests[0].id);
}

TEST_F(SqliteStoreTest, ClosingWithNoWorkIsClean) {
  std::unique_ptr<Store> store = Open(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_OK(store->Ping());
  store.reset();
  EXPECT_NE(Open(Options()), nullptr);
}

}  // namespace
}  // namespace jit::store
