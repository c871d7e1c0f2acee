#pragma once
// The broker's configuration (YAML, see ../shared/DESIGN.md "Config file"). Plain data.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "model/identity.h"
#include "policy/timezone.h"

namespace jit::policy {

// A set of people: listed users and members of listed groups.
struct Subjects {
  std::vector<std::string> users;
  std::vector<std::string> groups;

  bool Empty() const { return users.empty() && groups.empty(); }
  // True when the identity is one of the users or is in one of the groups.
  bool Contains(const model::Identity& who) const;
};

struct Account {
  std::string id;  // 12 digits
  std::string name;
  std::vector<std::string> tags;
  int line = 0;  // where it stands in the file (1-based; 0 when not from a file)
};

struct PermissionSet {
  std::string name;
  std::string arn;
  Duration max_duration{0};  // 0: no limit of its own
  int line = 0;
};

struct AccountSelector {
  bool all = false;
  std::vector<std::string> ids;
  std::vector<std::string> names;
  std::vector<std::string> tags;

  bool Matches(const Account& a) const;
};

// A rule's `schedule_window` when the file says none, and the longest one allowed.
inline constexpr Duration kDefaultScheduleWindow{7LL * 24 * 60 * 60 * 1000};
inline constexpr Duration kMaxScheduleWindow{90LL * 24 * 60 * 60 * 1000};

struct ApprovalPolicy {
  bool automatic = false;  // `approval: auto`
  Subjects approvers;
  int required = 1;                            // distinct approvals needed
  Duration timeout{Duration(15 * 60 * 1000)};  // pending requests time out after this
};

// When a rule may be used (`hours: {days, from, to, timezone}`): on the listed days of the
// zone's local calendar, from `from` (inclusive) to `to` (exclusive) local time. A window with
// `from` after `to` runs over midnight ("22:00" to "06:00") and the day named is the day it
// starts on.
struct AllowedHours {
  std::array<bool, 7> days{true, true, true, true, true, true, true};  // [0] Monday .. [6] Sunday
  int from_minute = 0;  // minutes after local midnight, 0..1439
  int to_minute = 0;    // 1..1440 (1440: "24:00"); never equal to from_minute
  std::shared_ptr<const TimeZone> zone = TimeZone::Utc();  // never null

  // True when `now` falls inside the window.
  bool Allows(Time now) const;
  // "mon-fri 08:00-18:00 Europe/Berlin" (days "daily" when all seven).
  std::string Describe() const;
};

struct Rule {
  std::string name;
  Subjects requesters;
  AccountSelector accounts;
  std::vector<std::string> permission_sets;  // names
  Duration max_duration{0};
  Duration min_duration{0};
  bool reason_required = false;  // `reason: required` (or implied by reason_min_length > 0)
  int reason_min_length = 0;     // characters a reason needs, blanks around it not counted
  std::string ticket_pattern;    // ECMAScript regex the whole ticket must match; empty: none
  ApprovalPolicy approval;
  bool break_glass = false;           // self-activated, no approval
  std::optional<AllowedHours> hours;  // none: any time
  // How far ahead a request may ask to start (`start_at`); 0: only immediate starts.
  // Break-glass rules always start at once.
  Duration schedule_window{kDefaultScheduleWindow};
  int line = 0;
};

struct ServerSettings {
  std::string listen = "127.0.0.1:8080";
  // Where browsers reach the broker ("https://jit.example.com"): an https URL (http only on a
  // loopback host) without a path. The web UI's sign-in redirect is <public_url>/ui/auth/callback.
  std::string public_url;
};

// The `ui:` section: the web UI's sessions (docs/UI.md).
struct UiSettings {
  // A file holding the key (at least 32 bytes) that signs session cookies; every replica must
  // read the same key. Empty: a random key per process (sessions end with a restart).
  std::string session_key_file;
  Duration session_lifetime{Duration(8 * 60 * 60 * 1000)};  // 5m to 7d
  int line = 0;                                             // of the `ui:` key (0: no section)
};

// Where the broker finds Identity Center (the `aws:` section). Credentials never come from the
// config: they come from the default credential chain (environment, profiles, roles).
struct AwsSettings {
  std::string region;             // "us-east-1"; empty: AWS_REGION, AWS_DEFAULT_REGION, profile
  std::string instance_arn;       // "arn:aws:sso:::instance/ssoins-<16 characters>"
  std::string identity_store_id;  // "d-<10 hex digits>" (or a UUID)
  int line = 0;                   // of the `aws:` key (0: no section)

