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
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "api/server.h"
#include "api/session.h"
#include "api/slack.h"
#include "api/ui.h"
#include "audit/checkpoint.h"
#include "audit/trail.h"
#include "auth/auth.h"
#include "auth/jwt.h"
#include "auth/oidc_login.h"
#include "aws/call_health.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/url.h"
#include "emulator/emulator.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "provider/identity_center.h"
#include "provider/session_gap.h"
#include "scheduler/scheduler.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "workflow/broker_metrics.h"
#include "workflow/notifications.h"
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
  return InvalidArgumentError("store: '" + store::RedactPostgresUrl(store_url) +
                              "' is neither sqlite:///PATH nor postgres://USER@HOST:PORT/DB");
}

// The store the config names, opened.
struct OpenedStore {
  std::unique_ptr<store::Store> store;
  // PostgreSQL: other replicas may share it (their leases are alive; re-scan for their jobs).
  bool shared = false;
};

// SQLite (the default): one process per database, so the data folder is locked and the
// leases of a dead predecessor are void. PostgreSQL (postgres:// or postgresql://): any number
// of replicas, so neither; the password comes from the URL or libpq's PGPASSWORD / PGPASSFILE
// and never reaches a log (the URL is redacted).
Result<OpenedStore> OpenStore(const std::string& store_url, const std::filesystem::path& data,
                              DataDirLock& lock, Clock& clock) {
  OpenedStore out;
  if (store::IsPostgresUrl(store_url)) {
    store::PostgresOptions pg;
    pg.url = store_url;
    JIT_ASSIGN_OR_RETURN(out.store, store::OpenPostgresStore(pg, clock));
    out.shared = true;
    spdlog::info("store: PostgreSQL at {} (shared with any other replicas)",
                 store::RedactPostgresUrl(store_url));
    return out;
  }
  JIT_ASSIGN_OR_RETURN(std::string path, SqlitePath(store_url, data));
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec) return UnavailableError("cannot create " + data.string() + ": " + ec.message());
  JIT_RETURN_IF_ERROR(lock.Acquire(data));
  store::SqliteOptions sqlite;
  sqlite.path = path;
  JIT_ASSIGN_OR_RETURN(out.store, store::OpenSqliteStore(sqlite, clock));
  // One process owns this database (the lock above): leases of a dead predecessor are void.
  JIT_RETURN_IF_ERROR(out.store->ReleaseAllLeases());
  return out;
}

// A lease owner unique to this process among replicas: host, pid and a random part (a pid
// can come back after a restart, or repeat on another host).
std::string LeaseOwner() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "jit");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(rd()));
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + suffix;
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
  std::unique_ptr<aws::CallHealth> health;  // outlives the clients that report to it
  std::unique_ptr<aws::HttpTransport> http;
  std::unique_ptr<aws::CredentialSource> credentials;
  std::unique_ptr<aws::Limiter> limiter;
  std::unique_ptr<aws::JsonClient> sso_admin;
  std::unique_ptr<aws::JsonClient> identity_store;
  std::unique_ptr<provider::IdentityCenterProvider> provider;
};

