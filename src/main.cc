// The one place that wires objects together: `jit serve` builds the broker here; every other
// subcommand is a client of its HTTP API (src/cli).

#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "api/server.h"
#include "api/session.h"
#include "api/ui.h"
#include "auth/auth.h"
#include "auth/jwt.h"
#include "auth/oidc_login.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "emulator/emulator.h"
#include "policy/config.h"
#include "provider/identity_center.h"
#include "provider/session_gap.h"
#include "scheduler/scheduler.h"
#include "store/sqlite_store.h"
#include "workflow/reconciler.h"
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

// Where Identity Center is and which instance jit manages.
struct IdentityCenterSettings {
  std::string region;
  std::string sso_admin_endpoint;
  std::string identity_store_endpoint;
  std::string instance_arn;
  std::string identity_store_id;
};

// The Identity Center provider with everything it stands on; members are destroyed in reverse
// order, the provider first.
struct IdentityCenter {
  std::unique_ptr<aws::HttpTransport> http;
  std::unique_ptr<aws::CredentialSource> credentials;
  std::unique_ptr<aws::Limiter> limiter;
  std::unique_ptr<aws::JsonClient> sso_admin;
  std::unique_ptr<aws::JsonClient> identity_store;
  std::unique_ptr<provider::IdentityCenterProvider> provider;
};

// The config's `aws:` section, completed from the environment (region, endpoint overrides).
Result<IdentityCenterSettings> SettingsFromConfig(const policy::Config& config,
                                                  const aws::Environment& env) {
  if (config.aws.instance_arn.empty() || config.aws.identity_store_id.empty()) {
    return InvalidArgumentError(
        "the config has no aws section (region, instance_arn, identity_store_id): jit cannot "
        "reach Identity Center without it");
  }
  IdentityCenterSettings s;
  s.region = config.aws.region;
  if (s.region.empty()) {
    Result<std::string> region = aws::ResolveRegion(env);
    if (!region.has_value()) {
      return InvalidArgumentError("no AWS region: set aws.region in the config, or AWS_REGION");
    }
    s.region = *region;
  }
  s.sso_admin_endpoint = aws::ResolveEndpoint(env, "SSO_ADMIN", "sso", s.region);
  s.identity_store_endpoint = aws::ResolveEndpoint(env, "IDENTITYSTORE", "identitystore", s.region);
  s.instance_arn = config.aws.instance_arn;
  s.identity_store_id = config.aws.identity_store_id;
  return s;
}

// Builds the provider. `credentials` null: the default credential chain of `env`.
Result<std::unique_ptr<IdentityCenter>> ConnectIdentityCenter(
    const IdentityCenterSettings& settings, std::unique_ptr<aws::CredentialSource> credentials,
    const aws::Environment& env, Clock& clock) {
  auto ic = std::make_unique<IdentityCenter>();
  ic->http = aws::NewCurlTransport();
  ic->credentials =
      credentials ? std::move(credentials) : aws::NewDefaultCredentialChain(env, *ic->http, clock);
  ic->limiter = aws::NewLimiter(clock);
  ic->sso_admin = std::make_unique<aws::JsonClient>(
      provider::SsoAdminSpec(settings.sso_admin_endpoint, settings.region), *ic->http,
      *ic->credentials, *ic->limiter, clock);
  ic->identity_store = std::make_unique<aws::JsonClient>(
      provider::IdentityStoreSpec(settings.identity_store_endpoint, settings.region), *ic->http,
      *ic->credentials, *ic->limiter, clock);
  provider::IdentityCenterOptions options;
  options.instance_arn = settings.instance_arn;
  options.identity_store_id = settings.identity_store_id;
  if (Status s = options.Validate(); !s.ok()) return s;
  ic->provider = std::make_unique<provider::IdentityCenterProvider>(
      options, *ic->sso_admin, *ic->identity_store, *ic->limiter, clock);
  return ic;
}

// What Identity Center says about the config: permission sets it does not have, and those
// whose sessions outlive the longest grant (AWS sessions outlive a deleted assignment).
Result<std::vector<std::string>> AwsWarnings(provider::IdentityCenterProvider& ic,
                                             const policy::Config& config) {
  JIT_ASSIGN_OR_RETURN(std::vector<provider::PermissionSetInfo> sets, ic.ListPermissionSets());
  std::vector<std::string> out;
  for (const policy::PermissionSet& ps : config.permission_sets) {
    bool listed = std::any_of(sets.begin(), sets.end(), [&](const provider::PermissionSetInfo& i) {
      return i.arn == ps.arn;
    });
    if (!listed) {
      out.push_back("permission set " + ps.name + ": " + ps.arn +
                    " is not a permission set of the Identity Center instance");
    }
  }
  for (std::string& w : provider::SessionGapWarnings(sets, config)) out.push_back(std::move(w));
  return out;
}

// `jit config check FILE --aws`.
Result<std::vector<std::string>> CheckAws(const policy::Config& config) {
  RealClock clock;
  aws::Environment env = aws::Environment::FromProcess();
  JIT_ASSIGN_OR_RETURN(IdentityCenterSettings settings, SettingsFromConfig(config, env));
  JIT_ASSIGN_OR_RETURN(auto ic, ConnectIdentityCenter(settings, nullptr, env, clock));
  return AwsWarnings(*ic->provider, config);
}

