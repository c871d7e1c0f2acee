#pragma once
// The broker of `jit serve`, built from a config: store, Identity Center provider, notifier,
// workflow, scheduler, reconciler, audit checkpoints, authenticator, web UI and HTTP API, wired
// together. app/ is the composition root: the only module that may depend on every other.

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "activity/reader.h"
#include "activity/service.h"
#include "api/server.h"
#include "api/slack.h"
#include "app/identity_center.h"
#include "app/web_ui.h"
#include "audit/checkpoint.h"
#include "audit/trail.h"
#include "auth/auth.h"
#include "auth/jwt.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "cutoff/engine.h"
#include "emulator/emulator.h"
#include "notify/notify.h"
#include "org/refresher.h"
#include "policy/config.h"
#include "scheduler/scheduler.h"
#include "store/open.h"
#include "tickets/jira.h"
#include "workflow/broker_metrics.h"
#include "workflow/notifications.h"
#include "workflow/reconciler.h"
#include "workflow/workflow.h"

namespace jit::app {

// How `jit serve` runs the broker, beyond the config file.
struct BrokerOptions {
  // Dev mode (docs/ARCHITECTURE.md "Dev mode"): Identity Center is an embedded emulator, the dev
  // users and their tokens are accepted, the API listens on loopback only, and the audit checkpoint
  // key is made in the data folder on first start.
  bool dev = false;
  // host:port to serve the API on; empty: the config's server.listen. Port 0 picks one.
  std::string listen;
  // The data folder: the SQLite database and its lock, the audit checkpoints by default, and
  // the dev-mode checkpoint key. Created when missing (SQLite only).
  std::filesystem::path data_dir = "./jit-data";
  // Dev mode: host:port of the embedded emulator; empty: 127.0.0.1 on any port.
  std::string emulator_listen;
};

// The running broker. Build it, Start it, Reload it on SIGHUP, Stop it. Build, Start, Reload
// and Stop are called from one thread (not concurrently with each other); the API, scheduler,
// reconciler and checkpointer run on threads of their own from Build or Start until Stop.
//
// Errors of Build and Start: the status's code is the failing part's, and its message is the
// one-line reason `jit serve` prints after "jit: " (so some messages start with the part,
// "notify: ", "audit: ", "emulator: ", and the store's and the scheduler's carry their code's
// name, as the command always printed them).
class Broker {
 public:
  // Builds every part from `config` and `options`, logging what it set up ("notify: channel
  // ... ready", Identity Center's warnings about the config, ...). Outside dev mode the config
  // must have an `aws:` section and the permission sets are read from Identity Center (a
  // failure there is a warning). Runs already, on threads of their own: the dev emulator and
  // the audit checkpointer (so that a checkpoint is taken at start); nothing else listens or
  // runs jobs before Start. Opens the store the config names and, for SQLite, locks the data
  // folder until the broker is destroyed. `clock` must outlive the broker.
  //
  // Errors (see above): InvalidArgument for a config the parts refuse (no aws section, a bad
  // store URL, a bad notify channel, ...); FailedPrecondition when another broker holds the
  // data folder; Unavailable when the store cannot be reached or the emulator cannot bind;
  // NotFound for an unreadable key or secret file.
  static Result<std::unique_ptr<Broker>> Build(config::Config config, const BrokerOptions& options,
                                               Clock& clock);

