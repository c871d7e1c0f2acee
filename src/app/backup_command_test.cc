#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "app/commands.h"
#include "core/testing.h"
#include "store/open.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_store.h"

namespace jit::app {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class BackupCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    fs::create_directories(data_);
  }

  // A store in data_ with `n` requests (one audit event each).
  void MakeStore(int n, int first = 0) {
    store::SqliteOptions so;
    so.path = (data_ / "jit.db").string();
    auto s = store::OpenSqliteStore(so, clock_);
    ASSERT_OK(s);
    for (int i = 0; i < n; ++i) {
      ASSERT_OK((*s)->Transact([&](store::Tx& tx) -> Status {
        model::Request r;
        r.id = "req_" + std::to_string(1000 + first + i);
        r.requester = "alice";
        r.state = model::RequestState::kEnded;
        r.created_at = clock_.Now();
        JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
        model::AuditEvent e;
        e.actor = "alice";
        e.action = "request.created";
        e.request_id = r.id;
        e.severity = "info";
        e.details = "{}";
        return tx.AppendAudit(e).error();
      }));
    }
  }

  int Backup(const std::string& file, std::string data = "") {
    cli::BackupOptions o;
    o.file = file;
    o.data_dir = data.empty() ? data_.string() : data;
    out_.str("");
    err_.str("");
    return RunBackup(o, out_, err_, clock_);
  }
  int Restore(const std::string& file, const fs::path& data) {
    cli::RestoreOptions o;
    o.file = file;
    o.data_dir = data.string();
    out_.str("");
    err_.str("");
    return RunRestore(o, out_, err_, clock_);
  }

  // Every file of `dir` with its size and modification time.
  static std::set<std::string> Listing(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      struct stat st;
      ::stat(e.path().c_str(), &st);
      out.insert(e.path().filename().string() + " " + std::to_string(st.st_size) + " " +
                 std::to_string(st.st_mtim.tv_nsec) + std::to_string(st.st_mtim.tv_sec));
    }
    return out;
  }

  static void Sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  testing::TempDir dir_;
  fs::path data_;
  FakeClock clock_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(BackupCommandTest, BackupThenRestoreIntoAFreshFolder) {
  MakeStore(3);
  std::string file = (dir_.path() / "b.db").string();
  ASSERT_EQ(Backup(file), 0) << err_.str();
  EXPECT_THAT(out_.str(),
              HasSubstr("schema version " + std::to_string(store::SqliteSchemaVersion()) +
                        ", 3 requests, 3 audit events (last seq 3)"));
  EXPECT_FALSE(fs::exists(file + ".tmp"));
  EXPECT_FALSE(fs::exists(file + "-wal"));
  auto info = store::InspectSqliteStore(file);
  ASSERT_OK(info);
  EXPECT_EQ(info->requests, 3);
  ASSERT_TRUE(info->backup_taken_at.has_value());
  EXPECT_EQ(*info->backup_taken_at, clock_.Now());

  fs::path fresh = dir_.path() / "fresh";
  ASSERT_EQ(Restore(file, fresh), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Restored"));
  // No store was replaced: the warning about assignments made after the backup.
  EXPECT_THAT(err_.str(), HasSubstr("jit assignments standing"));
  auto restored = store::InspectSqliteStore((fresh / "jit.db").string());
  ASSERT_OK(restored);
  EXPECT_EQ(restored->requests, 3);
  EXPECT_EQ(restored->audit_events, 4);  // + store.restored
  EXPECT_FALSE(restored->backup_taken_at.has_value());
  for (const auto& e : fs::directory_iterator(fresh)) {
    EXPECT_THAT(e.path().filename().string(), ::testing::AnyOf("jit.db", "jit.lock"));
  }
}

TEST_F(BackupCommandTest, BackupRefusesToOverwriteAndUnwritablePaths) {
  MakeStore(1);
  std::string file = (dir_.path() / "b.db").string();
  { std::ofstream(file) << "x"; }
  EXPECT_EQ(Backup(file), 1);
  EXPECT_THAT(err_.str(), HasSubstr("exists"));
  EXPECT_EQ(fs::file_size(file), 1u);

  EXPECT_EQ(Backup((dir_.path() / "no" / "such" / "b.db").string()), 1);
  EXPECT_THAT(err_.str(), StartsWith("jit: cannot write"));
  const std::string err = err_.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);

  EXPECT_EQ(Backup((dir_.path() / "c.db").string(), (dir_.path() / "nowhere").string()), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no store at"));
}

TEST_F(BackupCommandTest, RestoreKeepsTheReplacedStoreAndItsCheckpoints) {
  MakeStore(2);
  std::string file = (dir_.path() / "b.db").string();
  ASSERT_EQ(Backup(file), 0) << err_.str();
  MakeStore(1, 2);  // one more request after the backup
  { std::ofstream(data_ / "audit-checkpoints.jsonl") << "{}\n"; }

  clock_.Advance(std::chrono::hours(1));
  ASSERT_EQ(Restore(file, data_), 0) << err_.str();
  EXPECT_THAT(err_.str(), IsEmpty());
  std::string kept = (data_ / "jit.db.pre-restore-20260101T010000Z").string();
  auto old = store::InspectSqliteStore(kept);
  ASSERT_OK(old);
  EXPECT_EQ(old->requests, 3);
  EXPECT_TRUE(fs::exists(data_ / "audit-checkpoints.jsonl.pre-restore-20260101T010000Z"));
  EXPECT_FALSE(fs::exists(data_ / "audit-checkpoints.jsonl"));
  auto now = store::InspectSqliteStore((data_ / "jit.db").string());
  ASSERT_OK(now);
  EXPECT_EQ(now->requests, 2);
  EXPECT_EQ(now->last_audit_seq, 3);
  EXPECT_THAT(out_.str(), HasSubstr("its audit trail runs to seq 3"));
}

TEST_F(BackupCommandTest, RestoreOverACrashedStoreKeepsWhatItsLogHeld) {
  MakeStore(1);
  std::string file = (dir_.path() / "b.db").string();
  ASSERT_EQ(Backup(file), 0) << err_.str();
  // A broker killed with commits still in its write-ahead log: copy the files while it runs.
  fs::path crashed = dir_.path() / "crashed";
  fs::create_directories(crashed);
  {
    store::SqliteOptions so;
    so.path = (data_ / "jit.db").string();
    auto s = store::OpenSqliteStore(so, clock_);
    ASSERT_OK(s);
    ASSERT_OK((*s)->Transact([&](store::Tx& tx) {
      model::Request r;
      r.id = "req_2000";
      r.requester = "bob";
      r.state = model::RequestState::kEnded;
      r.created_at = clock_.Now();
      return tx.InsertRequest(r);
    }));
    ASSERT_GT(fs::file_size(data_ / "jit.db-wal"), 0u);
    fs::copy_file(data_ / "jit.db", crashed / "jit.db");
    fs::copy_file(data_ / "jit.db-wal", crashed / "jit.db-wal");
  }
  ASSERT_EQ(Restore(file, crashed), 0) << err_.str();
  EXPECT_FALSE(fs::exists(crashed / "jit.db-wal"));
  auto kept = store::InspectSqliteStore((crashed / "jit.db.pre-restore-20260101T000000Z").string());
  ASSERT_OK(kept);
  EXPECT_EQ(kept->requests, 2);  // the commit that was only in the log is in the kept file
  auto restored = store::InspectSqliteStore((crashed / "jit.db").string());
  ASSERT_OK(restored);
  EXPECT_EQ(restored->requests, 1);
}

TEST_F(BackupCommandTest, RestoreAsRootGivesTheNewFilesToTheFolderOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  MakeStore(1);
  std::string file = (dir_.path() / "b.db").string();
  ASSERT_EQ(Backup(file), 0) << err_.str();
  fs::path folder = dir_.path() / "owned";
  fs::create_directories(folder);
  ASSERT_EQ(::chown(folder.c_str(), 65534, 65534), 0);
  ASSERT_EQ(Restore(file, folder), 0) << err_.str();
  for (const char* name : {"jit.db", "jit.lock"}) {
    struct stat st;
    ASSERT_EQ(::stat((folder / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_uid, 65534u) << name;
    EXPECT_EQ(st.st_gid, 65534u) << name;
  }
}

TEST_F(BackupCommandTest, RestoreRefusesBadFilesAndLeavesTheFolderAlone) {
  MakeStore(1);
  std::string good = (dir_.path() / "b.db").string();
  ASSERT_EQ(Backup(good), 0) << err_.str();
  // Make the lock exist, as after any broker ran.
  {
    store::DataDirLock lock;
    ASSERT_OK(lock.Acquire(data_));
  }
  const auto before = Listing(data_);

  std::string garbage = (dir_.path() / "garbage.db").string();
  { std::ofstream(garbage) << std::string(8192, 'j'); }
  EXPECT_EQ(Restore(garbage, data_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("not a SQLite database"));

  std::string damaged = (dir_.path() / "damaged.db").string();
  fs::copy_file(good, damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 8);  // inside the second page: a b-tree page's header and cells
    f << std::string(200, '\xff');
  }
  EXPECT_EQ(Restore(damaged, data_), 1);
  EXPECT_THAT(err_.str(), StartsWith("jit: cannot restore"));

  std::string other = (dir_.path() / "other.db").string();
  Sql(other, "CREATE TABLE t (x)");
  EXPECT_EQ(Restore(other, data_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("not a jit store"));

  std::string newer = (dir_.path() / "newer.db").string();
  fs::copy_file(good, newer);
  Sql(newer, "UPDATE schema_version SET version = 99");
  EXPECT_EQ(Restore(newer, data_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("schema version is 99, newer than this jit knows (" +
                                    std::to_string(store::SqliteSchemaVersion()) + ")"));

  EXPECT_EQ(Restore((dir_.path() / "missing.db").string(), data_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no such file"));

  {
    store::DataDirLock broker;
    ASSERT_OK(broker.Acquire(data_));
    EXPECT_EQ(Restore(good, data_), 1);
    EXPECT_THAT(err_.str(), HasSubstr("a jit server is running on"));
  }
  EXPECT_EQ(Listing(data_), before);
}

}  // namespace
}  // namespace jit::app
