#pragma once
// The `jit` command line (DESIGN.md "Command line"). Every subcommand but `serve` is a client
// of the broker's HTTP API; `serve` only has its flags parsed here and is run by the caller.

#include <functional>
#include <ostream>
#include <string>

#include "core/clock.h"

namespace jit::cli {

// `jit serve [--config FILE] [--dev] [--listen ADDR] [--data DIR] [--emulator-listen ADDR]`.
struct ServeOptions {
  std::string config_file;              // --config: the YAML config file; empty: none given
  bool dev = false;                     // --dev: the embedded dev broker (DESIGN.md "Dev mode")
  std::string listen;                   // --listen: host:port to serve on; empty: the default
  std::string data_dir = "./jit-data";  // --data: where the SQLite database lives
  std::string emulator_listen;          // --emulator-listen: the dev emulator's address; empty: any
};

// Runs the command line. `serve` is called for `jit serve` and its result is returned.
// Output goes to `out`, errors to `err` (one line "jit: <reason>"). Returns the process exit
// status: 0 ok, 1 failure (API error, connection refused, a waited-for request that was denied,
// ...), 2 usage error (bad flags, no token). `--help` and `--version` print to `out` and return 0.
// Never throws. Reads JIT_SERVER and JIT_TOKEN from the environment.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve);

// As above, with the clock used for "time left" and for `request --wait`'s time-out, and the
// function that waits between polls (tests pass a FakeClock and a sleep that advances it).
// `clock` and `sleep` are used only during the call.
int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve, Clock& clock,
        const std::function<void(Duration)>& sleep);

}  // namespace jit::cli
