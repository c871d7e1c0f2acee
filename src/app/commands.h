#pragma once
// The commands of the `jit` binary that are not clients of the broker's HTTP API; main.cc
// hands them to cli::Run (cli/cli.h parses their flags).

#include "cli/cli.h"

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

}  // namespace jit::app
