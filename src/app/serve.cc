// `jit serve`: the process around the Broker (logging, signals, the banner, SIGHUP).

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "app/broker.h"
#include "app/commands.h"
#include "auth/auth.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/systemd_notify.h"
#include "net/connection_limits.h"

namespace jit::app {
namespace {

int Fail(const std::string& why) {
  std::cerr << "jit: " << why << std::endl;
  return 1;
}

void PrintDevBanner(const std::string& url, const std::filesystem::path& data,
                    const std::string& emulator_url) {
  std::string base = url;
  std::printf("jit dev server listening on %s\n", url.c_str());
  std::printf("  web UI: %s/  (sign in as alice, bob or carol)\n", url.c_str());
  std::printf("  data: %s (SQLite)   Identity Center: emulator at %s\n",
              std::filesystem::absolute(data).string().c_str(), emulator_url.c_str());
  std::printf(
      "  accounts: sandbox=111111111111, prod=222222222222   "
      "permission sets: ReadOnly, Admin, BreakGlass\n");
  std::printf("Users and tokens:\n");
  for (const auto& u : auth::DevUsers()) {
    std::string groups;
    for (const auto& g : u.groups) groups += (groups.empty() ? "" : ", ") + g;
    std::printf("  %-6s %-28s token: %s\n", u.username.c_str(), ("(" + groups + ")").c_str(),
                u.token.c_str());
  }
  std::printf("Try this:\n");
  std::printf("  export JIT_SERVER=%s\n", base.c_str());
  std::printf("  JIT_TOKEN=dev-alice jit request prod Admin --for 10m --reason \"try jit\"\n");
  std::printf(
      "  JIT_TOKEN=dev-bob jit approve <ID>     # then: JIT_TOKEN=dev-alice jit show <ID>\n");
  std::fflush(stdout);
}

// SIGHUP: reads the config file again and puts it in force when it is valid, with the
// authenticator (static tokens, OIDC) and the notification channels built from it; otherwise
// keeps the old config, authenticator and channels and logs the first error. Settings read once
// at start (config::SettingsNeedingRestart: listen address, store, aws, audit, ui and the UI's
// sign-in client) need a restart, and a warning names those that changed; rules, accounts,
// permission sets, roles, auth and notify apply at once.
void ReloadConfig(const cli::ServeOptions& opts, Broker& broker) {
  if (opts.config_file.empty()) {
    spdlog::info("SIGHUP: nothing to reload (serving the built-in dev config; no --config)");
    return;
  }
  Result<config::Config> next = config::LoadConfigFile(opts.config_file);
  if (!next.has_value()) {
    std::string why = next.error().message();
    why = why.substr(0, why.find('\n'));
    spdlog::error("SIGHUP: keeping the old config: {}", why);
    return;
  }
  Result<std::vector<std::string>> pending = broker.Reload(std::move(next).value());
  if (!pending.has_value()) {
    spdlog::error("SIGHUP: keeping the old config: {}", pending.error().message());
    return;
  }
  spdlog::info("SIGHUP: reloaded the config from {}", opts.config_file);
  if (!pending->empty()) {
    std::string keys;
    for (const std::string& k : *pending) keys += (keys.empty() ? "" : ", ") + k;
    spdlog::warn("SIGHUP: {} changed; read at start only, the new value applies after a restart",
                 keys);
  }
}

std::string FileCount(std::uint64_t n) {
  return n == std::numeric_limits<std::uint64_t>::max() ? "unlimited" : std::to_string(n);
}

// Issue 15: with systemd's default soft limit of 1,024 open files, a client holding idle
// connections took every descriptor and revocations could not reach AWS. The soft limit is
// raised to the hard one (which needs no privilege), and the API's connections are capped below
// it (Broker, server.max_connections).
void RaiseFileLimit() {
  Result<net::RaisedFileLimit> raised = net::RaiseSoftFileLimit();
  if (!raised.has_value()) {
    spdlog::warn("open files: cannot raise the soft limit to the hard one: {}",
                 raised.error().message());
    return;
  }
  if (raised->before.soft != raised->after.soft) {
    spdlog::info("open files: soft limit raised from {} to {} (the hard limit)",
                 FileCount(raised->before.soft), FileCount(raised->after.soft));
  } else {
    spdlog::info("open files: limit {} (soft and hard)", FileCount(raised->after.soft));
  }
}

// Tells systemd (a unit of Type=notify, deploy/debian/jit.service) about a change of state; a
// failure is logged, never fatal: the broker serves either way.
void Notify(std::string_view state) {
  if (Status s = NotifySystemd(state); !s.ok()) {
    spdlog::warn("systemd notify {}: {}", state, s.message());
  }
}

// Waits for a stop signal, reloading the config on each SIGHUP meanwhile, and sends systemd
// READY=1 once the broker is ready (what GET /readyz would answer 200 for: the store answers
// and Identity Center is not failing), checking every 200 ms until then. Returns the stop signal.
int WaitForStop(const cli::ServeOptions& opts, Broker& broker, const sigset_t& signals) {
  bool ready = false;
  bool said_not_ready = false;
  for (;;) {
    if (!ready) {
      Status readiness = broker.Readiness();
      if (readiness.ok()) {
        ready = true;
        Notify("READY=1");
      } else if (!said_not_ready) {
        said_not_ready = true;
        spdlog::warn("not ready yet (systemd is told once it is): {}", readiness.message());
      }
    }
    int sig = 0;
    if (ready) {
      if (sigwait(&signals, &sig) != 0) return SIGTERM;
    } else {
      const timespec tick{0, 200'000'000};
      sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig < 0) continue;  // time-out (EAGAIN) or EINTR: check readiness again
    }
    if (sig != SIGHUP) return sig;
    ReloadConfig(opts, broker);
  }
}

}  // namespace

