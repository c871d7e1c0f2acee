// The one place that wires objects together: `jit serve` builds the broker here; every other
// subcommand is a client of its HTTP API (src/cli).

#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "api/server.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "emulator/emulator.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/sqlite_store.h"
#include "workflow/workflow.h"

namespace jit {
namespace {

int Fail(const std::string& why) {
  std::cerr << "jit: " << why << std::endl;
  return 1;
}

// Holds an exclusive lock on <data>/jit.lock for the life of the process, so that two brokers
// never share one SQLite database (each would think it owns every lease).
class DataDirLock {
 public:
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::filesystem::path& dir) {
    std::string path = (dir / "jit.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return UnavailableError("cannot open " + path);
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return FailedPreconditionError("another jit server is using " + dir.string());
    }
    return OkStatus();
  }

 private:
  int fd_ = -1;
};

// "sqlite:///var/lib/jit/jit.db" -> "/var/lib/jit/jit.db"; empty -> <data>/jit.db.
Result<std::string> SqlitePath(const std::string& store_url, const std::filesystem::path& data) {
  if (store_url.empty()) return (data / "jit.db").string();
  constexpr std::string_view kPrefix = "sqlite://";
  if (store_url.rfind(kPrefix, 0) == 0) {
    std::string path = store_url.substr(kPrefix.size());
    if (path.empty()) return InvalidArgumentError("store: '" + store_url + "' names no file");
    return path;
  }
  if (store_url.rfind("postgres", 0) == 0) {
    return InvalidArgumentError("store: PostgreSQL is not supported by this build yet");
  }
  return InvalidArgumentError("store: '" + store_url + "' is not sqlite:///PATH");
}

void PrintDevBanner(const std::string& url, const std::filesystem::path& data) {
  std::string base = url;
  std::printf("jit dev server listening on %s\n", url.c_str());
  std::printf("  data: %s (SQLite)   Identity Center: in-process fake provider\n",
              std::filesystem::absolute(data).string().c_str());
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

int Serve(const cli::ServeOptions& opts) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto logger = spdlog::stderr_color_mt("jit");
  spdlog::set_default_logger(logger);

  // Config.
  Result<policy::Config> config = InvalidArgumentError("no config");
  if (!opts.config_file.empty()) {
    config = policy::LoadConfigFile(opts.config_file);
  } else if (opts.dev) {
    config = policy::ParseConfig(policy::DevConfigYaml(), "dev-config");
  } else {
    return Fail("serve needs --config FILE (or --dev for the built-in demo set-up)");
  }
  if (!config.has_value()) return Fail(config.error().message());
  if (!opts.dev) {
    return Fail(
        "only --dev is available in this build: the AWS Identity Center provider lands in a "
        "later release");
  }

  // Data folder and store.
  std::filesystem::path data = opts.data_dir.empty() ? "./jit-data" : opts.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return Fail("cannot create " + data.string() + ": " + ec.message());
  DataDirLock lock;
  if (Status s = lock.Acquire(data); !s.ok()) return Fail(s.message());

  RealClock clock;
  auto path = SqlitePath(config->store, data);
  if (!path.has_value()) return Fail(path.error().message());
  store::SqliteOptions sqlite;
  sqlite.path = *path;
  auto opened = store::OpenSqliteStore(sqlite, clock);
  if (!opened.has_value()) return Fail(opened.error().ToString());
  std::unique_ptr<store::Store> store = std::move(opened).value();
  // One process owns this database (the lock above): leases of a dead predecessor are void.
  if (Status s = store->ReleaseAllLeases(); !s.ok()) return Fail(s.ToString());

  std::string listen = opts.listen;
  if (listen.empty()) listen = config->server.listen;
  policy::ConfigHolder holder(std::move(config).value());

  provider::FakeProvider provider;
  workflow::Workflow flow(*store, holder, provider, clock);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 4;
  sched_opts.owner = "jit-" + std::to_string(::getpid());
  scheduler::Scheduler scheduler(*store, flow, clock, sched_opts);

  std::vector<auth::DevUser> dev_users;
  if (opts.dev) dev_users = auth::DevUsers();
  auto authenticator = auth::NewStaticAuthenticator(dev_users, holder.Get()->tokens);

  api::HttpServerOptions http;
  http.listen = listen;
  http.loopback_only = opts.dev;
  store::Store* store_ptr = store.get();
  api::HttpServer server(
      http, flow, *authenticator, holder, [store_ptr] { return store_ptr->Ping(); }, clock);
  if (Status s = server.Start(); !s.ok()) return Fail(s.message());
  // Jobs start after the API is up, so that overdue revocations run while requests arrive.
  if (Status s = scheduler.Start(); !s.ok()) {
    server.Stop();
    return Fail(s.ToString());
  }

  std::string host = listen.substr(0, listen.rfind(':'));
  std::string url = "http://" + host + ":" + std::to_string(server.port());
  PrintDevBanner(url, data);
  spdlog::info("ready on {}", url);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  server.Stop();
  scheduler.Stop();
  return 0;
}

// `jit emulator`: the local Identity Center on its own, until SIGINT or SIGTERM.
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
    if (!seed.has_value()) return Fail(seed.error().message());
    options.seed = std::move(seed).value();
  }
  RealClock clock;
  emulator::Emulator emu(options, clock);
  if (Status s = emu.Start(); !s.ok()) return Fail(s.message());
  std::printf("jit emulator listening on %s\n", emu.url().c_str());
  std::printf("  access key id: %s   region: %s\n", options.access_key_id.c_str(),
              options.region.c_str());
  std::printf("  state: GET %s/_emulator/state\n", emu.url().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  emu.Stop();
  return 0;
}

}  // namespace
}  // namespace jit

int main(int argc, char** argv) {
  return jit::cli::Run(argc, argv, std::cout, std::cerr,
                       jit::cli::Commands{jit::Serve, jit::RunEmulator});
}
