#pragma once
// The commands of the `jit` binary that are not clients of the broker's HTTP API; main.cc
// hands them to cli::Run (cli/cli.h parses their flags).

#include <functional>
#include <ostream>

#include "cli/cli.h"
#include "config/config.h"
#include "core/clock.h"
#include "provider/permission_set_admin.h"

namespace jit::app {

// `jit serve`: sets up logging (stderr; JSON or text), loads the config (--config FILE, or the
// built-in dev config with --dev), builds and starts the Broker, prints the start-up banner on
// stdout and logs "ready on URL"; then re-reads the config file on SIGHUP (Broker::Reload) and
// stops on SIGINT or SIGTERM. Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so
// in every thread it starts) and waits for them. Returns the exit status: 0 after a signal
// stopped it; 1 when it could not start, with one line "jit: <reason>" on stderr. Call once
// per process, from the main thread.
int Serve(const cli::ServeOptions& opts);

// `jit emulator`: the local Identity Center on its own, until SIGINT or SIGTERM (blocked in
// the calling thread and waited for). Prints where it listens on stdout. Returns 0 after a
// signal, 1 when it could not start ("jit: <reason>" on stderr).
int RunEmulator(const cli::EmulatorCommandOptions& opts);

// `jit backup FILE`: copies the SQLite store (of --config's `store:`, or <--data>/jit.db) to
// FILE through SQLite's online backup API while a broker may serve from it, without taking the
// data folder's lock; writes FILE.tmp beside FILE, checks it (integrity, schema version), syncs
// it and renames it to FILE (never over an existing FILE). Prints what it copied. Returns 0, or
// 1 with one line "jit: <reason>" on stderr (a PostgreSQL store: use pg_dump). Backup runs it on
// std::cout/std::cerr with the real clock; RunBackup takes them (`clock` dates the backup).
int Backup(const cli::BackupOptions& opts);
int RunBackup(const cli::BackupOptions& opts, std::ostream& out, std::ostream& err, Clock& clock);

// `jit restore FILE --data DIR`: replaces DIR/jit.db with the backup FILE once it checks out (a
// jit store, intact, of a schema this binary knows) and no broker holds DIR's lock. The store
// it replaces is kept as jit.db.pre-restore-<UTC time> (and the default checkpoint file beside
// it likewise), and what happened after the backup is carried forward from it (app/restore.h
// CarryForward). The new store is built in a temporary file in DIR, synced and renamed over:
// DIR never holds a half-written store. Run as root, the new files get DIR's owner. Returns 0,
// or 1 with "jit: <reason>" on stderr and DIR as it was (bad input, a running broker). Warnings
// (no replaced store to carry forward from) go to stderr with exit 0. Not thread-safe: one
// restore per folder at a time (the lock sees to it across processes).
int Restore(const cli::RestoreOptions& opts);
int RunRestore(const cli::RestoreOptions& opts, std::ostream& out, std::ostream& err, Clock& clock);

// `jit permission-sets plan|apply [--config FILE]` (docs/AWS.md "Permission sets as code"):
// loads the config (its problems as "FILE:LINE: ..." lines on stderr, exit 1), connects to the
// Identity Center of its `aws:` section as `config check --aws` does (process environment,
// default credential chain) and runs RunPermissionSets.
int PermissionSets(const cli::PermissionSetsOptions& opts);
// plan: prints permsets::FormatPlan (or PlanJson with opts.json) and returns 0. apply: prints
// each change as it is made, the ARN of each set created (to put in the config), and a summary
// line; returns 0, or 1 with "jit: <reason>" on stderr after the first error (the changes
// printed before it were made). `sleep` waits between provisioning status polls.
int RunPermissionSets(const cli::PermissionSetsOptions& opts, const config::Config& config,
                      provider::PermissionSetAdmin& admin, std::ostream& out, std::ostream& err,
                      const std::function<void(Duration)>& sleep);

}  // namespace jit::app