  // Stops what runs, as Stop does, when it was started.
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Serves the API, then starts the scheduler (so that overdue revocations run while requests
  // arrive) and the reconciler (drift between the ledger and Identity Center: at once, then
  // every few minutes); logs "ready on URL". Call once. Errors (see above) of the HTTP server
  // (InvalidArgument for a bad listen address; Unavailable when it cannot be bound), the
  // scheduler and the reconciler; on error whatever this call started is stopped again.
  Status Start();

  // Puts `next` in force when the parts that follow the config accept it: the authenticator
  // (static tokens, OIDC) and the notification channels are rebuilt from it, then the config,
  // authenticator and channels are swapped in together, and Slack interactions take the
  // signing secrets and bot tokens read now. Rules, accounts, permission sets, roles, auth and
  // notify apply at once; the rest is read at start only, and the settings of
  // that kind that differ (config::SettingsNeedingRestart: "server.listen", "store", ...) are
  // returned, for a warning. On error nothing changes: the authenticator's error, or
  // "notify: ..." for channels that cannot be built. Safe while the API serves.
  Result<std::vector<std::string>> Reload(config::Config next);

  // Stops serving the API, then the reconciler and the scheduler (after the jobs they run),
  // takes a last audit checkpoint and stops the emulator. Idempotent; returns when every
  // thread of the broker has finished. Must not be called from an API handler.
  void Stop();

  // What GET /readyz answers: OK (200) when the store answers a ping and Identity Center is
  // not failing; otherwise the reason (503). Keeps the ping's outcome for jit_store_available.
  // Valid after Build; safe from any thread.
  Status Readiness() const;

  // "http://HOST:PORT" of the API as bound; "" before Start.
  const std::string& url() const { return url_; }
  // The bound port of the API; 0 before Start.
  int port() const;
  // The web UI's base URL (server.public_url, or url()).
  std::string ui_base_url() const;
  // Dev mode: the embedded emulator's "http://HOST:PORT"; otherwise "".
  std::string emulator_url() const;
  // The data folder in use.
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // The config in force.
  std::shared_ptr<const config::Config> config() const { return holder_->Get(); }

 private:
  // Who may call, as built from the config in force; rebuilt by Reload.
  struct AuthState {
    std::vector<auth::DevUser> dev_users;  // dev mode only
    auth::BrokerAuth built;                // what `swappable` forwards to
    std::unique_ptr<auth::SwappableAuthenticator> swappable;
  };

  Broker(const BrokerOptions& options, Clock& clock);

  // The steps of Build, in order; each sets the members it names.
  Status OpenStore(const config::Config& config);
  Status StartEmulator();
  Status ConnectProvider();
  Status BuildNotifier();
  Status BuildTicketChecks();
  void BuildWorkflow();
  void CollectMetrics();
  Status StartCheckpoints();
  void CollectHealthMetrics();
  Status BuildAuth();
  Status BuildApi();

  // Members in the order they are built (and destroyed in reverse).
  const BrokerOptions options_;
  Clock& clock_;
  aws::Environment env_;
  IdentityCenterSettings aws_settings_;
  std::filesystem::path data_dir_;
  store::OpenedStore store_;  // the data folder's lock and the store
  std::string listen_;
  std::unique_ptr<config::ConfigHolder> holder_;  // the whole file in force
  // Its access policy, for the workflow and the API; set with holder_ on a reload.
  std::unique_ptr<policy::ConfigHolder> policy_;
  std::unique_ptr<emulator::Emulator> emulator_;        // dev mode only
  std::unique_ptr<aws::CredentialSource> credentials_;  // dev mode; moved into the provider
  MetricsRegistry registry_;
  std::unique_ptr<workflow::BrokerMetrics> metrics_;
  std::unique_ptr<IdentityCenter> identity_center_;
  std::unique_ptr<aws::HttpTransport> notify_http_;
  std::unique_ptr<notify::Directory> notify_directory_;  // over the provider
  std::unique_ptr<notify::SentMessages> sent_messages_;  // over the store
  std::unique_ptr<notify::NotifierDeps> notify_deps_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<workflow::Notifications> notifications_;
  std::unique_ptr<aws::HttpTransport> tickets_http_;
  std::unique_ptr<tickets::TicketChecker> tickets_;  // null without a `jira:` section
  std::unique_ptr<cutoff::Engine> cutoff_;           // runs before the workflow's jobs need it
  // Session activity; both null when it is off (no activity.role_name outside dev mode).
  std::unique_ptr<activity::EventReader> activity_reader_;
  std::unique_ptr<activity::Service> activity_;
  std::unique_ptr<workflow::Workflow> workflow_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<org::Refresher> org_refresher_;         // sets policy_ from the file and AWS
  std::unique_ptr<audit::CheckpointKey> checkpoint_key_;  // null: no checkpoints
  std::unique_ptr<audit::CheckpointLog> checkpoint_log_;
  audit::EventReader read_audit_;
  std::unique_ptr<audit::Checkpointer> checkpointer_;
  // Whether the store answered the last ping of Readiness() (true until one fails).
  mutable std::atomic<bool> store_available_{true};
  std::unique_ptr<aws::HttpTransport> jwks_http_;
  AuthState auth_;
  std::unique_ptr<api::SlackInteractions> slack_;  // null without Slack apps
  std::unique_ptr<WebUi> web_ui_;
  std::unique_ptr<api::HttpServer> server_;
  std::unique_ptr<workflow::Reconciler> reconciler_;
  std::string url_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace jit::app
