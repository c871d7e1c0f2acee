// What only the PostgreSQL engine has to prove: several stores (replicas) on one database, a
// server that goes away and comes back, and the database's own guards. The conformance suite
// (store_conformance_test.cc) runs every common contract against this engine too.

#include "store/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/chain.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "store/ledger_migration_check.h"
#include "store/postgres_test_server.h"
#include "store/store.h"

namespace jit::store {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// `sql` with each single quote doubled, to stand inside a quoted SQL string.
std::string Quoted(std::string_view sql) {
  std::string out;
  for (char c : sql) {
    out += c;
    if (c == '\'') out += c;
  }
  return out;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::PostgresTestServer*> server = testing::SharedPostgresTestServer();
    ASSERT_OK(server);
    server_ = *server;
    Result<std::string> db = server_->CreateDatabase();
    ASSERT_OK(db);
    db_ = *db;
  }

  PostgresOptions Options() const {
    PostgresOptions o;
    o.url = server_->UrlFor(db_);
    return o;
  }

  std::unique_ptr<Store> Open(PostgresOptions o) {
    Result<std::unique_ptr<Store>> s = OpenPostgresStore(o, clock_);
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Store> Open() { return Open(Options()); }

  model::AuditEvent Event(std::string action) {
    model::AuditEvent e;
    e.at = clock_.Now();
    e.actor = "alice";
    e.action = std::move(action);
    e.severity = "info";
    e.details = "{}";
    return e;
  }

  model::Job MakeJob(model::JobKind kind, Time due) {
    model::Job j;
    j.id = NewId("job_", clock_.Now());
    j.kind = kind;
    j.request_id = NewId("req_", clock_.Now());
    j.due_at = due;
    j.first_due_at = due;
    j.payload = "{}";
    j.created_at = clock_.Now();
    return j;
  }

  std::vector<model::AuditEvent> AllAudit(Store& st) {
    std::vector<model::AuditEvent> all;
    std::int64_t after = 0;
    for (;;) {
      Result<std::vector<model::AuditEvent>> page = st.ListAudit(after, 1000);
      EXPECT_OK(page);
      if (!page.ok() || page->empty()) break;
      after = page->back().seq;
      all.insert(all.end(), page->begin(), page->end());
    }
    return all;
  }

  FakeClock clock_;
  testing::PostgresTestServer* server_ = nullptr;
  std::string db_;
};

TEST_F(PostgresStoreTest, ConcurrentAppendersFromTwoStoresKeepOneUnbrokenChain) {
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kThreadsPerStore = 3;
  constexpr int kPerThread = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    Store& st = t % 2 == 0 ? *a : *b;
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = st.Transact([&](Tx& tx) -> Status {
          JIT_RETURN_IF_ERROR(tx.AppendAudit(Event("t" + std::to_string(t))).error());
          return tx.AppendAudit(Event("t" + std::to_string(t) + "-second")).error();
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<model::AuditEvent> all = AllAudit(*a);
  ASSERT_THAT(all, SizeIs(2 * kThreadsPerStore * kPerThread * 2));
  audit::ChainCheck check = audit::VerifyChain(all);
  EXPECT_TRUE(check.ok) << check.why << " at " << check.first_bad_seq;
  // Each transaction's two events are next to each other: appends of one transaction are not
  // interleaved with another's.
  for (std::size_t i = 0; i < all.size(); i += 2) {
    EXPECT_EQ(all[i].action + "-second", all[i + 1].action) << "at seq " << all[i].seq;
  }
  // Both stores read the same chain.
  EXPECT_EQ(AllAudit(*b).back().hash, all.back().hash);
}

TEST_F(PostgresStoreTest, ReadCheckWriteFromTwoStoresIsNeverRaced) {
  // Transactions behave as if one at a time: a ledger entry's holders, read and rewritten by
  // many transactions of two stores at once, lose no holder (no version check to help).
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kThreads = 6;
  constexpr int kPerThread = 30;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store& st = t % 2 == 0 ? *a : *b;
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string holder = "req_" + std::to_string(t) + "_" + std::to_string(i);
        Status s = st.Transact([&](Tx& tx) -> Status {
          JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> e,
                               tx.GetLedger("user-1", "111111111111", "arn:ps"));
          model::LedgerEntry next =
              e.value_or(model::LedgerEntry{"user-1", "111111111111", "arn:ps"});
          next.holders.push_back(holder);
          return tx.PutLedger(next);
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  Result<std::vector<model::LedgerEntry>> ledger = a->ListLedger();
  ASSERT_OK(ledger);
  ASSERT_THAT(*ledger, SizeIs(1));
  std::set<std::string> holders((*ledger)[0].holders.begin(), (*ledger)[0].holders.end());
  EXPECT_EQ(holders.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ((*ledger)[0].holders.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_F(PostgresStoreTest, TwoStoresClaimingTheSameDueJobsNeverBothGetOne) {
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kJobs = 300;
  Time now = clock_.Now();
  std::vector<model::Job> jobs;
  for (int i = 0; i < kJobs; ++i) {
    clock_.Advance(Duration(1));
    jobs.push_back(MakeJob(i % 3 == 0 ? model::JobKind::kRevoke : model::JobKind::kGrant, now));
  }
  ASSERT_OK(a->Transact([&](Tx& tx) -> Status {
    for (const model::Job& j : jobs) JIT_RETURN_IF_ERROR(tx.PutJob(j));
    return OkStatus();
  }));

  Mutex mu;
  std::map<std::string, std::vector<std::string>> claimed_by;  // job id -> owners
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  // Every thread makes its first claim before any makes its second, so that both stores take
  // part however the threads are scheduled (on a busy machine one store's threads could
  // otherwise take all 300 before the other's start); the first claims race all the same.
  constexpr int kThreads = 6;
  std::latch first_claims(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    Store& st = t % 2 == 0 ? *a : *b;
    std::string owner = (t % 2 == 0 ? "replica-a-" : "replica-b-") + std::to_string(t);
    threads.emplace_back([&, owner] {
      for (bool first = true;; first = false) {
        Result<std::vector<model::Job>> got = st.ClaimDueJobs(now, owner, now + Duration(60000), 7);
        if (got.ok()) {
          MutexLock lock(&mu);
          for (const model::Job& j : *got) {
            EXPECT_EQ(j.lease_owner, owner);
            claimed_by[j.id].push_back(owner);
          }
        }
        if (first) first_claims.arrive_and_wait();
        if (!got.ok()) {
          ++failures;
          ADD_FAILURE() << got.error();
          return;
        }
        if (got->empty()) return;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(claimed_by, SizeIs(kJobs));
  std::set<std::string> owners;
  for (const auto& [id, by] : claimed_by) {
    EXPECT_THAT(by, SizeIs(1)) << id << " claimed twice";
    owners.insert(by.front());
  }
  EXPECT_GT(owners.size(), 1u);  // both stores did take part
  // Nobody can claim them again before the leases run out...
  EXPECT_THAT(*b->ClaimDueJobs(now + Duration(59999), "late", now + Duration(90000), 1000),
              IsEmpty());
  // ...and then somebody can.
  EXPECT_THAT(*b->ClaimDueJobs(now + Duration(60000), "late", now + Duration(90000), 1000),
              SizeIs(kJobs));
}

TEST_F(PostgresStoreTest, StaleUpdateFromAnotherStoreIsAborted) {
  std::unique_ptr<Store> a = Open();
  std::unique_ptr<Store> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  model::Request r;
  r.id = NewId("req_", clock_.Now());
  r.requester = "alice";
  r.created_at = clock_.Now();
  ASSERT_OK(a->Transact([&](Tx& tx) { return tx.InsertRequest(r); }));
  model::Request on_a = *a->GetRequest(r.id);
  model::Request on_b = *b->GetRequest(r.id);
  on_a.state = model::RequestState::kApproved;
  ASSERT_OK(a->Transact([&](Tx& tx) { return tx.UpdateRequest(on_a); }));
  on_b.state = model::RequestState::kDenied;
  EXPECT_THAT(b->Transact([&](Tx& tx) { return tx.UpdateRequest(on_b); }),
              StatusIs(StatusCode::kAborted));
  EXPECT_EQ(b->GetRequest(r.id)->state, model::RequestState::kApproved);
}

TEST_F(PostgresStoreTest, ConnectionLostAndBackIsUnavailableThenOk) {
  std::unique_ptr<Store> st = Open();
  ASSERT_NE(st, nullptr);
  model::Job job = MakeJob(model::JobKind::kRevoke, clock_.Now());
  ASSERT_OK(st->Transact([&](Tx& tx) { return tx.PutJob(job); }));
  ASSERT_OK(st->Ping());
  ASSERT_OK(st->ListJobs());

  ASSERT_OK(server_->Stop());
  // Whatever happens below, the shared server comes back for the tests after this one.
  struct Restart {
    testing::PostgresTestServer* server;
    ~Restart() { EXPECT_OK(server->Restart()); }
  } restart{server_};

  EXPECT_THAT(st->Ping(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(st->ListJobs(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(st->GetRequest("req_01JD3Q8W5C2M7X9K4T6B1N0R8P"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(st->ClaimDueJobs(clock_.Now(), "w", clock_.Now() + Duration(1000), 10),
              StatusIs(StatusCode::kUnavailable));
  bool ran = false;
  EXPECT_THAT(st->Transact([&](Tx&) {
    ran = true;
    return OkStatus();
  }),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_FALSE(ran);

  ASSERT_OK(server_->Restart());
  // The same store reconnects on its next calls; nothing was lost.
  EXPECT_OK(st->Ping());
  Result<std::vector<model::Job>> jobs = st->ListJobs();
  ASSERT_OK(jobs);
  ASSERT_THAT(*jobs, SizeIs(1));
  EXPECT_EQ((*jobs)[0].id, job.id);
  EXPECT_OK(st->Transact([&](Tx& tx) { return tx.AppendAudit(Event("back")).error(); }));
  Result<std::vector<model::Job>> claimed =
      st->ClaimDueJobs(clock_.Now(), "w", clock_.Now() + Duration(1000), 10);
  ASSERT_OK(claimed);
  EXPECT_THAT(*claimed, SizeIs(1));
}

// Two transactions at once, each on its own connection of the write pool: the first holds the
// write lock for `hold`, the second waits for it. Returns both results.
std::pair<Status, Status> TwoTransactionsAtOnce(Store& st, Duration hold) {
  Mutex mu;
  CondVar cv;
  bool first_in = false;
  Status first;
  Status second;
  std::thread t1([&] {
    first = st.Transact([&](Tx&) {
      {
        MutexLock lock(&mu);
        first_in = true;
      }
      cv.SignalAll();
      std::this_thread::sleep_for(hold);
      return OkStatus();
    });
  });
  {
    MutexLock lock(&mu);
    while (!first_in) cv.Wait(mu);
  }
  second = st.Transact([](Tx&) { return OkStatus(); });
  t1.join();
  return {first, second};
}

TEST_F(PostgresStoreTest, ConnectionsReplacedAfterARestartDoNotShrinkThePool) {
  PostgresOptions o = Options();
  o.write_connections = 2;
  o.pool_wait = Duration(300);
  std::unique_ptr<Store> st = Open(o);
  ASSERT_NE(st, nullptr);
  auto [a, b] = TwoTransactionsAtOnce(*st, Duration(600));
  ASSERT_OK(a);
  ASSERT_OK(b);  // two connections open, both idle now
  ASSERT_OK(server_->Stop());
  ASSERT_OK(server_->Restart());
  ASSERT_OK(st->Transact([](Tx&) { return OkStatus(); }));  // replaces the dead ones
  // Both connections can be had again: the second transaction does not find the pool full.
  auto [c, d] = TwoTransactionsAtOnce(*st, Duration(600));
  EXPECT_OK(c);
  EXPECT_OK(d);
}

TEST_F(PostgresStoreTest, AuditRowsCannotBeUpdatedOrDeletedEvenByTheSuperuser) {
  std::unique_ptr<Store> st = Open();
  ASSERT_NE(st, nullptr);
  ASSERT_OK(st->Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.AppendAudit(Event("one")).error());
    return tx.AppendAudit(Event("two")).error();
  }));
  for (const char* user : {"jit", "postgres"}) {
    SCOPED_TRACE(user);
    EXPECT_THAT(server_->ExecAs(user, db_, "UPDATE audit_events SET actor = 'mallory'"),
                StatusIs(StatusCode::kInternal, HasSubstr("append-only")));
    EXPECT_THAT(server_->ExecAs(user, db_, "DELETE FROM audit_events WHERE seq = 2"),
                StatusIs(StatusCode::kInternal, HasSubstr("append-only")));
    EXPECT_THAT(server_->ExecAs(user, db_, "TRUNCATE audit_events"),
                StatusIs(StatusCode::kInternal, HasSubstr("append-only")));
    // A second successor of an event (a fork) is refused by the schema itself.
    EXPECT_THAT(server_->ExecAs(user, db_,
                                "INSERT INTO audit_events SELECT 99, at_ms, actor, action, "
                                "request_id, severity, details, prev_hash, hash FROM audit_events "
                                "WHERE seq = 2"),
                StatusIs(StatusCode::kInternal, HasSubstr("audit_events_one_successor")));
  }
  std::vector<model::AuditEvent> all = AllAudit(*st);
  ASSERT_THAT(all, SizeIs(2));
  EXPECT_EQ(all[1].actor, "alice");
  EXPECT_TRUE(audit::VerifyChain(all).ok);
}

TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<std::unique_ptr<Store>> stores(4);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (auto& slot : stores) {
    threads.emplace_back([&] {
      Result<std::unique_ptr<Store>> s = OpenPostgresStore(Options(), clock_);
      if (!s.ok()) {
        ++failures;
        ADD_FAILURE() << s.error();
        return;
      }
      slot = std::move(s).value();
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // One schema_version row; the schema works from every store.
  EXPECT_OK(server_->ExecAs("jit", db_,
                            "DO $$ BEGIN IF (SELECT count(*) FROM schema_version) <> 1 OR "
                            "(SELECT max(version) FROM schema_version) <> " +
                                std::to_string(PostgresSchemaVersion()) +
                                " THEN RAISE EXCEPTION 'bad schema_version'; END IF; END $$"));
  for (auto& s : stores) {
    if (s != nullptr) {
      EXPECT_OK(s->Ping());
    }
  }
}

TEST_F(PostgresStoreTest, RoleWithTheGrantsOfDocsHaMdRunsOnASchemaItDidNotCreate) {
  // docs/HA.md "least privilege": the schema belongs to another role; the broker's role may
  // read and write the tables but only read and append audit events.
  ASSERT_NE(Open(), nullptr);  // as "jit", the owner: creates the schema
  ASSERT_OK(server_->AdminExec(
      "postgres",
      "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jit_app') THEN "
      "CREATE ROLE jit_app LOGIN; END IF; END $$"));
  ASSERT_OK(server_->ExecAs("jit", db_,
                            "GRANT USAGE ON SCHEMA public TO jit_app; "
                            "GRANT SELECT ON schema_version TO jit_app; "
                            "GRANT SELECT, INSERT, UPDATE, DELETE ON requests, jobs, ledger, "
                            "ledger_holders, records TO jit_app; "
                            "GRANT SELECT, INSERT ON audit_events TO jit_app"));
  PostgresOptions o = Options();
  o.url = "postgres://jit_app@127.0.0.1:" + std::to_string(server_->port()) + "/" + db_;
  std::unique_ptr<Store> st = Open(o);
  ASSERT_NE(st, nullptr);
  model::Request r;
  r.id = NewId("req_", clock_.Now());
  r.requester = "alice";
  r.created_at = clock_.Now();
  model::Job job = MakeJob(model::JobKind::kRevoke, clock_.Now());
  ASSERT_OK(st->Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
    model::Request again = r;
    again.version = 1;
    again.state = model::RequestState::kApproved;
    JIT_RETURN_IF_ERROR(tx.UpdateRequest(again));
    JIT_RETURN_IF_ERROR(tx.AppendAudit(Event("request.created")).error());
    JIT_RETURN_IF_ERROR(tx.PutJob(job));
    JIT_RETURN_IF_ERROR(tx.JobsForRequest(job.request_id).error());
    JIT_RETURN_IF_ERROR(tx.PutLedger(model::LedgerEntry{"u",
                                                        "111111111111",
                                                        "arn:ps",
                                                        model::LedgerOrigin::kJit,
                                                        model::LedgerState::kPresent,
                                                        {r.id},
                                                        "",
                                                        clock_.Now()}));
    JIT_RETURN_IF_ERROR(tx.AddLedgerHolder("u", "111111111111", "arn:ps", "req_other"));
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder("u", "111111111111", "arn:ps", r.id));
    JIT_RETURN_IF_ERROR(tx.IsLedgerHolder("u", "111111111111", "arn:ps", r.id).error());
    JIT_RETURN_IF_ERROR(tx.GetLedgerHead("u", "111111111111", "arn:ps").error());
    JIT_RETURN_IF_ERROR(tx.GetLedger("u", "111111111111", "arn:ps").error());
    JIT_RETURN_IF_ERROR(tx.PutRecord("finding", "f-1", "{}"));
    JIT_RETURN_IF_ERROR(tx.InsertRecord("finding", "f-2", "{}").error());
    JIT_RETURN_IF_ERROR(tx.GetRecord("finding", "f-1").error());
    JIT_RETURN_IF_ERROR(tx.ListRecords("finding", "f-").error());
    JIT_RETURN_IF_ERROR(tx.DeleteRecord("finding", "f-1"));
    return tx.DeleteLedger("u", "111111111111", "arn:ps");
  }));
  EXPECT_THAT(*st->ClaimDueJobs(clock_.Now(), "w", clock_.Now() + Duration(5000), 10), SizeIs(1));
  EXPECT_THAT(*st->RenewLeases("w", {job.id}, clock_.Now() + Duration(9000)), SizeIs(1));
  EXPECT_OK(st->ReleaseAllLeases());
  EXPECT_OK(st->ListJobsDueBefore(clock_.Now(), 10));
  EXPECT_OK(st->Transact([&](Tx& tx) { return tx.DeleteJob(job.id); }));
  EXPECT_OK(st->Ping());
  // What the role may not do to the audit trail, nor to its guards.
  EXPECT_THAT(server_->ExecAs("jit_app", db_, "UPDATE audit_events SET actor = 'x'"),
              StatusIs(StatusCode::kInternal, HasSubstr("permission denied")));
  EXPECT_THAT(server_->ExecAs("jit_app", db_, "ALTER TABLE audit_events DISABLE TRIGGER ALL"),
              StatusIs(StatusCode::kInternal, HasSubstr("must be owner")));
  EXPECT_THAT(server_->ExecAs("jit_app", db_, "CREATE TABLE sneaky (x int)"),
              StatusIs(StatusCode::kInternal, HasSubstr("permission denied")));
}

// A database of schema version 1 (no claim indexes) is brought to the current version on
// open: the indexes are made, its jobs stay and are claimed in claim order.
TEST_F(PostgresStoreTest, VersionOneDatabaseGainsTheClaimIndexesOnOpen) {
  Time now = clock_.Now();
  model::Job grant = MakeJob(model::JobKind::kGrant, now - Duration(2000));
  clock_.Advance(Duration(1));
  model::Job revoke = MakeJob(model::JobKind::kRevoke, now - Duration(1000));
  {
    std::unique_ptr<Store> st = Open();
    ASSERT_NE(st, nullptr);
    ASSERT_OK(st->Transact([&](Tx& tx) -> Status {
      JIT_RETURN_IF_ERROR(tx.PutJob(grant));
      return tx.PutJob(revoke);
    }));
  }
  ASSERT_OK(server_->ExecAs(
      "jit", db_,
      "DROP INDEX jobs_revocations_by_due; DROP INDEX jobs_others_by_due; "
      "DROP TABLE records; DROP TABLE ledger_holders; ALTER TABLE ledger DROP COLUMN "
      "holder_count; ALTER TABLE ledger ADD COLUMN holders TEXT NOT NULL; "
      "UPDATE schema_version SET version = 1"));
  std::unique_ptr<Store> st = Open();
  ASSERT_NE(st, nullptr);
  EXPECT_OK(server_->ExecAs(
      "jit", db_,
      "DO $$ BEGIN IF (SELECT count(*) FROM pg_indexes WHERE tablename = 'jobs' AND indexname "
      "IN ('jobs_revocations_by_due', 'jobs_others_by_due')) <> 2 OR (SELECT max(version) FROM "
      "schema_version) <> " +
          std::to_string(PostgresSchemaVersion()) +
          " THEN RAISE EXCEPTION 'not upgraded'; END IF; END $$"));
  Result<std::vector<model::Job>> claimed = st->ClaimDueJobs(now, "w", now + Duration(1000), 10);
  ASSERT_OK(claimed);
  ASSERT_THAT(*claimed, SizeIs(2));
  EXPECT_EQ((*claimed)[0].id, revoke.id);
  EXPECT_EQ((*claimed)[1].id, grant.id);
}

// A database of schema version 2 (each ledger entry's holders a JSON list in ledger.holders)
// gets its holders as rows on open: same holders, same order, a repeat kept once; the old
// column goes.
TEST_F(PostgresStoreTest, VersionTwoDatabaseGetsItsLedgerHoldersAsRowsOnOpen) {
  ASSERT_NE(Open(), nullptr);
  ASSERT_OK(server_->ExecAs("jit", db_,
                            std::string("DROP TABLE records; DROP TABLE ledger_holders; ALTER "
                                        "TABLE ledger DROP COLUMN holder_count; "
                                        "ALTER TABLE ledger ADD COLUMN holders TEXT NOT NULL; ") +
                                testing::kVersionTwoLedgerRows +
                                "UPDATE schema_version SET version = 2"));

  std::unique_ptr<Store> st = Open();
  ASSERT_NE(st, nullptr);
  EXPECT_OK(server_->ExecAs(
      "jit", db_,
      "DO $$ BEGIN IF (SELECT count(*) FROM information_schema.columns WHERE table_name = "
      "'ledger' AND column_name = 'holders') <> 0 OR (SELECT max(version) FROM "
      "schema_version) <> " +
          std::to_string(PostgresSchemaVersion()) +
          " THEN RAISE EXCEPTION 'not upgraded'; END IF; END $$"));
  testing::ExpectLedgerHoldersMigrated(*st);
}

// With many jobs, the claim walks the partial indexes in claim order (no sort of the due
// jobs). The planner's choice depends on statistics, so the table is analyzed first.
TEST_F(PostgresStoreTest, ClaimWalksThePartialIndexesInClaimOrder) {
  ASSERT_NE(Open(), nullptr);
  ASSERT_OK(server_->ExecAs(
      "jit", db_,
      "INSERT INTO jobs (id, kind, request_id, due_at_ms, first_due_at_ms, attempts, "
      "lease_owner, lease_until_ms, last_error, payload, created_at_ms) "
      "SELECT 'job_' || lpad(g::text, 6, '0'), CASE WHEN g % 3 = 0 THEN 'grant' ELSE 'revoke' "
      "END, 'req_' || g, g * 10, g * 10, 0, '', NULL, '', '{}', 0 "
      "FROM generate_series(1, 20000) AS g; ANALYZE jobs"));
  // The plan of the claim's statement, as text, must name both indexes and no Sort node.
  ASSERT_OK(server_->ExecAs(
      "jit", db_,
      "DO $$ DECLARE line text; plan text := ''; BEGIN "
      "EXECUTE 'PREPARE claim (bigint, bigint, text, bigint) AS " +
          Quoted(PostgresClaimStatementForTesting()) +
          "'; FOR line IN EXECUTE 'EXPLAIN EXECUTE claim (100000, 16, ''w'', 1)' "
          "LOOP plan := plan || line || chr(10); END LOOP; "
          "IF plan NOT LIKE '%jobs_revocations_by_due%' OR plan NOT LIKE '%jobs_others_by_due%' "
          "OR plan LIKE '%Sort%' THEN RAISE EXCEPTION 'claim plan: %', plan; END IF; END $$"));
}

TEST_F(PostgresStoreTest, SchemaNewerThanThisBinaryIsRefused) {
  ASSERT_NE(Open(), nullptr);
  ASSERT_OK(server_->ExecAs("jit", db_, "UPDATE schema_version SET version = 99"));
  EXPECT_THAT(OpenPostgresStore(Options(), clock_),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("schema version 99")));
}

TEST_F(PostgresStoreTest, WriteLockHeldTooLongIsUnavailableAndReadsGoOn) {
  PostgresOptions o = Options();
  o.lock_timeout = Duration(300);
  std::unique_ptr<Store> st = Open(o);
  ASSERT_NE(st, nullptr);
  // Another session (a frozen replica mid-transaction) holds the write lock.
  PGconn* other = PQconnectdb(server_->ConninfoFor("jit", db_).c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK) << PQerrorMessage(other);
  PGresult* res = PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(7667787759505470565)");
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(other);
  PQclear(res);

  auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(st->Transact([&](Tx& tx) { return tx.AppendAudit(Event("blocked")).error(); }),
              StatusIs(StatusCode::kUnavailable, HasSubstr("lock")));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // Reads and claims do not need the lock.
  EXPECT_OK(st->ListJobs());
  EXPECT_OK(st->ClaimDueJobs(clock_.Now(), "w", clock_.Now() + Duration(1000), 10));
  EXPECT_OK(st->Ping());

  PQfinish(other);  // its transaction ends with it
  EXPECT_OK(st->Transact([&](Tx& tx) { return tx.AppendAudit(Event("free")).error(); }));
}

TEST_F(PostgresStoreTest, ReadsDoNotQueueBehindAnOpenTransaction) {
  std::unique_ptr<Store> st = Open();
  ASSERT_NE(st, nullptr);
  Mutex mu;
  CondVar cv;
  bool read_done = false;
  std::thread reader;
  ASSERT_OK(st->Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.AppendAudit(Event("open")).error());
    reader = std::thread([&] {
      EXPECT_OK(st->ListAudit(0, 10));  // sees the last commit, not this transaction
      MutexLock lock(&mu);
      read_done = true;
      cv.SignalAll();
    });
    MutexLock lock(&mu);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!read_done && cv.WaitUntil(mu, deadline)) {
    }
    EXPECT_TRUE(read_done) << "a read waited for the transaction";
    return OkStatus();
  }));
  reader.join();
}

TEST_F(PostgresStoreTest, BadOrUnreachableUrlsAreClearErrorsWithoutThePassword) {
  PostgresOptions o;
  o.url = "mysql://root:hunter2@db/jit";
  EXPECT_THAT(OpenPostgresStore(o, clock_),
              StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  o.url = "postgres://jit:hunter2@127.0.0.1:5432/jit?no_such_option=1";
  Result<std::unique_ptr<Store>> bad = OpenPostgresStore(o, clock_);
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  // Nobody listens on port 1.
  o.url = "postgres://jit:hunter2@127.0.0.1:1/jit";
  o.connect_timeout = Duration(2000);
  Result<std::unique_ptr<Store>> down = OpenPostgresStore(o, clock_);
  EXPECT_THAT(down, StatusIs(StatusCode::kUnavailable, Not(HasSubstr("hunter2"))));
  EXPECT_THAT(down, StatusIs(StatusCode::kUnavailable, HasSubstr("jit:***@127.0.0.1:1")));
  o.url = server_->UrlFor(db_);
  o.read_connections = 0;
  EXPECT_THAT(OpenPostgresStore(o, clock_), StatusIs(StatusCode::kInvalidArgument));
}

TEST(PostgresUrl, RedactsThePasswordWhereverItIs) {
  EXPECT_EQ(RedactPostgresUrl("postgres://jit:s3cret@db.example.com:5432/jit"),
            "postgres://jit:***@db.example.com:5432/jit");
  EXPECT_EQ(RedactPostgresUrl("postgresql://jit@db/jit?sslmode=require&password=s3cret&x=1"),
            "postgresql://jit@db/jit?sslmode=require&password=***&x=1");
  EXPECT_EQ(RedactPostgresUrl("postgres://jit:p%40ss@db/jit"), "postgres://jit:***@db/jit");
  EXPECT_EQ(RedactPostgresUrl("postgres://jit@db:5432/jit"), "postgres://jit@db:5432/jit");
  EXPECT_EQ(RedactPostgresUrl("postgres://db/jit?password=a"), "postgres://db/jit?password=***");
  EXPECT_TRUE(IsPostgresUrl("postgres://db/jit"));
  EXPECT_TRUE(IsPostgresUrl("postgresql://db/jit"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:///var/lib/jit/jit.db"));
  EXPECT_FALSE(IsPostgresUrl("postgres:/db"));
}

}  // namespace
}  // namespace jit::store
