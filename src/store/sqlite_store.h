#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace jit::store {

struct SqliteOptions {
  // Database file; created with its folder's existing permissions when absent.
  std::string path;
  // PRAGMA synchronous: "FULL" (default: a commit survives power loss once Transact returns)
  // or "NORMAL" (WAL: a power loss can lose the last commits, never corrupts).
  std::string synchronous = "FULL";
  // How long a writer waits for a lock held by another connection.
  Duration busy_timeout = Duration(5000);
  // At most this many transactions share one commit (group commit).
  int max_batch = 256;
  // The database may hold at most this many pages (PRAGMA max_page_count on the writer; SQLite's
  // default page is 4 KiB); a write that needs more fails as on a full disk (Unavailable) and is
  // undone whole. 0: no limit but the disk's. For capping the file, and for disk-full tests.
  std::int64_t max_pages = 0;

  Status Validate() const;
};

// Opens (creating and migrating as needed) a SQLite database in WAL mode. One writer thread
// runs every Transact in batches: each caller's function runs inside a SAVEPOINT, and one
// COMMIT makes the whole batch durable, so many transitions share one fsync.
// Errors: InvalidArgument (options), Unavailable (cannot open), FailedPrecondition (the
// schema is newer than this binary knows).
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options, Clock& clock);

// The schema version this binary writes.
int SqliteSchemaVersion();

// The statements ClaimDueJobs reads with (revocations, then the other jobs), for tests that
// check their query plan.
std::vector<std::string> SqliteClaimQueriesForTesting();

// Counters of the SQLite engine's writer, for the benchmark and metrics. Both only grow.
struct SqliteStats {
  // Write transactions the writer ran: each Transact call, ClaimDueJobs, RenewLeases and
  // ReleaseAllLeases (committed or undone).
  std::int64_t transactions = 0;
  // COMMITs that succeeded; each makes one batch durable. commits < transactions when group
  // commit batched several callers together.
  std::int64_t commits = 0;
};

// The counters of a store made by OpenSqliteStore; zeros for any other engine. Thread-safe.
SqliteStats GetSqliteStats(Store& store);

}  // namespace jit::store
