#pragma once
// A throwaway PostgreSQL 15 server for tests (linked into test binaries only, never into jit).
//
// Start() runs initdb into a fresh temporary folder and starts postgres on a free port of
// 127.0.0.1 (listen_addresses = 127.0.0.1, its unix socket inside that folder, fsync off), with
// trust authentication for loopback only. Two roles exist: the bootstrap superuser "postgres"
// (for the tests' own set-up and tampering) and "jit", a plain role that owns the databases
// CreateDatabase makes, as a broker's role would. PostgreSQL refuses to run as root: when the
// test runs as root, initdb, pg_ctl and postgres run as the "postgres" system user that Debian's
// package creates, and the folder is handed to it. The server never touches a system cluster.
//
// When the server binaries are missing, Start() fails with FailedPrecondition saying to run
// scripts/setup.sh (tests then fail; they are never skipped).
//
// A watchdog process stops the server and removes the folder should the test process die
// without cleaning up (a crash, SIGKILL). Not thread-safe: one test thread uses it at a time.

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"

namespace jit::store::testing {

class PostgresTestServer {
 public:
  // Starts a server; see the file comment. Errors: FailedPrecondition (PostgreSQL missing),
  // Unavailable (it would not start; the message quotes its log).
  static Result<std::unique_ptr<PostgresTestServer>> Start();

  // Stops the server (immediate shutdown) and removes its folder.
  ~PostgresTestServer();
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  int port() const { return port_; }

  // Creates a new, empty database owned by the role "jit" and returns its name.
  Result<std::string> CreateDatabase();
  // "postgres://jit@127.0.0.1:PORT/DB": the URL a store opens (no password: trust).
  std::string UrlFor(std::string_view database) const;

  // Runs `sql` as the superuser in `database` (several statements allowed). The error carries
  // the server's message.
  Status AdminExec(std::string_view database, std::string_view sql);
  // Likewise as `user` ("jit": what the broker's role may do).
  Status ExecAs(std::string_view user, std::string_view database, std::string_view sql);
  // A libpq conninfo string for `user` in `database`, for tests that keep a connection open.
  std::string ConninfoFor(std::string_view user, std::string_view database) const;

  // Stops the server ("fast": every connection is dropped) and keeps the data.
  Status Stop();
  // Starts it again on the same port with the same data.
  Status Restart();

 private:
  PostgresTestServer() = default;
  Status StartPostmaster();

  std::string bindir_;
  std::string dir_;  // the temporary folder: data/, the socket, server.log
  int port_ = 0;
  bool running_ = false;
  int next_db_ = 0;
};

// One server for the whole test binary, started on first use and stopped at exit, so that a
// suite pays for initdb once. The error of a failed start is returned to every caller.
Result<PostgresTestServer*> SharedPostgresTestServer();

}  // namespace jit::store::testing
