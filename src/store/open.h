#pragma once
// Opening the store a config names (`store:` in the config file): SQLite, the default, or
// PostgreSQL.

#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace jit::store {

// Holds an exclusive lock on <data>/jit.lock for as long as it lives, so that two brokers
// never share one SQLite database (each would think it owns every lease). Not thread-safe.
class DataDirLock {
 public:
  DataDirLock() = default;
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

  // Takes the lock of `dir` (which must exist). Unavailable when the lock file cannot be
  // opened; FailedPrecondition when another process holds the lock.
  Status Acquire(const std::filesystem::path& dir);

 private:
  int fd_ = -1;
};

// "sqlite:///var/lib/jit/jit.db" -> "/var/lib/jit/jit.db"; empty -> <data>/jit.db.
// InvalidArgument for a URL that names no file or is neither sqlite:// nor postgres:// (the
// message redacts a password).
Result<std::string> SqlitePath(const std::string& store_url, const std::filesystem::path& data);

// The store a config names, opened. Members are destroyed in reverse order: the store before
// the lock of its data folder.
struct OpenedStore {
  std::unique_ptr<DataDirLock> lock;  // SQLite: held while the store is open; else null
  std::unique_ptr<Store> store;       // never null
  // PostgreSQL: other replicas may share it (their leases are alive; re-scan for their jobs).
  bool shared = false;
};

// Opens the store `store_url` names, with `data_dir` as the data folder. SQLite (an empty URL
// or sqlite:///PATH): one process per database, so the data folder is created and locked and
// the leases of a dead predecessor are released. PostgreSQL (postgres:// or postgresql://):
// any number of replicas, so neither; the password comes from the URL or libpq's PGPASSWORD /
// PGPASSFILE. Logs nothing; the URL in error messages is redacted.
//
// Errors: InvalidArgument for a URL of neither kind; FailedPrecondition when another process
// holds the data folder; Unavailable when the folder cannot be created or the database cannot
// be reached; the engine's errors otherwise. `clock` must outlive the store.
Result<OpenedStore> OpenStore(const std::string& store_url, const std::filesystem::path& data_dir,
                              Clock& clock);

}  // namespace jit::store
