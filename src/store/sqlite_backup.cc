#include "store/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <thread>
#include <utility>

namespace jit::store {
namespace {

// Names differ from sqlite_store.cc's helpers: both files share one unity-build unit.

// An open connection, closed when it goes away.
class BackupDb {
 public:
  BackupDb() = default;
  ~BackupDb() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }
  BackupDb(const BackupDb&) = delete;
  BackupDb& operator=(const BackupDb&) = delete;

  // Opens `name` with `flags`; Unavailable (with SQLite's reason) when it cannot.
  Status Open(const std::string& name, int flags) {
    int rc = sqlite3_open_v2(name.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      return UnavailableError("cannot open: " + why);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    return OkStatus();
  }

  sqlite3* get() const { return db_; }

  // The error of the last call on this connection, as a Status: "not a database" and damage
  // are InvalidArgument (the file is wrong), locks and I/O Unavailable, the rest Internal.
  Status Error(int rc, std::string_view what) const {
    std::string message(what);
    message += ": ";
    message += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
      case SQLITE_NOTADB:
      case SQLITE_CORRUPT:
        return InvalidArgumentError(std::move(message));
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_FULL:
      case SQLITE_READONLY:
      case SQLITE_PERM:
        return UnavailableError(std::move(message));
      default:
        return InternalError(std::move(message));
    }
  }

  Status Exec(const std::string& sql) {
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql.substr(0, 40));
    return OkStatus();
  }

  // The first column of the first row as text (empty when there is no row).
  Result<std::string> Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql.substr(0, 40));
    rc = sqlite3_step(stmt);
    std::string out;
    if (rc == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(stmt, 0);
      if (p != nullptr) out.assign(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, sql.substr(0, 40));
    return out;
  }

  Result<std::int64_t> Int(const std::string& sql) {
    JIT_ASSIGN_OR_RETURN(std::string text, Text(sql));
    if (text.empty()) return std::int64_t{0};
    return static_cast<std::int64_t>(std::strtoll(text.c_str(), nullptr, 10));
  }

 private:
  sqlite3* db_ = nullptr;
};

// A file: URI for `path` (so that mode=ro and immutable can be given).
std::string FileUri(const std::string& path, std::string_view params) {
  std::string uri = "file:";
  for (char c : path) {
    switch (c) {
      case '%':
        uri += "%25";
        break;
      case '?':
        uri += "%3f";
        break;
      case '#':
        uri += "%23";
        break;
      default:
        uri += c;
    }
  }
  uri += '?';
  uri += params;
  return uri;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace

Result<SqliteCopyStats> CopySqliteDatabase(const std::string& source, const std::string& dest,
                                           const SqliteCopyOptions& options) {
  if (!Exists(source)) return NotFoundError("no database at " + source);
  BackupDb src;
  // Read-write so that a WAL source can be read whatever state its -shm is in; nothing is
  // written (query_only), and SQLite opens it read-only when the file is write-protected.
  JIT_RETURN_IF_ERROR(src.Open(source, SQLITE_OPEN_READWRITE).WithContext(source));
  JIT_RETURN_IF_ERROR(src.Exec("PRAGMA query_only = ON").WithContext(source));
  // Closing the last connection would checkpoint the WAL into the file: not the copy's business.
  sqlite3_db_config(src.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // Touch the schema first: a file that is not a database says so here, not halfway through.
  JIT_RETURN_IF_ERROR(src.Text("SELECT count(*) FROM sqlite_master").error().WithContext(source));

  BackupDb dst;
  JIT_RETURN_IF_ERROR(dst.Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).WithContext(dest));
  sqlite3_backup* backup = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (backup == nullptr) {
    return dst.Error(sqlite3_errcode(dst.get()), "backup").WithContext(dest);
  }
  SqliteCopyStats stats;
  int prev_remaining = -1;
  int rc = SQLITE_OK;
  for (;;) {
    int pages = stats.restarts >= options.max_restarts ? -1 : std::max(1, options.pages_per_step);
    rc = sqlite3_backup_step(backup, pages);
    ++stats.steps;
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) break;
    int remaining = sqlite3_backup_remaining(backup);
    if (rc == SQLITE_OK && prev_remaining >= 0 && remaining > prev_remaining) ++stats.restarts;
    prev_remaining = remaining;
    std::this_thread::sleep_for(rc == SQLITE_OK ? options.pause : Duration(20));
  }
  stats.pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    // Which side failed: the source's errors say "not a database", the destination's "disk full".
    int src_rc = sqlite3_errcode(src.get());
    if (src_rc != SQLITE_OK) return src.Error(src_rc, "backup").WithContext(source);
    return dst.Error(rc, "backup").WithContext(dest);
  }
  // One self-contained file: no -wal beside it.
  JIT_ASSIGN_OR_RETURN(std::string mode, dst.Text("PRAGMA journal_mode = DELETE"));
  if (mode != "delete") return InternalError(dest + ": journal mode stays " + mode);
  JIT_RETURN_IF_ERROR(SyncPath(dest));
  return stats;
}

