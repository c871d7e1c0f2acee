#pragma once
// The PostgreSQL engine: any number of broker processes (replicas) share one database.
//
// How it keeps the Store contract with several processes at once:
//  - Write transactions (Transact) are serialized across every process by one transaction-level
//    advisory lock, taken as the first statement under READ COMMITTED: each later statement sees
//    every transaction that committed before the lock was granted, so transactions behave as
//    if they ran one at a time, exactly as with SQLite. This also serializes audit appends, so
//    the hash chain cannot fork; the schema backs that up (seq is the primary key, prev_hash is
//    unique) and triggers refuse UPDATE, DELETE and TRUNCATE of audit events.
//  - ClaimDueJobs and RenewLeases do not take that lock: they are single statements that lock
//    job rows with FOR UPDATE SKIP LOCKED, so claims never wait behind other work and two
//    processes never lease one job at once. Tx::JobsForRequest locks the rows it returns.
//  - Errors: serialization failures and deadlocks are Aborted; a lost connection, a server
//    that is down, starting or shutting down, too many connections, a lock or statement
//    timeout, a read-only (standby) server are Unavailable. A connection that failed is closed;
//    the next call opens a new one (when a pooled connection turns out dead before anything
//    ran, the call is retried once on a new one).
//  - Connections: two small pools, one for transactions and one for reads, claims and pings, so
//    that API reads never queue behind job transactions.
//  - Migrations run at open under an advisory lock, so replicas starting together migrate once.

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace jit::store {

struct PostgresOptions {
  // A libpq connection URI: postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full (or
  // postgresql://). A password may be in it, but is better left to libpq's own PGPASSWORD or
  // PGPASSFILE (~/.pgpass); it is never logged (RedactPostgresUrl).
  std::string url;
  // Connections for Transact. Writers take the write lock in turn, so a couple suffice.
  int write_connections = 2;
  // Connections for reads, ClaimDueJobs, RenewLeases and Ping.
  int read_connections = 3;
  // How long a caller waits for a free connection of its pool before Unavailable.
  Duration pool_wait = Duration(10'000);
  // How long opening a connection may take.
  Duration connect_timeout = Duration(5'000);
  // How long a transaction waits for the write lock (held by another transaction).
  Duration lock_timeout = Duration(10'000);
  // The longest one statement may run.
  Duration statement_timeout = Duration(30'000);
  // The server ends a session that sits idle inside a transaction this long, so that a frozen
  // process cannot hold the write lock for ever.
  Duration idle_in_transaction_timeout = Duration(15'000);

  Status Validate() const;
};

// Connects, migrates the schema (creating it in the first schema of the role's search_path),
// and returns the store. Errors: InvalidArgument (options, a malformed URL), Unavailable (the
// server cannot be reached or refused the login), FailedPrecondition (the schema is newer than
// this binary knows). Messages never contain the password.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options, Clock& clock);

// The schema version this binary writes.
int PostgresSchemaVersion();

// The statement ClaimDueJobs runs ($1 now, $2 the most rows, $3 the owner, $4 the lease's end),
// returning only jobs.id, for tests that check its query plan.
std::string PostgresClaimStatementForTesting();

// True for "postgres://..." and "postgresql://...".
bool IsPostgresUrl(std::string_view url);

// The URL with its password (in the user info or a password= parameter) replaced by "***", for
// logs and error messages.
std::string RedactPostgresUrl(std::string_view url);

}  // namespace jit::store
