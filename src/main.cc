// The `jit` binary: the command line (src/cli) runs every subcommand; those that are not
// clients of the broker's HTTP API are the composition root's (src/app).

#include <iostream>

#include "app/commands.h"
#include "app/identity_center.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  return jit::cli::Run(
      argc, argv, std::cout, std::cerr,
      jit::cli::Commands{jit::app::Serve, jit::app::RunEmulator, jit::app::CheckAws,
                         jit::app::Backup, jit::app::Restore, jit::app::PermissionSets});
}
