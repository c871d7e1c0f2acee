#include "store/sqlite_backup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "core/testing.h"
#include "store/sqlite_store.h"

namespace jit::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SqliteBackupTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return (dir_.path() / name).string(); }

  // `n` requests and as many audit events, in one transaction.
  static Status Write(Store& store, int first, int n = 1) {
    return store.Transact([&](Tx& tx) -> Status {
      for (int i = first; i < first + n; ++i) {
        model::Request r;
        r.id = "req_" + std::to_string(100000 + i);
        r.requester = "alice";
        r.state = model::RequestState::kEnded;
        r.created_at = FromUnixMillis(1'700'000'000'000);
        JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
        model::AuditEvent e;
        e.actor = "alice";
        e.action = "request.created";
        e.request_id = r.id;
        e.severity = "info";
        e.details = std::string(300, 'x');  // a few events a page: the file grows
        JIT_RETURN_IF_ERROR(tx.AppendAudit(e).error());
      }
      return OkStatus();
    });
  }

  ::jit::testing::TempDir dir_;
  FakeClock clock_;
};

TEST_F(SqliteBackupTest, CopyWhileAnotherConnectionWritesIsOneConsistentSnapshot) {
  SqliteOptions so;
  so.path = Path("jit.db");
  auto store = OpenSqliteStore(so, clock_);
  ASSERT_OK(store);
  for (int i = 0; i < 2000; i += 200) ASSERT_OK(Write(**store, i, 200));

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 2000; !stop.load(); ++i) {
      if (Write(**store, i).ok()) written.fetch_add(1);
    }
  });
  SqliteCopyOptions options;
  options.pages_per_step = 8;  // many steps: writes land between them
  options.pause = Duration(1);
  auto copied = CopySqliteDatabase(so.path, Path("copy.db"), options);
  stop.store(true);
  writer.join();
  ASSERT_OK(copied);
  EXPECT_GT(written.load(), 0);
  EXPECT_GT(copied->pages, 0);
  EXPECT_LE(copied->restarts, options.max_restarts);

  auto info = InspectSqliteStore(Path("copy.db"));
  ASSERT_OK(info);
  EXPECT_EQ(info->schema_version, SqliteSchemaVersion());
  EXPECT_GE(info->requests, 2000);
  // Each transaction wrote one of each: a torn copy would count them apart.
  EXPECT_EQ(info->requests, info->audit_events);
  EXPECT_EQ(info->last_audit_seq, info->audit_events);
  EXPECT_FALSE(fs::exists(Path("copy.db-wal")));

  SqliteOptions copy_options;
  copy_options.path = Path("copy.db");
  auto copy = OpenSqliteStore(copy_options, clock_);
  ASSERT_OK(copy);
  std::vector<model::AuditEvent> events;
  for (std::int64_t after = 0;;) {
    auto page = (*copy)->ListAudit(after, 1000);
    ASSERT_OK(page);
    if (page->empty()) break;
    after = page->back().seq;
    events.insert(events.end(), page->begin(), page->end());
  }
  audit::ChainCheck check = audit::VerifyChain(events);
  EXPECT_TRUE(check.ok) << check.problem << ": " << check.why;
}

TEST_F(SqliteBackupTest, InspectNamesWhatIsWrong) {
  EXPECT_THAT(InspectSqliteStore(Path("none.db")), ::jit::testing::StatusIs(StatusCode::kNotFound));
  { std::ofstream(Path("garbage.db")) << std::string(5000, 'g'); }
  EXPECT_THAT(
      InspectSqliteStore(Path("garbage.db")),
      ::jit::testing::StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a SQLite database")));
  EXPECT_THAT(InspectSqliteStore(dir_.path().string()),
              ::jit::testing::StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a file")));

  SqliteOptions so;
  so.path = Path("jit.db");
  {
    auto store = OpenSqliteStore(so, clock_);
    ASSERT_OK(store);
    ASSERT_OK(Write(**store, 1));
  }
  ASSERT_OK(CopySqliteDatabase(so.path, Path("b.db")));
  ASSERT_OK(WriteBackupInfo(Path("b.db"), clock_.Now()));
  auto info = InspectSqliteStore(Path("b.db"));
  ASSERT_OK(info);
  EXPECT_EQ(info->backup_taken_at, clock_.Now());
  EXPECT_EQ(info->last_audit_seq, 1);
  ASSERT_OK(RemoveBackupInfo(Path("b.db")));
  info = InspectSqliteStore(Path("b.db"));
  ASSERT_OK(info);
  EXPECT_FALSE(info->backup_taken_at.has_value());
  // Reading a file creates nothing beside it.
  EXPECT_FALSE(fs::exists(Path("b.db-wal")));
  EXPECT_FALSE(fs::exists(Path("b.db-shm")));
}

TEST_F(SqliteBackupTest, CheckpointFoldsTheLogIntoTheFile) {
  SqliteOptions so;
  so.path = Path("jit.db");
  auto store = OpenSqliteStore(so, clock_);
  ASSERT_OK(store);
  ASSERT_OK(Write(**store, 1));
  fs::copy_file(Path("jit.db"), Path("crashed.db"));
  fs::copy_file(Path("jit.db-wal"), Path("crashed.db-wal"));
  store->reset();
  ASSERT_OK(CheckpointAndCloseSqlite(Path("crashed.db")));
  EXPECT_FALSE(fs::exists(Path("crashed.db-wal")));
  auto info = InspectSqliteStore(Path("crashed.db"));
  ASSERT_OK(info);
  EXPECT_EQ(info->requests, 1);
}

}  // namespace
}  // namespace jit::store
