#pragma once
// The `jit` command line (docs/ARCHITECTURE.md "Command line"). Every subcommand but `serve` is a
// client of the broker's HTTP API; `serve` only has its flags parsed here and is run by the caller.

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::cli {

// `jit serve [--config FILE] [--dev] [--listen ADDR] [--data DIR] [--emulator-listen ADDR]`.
struct ServeOptions {
  std::string config_file;  // --config: the YAML config file; empty: none given
  bool dev = false;         // --dev: the embedded dev broker (docs/ARCHITECTURE.md "Dev mode")
  std::string listen;       // --listen: host:port to serve on; empty: the default
  std::string data_dir = "./jit-data";  // --data: where the SQLite database lives
  std::string emulator_listen;          // --emulator-listen: the dev emulator's address; empty: any
  // --log-format: "json" (one JSON object per line) or "text"; empty: text with --dev, else json.
  std::string log_format;
};

// `jit emulator [--listen ADDR] [--seed FILE] [--access-key-id ID] [--secret-access-key KEY]`.
struct EmulatorCommandOptions {
  std::string listen = "127.0.0.1:8081";          // --listen: host:port to serve on
  std::string seed_file;                          // --seed: a JSON seed file; empty: dev catalog
  std::string access_key_id = "AKIDJITEMULATOR";  // --access-key-id: the one key accepted
  std::string secret_access_key = "jit-emulator-secret";  // --secret-access-key: its secret
};

// `jit backup FILE [--data DIR] [--config FILE]`: an online copy of the SQLite store.
struct BackupOptions {
  std::string file;                     // FILE: where the copy goes (must not exist)
  std::string data_dir = "./jit-data";  // --data: the data folder of the store
  std::string config_file;              // --config: whose `store:` names the store; empty: none
};

// `jit restore FILE --data DIR`: replaces DIR's store with a backup.
struct RestoreOptions {
  std::string file;      // FILE: a backup made by `jit backup` (or a copy of a store)
  std::string data_dir;  // --data: the data folder to restore into
};

// `jit permission-sets plan|apply [--config FILE]` (docs/AWS.md "Permission sets as code").
struct PermissionSetsOptions {
  bool apply = false;                                // apply; otherwise plan
  std::string config_file = "/etc/jit/config.yaml";  // --config
  bool json = false;                                 // --output json
};

// What `jit config check --aws` learned: notes (what AWS says the config means: the accounts
// resolved from the organization) and warnings (problems found), one line each.
struct AwsCheck {
  std::vector<std::string> notes;
  std::vector<std::string> warnings;
};

// What the caller runs for the commands that are not API clients. An empty function makes the
// command fail with "jit: <command> is not available in this build".
struct Commands {
  std::function<int(const ServeOptions&)> serve;
  std::function<int(const EmulatorCommandOptions&)> emulator;
  // `jit config check FILE --aws`: asks Identity Center (and AWS Organizations, when the
  // policy names accounts of the organization) about the valid config and returns its notes
  // and one warning per problem found (say, a SessionDuration longer than the longest grant),
  // or why it could not ask. Without --aws nothing calls it.
  std::function<Result<AwsCheck>(const config::Config&)> check_aws;
  std::function<int(const BackupOptions&)> backup;    // `jit backup`
  std::function<int(const RestoreOptions&)> restore;  // `jit restore`
  // `jit permission-sets plan|apply`: prints to stdout, "jit: ..." on stderr; returns the exit
  // status.
  std::function<int(const PermissionSetsOptions&)> permission_sets;
};

// Runs the command line; `commands.serve` / `commands.emulator` are called for `jit serve` and
// `jit emulator` and their result is returned. Otherwise as the Run below.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const Commands& commands);
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const Commands& commands, Clock& clock, const std::function<void(Duration)>& sleep);

// Runs the command line. `serve` is called for `jit serve` and its result is returned.
// Output goes to `out`, errors to `err` (one line "jit: <reason>"). Returns the process exit
// status: 0 ok, 1 failure (API error, connection refused, a waited-for request that was denied,
// ...), 2 usage error (bad flags, no token). `--help` and `--version` print to `out` and return 0.
// Never throws. Reads JIT_SERVER and JIT_TOKEN from the environment. `jit emulator` is not
// available through these two (kept for callers that only run the broker).
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve);

// As above, with the clock used for "time left" and for `request --wait`'s time-out, and the
// function that waits between polls (tests pass a FakeClock and a sleep that advances it).
// `clock` and `sleep` are used only during the call.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve, Clock& clock,
        const std::function<void(Duration)>& sleep);

}  // namespace jit::cli