// The web UI with what it stands on; members are destroyed in reverse order, the UI first.
struct WebUi {
  std::unique_ptr<aws::HttpTransport> http;  // for the OIDC sign-in
  std::unique_ptr<auth::OidcLogin> oidc;     // null without auth.oidc
  std::unique_ptr<api::Ui> ui;
};

// The file's text less trailing newlines; NotFound when unreadable, InvalidArgument if empty.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) return InvalidArgumentError(what + " " + path + " is empty");
  return secret;
}

// Sessions signed with ui.session_key_file (every replica must have the same) or, without
// one, a key of this process; the OIDC sign-in when auth.oidc is set; the dev users in dev
// mode.
Result<std::unique_ptr<WebUi>> BuildWebUi(const policy::Config& config,
                                          std::vector<auth::DevUser> dev_users, Clock& clock) {
  auto w = std::make_unique<WebUi>();
  std::optional<api::CookieSigner> signer;
  if (!config.ui.session_key_file.empty()) {
    Result<std::string> key = api::ReadSessionKeyFile(config.ui.session_key_file);
    if (!key.has_value()) {
      return Status(key.error().code(), "ui.session_key_file: " + key.error().message());
    }
    Result<api::CookieSigner> made = api::CookieSigner::Create(*key);
    if (!made.has_value()) return made.error();
    signer.emplace(*std::move(made));
  } else {
    signer.emplace(api::CookieSigner::WithRandomKey());
    if (dev_users.empty()) {
      spdlog::warn(
          "ui: no ui.session_key_file: web UI sessions end when this process stops and are not "
          "shared with other replicas");
    }
  }
  if (const policy::OidcConfig& oidc = config.oidc; !oidc.Empty()) {
    w->http = aws::NewCurlTransport();
    auth::OidcSettings verify = auth::OidcSettingsFromConfig(oidc);
    verify.audience = oidc.LoginClientId();  // an id_token is for the UI's client
    auto verifier = auth::NewOidcAuthenticator(verify, *w->http, clock);
    if (!verifier.has_value()) {
      return Status(verifier.error().code(), "auth.oidc: " + verifier.error().message());
    }
    auth::OidcLoginSettings login;
    login.issuer = oidc.issuer;
    login.client_id = oidc.LoginClientId();
    login.scopes = oidc.scopes;
    if (!oidc.client_secret_file.empty()) {
      JIT_ASSIGN_OR_RETURN(login.client_secret,
                           ReadSecretFile(oidc.client_secret_file, "auth.oidc.client_secret_file"));
    }
    JIT_RETURN_IF_ERROR(login.Validate());
    w->oidc = std::make_unique<auth::OidcLogin>(std::move(login), std::move(verifier).value(),
                                                *w->http, clock);
  }
  api::UiOptions options;
  options.dev_users = std::move(dev_users);
  options.session_lifetime = config.ui.session_lifetime;
  options.public_url = config.server.public_url;
  w->ui = std::make_unique<api::Ui>(std::move(options), *std::move(signer), w->oidc.get(), clock);
  return w;
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

// SIGHUP: reads the config file again and puts it in force when it is valid; otherwise keeps
// the old one and logs the first error. Settings read once at start (listen address, store,
// aws, auth tokens) need a restart; rules, accounts, permission sets and roles apply at once.
void ReloadConfig(const cli::ServeOptions& opts, policy::ConfigHolder& holder) {
  if (opts.config_file.empty()) {
    spdlog::info("SIGHUP: nothing to reload (serving the built-in dev config; no --config)");
    return;
  }
  Result<policy::Config> next = policy::LoadConfigFile(opts.config_file);
  if (!next.has_value()) {
    std::string why = next.error().message();
    why = why.substr(0, why.find('\n'));
    spdlog::error("SIGHUP: keeping the old config: {}", why);
    return;
  }
  holder.Set(std::move(next).value());
  spdlog::info("SIGHUP: reloaded the config from {}", opts.config_file);
}

int Serve(const cli::ServeOptions& opts) {
  // Block the stop and reload signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
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
  aws::Environment env = aws::Environment::FromProcess();
  Result<IdentityCenterSettings> aws_settings = IdentityCenterSettings{};
  if (!opts.dev) {
    aws_settings = SettingsFromConfig(*config, env);
    if (!aws_settings.has_value()) return Fail(aws_settings.error().message());
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

  // Identity Center: in dev mode the embedded emulator, spoken to over the same signed wire
  // protocol as AWS; otherwise AWS itself with the default credential chain.
  std::unique_ptr<emulator::Emulator> emu;
  std::unique_ptr<aws::CredentialSource> credentials;
  if (opts.dev) {
    emulator::EmulatorOptions eo;
    eo.listen = opts.emulator_listen.empty() ? "127.0.0.1:0" : opts.emulator_listen;
    emu = std::make_unique<emulator::Emulator>(eo, clock);
    if (Status s = emu->Start(); !s.ok()) return Fail("emulator: " + s.message());
    aws_settings->region = eo.region;
    aws_settings->sso_admin_endpoint = emu->url();
    aws_settings->identity_store_endpoint = emu->url();
    aws_settings->instance_arn = eo.seed.instance.arn;
    aws_settings->identity_store_id = eo.seed.instance.identity_store_id;
    credentials = aws::NewStaticCredentials({eo.access_key_id, eo.secret_access_key, "", {}});
  }
  auto connected = ConnectIdentityCenter(*aws_settings, std::move(credentials), env, clock);
  if (!connected.has_value()) return Fail(connected.error().message());
  std::unique_ptr<IdentityCenter> identity_center = std::move(connected).value();
  provider::IdentityCenterProvider& provider = *identity_center->provider;
  if (!opts.dev) {
    spdlog::info("Identity Center: {} in {} ({})", aws_settings->instance_arn, aws_settings->region,
                 aws_settings->sso_admin_endpoint);
    auto warnings = AwsWarnings(provider, *holder.Get());
    if (!warnings.has_value()) {
      spdlog::warn("cannot read the permission sets from Identity Center: {}",
                   warnings.error().ToString());
    } else {
      for (const std::string& w : *warnings) spdlog::warn("{}", w);
    }
  }

  workflow::WorkflowOptions flow_opts;
  flow_opts.directory = &provider;
  // The emulator finishes creates and deletes within a fraction of a second (AWS takes
  // seconds): poll it often, so that dev-mode grants start and end promptly.
  if (opts.dev) flow_opts.poll_interval = Duration(100);
  workflow::Workflow flow(*store, holder, provider, clock, flow_opts);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 4;
  sched_opts.owner = "jit-" + std::to_string(::getpid());
  scheduler::Scheduler scheduler(*store, flow, clock, sched_opts);

  std::vector<auth::DevUser> dev_users;
  if (opts.dev) dev_users = auth::DevUsers();
  // Static tokens (and dev users) first, then OIDC bearer tokens when auth.oidc is set.
  std::vector<std::unique_ptr<auth::Authenticator>> authenticators;
  authenticators.push_back(auth::NewStaticAuthenticator(dev_users, holder.Get()->tokens));
  std::unique_ptr<aws::HttpTransport> jwks_http;
  if (const policy::OidcConfig& oidc = holder.Get()->oidc; !oidc.Empty()) {
    jwks_http = aws::NewCurlTransport();
    auto verifier =
        auth::NewOidcAuthenticator(auth::OidcSettingsFromConfig(oidc), *jwks_http, clock);
    if (!verifier.has_value()) return Fail("auth.oidc: " + verifier.error().message());
    authenticators.push_back(std::move(verifier).value());
    spdlog::info("OIDC bearer tokens from issuer {} accepted", oidc.issuer);
  }
  auto authenticator = auth::NewChainAuthenticator(std::move(authenticators));
  auto web_ui = BuildWebUi(*holder.Get(), dev_users, clock);
  if (!web_ui.has_value()) return Fail(web_ui.error().message());

  api::HttpServerOptions http;
  http.listen = listen;
  http.loopback_only = opts.dev;
  store::Store* store_ptr = store.get();
  api::HttpServer server(
      http, flow, *authenticator, holder, [store_ptr] { return store_ptr->Ping(); }, clock,
      (*web_ui)->ui.get());
  if (Status s = server.Start(); !s.ok()) return Fail(s.message());
  // Jobs start after the API is up, so that overdue revocations run while requests arrive.
  if (Status s = scheduler.Start(); !s.ok()) {
    server.Stop();
    return Fail(s.ToString());
  }

  // Drift between the ledger and Identity Center: at start, then every few minutes.
  workflow::Reconciler reconciler(*store, provider, clock);
  if (Status s = reconciler.Start(); !s.ok()) {
    server.Stop();
    scheduler.Stop();
    return Fail(s.ToString());
  }

  std::string host = listen.substr(0, listen.rfind(':'));
  std::string url = "http://" + host + ":" + std::to_string(server.port());
  (*web_ui)->ui->SetListenUrl(url);
  if (!policy::IsHttpsOrLoopbackHttpUrl((*web_ui)->ui->BaseUrl())) {
    spdlog::warn(
        "ui: {} is plain http beyond loopback: browsers drop the web UI's Secure cookies there "
        "and the OIDC sign-in needs https; set server.public_url to the https address in front "
        "of jit",
        (*web_ui)->ui->BaseUrl());
  }
  if (opts.dev) {
    PrintDevBanner(url, data, emu->url());
  } else {
    std::printf("jit server listening on %s\n", url.c_str());
    std::printf("  web UI: %s/\n", (*web_ui)->ui->BaseUrl().c_str());
    std::fflush(stdout);
  }
  spdlog::info("ready on {}", url);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) ReloadConfig(opts, holder);
  spdlog::info("signal {}: stopping", sig);
  server.Stop();
  reconciler.Stop();
  scheduler.Stop();
  if (emu) emu->Stop();
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
                       jit::cli::Commands{jit::Serve, jit::RunEmulator, jit::CheckAws});
}