  bool Empty() const { return instance_arn.empty() && identity_store_id.empty() && region.empty(); }
};

// The `audit:` section: signed checkpoints of the audit trail (audit/checkpoint.h).
struct AuditSettings {
  std::string checkpoint_key_file;  // an Ed25519 private key (PEM); empty: no checkpoints
  Duration checkpoint_interval{Duration(60 * 1000)};  // 1s to 1h
  // Where checkpoints are appended; empty: audit-checkpoints.jsonl in the data folder. Put it
  // outside the database's disk, or where a log shipper copies it away.
  std::string checkpoint_file;
  int line = 0;  // of the `audit:` key (0: no section)
};

struct StaticToken {
  std::string name;
  std::string sha256_hex;  // lowercase hex of SHA-256(token)
  std::vector<std::string> groups;
};

// The `auth.oidc` section: bearer tokens from an OpenID Connect identity provider. auth/
// turns it into its authenticator's settings.
struct OidcConfig {
  std::string issuer;     // exact "iss" of the tokens; https (http only on a loopback host)
  std::string audience;   // the broker's client id; tokens' "aud" must hold it
  std::string jwks_file;  // a JWKS file; exactly one of jwks_file and jwks_url
  std::string jwks_url;   // the issuer's JWKS URL; https (http only on a loopback host)
  std::string username_claim = "preferred_username";  // claim naming the user
  std::string groups_claim = "groups";                // claim listing the user's groups
  Duration leeway{Duration(60 * 1000)};               // clock skew allowed, 0s to 5m
  // The web UI's sign-in (authorization-code flow with PKCE, docs/UI.md).
  std::string client_id;           // the client registered for the UI; empty: the audience
  std::string client_secret_file;  // its secret; empty: a public client (PKCE only)
  std::vector<std::string> scopes = {"openid", "profile"};  // must include openid
  int line = 0;                                             // of the `oidc:` key (0: no section)

  // The client id the UI signs in with: client_id, or the audience when that is empty.
  const std::string& LoginClientId() const { return client_id.empty() ? audience : client_id; }

  bool Empty() const { return line == 0; }
};

// True for an https URL, or an http URL whose host is loopback (localhost, 127.x.x.x, [::1]);
// URLs with user info are refused.
bool IsHttpsOrLoopbackHttpUrl(std::string_view url);

// One entry of the `notify:` list (docs/NOTIFY.md): a destination and what it hears. Which keys
// apply depends on `type`; the parser refuses the others. Secrets are named by file, never
// written in the config; the parser checks that those files can be read.
struct NotifyChannelConfig {
  std::string type;  // webhook, slack, teams, email, sns, eventbridge, securityhub
  std::string name;  // unique among the channels; default: the type, then "<type>-2", ...
  // Filters: audiences ("approvers", "requester", "security") and event names
  // ("request.created", ...). Empty: the type's default (every event; securityhub: its three).
  std::vector<std::string> audiences;
  std::vector<std::string> events;
  Duration timeout{Duration(10 * 1000)};  // one delivery attempt, 1s to 60s

  // webhook: where to POST and the HMAC secret. teams: `url` or `webhook_url_file`.
  std::string url;
  std::string secret_file;
  // slack (and teams): the incoming-webhook URL, read from this file.
  std::string webhook_url_file;
  // slack interactions (Approve / Deny buttons): the app's signing secret and bot token (for
  // users.info), the Web API base and, optionally, the one workspace (team id) accepted.
  std::string signing_secret_file;
  std::string bot_token_file;
  std::string api_url = "https://slack.com/api";
  std::string team_id;

