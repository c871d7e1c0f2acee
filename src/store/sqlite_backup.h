#pragma once
// Copies and checks of SQLite store files, for `jit backup` and `jit restore`
// (docs/STORAGE.md "Backup and restore"). Each function opens its own connections and closes
// them before it returns; none takes the data folder's lock (store/open.h DataDirLock).

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace jit::store {

struct SqliteCopyOptions {
  // Pages copied per step of SQLite's online backup; between steps the source is free and the
  // copy sleeps `pause`. Writers of a WAL database are never blocked by the copy's reads.
  int pages_per_step = 256;
  Duration pause = Duration(2);
  // A write to the source between two steps restarts the copy from its first page; after this
  // many restarts the rest is copied in one step (one read transaction: in WAL mode it does not
  // hold up writers either, it only keeps the WAL from being checkpointed meanwhile).
  int max_restarts = 3;
};

struct SqliteCopyStats {
  std::int64_t pages = 0;  // pages of the copy
  int restarts = 0;        // times a write to the source restarted the copy
  int steps = 0;
};

// Copies the database `source` into `dest` (an empty or missing file) through SQLite's online
// backup API (sqlite3_backup_init/step/finish): a consistent snapshot even while another process
// writes to `source`. The copy is left in rollback-journal mode (one self-contained file) and
// synced to disk. Never writes to `source`. Errors: Unavailable (cannot open either file, I/O),
// InvalidArgument (`source` is not a SQLite database), Internal otherwise.
Result<SqliteCopyStats> CopySqliteDatabase(const std::string& source, const std::string& dest,
                                           const SqliteCopyOptions& options = {});

// What a store file holds, as read by InspectSqliteStore.
struct SqliteStoreInfo {
  int schema_version = 0;
  std::int64_t requests = 0;
  std::int64_t audit_events = 0;
  std::int64_t last_audit_seq = 0;  // 0: no events
  std::optional<Time> last_audit_at;
  // When `jit backup` made the file (its backup_info table); nullopt for other copies.
  std::optional<Time> backup_taken_at;
};

// Opens `path` read-only (without creating it), runs PRAGMA integrity_check and reads the schema
// version and a few counts. Errors: NotFound (no such file), InvalidArgument (not a SQLite
// database, damaged: the first problem integrity_check names, or not a jit store: no
// schema_version or one of the tables missing), Unavailable (cannot be read).
Result<SqliteStoreInfo> InspectSqliteStore(const std::string& path);

// Records in the copy made by CopySqliteDatabase when it was taken (a backup_info table that
// InspectSqliteStore reads and RemoveBackupInfo drops). Unavailable/Internal on failure.
Status WriteBackupInfo(const std::string& path, Time taken_at);
// Drops the backup_info table, if any (a restored store has none).
Status RemoveBackupInfo(const std::string& path);

// Folds the write-ahead log of `path` into the database file and removes the -wal and -shm
// files, so that the file can be renamed alone. REQUIRES: no other process has it open (the
// caller holds the data folder's lock). Unavailable when it cannot (the -wal is still there).
Status CheckpointAndCloseSqlite(const std::string& path);

// fsync of a file or a folder. Unavailable with the error when it fails.
Status SyncPath(const std::string& path);

}  // namespace jit::store
