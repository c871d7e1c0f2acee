#include "app/broker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <utility>

#include "app/approver_directory.h"
#include "app/health_metrics.h"
#include "config/config.h"
#include "core/duration.h"
#include "core/url.h"
#include "net/connection_limits.h"
#include "notify/directory.h"
#include "provider/provider.h"
#include "store/postgres_store.h"
#include "workflow/sent_messages.h"

namespace jit::app {
namespace {

// `s` with `prefix` before its message.
Status Prefixed(std::string_view prefix, const Status& s) {
  return Status(s.code(), std::string(prefix) + s.message());
}

// `s` with its code's name in its message too ("InvalidArgument: ..."), as `jit serve`
// prints the errors of the store and the scheduler.
Status Spelled(const Status& s) { return Status(s.code(), s.ToString()); }

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

// The cap on the API's open connections (issue 15): server.max_connections, or what the
// process's open-file limit leaves after a reserve for the broker's own outbound calls (AWS,
// notifications, OIDC keys), its store and its logs, so that a connection flood cannot take the
// descriptors that revocations need. Logs the choice.
int ChooseApiMaxConnections(int configured) {
  Result<net::FileLimit> limit = net::CurrentFileLimit();
  // getrlimit does not fail on Linux; if it did, assume systemd's default soft limit.
  std::uint64_t soft = limit.has_value() ? limit->soft : 1024;
  net::ConnectionCap cap = net::ChooseMaxConnections(
      configured > 0 ? std::optional<int>(configured) : std::nullopt, soft);
  if (!cap.warning.empty()) spdlog::warn("{}", cap.warning);
  spdlog::info(
      "http: at most {} connections open at once ({}; {} of {} open files kept for "
      "the broker's own calls, store and logs)",
      cap.max_connections, configured > 0 ? "server.max_connections" : "from the open-file limit",
      net::ReservedDescriptors(soft), soft);
  return cap.max_connections;
}

// The API's connection metrics (docs/OPERATIONS.md "Metrics"), read from the server when
// scraped. `server` must outlive `registry`'s scrapes.
void DeclareHttpMetrics(MetricsRegistry& registry, const api::HttpServer& server,
                        int max_connections) {
  using Samples = std::map<LabelValues, double>;
  const api::HttpServer* s = &server;
  registry.DeclareGauge("jit_http_connections_open", "Client connections open now.", {}, [s] {
    return Samples{{{}, static_cast<double>(s->connections().open)}};
  });
  registry.DeclareGauge("jit_http_connections_max",
                        "The most client connections open at once (the cap).", {},
                        [max_connections] {
                          return Samples{{{}, static_cast<double>(max_connections)}};
                        });
  registry.DeclareCounterFunc(
      "jit_http_connections_evicted_total",
      "Idle client connections closed at the cap to make room for a new one.", {}, [s] {
        return Samples{{{}, static_cast<double>(s->connections().evicted)}};
      });
  registry.DeclareCounterFunc(
      "jit_http_connections_refused_total",
      "Client connections closed at once: the cap was reached and none was idle.", {}, [s] {
        return Samples{{{}, static_cast<double>(s->connections().refused)}};
      });
  registry.DeclareCounterFunc(
      "jit_http_accept_failures_total",
      "Accepts that failed (e.g. out of file descriptors); each is retried after a back-off.", {},
      [s] {
        return Samples{{{}, static_cast<double>(s->connections().accept_failures)}};
      });
}

}  // namespace

Broker::Broker(const BrokerOptions& options, Clock& clock)
    : options_(options),
      clock_(clock),
      env_(aws::Environment::FromProcess()),
      data_dir_(options.data_dir) {}

Broker::~Broker() {
  if (started_) Stop();
}

Result<std::unique_ptr<Broker>> Broker::Build(config::Config config, const BrokerOptions& options,
                                              Clock& clock) {
  std::unique_ptr<Broker> b(new Broker(options, clock));
  if (!options.dev) {
    Result<IdentityCenterSettings> settings = SettingsFromConfig(config, b->env_);
    if (!settings.has_value()) return settings.error();
    b->aws_settings_ = *std::move(settings);
  }
  JIT_RETURN_IF_ERROR(b->OpenStore(config));
  b->listen_ = options.listen;
  if (b->listen_.empty()) b->listen_ = config.server.listen;
  b->policy_ = std::make_unique<policy::ConfigHolder>(config.policy);
  b->holder_ = std::make_unique<config::ConfigHolder>(std::move(config));
  JIT_RETURN_IF_ERROR(b->StartEmulator());
  b->metrics_ = std::make_unique<workflow::BrokerMetrics>(b->registry_);
  JIT_RETURN_IF_ERROR(b->ConnectProvider());
  JIT_RETURN_IF_ERROR(b->BuildNotifier());
  JIT_RETURN_IF_ERROR(b->BuildTicketChecks());
  b->BuildWorkflow();
  b->CollectMetrics();
  JIT_RETURN_IF_ERROR(b->StartCheckpoints());
  b->CollectHealthMetrics();
  JIT_RETURN_IF_ERROR(b->BuildAuth());
  JIT_RETURN_IF_ERROR(b->BuildApi());
  return b;
}

Status Broker::OpenStore(const config::Config& config) {
  Result<store::OpenedStore> opened = store::OpenStore(config.store, data_dir_, clock_);
  if (!opened.has_value()) return Spelled(opened.error());
  store_ = *std::move(opened);
  if (store_.shared) {
    spdlog::info("store: PostgreSQL at {} (shared with any other replicas)",
                 store::RedactPostgresUrl(config.store));
  }
  return OkStatus();
}

// Identity Center: in dev mode the embedded emulator, spoken to over the same signed wire
// protocol as AWS; otherwise AWS itself with the default credential chain.
Status Broker::StartEmulator() {
  if (!options_.dev) return OkStatus();
  emulator::EmulatorOptions eo;
  eo.listen = options_.emulator_listen.empty() ? "127.0.0.1:0" : options_.emulator_listen;
  emulator_ = std::make_unique<emulator::Emulator>(eo, clock_);
  if (Status s = emulator_->Start(); !s.ok()) return Prefixed("emulator: ", s);
  aws_settings_.region = eo.region;
  aws_settings_.sso_admin_endpoint = emulator_->url();
  aws_settings_.identity_store_endpoint = emulator_->url();
  aws_settings_.organizations_endpoint = emulator_->url();
  aws_settings_.organizations_region = eo.region;
  aws_settings_.instance_arn = eo.seed.instance.arn;
  aws_settings_.identity_store_id = eo.seed.instance.identity_store_id;
  credentials_ = aws::NewStaticCredentials({eo.access_key_id, eo.secret_access_key, "", {}});
  return OkStatus();
}

Status Broker::ConnectProvider() {
  workflow::BrokerMetrics* metrics = metrics_.get();
  auto connected =
      ConnectIdentityCenter(aws_settings_, std::move(credentials_), env_, clock_,
                            [metrics](const std::string& op, std::string_view outcome) {
                              metrics->ProviderCall(op, outcome);
                            });
  if (!connected.has_value()) return connected.error();
  identity_center_ = std::move(connected).value();
  if (!options_.dev) {
    spdlog::info("Identity Center: {} in {} ({})", aws_settings_.instance_arn, aws_settings_.region,
                 aws_settings_.sso_admin_endpoint);
    auto warnings = AwsWarnings(*identity_center_, holder_->Get()->policy);
    if (!warnings.has_value()) {
      spdlog::warn("cannot read the permission sets from Identity Center: {}",
                   warnings.error().ToString());
    } else {
      for (const std::string& w : *warnings) spdlog::warn("{}", w);
    }
  }
  return OkStatus();
}

// Notification channels (docs/NOTIFY.md). The AWS ones sign with the provider's credentials;
// in dev mode they talk to the embedded emulator, like Identity Center does.
Status Broker::BuildNotifier() {
  notify_http_ = aws::NewCurlTransport();
  notify_deps_ = std::make_unique<notify::NotifierDeps>(
      notify::NotifierDeps{.http = *notify_http_, .clock = clock_});
  notify_deps_->aws_credentials = identity_center_->credentials.get();
  notify_deps_->env = env_;
  notify_deps_->default_region = aws_settings_.region;
  // The requester's e-mail and the approvers by name (docs/NOTIFY.md "Approvers by name").
  notify_directory_ = std::make_unique<ApproverDirectory>(
      *identity_center_->provider, *identity_center_->provider, *identity_center_->groups, clock_);
  notify_deps_->directory = notify_directory_.get();
  // The Slack messages posted about each request, updated after its decision.
  sent_messages_ = std::make_unique<workflow::StoreSentMessages>(*store_.store);
  notify_deps_->sent_messages = sent_messages_.get();
  if (options_.dev) {
    for (const char* id : {"SNS", "EVENTBRIDGE", "SECURITYHUB", "STS"}) {
      notify_deps_->env.vars["AWS_ENDPOINT_URL_" + std::string(id)] = emulator_->url();
    }
  }
  auto made_notifier = notify::NewNotifier(holder_->Get()->notify, *notify_deps_);
  if (!made_notifier.has_value()) return Prefixed("notify: ", made_notifier.error());
  notifier_ = std::move(made_notifier).value();
  for (const std::string& name : notifier_->ChannelNames()) {
    spdlog::info("notify: channel {} ready", name);
  }
  return OkStatus();
}

// Ticket checks (docs/POLICY.md "Ticket checks"): Jira, when the file has a `jira:` section.
Status Broker::BuildTicketChecks() {
  const tickets::JiraSettings& jira = holder_->Get()->jira;
  if (jira.line == 0) return OkStatus();
  tickets_http_ = aws::NewCurlTransport();
  auto made = tickets::NewJiraChecker(jira, *tickets_http_);
  if (!made.has_value()) return Prefixed("jira: ", made.error());
  tickets_ = std::move(made).value();
  spdlog::info("jira: ticket checks against {}", jira.url);
  return OkStatus();
}

void Broker::BuildWorkflow() {
  // Who hears what: notify jobs put in the same transaction as each step.
  notifications_ = std::make_unique<workflow::Notifications>(
      *notifier_, clock_, &registry_,
      workflow::NotificationOptions{.public_url = holder_->Get()->server.public_url});

  provider::IdentityCenterProvider& provider = *identity_center_->provider;
  workflow::WorkflowOptions flow_opts;
  flow_opts.directory = &provider;
  flow_opts.inventory = &provider;  // GET /v1/assignments/standing
  flow_opts.observer = metrics_.get();
  flow_opts.notifications = notifications_.get();
  flow_opts.tickets = tickets_.get();
  // The emulator finishes creates and deletes within a fraction of a second (AWS takes
  // seconds): poll it often, so that dev-mode grants start and end promptly.
  if (options_.dev) flow_opts.poll_interval = Duration(100);
  // Session cut-off (cutoff/engine.h): its audit events reach metrics and notifications as the
  // workflow's do.
  cutoff::EngineOptions cutoff_opts;
  if (options_.dev) cutoff_opts.poll_interval = Duration(250);
  cutoff_opts.transact = [this](const std::function<Status(store::Tx&)>& fn) {
    return workflow::TransactAndTell(*store_.store, metrics_.get(), fn, notifications_->Hook());
  };
  cutoff_ = std::make_unique<cutoff::Engine>(*store_.store, provider, provider, clock_,
                                             std::move(cutoff_opts));
  flow_opts.cutoff = cutoff_.get();
  // Revocation on a threat finding (POST /v1/findings): the `findings:` rules of the config in
  // force, so that a reload applies to the next delivery.
  config::ConfigHolder* holder = holder_.get();
  flow_opts.finding_rules = [holder]() -> std::shared_ptr<const findings::Settings> {
    std::shared_ptr<const config::Config> config = holder->Get();
    return {config, &config->findings};
  };
  // Session activity (activity/service.h): on with activity.role_name; in dev mode always, with
  // the emulator's STS and CloudTrail (any role can be assumed there).
  activity::Settings act = holder_->Get()->activity;
  if (options_.dev && !act.Enabled()) act.role_name = "jit-activity-reader";
  if (act.Enabled()) {
    activity::CloudTrailReaderOptions reader_opts;
    reader_opts.role_name = act.role_name;
    reader_opts.session_name = act.session_name;
    reader_opts.region = aws_settings_.region;
    reader_opts.sts_endpoint = options_.dev
                                   ? emulator_->url()
                                   : aws::ResolveEndpoint(env_, "STS", "sts", aws_settings_.region);
    reader_opts.cloudtrail_endpoint =
        options_.dev ? emulator_->url()
                     : aws::ResolveEndpoint(env_, "CloudTrail", "cloudtrail", aws_settings_.region);
    reader_opts.calls_per_second = act.calls_per_second;
    // LookupEvents attempts count in jit_provider_calls_total like every AWS call.
    workflow::BrokerMetrics* call_metrics = metrics_.get();
    reader_opts.observer = [call_metrics](const std::string& op, std::string_view outcome) {
      call_metrics->ProviderCall(op, outcome);
    };
    activity_reader_ = std::make_unique<activity::CloudTrailReader>(
        std::move(reader_opts), *identity_center_->http, *identity_center_->credentials, clock_);
    activity::ServiceOptions activity_opts;
    activity_opts.session_duration = [&provider](const std::string& ps) {
      return provider.SessionDuration(ps);
    };
    activity_opts.live_cache = act.live_cache;
    activity_opts.settle = act.settle;
    activity_opts.max_events = act.max_events;
    activity_opts.transact = [this](const std::function<Status(store::Tx&)>& fn) {
      return workflow::TransactAndTell(*store_.store, metrics_.get(), fn, notifications_->Hook());
    };
    activity_ = std::make_unique<activity::Service>(*store_.store, *activity_reader_, clock_,
                                                    std::move(activity_opts));
    flow_opts.activity = activity_.get();
    spdlog::info("session activity: CloudTrail through role {} in each account", act.role_name);
  }
  // Group targets (identity_center_groups) go to identitystore memberships, the rest to
  // account assignments (provider/group_target.h).
  workflow_ = std::make_unique<workflow::Workflow>(*store_.store, *policy_,
                                                   *identity_center_->targets, clock_, flow_opts);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 4;
  sched_opts.owner = LeaseOwner();
  if (store_.shared) {
    // Other replicas: learn of their jobs every second, and keep leases short (renewed while
    // a job runs) so that a dead replica's revocations are taken over within seconds.
    sched_opts.lease = Duration(5000);
    sched_opts.rescan_interval = Duration(1000);
    sched_opts.rescan_horizon = Duration(10'000);
  }
  scheduler_ =
      std::make_unique<scheduler::Scheduler>(*store_.store, *workflow_, clock_, sched_opts);

  // Accounts from AWS Organizations (org/refresher.h): the policy the workflow and the API
  // read is the file's with the organization's accounts resolved into it.
  org::RefresherOptions org_opts;
  org_opts.interval = holder_->Get()->aws.organizations_refresh;
  org_opts.metrics = &registry_;
  // The data folder holds the last snapshot read, when there is one (SQLite makes it).
  if (std::filesystem::is_directory(data_dir_))
    org_opts.cache_file = data_dir_ / "organization.json";
  provider::OrganizationsClient* organizations = identity_center_->organizations.get();
  org_refresher_ = std::make_unique<org::Refresher>(
      [organizations] { return organizations->ReadSnapshot(); }, holder_->Get()->policy, *policy_,
      *workflow_, *store_.store, clock_, std::move(org_opts));
}

// The gauges read at scrape time.
void Broker::CollectMetrics() {
  store::Store* store = store_.store.get();
  metrics_->SetActiveGrants([store] { return workflow::CountActiveGrants(*store); });
  scheduler::Scheduler* scheduler = scheduler_.get();
  metrics_->SetJobsPending([scheduler] {
    std::map<std::string, double> out;
    for (const auto& [kind, n] : scheduler->Stats().pending) {
      out[std::string(model::JobKindName(kind))] = static_cast<double>(n);
    }
    return out;
  });
  metrics_->SetRevocationsOverdue(
      [scheduler] { return static_cast<double>(scheduler->Stats().overdue_revocations); });
}

// Signed checkpoints of the audit trail: from the config, or in dev mode a key made in the
// data folder on first start.
Status Broker::StartCheckpoints() {
  std::string key_file = holder_->Get()->audit.checkpoint_key_file;
  if (key_file.empty() && options_.dev) {
    key_file = (data_dir_ / "audit-key.pem").string();
    if (!std::filesystem::exists(key_file)) {
      auto made = audit::CheckpointKey::Generate(key_file);
      if (!made.has_value()) return Prefixed("audit: ", made.error());
    }
  }
  if (!key_file.empty()) {
    auto key = audit::CheckpointKey::FromPemFile(key_file);
    if (!key.has_value()) return Prefixed("audit: ", key.error());
    checkpoint_key_ = std::move(key).value();
  }
  std::string checkpoint_file = holder_->Get()->audit.checkpoint_file;
  if (checkpoint_file.empty()) checkpoint_file = (data_dir_ / "audit-checkpoints.jsonl").string();
  checkpoint_log_ = std::make_unique<audit::CheckpointLog>(checkpoint_file);
  store::Store* store = store_.store.get();
  read_audit_ = [store](std::int64_t after, int limit) { return store->ListAudit(after, limit); };
  if (checkpoint_key_) {
    checkpointer_ =
        std::make_unique<audit::Checkpointer>(read_audit_, *checkpoint_key_, *checkpoint_log_,
                                              clock_, holder_->Get()->audit.checkpoint_interval);
    if (Status s = checkpointer_->Start(); !s.ok()) return Prefixed("audit: ", s);
    spdlog::info("audit checkpoints signed by key {} every {} into {}", checkpoint_key_->KeyId(),
                 FormatDuration(holder_->Get()->audit.checkpoint_interval), checkpoint_file);
  } else {
    spdlog::warn(
        "audit: no checkpoint_key_file: the audit trail is hash-chained but not checkpointed, so "
        "a cut-off tail would go unnoticed");
  }
  return OkStatus();
}

// Readiness, the store, the audit checkpoints and the build, read at scrape time.
void Broker::CollectHealthMetrics() {
  HealthSources sources;
  sources.readiness = [this] { return Readiness(); };
  sources.store_available = [this] { return store_available_.load(); };
  if (audit::Checkpointer* checkpointer = checkpointer_.get()) {
    sources.checkpoints = [checkpointer] { return checkpointer->Stats(); };
  }
  DeclareHealthMetrics(registry_, std::move(sources));
  DeclareBuildInfo(registry_);
}

// Static tokens (and dev users) first, then OIDC bearer tokens when auth.oidc is set.
Status Broker::BuildAuth() {
  jwks_http_ = aws::NewCurlTransport();
  if (options_.dev) auth_.dev_users = auth::DevUsers();
  Result<auth::BrokerAuth> built =
      auth::BuildBrokerAuth(holder_->Get()->auth, auth_.dev_users, *jwks_http_, clock_, nullptr);
  if (!built.has_value()) return built.error();
  auth_.built = std::move(built).value();
  auth_.swappable = std::make_unique<auth::SwappableAuthenticator>(auth_.built.authenticator);
  if (const auth::OidcConfig& oidc = holder_->Get()->auth.oidc; !oidc.Empty()) {
    spdlog::info("OIDC bearer tokens from issuer {} accepted", oidc.issuer);
  }
  return OkStatus();
}

// Slack's buttons, the web UI, and the HTTP API over them (not yet listening).
Status Broker::BuildApi() {
  // Approve / Deny buttons in Slack (POST /v1/slack/interactions).
  auto slack_apps = notify::SlackAppsFromConfig(holder_->Get()->notify);
  if (!slack_apps.has_value()) return Prefixed("notify: ", slack_apps.error());
  if (!slack_apps->empty()) {
    slack_ = std::make_unique<api::SlackInteractions>(std::move(slack_apps).value(), *workflow_,
                                                      *identity_center_->provider, *notify_http_,
                                                      clock_);
    spdlog::info(
        "Slack interactions accepted at /v1/slack/interactions, the /jit command at "
        "/v1/slack/commands");
  }
  auto web_ui = BuildWebUi(*holder_->Get(), auth_.dev_users, clock_);
  if (!web_ui.has_value()) return web_ui.error();
  web_ui_ = std::move(web_ui).value();

  api::ApiHooks hooks;
  MetricsRegistry* registry = &registry_;
  hooks.metrics = [registry] { return registry->Render(); };
  hooks.verify_audit = [read_audit = read_audit_, log = checkpoint_log_.get(),
                        key = checkpoint_key_.get()]() -> Result<audit::TrailReport> {
    JIT_ASSIGN_OR_RETURN(std::vector<audit::Checkpoint> checkpoints, log->ReadAll());
    return audit::VerifyTrail(read_audit, checkpoints, key);
  };
  hooks.slack = slack_.get();
  hooks.ui = web_ui_->ui.get();
  if (activity_ != nullptr) {
    hooks.activity =
        [service = activity_.get()](const workflow::RequestView& view) -> Result<nlohmann::json> {
      JIT_ASSIGN_OR_RETURN(auto got, service->ForRequest(view.request, view.history));
      return activity::ActivityJson(got.first, got.second);
    };
  }
  api::HttpServerOptions http;
  http.listen = listen_;
  http.loopback_only = options_.dev;
  http.max_connections = ChooseApiMaxConnections(holder_->Get()->server.max_connections);
  server_ = std::make_unique<api::HttpServer>(
      http, *workflow_, *auth_.swappable, *policy_, [this]() { return Readiness(); }, clock_,
      hooks);
  DeclareHttpMetrics(registry_, *server_, http.max_connections);
  return OkStatus();
}

Status Broker::Readiness() const {
  Status store = store_.store->Ping();
  store_available_.store(store.ok());
  if (!store.ok()) return store.WithContext("store");
  if (Status s = identity_center_->health->Check(); !s.ok()) {
    return s.WithContext("Identity Center");
  }
  return OkStatus();
}

Status Broker::Start() {
  if (Status s = server_->Start(); !s.ok()) return s;
  // Jobs start after the API is up, so that overdue revocations run while requests arrive.
  if (Status s = scheduler_->Start(); !s.ok()) {
    server_->Stop();
    return Spelled(s);
  }

  // Drift between the ledger and Identity Center: at start, then every few minutes.
  workflow::ReconcilerOptions reconciler_opts;
  reconciler_opts.observer = metrics_.get();
  reconciler_opts.notifications = notifications_.get();
  reconciler_opts.policy = policy_.get();
  reconciler_opts.activity = activity_ != nullptr;
  reconciler_ = std::make_unique<workflow::Reconciler>(*store_.store, *identity_center_->targets,
                                                       clock_, reconciler_opts);
  if (Status s = reconciler_->Start(); !s.ok()) {
    server_->Stop();
    scheduler_->Stop();
    return Spelled(s);
  }
  if (Status s = org_refresher_->Start(); !s.ok()) {
    server_->Stop();
    reconciler_->Stop();
    scheduler_->Stop();
    return Spelled(s);
  }
  started_ = true;

  std::string host = listen_.substr(0, listen_.rfind(':'));
  url_ = "http://" + host + ":" + std::to_string(server_->port());
  web_ui_->ui->SetListenUrl(url_);
  if (!IsHttpsOrLoopbackHttpUrl(web_ui_->ui->BaseUrl())) {
    spdlog::warn(
        "ui: {} is plain http beyond loopback: browsers drop the web UI's Secure cookies there "
        "and the OIDC sign-in needs https; set server.public_url to the https address in front "
        "of jit",
        web_ui_->ui->BaseUrl());
  }
  return OkStatus();
}

Result<std::vector<std::string>> Broker::Reload(config::Config next) {
  Result<auth::BrokerAuth> built =
      auth::BuildBrokerAuth(next.auth, auth_.dev_users, *jwks_http_, clock_, &auth_.built);
  if (!built.has_value()) return built.error();
  // The notification channels follow the file; when they cannot be built, nothing changes.
  auto channels = notify::NewChannels(next.notify, *notify_deps_);
  if (!channels.has_value()) return Prefixed("notify: ", channels.error());
  // Slack's Approve / Deny endpoint takes the signing secrets and bot tokens read now; one that
  // was not set up at start needs a restart to be.
  auto slack_apps = notify::SlackAppsFromConfig(next.notify);
  if (!slack_apps.has_value()) return Prefixed("notify: ", slack_apps.error());
  std::vector<std::string> pending = config::SettingsNeedingRestart(*holder_->Get(), next);
  if (slack_) {
    slack_->SetApps(std::move(slack_apps).value());
  } else if (!slack_apps->empty()) {
    pending.emplace_back("notify: a Slack channel's signing_secret_file (Slack interactions)");
  }
  org_refresher_->SetBase(next.policy);  // puts it in force, with the organization's accounts
  holder_->Set(std::move(next));
  auth_.built = std::move(built).value();
  auth_.swappable->Set(auth_.built.authenticator);
  notifier_->SetChannels(std::move(channels).value());
  return pending;
}

void Broker::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (started_) {
    server_->Stop();
    org_refresher_->Stop();
    reconciler_->Stop();
    scheduler_->Stop();
  }
  if (checkpointer_) checkpointer_->Stop();  // a last checkpoint of everything written
  if (emulator_) emulator_->Stop();
}

int Broker::port() const { return server_->port(); }

std::string Broker::ui_base_url() const { return web_ui_->ui->BaseUrl(); }

std::string Broker::emulator_url() const { return emulator_ ? emulator_->url() : ""; }

}  // namespace jit::app