  // email: SMTP server, sender, recipients, optional login; STARTTLS is required unless
  // `starttls: false` on a loopback smtp:// URL. `ca_file`: extra CA bundle for the server's
  // certificate. `to_requester`: also mail the requester (e-mail from Identity Center).
  std::string smtp_url;
  std::string from;
  std::vector<std::string> to;
  std::string username;
  std::string password_file;
  bool starttls = true;
  std::string ca_file;
  bool to_requester = true;

  // sns / eventbridge / securityhub. `region` empty: the topic's region (sns), else aws.region
  // or the environment's. `account_id` (securityhub): the account importing the findings;
  // empty: asked of STS GetCallerIdentity.
  std::string topic_arn;
  std::string bus;             // eventbridge: bus name or ARN
  std::string source = "jit";  // eventbridge Source
  std::string region;
  std::string account_id;
  // sns: "json" (the webhook body) or "text" (a readable summary).
  std::string format = "json";

  int line = 0;  // of the entry (1-based)
};

// The notification event names (notify::EventName spells the same list; a test keeps them
// equal), in notify::Event order: "request.created", "request.reminder", ...
const std::vector<std::string>& NotifyEventNames();
// Who hears an event by default: "approvers", "requester" or "security"; "" for an unknown name.
std::string NotifyEventAudience(std::string_view event_name);
// OK when `url` may be `server.public_url`: https (http only on a loopback host), no user
// info, no path but "/", no query or fragment. InvalidArgument saying why otherwise.
Status CheckPublicUrl(std::string_view url);

struct Config {
  ServerSettings server;
  std::string store;                // "sqlite:///path/jit.db"; empty: <data>/jit.db
  AwsSettings aws;                  // empty when the file has no `aws:` section
  Subjects admins;                  // may revoke anything, read everything
  Subjects auditors;                // may read everything
  std::vector<StaticToken> tokens;  // auth.tokens
  OidcConfig oidc;                  // auth.oidc; Empty() when absent
  AuditSettings audit;              // checkpoints; no key file when absent
  UiSettings ui;                    // the web UI's sessions
  std::vector<Account> accounts;
  std::vector<PermissionSet> permission_sets;
  std::vector<Rule> rules;
  std::vector<NotifyChannelConfig> notify;  // the `notify:` list, in file order

  const Account* FindAccount(std::string_view id_or_name) const;
  const PermissionSet* FindPermissionSet(std::string_view name_or_arn) const;
};

// Parses and validates a config. `file_name` is used in messages. On error the status is
// InvalidArgument and its message has one line per problem, each "FILE:LINE: what is wrong",
// in file order. Time zones named by `hours:` are read from `zoneinfo_dir` (an unknown zone is
// an error with its line).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir = kSystemZoneInfoDir);
// Reads a file and parses it, then checks the notify channels' files (CheckNotifyFiles).
// NotFound when the file cannot be read.
Result<Config> LoadConfigFile(const std::string& path);
// InvalidArgument with a "FILE:LINE: ..." line (the channel's entry) for each secret_file,
// webhook_url_file, signing_secret_file, bot_token_file, password_file or ca_file of a notify
// channel that cannot be read.
Status CheckNotifyFiles(const Config& config, std::string_view file_name);

// The keys whose value differs between `before` and `after` among those `jit serve` reads once
// at start (server.listen, server.public_url, store, aws.*, audit.*, ui.*, and the web UI's
// sign-in client: auth.oidc.client_id, client_secret_file, scopes), in that order, by their
// names in the file. A SIGHUP reload applies everything else and logs these as needing a
// restart.
std::vector<std::string> SettingsNeedingRestart(const Config& before, const Config& after);

// The built-in config of `jit serve --dev` (DESIGN.md "Dev mode").
std::string_view DevConfigYaml();

// Holds the config in force; readers take a snapshot that stays valid while they hold it.
// Thread-safe.
class ConfigHolder {
 public:
  explicit ConfigHolder(Config c) : config_(std::make_shared<const Config>(std::move(c))) {}
  std::shared_ptr<const Config> Get() const {
    MutexLock lock(&mu_);
    return config_;
  }
  void Set(Config c) {
    auto next = std::make_shared<const Config>(std::move(c));
    MutexLock lock(&mu_);
    config_ = std::move(next);
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const Config> config_ GUARDED_BY(mu_);
};

}  // namespace jit::policy