Result<SqliteStoreInfo> InspectSqliteStore(const std::string& path) {
  if (!Exists(path)) return NotFoundError("no such file: " + path);
  if (std::error_code ec; !std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgumentError(path + " is not a file");
  }
  BackupDb db;
  // A file with a live -wal beside it is read with it; any other is immutable for SQLite, so
  // that reading it creates nothing beside it.
  std::string uri = FileUri(path, Exists(path + "-wal") ? "mode=ro" : "mode=ro&immutable=1");
  JIT_RETURN_IF_ERROR(db.Open(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI).WithContext(path));
  Result<std::string> check = db.Text("PRAGMA integrity_check");
  if (!check.has_value()) {
    if (check.error().code() == StatusCode::kInvalidArgument) {
      return InvalidArgumentError(
          path + " is not a SQLite database or is damaged: " + check.error().message());
    }
    return check.error().WithContext(path);
  }
  if (*check != "ok") return InvalidArgumentError(path + " is damaged: " + *check);
  JIT_ASSIGN_OR_RETURN(std::int64_t tables,
                       db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                              "('schema_version', 'requests', 'audit_events', 'jobs', 'ledger')"));
  if (tables != 5) return InvalidArgumentError(path + " is a SQLite database but not a jit store");
  SqliteStoreInfo info;
  JIT_ASSIGN_OR_RETURN(std::int64_t version,
                       db.Int("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  if (version < 1) return InvalidArgumentError(path + " has no schema version");
  info.schema_version = static_cast<int>(version);
  JIT_ASSIGN_OR_RETURN(info.requests, db.Int("SELECT count(*) FROM requests"));
  JIT_ASSIGN_OR_RETURN(info.audit_events, db.Int("SELECT count(*) FROM audit_events"));
  JIT_ASSIGN_OR_RETURN(info.last_audit_seq,
                       db.Int("SELECT COALESCE(MAX(seq), 0) FROM audit_events"));
  if (info.last_audit_seq > 0) {
    JIT_ASSIGN_OR_RETURN(std::int64_t at, db.Int("SELECT at_ms FROM audit_events WHERE seq = " +
                                                 std::to_string(info.last_audit_seq)));
    info.last_audit_at = FromUnixMillis(at);
  }
  JIT_ASSIGN_OR_RETURN(std::int64_t has_info,
                       db.Int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                              "name = 'backup_info'"));
  if (has_info > 0) {
    JIT_ASSIGN_OR_RETURN(std::string taken, db.Text("SELECT MAX(taken_at_ms) FROM backup_info"));
    if (!taken.empty())
      info.backup_taken_at = FromUnixMillis(std::strtoll(taken.c_str(), nullptr, 10));
  }
  return info;
}

Status WriteBackupInfo(const std::string& path, Time taken_at) {
  BackupDb db;
  JIT_RETURN_IF_ERROR(db.Open(path, SQLITE_OPEN_READWRITE).WithContext(path));
  JIT_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE backup_info (taken_at_ms INTEGER NOT NULL); INSERT INTO backup_info "
              "(taken_at_ms) VALUES (" +
              std::to_string(ToUnixMillis(taken_at)) + ")")
          .WithContext(path));
  return OkStatus();
}

Status RemoveBackupInfo(const std::string& path) {
  BackupDb db;
  JIT_RETURN_IF_ERROR(db.Open(path, SQLITE_OPEN_READWRITE).WithContext(path));
  return db.Exec("DROP TABLE IF EXISTS backup_info").WithContext(path);
}

Status CheckpointAndCloseSqlite(const std::string& path) {
  {
    BackupDb db;
    JIT_RETURN_IF_ERROR(db.Open(path, SQLITE_OPEN_READWRITE).WithContext(path));
    Result<std::string> busy = db.Text("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!busy.has_value()) return busy.error().WithContext(path);
    if (*busy != "0") return UnavailableError(path + ": its write-ahead log is in use");
  }  // the last connection closing removes the -wal and -shm files
  if (Exists(path + "-wal")) {
    return UnavailableError(path + "-wal is still there after a checkpoint");
  }
  return OkStatus();
}

Status SyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return UnavailableError("cannot open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return UnavailableError("cannot sync " + path + ": " + std::strerror(err));
  return OkStatus();
}

}  // namespace jit::store