// The config's `aws:` section, completed from the environment (region, endpoint overrides).
Result<IdentityCenterSettings> SettingsFromConfig(const config::Config& config,
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

// Builds the provider. `credentials` null: the default credential chain of `env`. `observer`
// (may be empty) hears every call's outcome, as does the provider's CallHealth.
Result<std::unique_ptr<IdentityCenter>> ConnectIdentityCenter(
    const IdentityCenterSettings& settings, std::unique_ptr<aws::CredentialSource> credentials,
    const aws::Environment& env, Clock& clock, aws::CallObserver observer = {}) {
  auto ic = std::make_unique<IdentityCenter>();
  ic->health = std::make_unique<aws::CallHealth>(clock);
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
  aws::CallHealth* health = ic->health.get();
  auto tell = [health, observer](const std::string& operation, std::string_view outcome) {
    health->Record(operation, outcome);
    if (observer) observer(operation, outcome);
  };
  ic->sso_admin->SetObserver(tell);
  ic->identity_store->SetObserver(tell);
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
Result<std::vector<std::string>> CheckAws(const config::Config& config) {
  RealClock clock;
  aws::Environment env = aws::Environment::FromProcess();
  JIT_ASSIGN_OR_RETURN(IdentityCenterSettings settings, SettingsFromConfig(config, env));
  JIT_ASSIGN_OR_RETURN(auto ic, ConnectIdentityCenter(settings, nullptr, env, clock));
  return AwsWarnings(*ic->provider, config.policy);
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
Result<std::unique_ptr<WebUi>> BuildWebUi(const config::Config& config,
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
  if (const auth::OidcConfig& oidc = config.auth.oidc; !oidc.Empty()) {
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

// Who may call, as built from the config in force; rebuilt on SIGHUP.
struct AuthState {
  std::vector<auth::DevUser> dev_users;  // dev mode only
  aws::HttpTransport* jwks_http = nullptr;
  Clock* clock = nullptr;
  auth::BrokerAuth built;  // what `swappable` forwards to
  std::unique_ptr<auth::SwappableAuthenticator> swappable;
};

// SIGHUP: reads the config file again and puts it in force when it is valid, with the
// authenticator (static tokens, OIDC) and the notification channels built from it; otherwise
// keeps the old config, authenticator and channels and logs the first error. Settings read once
// at start (config::SettingsNeedingRestart: listen address, store, aws, audit, ui and the UI's
// sign-in client) need a restart, and a warning names those that changed; rules, accounts,
// permission sets, roles, auth and notify apply at once.
void ReloadConfig(const cli::ServeOptions& opts, config::ConfigHolder& holder, AuthState& auth,
                  notify::Notifier& notifier, const notify::NotifierDeps& notify_deps) {
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
  Result<auth::BrokerAuth> built =
      auth::BuildBrokerAuth(next->auth, auth.dev_users, *auth.jwks_http, *auth.clock, &auth.built);
  if (!built.has_value()) {
    spdlog::error("SIGHUP: keeping the old config: {}", built.error().message());
    return;
  }
  // The notification channels follow the file; when they cannot be built, nothing changes.
  auto channels = notify::NewChannels(next->notify, notify_deps);
  if (!channels.has_value()) {
    spdlog::error("SIGHUP: keeping the old config: notify: {}", channels.error().message());
    return;
  }
  std::vector<std::string> pending = config::SettingsNeedingRestart(*holder.Get(), *next);
  holder.Set(std::move(next).value());
  auth.built = std::move(built).value();
  auth.swappable->Set(auth.built.authenticator);
  notifier.SetChannels(std::move(channels).value());
  spdlog::info("SIGHUP: reloaded the config from {}", opts.config_file);
  if (!pending.empty()) {
    std::string keys;
    for (const std::string& k : pending) keys += (keys.empty() ? "" : ", ") + k;
    spdlog::warn("SIGHUP: {} changed; read at start only, the new value applies after a restart",
                 keys);
  }
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
  std::string log_format = opts.log_format.empty() ? (opts.dev ? "text" : "json") : opts.log_format;
  logger->set_formatter(log_format == "json" ? logging::NewJsonFormatter()
                                             : logging::NewTextFormatter());
  spdlog::set_default_logger(logger);

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
  aws::Environment env = aws::Environment::FromProcess();
  Result<IdentityCenterSettings> aws_settings = IdentityCenterSettings{};
  if (!opts.dev) {
    aws_settings = SettingsFromConfig(*config, env);
    if (!aws_settings.has_value()) return Fail(aws_settings.error().message());
  }

  // Data folder and store.
  std::filesystem::path data = opts.data_dir.empty() ? "./jit-data" : opts.data_dir;
  DataDirLock lock;
  RealClock clock;
  auto opened = OpenStore(config->store, data, lock, clock);
  if (!opened.has_value()) return Fail(opened.error().ToString());
  std::unique_ptr<store::Store> store = std::move(opened->store);
  const bool shared_store = opened->shared;

  std::string listen = opts.listen;
  if (listen.empty()) listen = config->server.listen;
  config::ConfigHolder holder(std::move(config).value());

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
  MetricsRegistry registry;
  workflow::BrokerMetrics metrics(registry);
  auto connected =
      ConnectIdentityCenter(*aws_settings, std::move(credentials), env, clock,
                            [&metrics](const std::string& op, std::string_view outcome) {
                              metrics.ProviderCall(op, outcome);
                            });
  if (!connected.has_value()) return Fail(connected.error().message());
  std::unique_ptr<IdentityCenter> identity_center = std::move(connected).value();
  provider::IdentityCenterProvider& provider = *identity_center->provider;
  if (!opts.dev) {
    spdlog::info("Identity Center: {} in {} ({})", aws_settings->instance_arn, aws_settings->region,
                 aws_settings->sso_admin_endpoint);
    auto warnings = AwsWarnings(provider, holder.Get()->policy);
    if (!warnings.has_value()) {
      spdlog::warn("cannot read the permission sets from Identity Center: {}",
                   warnings.error().ToString());
    } else {
      for (const std::string& w : *warnings) spdlog::warn("{}", w);
    }
  }

  // Notification channels (docs/NOTIFY.md). The AWS ones sign with the provider's credentials;
  // in dev mode they talk to the embedded emulator, like Identity Center does.
  std::unique_ptr<aws::HttpTransport> notify_http = aws::NewCurlTransport();
  notify::NotifierDeps notify_deps{.http = *notify_http, .clock = clock};
  notify_deps.aws_credentials = identity_center->credentials.get();
  notify_deps.env = env;
  notify_deps.default_region = aws_settings->region;
  notify_deps.directory = &provider;
  if (opts.dev) {
    for (const char* id : {"SNS", "EVENTBRIDGE", "SECURITYHUB", "STS"}) {
      notify_deps.env.vars["AWS_ENDPOINT_URL_" + std::string(id)] = emu->url();
    }
  }
  auto made_notifier = notify::NewNotifier(holder.Get()->notify, notify_deps);
  if (!made_notifier.has_value()) return Fail("notify: " + made_notifier.error().message());
  std::unique_ptr<notify::Notifier> notifier = std::move(made_notifier).value();
  for (const std::string& name : notifier->ChannelNames()) {
    spdlog::info("notify: channel {} ready", name);
  }

  // Who hears what: notify jobs put in the same transaction as each step.
  workflow::Notifications notifications(*notifier, holder, clock, &registry);

  workflow::WorkflowOptions flow_opts;
  flow_opts.directory = &provider;
  flow_opts.observer = &metrics;
  flow_opts.notifications = &notifications;
  // The emulator finishes creates and deletes within a fraction of a second (AWS takes
  // seconds): poll it often, so that dev-mode grants start and end promptly.
  if (opts.dev) flow_opts.poll_interval = Duration(100);
  workflow::Workflow flow(*store, holder, provider, clock, flow_opts);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 4;
  sched_opts.owner = LeaseOwner();
  if (shared_store) {
    // Other replicas: learn of their jobs every second, and keep leases short (renewed while
    // a job runs) so that a dead replica's revocations are taken over within seconds.
    sched_opts.lease = Duration(5000);
    sched_opts.rescan_interval = Duration(1000);
    sched_opts.rescan_horizon = Duration(10'000);
  }
  scheduler::Scheduler scheduler(*store, flow, clock, sched_opts);
  store::Store* store_ptr = store.get();
  metrics.SetActiveGrants([store_ptr]() -> double {
    store::RequestFilter f;
    f.state = store::RequestState::kActive;
    f.limit = 500;
    double n = 0;
    for (int page = 0; page < 200; ++page) {
      Result<store::RequestPage> p = store_ptr->ListRequests(f);
      if (!p.has_value()) break;
      n += static_cast<double>(p->items.size());
      if (p->next_cursor.empty()) break;
      f.cursor = p->next_cursor;
    }
    return n;
  });
  metrics.SetJobsPending([&scheduler] {
    std::map<std::string, double> out;
    for (const auto& [kind, n] : scheduler.Stats().pending) {
      out[std::string(store::JobKindName(kind))] = static_cast<double>(n);
    }
    return out;
  });
  metrics.SetRevocationsOverdue(
      [&scheduler] { return static_cast<double>(scheduler.Stats().overdue_revocations); });

  // Signed checkpoints of the audit trail: from the config, or in dev mode a key made in the
  // data folder on first start.
  std::unique_ptr<audit::CheckpointKey> checkpoint_key;
  std::string key_file = holder.Get()->audit.checkpoint_key_file;
  if (key_file.empty() && opts.dev) {
    key_file = (data / "audit-key.pem").string();
    if (!std::filesystem::exists(key_file)) {
      auto made = audit::CheckpointKey::Generate(key_file);
      if (!made.has_value()) return Fail("audit: " + made.error().message());
    }
  }
  if (!key_file.empty()) {
    auto key = audit::CheckpointKey::FromPemFile(key_file);
    if (!key.has_value()) return Fail("audit: " + key.error().message());
    checkpoint_key = std::move(key).value();
  }
  std::string checkpoint_file = holder.Get()->audit.checkpoint_file;
  if (checkpoint_file.empty()) checkpoint_file = (data / "audit-checkpoints.jsonl").string();
  audit::CheckpointLog checkpoint_log(checkpoint_file);
  audit::EventReader read_audit = [store_ptr](std::int64_t after, int limit) {
    return store_ptr->ListAudit(after, limit);
  };
  std::unique_ptr<audit::Checkpointer> checkpointer;
  if (checkpoint_key) {
    checkpointer =
        std::make_unique<audit::Checkpointer>(read_audit, *checkpoint_key, checkpoint_log, clock,
                                              holder.Get()->audit.checkpoint_interval);
    if (Status s = checkpointer->Start(); !s.ok()) return Fail("audit: " + s.message());
    spdlog::info("audit checkpoints signed by key {} every {} into {}", checkpoint_key->KeyId(),
                 FormatDuration(holder.Get()->audit.checkpoint_interval), checkpoint_file);
  } else {
    spdlog::warn(
        "audit: no checkpoint_key_file: the audit trail is hash-chained but not checkpointed, so "
        "a cut-off tail would go unnoticed");
  }
  api::ApiHooks hooks;
  hooks.metrics = [&registry] { return registry.Render(); };
  hooks.verify_audit = [read_audit, &checkpoint_log,
                        key = checkpoint_key.get()]() -> Result<audit::TrailReport> {
    JIT_ASSIGN_OR_RETURN(std::vector<audit::Checkpoint> checkpoints, checkpoint_log.ReadAll());
    return audit::VerifyTrail(read_audit, checkpoints, key);
  };

  // Static tokens (and dev users) first, then OIDC bearer tokens when auth.oidc is set.
  std::unique_ptr<aws::HttpTransport> jwks_http = aws::NewCurlTransport();
  AuthState auth_state;
  if (opts.dev) auth_state.dev_users = auth::DevUsers();
  auth_state.jwks_http = jwks_http.get();
  auth_state.clock = &clock;
  Result<auth::BrokerAuth> built =
      auth::BuildBrokerAuth(holder.Get()->auth, auth_state.dev_users, *jwks_http, clock, nullptr);
  if (!built.has_value()) return Fail(built.error().message());
  auth_state.built = std::move(built).value();
  auth_state.swappable =
      std::make_unique<auth::SwappableAuthenticator>(auth_state.built.authenticator);
  if (const auth::OidcConfig& oidc = holder.Get()->auth.oidc; !oidc.Empty()) {
    spdlog::info("OIDC bearer tokens from issuer {} accepted", oidc.issuer);
  }
  auth::Authenticator* authenticator = auth_state.swappable.get();

  // Approve / Deny buttons in Slack (POST /v1/slack/interactions).
  auto slack_apps = notify::SlackAppsFromConfig(holder.Get()->notify);
  if (!slack_apps.has_value()) return Fail("notify: " + slack_apps.error().message());
  std::unique_ptr<api::SlackInteractions> slack;
  if (!slack_apps->empty()) {
    slack = std::make_unique<api::SlackInteractions>(std::move(slack_apps).value(), flow, provider,
                                                     *notify_http, clock);
    spdlog::info("Slack interactions accepted at /v1/slack/interactions");
  }
  auto web_ui = BuildWebUi(*holder.Get(), auth_state.dev_users, clock);
  if (!web_ui.has_value()) return Fail(web_ui.error().message());

  api::HttpServerOptions http;
  http.listen = listen;
  http.loopback_only = opts.dev;
  hooks.slack = slack.get();
  hooks.ui = (*web_ui)->ui.get();
  aws::CallHealth* provider_health = identity_center->health.get();
  api::HttpServer server(
      http, flow, *authenticator, holder,
      [store_ptr, provider_health]() -> Status {
        if (Status s = store_ptr->Ping(); !s.ok()) return s.WithContext("store");
        if (Status s = provider_health->Check(); !s.ok()) return s.WithContext("Identity Center");
        return OkStatus();
      },
      clock, hooks);
  if (Status s = server.Start(); !s.ok()) return Fail(s.message());
  // Jobs start after the API is up, so that overdue revocations run while requests arrive.
  if (Status s = scheduler.Start(); !s.ok()) {
    server.Stop();
    return Fail(s.ToString());
  }

  // Drift between the ledger and Identity Center: at start, then every few minutes.
  workflow::ReconcilerOptions reconciler_opts;
  reconciler_opts.observer = &metrics;
  reconciler_opts.notifications = &notifications;
  workflow::Reconciler reconciler(*store, provider, clock, reconciler_opts);
  if (Status s = reconciler.Start(); !s.ok()) {
    server.Stop();
    scheduler.Stop();
    return Fail(s.ToString());
  }

  std::string host = listen.substr(0, listen.rfind(':'));
  std::string url = "http://" + host + ":" + std::to_string(server.port());
  (*web_ui)->ui->SetListenUrl(url);
  if (!IsHttpsOrLoopbackHttpUrl((*web_ui)->ui->BaseUrl())) {
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
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    ReloadConfig(opts, holder, auth_state, *notifier, notify_deps);
  }
  spdlog::info("signal {}: stopping", sig);
  server.Stop();
  reconciler.Stop();
  scheduler.Stop();
  if (checkpointer) checkpointer->Stop();  // a last checkpoint of everything written
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