int Serve(const cli::ServeOptions& opts) {
  // Block the stop and reload signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto logger = spdlog::stderr_color_mt("jit");
  std::string log_format = opts.log_format.empty() ? (opts.dev ? "text" : "json") : opts.log_format;
  logger->set_formatter(log_format == "json" ? logging::NewJsonFormatter()
                                             : logging::NewTextFormatter());
  spdlog::set_default_logger(logger);
  RaiseFileLimit();

  // Config.
  Result<config::Config> config = InvalidArgumentError("no config");
  if (!opts.config_file.empty()) {
    config = config::LoadConfigFile(opts.config_file);
  } else if (opts.dev) {
    config = config::ParseConfig(config::DevConfigYaml(), "dev-config");
  } else {
    return Fail("serve needs --config FILE (or --dev for the built-in demo set-up)");
  }
  if (!config.has_value()) return Fail(config.error().message());

  BrokerOptions options;
  options.dev = opts.dev;
  options.listen = opts.listen;
  options.data_dir = opts.data_dir.empty() ? "./jit-data" : opts.data_dir;
  options.emulator_listen = opts.emulator_listen;
  RealClock clock;
  Result<std::unique_ptr<Broker>> built = Broker::Build(std::move(config).value(), options, clock);
  if (!built.has_value()) return Fail(built.error().message());
  Broker& broker = **built;
  if (Status s = broker.Start(); !s.ok()) return Fail(s.message());

  if (opts.dev) {
    PrintDevBanner(broker.url(), broker.data_dir(), broker.emulator_url());
  } else {
    std::printf("jit server listening on %s\n", broker.url().c_str());
    std::printf("  web UI: %s/\n", broker.ui_base_url().c_str());
    std::fflush(stdout);
  }
  spdlog::info("ready on {}", broker.url());

  int sig = WaitForStop(opts, broker, stop_signals);
  spdlog::info("signal {}: stopping", sig);
  Notify("STOPPING=1");
  broker.Stop();
  return 0;
}

}  // namespace jit::app
