// `jit emulator`: the local Identity Center on its own.

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <utility>

#include "app/commands.h"
#include "core/clock.h"
#include "emulator/emulator.h"

namespace jit::app {

int RunEmulator(const cli::EmulatorCommandOptions& opts) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  emulator::EmulatorOptions options;
  // The default key pair is public: only another one may serve beyond loopback.
  options.loopback_only = opts.access_key_id == options.access_key_id ||
                          opts.secret_access_key == options.secret_access_key;
  options.listen = opts.listen;
  options.access_key_id = opts.access_key_id;
  options.secret_access_key = opts.secret_access_key;
  if (!opts.seed_file.empty()) {
    Result<emulator::Seed> seed = emulator::LoadSeed(opts.seed_file);
    if (!seed.has_value()) {
      std::cerr << "jit: " << seed.error().message() << std::endl;
      return 1;
    }
    options.seed = std::move(seed).value();
  }
  RealClock clock;
  emulator::Emulator emu(options, clock);
  if (Status s = emu.Start(); !s.ok()) {
    std::cerr << "jit: " << s.message() << std::endl;
    return 1;
  }
  // The address as bound: "http://0.0.0.0:PORT" when it listens on every address, with the URL a
  // client on this machine uses.
  std::string bound = "http://" + emu.listen_address();
  if (bound == emu.url()) {
    std::printf("jit emulator listening on %s\n", bound.c_str());
  } else {
    std::printf("jit emulator listening on %s (every address; on this machine: %s)\n",
                bound.c_str(), emu.url().c_str());
  }
  std::printf("  access key id: %s   region: %s\n", options.access_key_id.c_str(),
              options.region.c_str());
  std::printf("  state: GET %s/_emulator/state%s\n", emu.url().c_str(),
              emu.control_needs_key() ? " (with Authorization: Bearer <secret access key>)" : "");
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  emu.Stop();
  return 0;
}

}  // namespace jit::app
