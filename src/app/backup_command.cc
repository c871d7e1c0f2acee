// `jit backup` and `jit restore` (app/commands.h; docs/STORAGE.md "Backup and restore").

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/restore.h"
#include "config/config.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "store/open.h"
#include "store/postgres_store.h"
#include "store/sqlite_backup.h"
#include "store/sqlite_store.h"

namespace jit::app {
namespace {

namespace fs = std::filesystem;

constexpr int kBackupOk = 0;
constexpr int kBackupFailed = 1;

// One line "jit: <message>" with control characters escaped (paths come from the user).
int Refuse(std::ostream& err, std::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  err << "jit: " << EscapeForTerminal(line) << '\n';
  return kBackupFailed;
}

std::string Shown(const std::string& path) { return EscapeForTerminal(path); }

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string ParentOf(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Removes the files it names (and their SQLite companions) when it goes away, unless kept.
class TempFiles {
 public:
  ~TempFiles() {
    if (keep_) return;
    for (const std::string& p : paths_) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((p + suffix).c_str());
    }
  }
  void Add(std::string path) { paths_.push_back(std::move(path)); }
  void Keep() { keep_ = true; }

 private:
  std::vector<std::string> paths_;
  bool keep_ = false;
};

// Renames `from` to `to` unless `to` exists (atomically where the file system can).
Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return OkStatus();
  }
  if (errno == EEXIST) return AlreadyExistsError(to + " exists");
  if (errno != EINVAL && errno != ENOSYS) {
    return UnavailableError("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  // No RENAME_NOREPLACE here: a hard link fails when `to` exists, too.
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return AlreadyExistsError(to + " exists");
    return UnavailableError("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  ::unlink(from.c_str());
  return OkStatus();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return UnavailableError("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return OkStatus();
}

// "20261204T211909Z".
std::string CompactUtc(Time t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<Time> ModifiedAt(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FromUnixMillis(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                        st.st_mtim.tv_nsec / 1000000);
}

// Run as root (say `sudo jit restore`), files made in `dir` would be root's and the broker's
// unprivileged user could not open them: give `path` to the owner of `dir`. Nothing otherwise.
Status GiveToFolderOwner(const std::string& dir, const std::string& path) {
  if (::geteuid() != 0) return OkStatus();
  struct stat folder;
  struct stat file;
  if (::stat(dir.c_str(), &folder) != 0 || ::stat(path.c_str(), &file) != 0) {
    return UnavailableError("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (file.st_uid == folder.st_uid && file.st_gid == folder.st_gid) return OkStatus();
  if (::chown(path.c_str(), folder.st_uid, folder.st_gid) != 0) {
    return UnavailableError("cannot give " + path + " to the owner of " + dir + ": " +
                            std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace

int RunBackup(const cli::BackupOptions& opts, std::ostream& out, std::ostream& err, Clock& clock) {
  std::string store_url;
  if (!opts.config_file.empty()) {
    Result<config::Config> cfg = config::LoadConfigFile(opts.config_file);
    if (!cfg.has_value()) return Refuse(err, cfg.error().message());
    store_url = cfg->store;
  }
  if (store::IsPostgresUrl(store_url)) {
    return Refuse(err,
                  "the store is PostgreSQL: back it up with pg_dump (docs/STORAGE.md \"Backup and "
                  "restore\"); jit backup copies SQLite stores only");
  }
  Result<std::string> source = store::SqlitePath(store_url, opts.data_dir);
  if (!source.has_value()) return Refuse(err, source.error().message());
  if (!Exists(*source)) {
    return Refuse(err, "no store at " + *source + " (is --data or --config right?)");
  }
  const std::string& file = opts.file;
  if (file.empty()) return Refuse(err, "backup needs a FILE to write");
  if (Exists(file)) {
    return Refuse(err, file + " exists; jit backup never overwrites a file (choose another name)");
  }
  const std::string tmp = file + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Refuse(
          err, "cannot write " + tmp + ": it exists (another backup under way? remove it if not)");
    }
    return Refuse(err, "cannot write " + tmp + ": " + std::strerror(errno));
  }
  ::close(fd);
  TempFiles temp;
  temp.Add(tmp);

  Result<store::SqliteCopyStats> copied = store::CopySqliteDatabase(*source, tmp);
  if (!copied.has_value()) {
    return Refuse(err, "cannot copy " + *source + ": " + copied.error().message());
  }
  const Time taken_at = clock.Now();
  if (Status s = store::WriteBackupInfo(tmp, taken_at); !s.ok()) {
    return Refuse(err, "cannot finish " + tmp + ": " + s.message());
  }
  Result<store::SqliteStoreInfo> info = store::InspectSqliteStore(tmp);
  if (!info.has_value()) {
    return Refuse(err, "the copy does not check out: " + info.error().message());
  }
  if (Status s = store::SyncPath(tmp); !s.ok()) return Refuse(err, s.message());
  if (Status s = RenameNoReplace(tmp, file); !s.ok()) return Refuse(err, s.message());
  temp.Keep();
  if (Status s = store::SyncPath(ParentOf(file)); !s.ok()) return Refuse(err, s.message());

  out << "Backed up " << Shown(*source) << " to " << Shown(file) << " at "
      << FormatRfc3339(taken_at) << ":\n"
      << "  schema version " << info->schema_version << ", " << info->requests << " requests, "
      << info->audit_events << " audit events (last seq " << info->last_audit_seq << ")\n"
      << "  " << copied->pages << " pages in " << copied->steps << " steps (" << copied->restarts
      << " restarts while the broker wrote)\n";
  return kBackupOk;
}

int RunRestore(const cli::RestoreOptions& opts, std::ostream& out, std::ostream& err,
               Clock& clock) {
  const std::string& file = opts.file;
  const std::string& dir = opts.data_dir;
  if (dir.empty()) return Refuse(err, "restore needs --data DIR");

  // The backup first: nothing in DIR changes for a file that will not do.
  Result<store::SqliteStoreInfo> info = store::InspectSqliteStore(file);
  if (!info.has_value()) return Refuse(err, "cannot restore: " + info.error().message());
  if (info->schema_version > store::SqliteSchemaVersion()) {
    return Refuse(err, "cannot restore " + file + ": its schema version is " +
                           std::to_string(info->schema_version) + ", newer than this jit knows (" +
                           std::to_string(store::SqliteSchemaVersion()) +
                           "); restore it with the jit release that made it");
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Refuse(err, "cannot create " + dir + ": " + ec.message());
  store::DataDirLock lock;
  if (Status s = lock.Acquire(dir); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) {
      return Refuse(err, "a jit server is running on " + dir + " (it holds " +
                             (fs::path(dir) / "jit.lock").string() + "); stop it before restoring");
    }
    return Refuse(err, s.message());
  }
  if (Status s = GiveToFolderOwner(dir, (fs::path(dir) / "jit.lock").string()); !s.ok()) {
    return Refuse(err, s.message());
  }
  const std::string store_path = (fs::path(dir) / "jit.db").string();
  if (fs::equivalent(file, store_path, ec)) {
    return Refuse(err, file + " is the store of " + dir + " itself");
  }

  const Time now = clock.Now();
  const std::string stamp = CompactUtc(now);
  const std::string pid = std::to_string(::getpid());
  const std::string new_tmp = (fs::path(dir) / (".jit-restore-" + pid + ".db")).string();
  const std::string old_tmp = (fs::path(dir) / (".jit-restore-" + pid + "-replaced.db")).string();
  TempFiles temp;
  temp.Add(new_tmp);
  temp.Add(old_tmp);

  RestoreFacts facts;
  facts.backup_last_seq = info->last_audit_seq;
  if (info->backup_taken_at) {
    facts.backup_taken_at = *info->backup_taken_at;
  } else if (std::optional<Time> m = ModifiedAt(file)) {
    facts.backup_taken_at = *m;  // a plain copy of a store: when it was last written
  } else if (info->last_audit_at) {
    facts.backup_taken_at = *info->last_audit_at;
  }

  // The store being replaced: what happened after the backup is in there.
  std::unique_ptr<store::Store> replaced;
  std::string kept_as;
  if (Exists(store_path)) {
    facts.replaced_present = true;
    kept_as = "jit.db.pre-restore-" + stamp;
    for (int n = 2; Exists((fs::path(dir) / kept_as).string()); ++n) {
      kept_as = "jit.db.pre-restore-" + stamp + "-" + std::to_string(n);
    }
    facts.replaced_kept_as = kept_as;
    Status s = store::CheckpointAndCloseSqlite(store_path);
    if (s.ok()) {
      Result<store::SqliteCopyStats> copied = store::CopySqliteDatabase(store_path, old_tmp);
      if (!copied.has_value()) s = copied.error();
    }
    Result<store::SqliteStoreInfo> old_info = InvalidArgumentError("not read");
    if (s.ok()) {
      old_info = store::InspectSqliteStore(old_tmp);
      if (!old_info.has_value()) {
        s = old_info.error();
      } else if (old_info->schema_version > store::SqliteSchemaVersion()) {
        s = FailedPreconditionError("its schema version " +
                                    std::to_string(old_info->schema_version) +
                                    " is newer than this jit knows");
      }
    }
    if (s.ok()) {
      store::SqliteOptions so;
      so.path = old_tmp;
      Result<std::unique_ptr<store::Store>> opened = store::OpenSqliteStore(so, clock);
      if (opened.has_value()) {
        replaced = std::move(opened).value();
        facts.replaced_last_seq = old_info->last_audit_seq;
        if (facts.replaced_last_seq > 0) {
          auto last = replaced->ListAudit(facts.replaced_last_seq - 1, 1);
          if (last.has_value() && !last->empty()) facts.replaced_last_hash = last->front().hash;
        }
      } else {
        s = opened.error();
      }
    }
    if (!s.ok()) facts.replaced_problem = s.message();
  }

  const bool read_replaced = replaced != nullptr;

  // The new store, in a temporary file of DIR.
  Result<store::SqliteCopyStats> copied = store::CopySqliteDatabase(file, new_tmp);
  if (!copied.has_value())
    return Refuse(err, "cannot copy " + file + ": " + copied.error().message());
  if (Status s = store::RemoveBackupInfo(new_tmp); !s.ok()) return Refuse(err, s.message());
  Result<RestoreReport> report = InternalError("not run");
  {
    store::SqliteOptions so;
    so.path = new_tmp;
    Result<std::unique_ptr<store::Store>> restored = store::OpenSqliteStore(so, clock);
    if (!restored.has_value()) {
      return Refuse(err, "cannot open the copy of " + file + ": " + restored.error().message());
    }
    report = CarryForward(**restored, replaced.get(), facts, clock);
  }  // closed: its WAL folded into the file
  replaced.reset();
  if (!report.has_value()) {
    return Refuse(
        err, "cannot carry what happened after the backup forward: " + report.error().message());
  }
  Result<store::SqliteStoreInfo> result = store::InspectSqliteStore(new_tmp);
  if (!result.has_value()) {
    return Refuse(err, "the restored store does not check out: " + result.error().message());
  }
  if (Exists(new_tmp + "-wal")) return Refuse(err, new_tmp + "-wal is left over; not restoring");
  if (Status s = GiveToFolderOwner(dir, new_tmp); !s.ok()) return Refuse(err, s.message());
  if (Status s = store::SyncPath(new_tmp); !s.ok()) return Refuse(err, s.message());

  // Swap: the replaced store keeps its files under the new name (never deleted), then the new
  // one takes its place in one rename.
  std::vector<std::string> moved;
  if (facts.replaced_present) {
    const std::string kept = (fs::path(dir) / kept_as).string();
    if (::link(store_path.c_str(), kept.c_str()) != 0) {
      if (Status s = Rename(store_path, kept); !s.ok()) return Refuse(err, s.message());
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      if (Exists(store_path + suffix)) {
        if (Status s = Rename(store_path + suffix, kept + suffix); !s.ok()) {
          return Refuse(err, s.message());
        }
      }
    }
    moved.push_back(kept);
  }
  const std::string checkpoints = (fs::path(dir) / "audit-checkpoints.jsonl").string();
  std::string checkpoints_kept;
  if (Exists(checkpoints)) {
    checkpoints_kept = checkpoints + ".pre-restore-" + stamp;
    if (Status s = Rename(checkpoints, checkpoints_kept); !s.ok()) return Refuse(err, s.message());
  }
  if (Status s = Rename(new_tmp, store_path); !s.ok()) return Refuse(err, s.message());
  if (Status s = store::SyncPath(dir); !s.ok()) return Refuse(err, s.message());

  out << "Restored " << Shown(file) << " (taken at " << FormatRfc3339(facts.backup_taken_at)
      << ", schema version " << info->schema_version << ", " << info->requests << " requests, "
      << info->audit_events << " audit events to seq " << info->last_audit_seq << ") into "
      << Shown(store_path) << ".\n";
  if (!moved.empty()) {
    out << "The replaced store is kept as " << Shown(moved.front());
    if (facts.replaced_last_seq > 0) {
      out << " (its audit trail runs to seq " << facts.replaced_last_seq << ")";
    }
    out << ".\n";
  }
  if (!checkpoints_kept.empty()) {
    out << "Its audit checkpoints are kept as " << Shown(checkpoints_kept)
        << "; the broker starts a new checkpoint file.\n";
  }
  out << "Carried forward: " << report->requests_ended << " requests ended since the backup, "
      << report->requests_granted << " granted since, " << report->ledger_carried
      << " assignments jit made since (the reconciler deletes them), " << report->entries_released
      << " ledger entries handed to the reconciler, " << report->grants_failed
      << " unfinished grants failed, " << report->notify_jobs_dropped
      << " delivered notifications dropped.\n";
  if (!facts.replaced_problem.empty()) {
    err << "jit: warning: the replaced store could not be read ("
        << EscapeForTerminal(facts.replaced_problem) << ").\n";
  }
  if (!read_replaced) {
    err << "jit: warning: assignments jit made after the backup ("
        << FormatRfc3339(facts.backup_taken_at)
        << ") cannot be found from jit's records: once the broker runs, `jit assignments "
           "standing` lists the assignments jit did not make; remove those that should not be "
           "there. Approved requests whose grant had not finished were failed (ask again).\n";
  }
  out << "If audit.checkpoint_file points outside " << Shown(dir)
      << ", move that file aside too before starting the broker.\n";
  return kBackupOk;
}

int Backup(const cli::BackupOptions& opts) {
  RealClock clock;
  return RunBackup(opts, std::cout, std::cerr, clock);
}

int Restore(const cli::RestoreOptions& opts) {
  RealClock clock;
  return RunRestore(opts, std::cout, std::cerr, clock);
}

}  // namespace jit::app
