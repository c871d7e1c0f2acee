#pragma once
// The `notify:` section of the config file (docs/NOTIFY.md): one entry per channel, with the
// keys every channel has (type, name, audiences, events, timeout) and the keys of its type,
// which the type reads itself (channel_types.h).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/reader.h"
#include "core/clock.h"
#include "core/status.h"

namespace jit::notify {

// What a channel type reads from its entry besides the common keys. Each type has its own
// subclass (WebhookOptions, ...). Immutable once parsed.
class ChannelOptions {
 public:
  virtual ~ChannelOptions() = default;
  // The files the channel reads when it is built, as (key, path); empty paths are skipped.
  // Secrets are named by file, never written in the config.
  virtual std::vector<std::pair<std::string, std::string>> Files() const { return {}; }
};

// One entry of the `notify:` list: a destination and what it hears.
struct ChannelConfig {
  std::string type;  // a name of ChannelTypes(): webhook, slack, teams, email, sns, ...
  std::string name;  // unique among the channels; default: the type, then "<type>-2", ...
  // Filters: audiences ("approvers", "requester", "security") and event names
  // ("request.created", ...). Empty: the type's default (every event; securityhub: its three).
  std::vector<std::string> audiences;
  std::vector<std::string> events;
  // Per-rule routing: the policy rules and the accounts (ids or names) whose requests the
  // channel is for; empty: all. config::LoadConfigFile checks that they name rules and
  // accounts of the policy.
  std::vector<std::string> rules;
  std::vector<std::string> accounts;
  Duration timeout{Duration(10 * 1000)};  // one delivery attempt, 1s to 60s
  // The type's own keys; never null in a parsed config.
  std::shared_ptr<const ChannelOptions> options;
  int line = 0;  // of the entry (1-based)

  // The type's options as `T`. REQUIRES: `T` is the options class of `type`.
  template <typename T>
  const T& As() const {
    return static_cast<const T&>(*options);
  }
};

// webhook: where to POST and the HMAC secret.
struct WebhookOptions final : ChannelOptions {
  std::string url;
  std::string secret_file;
  std::vector<std::pair<std::string, std::string>> Files() const override {
    return {{"secret_file", secret_file}};
  }
};

// slack: the incoming-webhook URL, read from a file, or a channel id to post to with the bot
// token (`channel`). Interactions (Approve / Deny buttons): the app's signing secret and bot
// token (for users.info), the Web API base and, optionally, the one workspace (team id)
// accepted. With a bot token, approvers get direct messages unless `direct_messages: false`.
struct SlackOptions final : ChannelOptions {
  std::string webhook_url_file;
  std::string channel;
  bool direct_messages = true;
  std::string signing_secret_file;
  std::string bot_token_file;
  std::string api_url = "https://slack.com/api";
  std::string team_id;
  std::vector<std::pair<std::string, std::string>> Files() const override {
    return {{"webhook_url_file", webhook_url_file},
            {"signing_secret_file", signing_secret_file},
            {"bot_token_file", bot_token_file}};
  }
};

// teams: `url` or `webhook_url_file` (exactly one).
struct TeamsOptions final : ChannelOptions {
  std::string url;
  std::string webhook_url_file;
  std::vector<std::pair<std::string, std::string>> Files() const override {
    return {{"webhook_url_file", webhook_url_file}};
  }
};

// email: SMTP server, sender, recipients, optional login; STARTTLS is required unless
// `starttls: false` on a loopback smtp:// URL. `ca_file`: extra CA bundle for the server's
// certificate. `to_requester`: also mail the requester (e-mail from Identity Center);
// `to_approvers`: also mail each approver (notify::ApproversToAsk).
struct EmailOptions final : ChannelOptions {
  std::string smtp_url;
  std::string from;
  std::vector<std::string> to;
  std::string username;
  std::string password_file;
  bool starttls = true;
  std::string ca_file;
  bool to_requester = true;
  bool to_approvers = false;  // approver events also go to each approver's own address
  std::vector<std::pair<std::string, std::string>> Files() const override {
    return {{"password_file", password_file}, {"ca_file", ca_file}};
  }
};

// sns. `region` empty: the topic's region. `format`: "json" (the webhook body) or "text" (a
// readable summary).
struct SnsOptions final : ChannelOptions {
  std::string topic_arn;
  std::string region;
  std::string format = "json";
};

// eventbridge: bus name or ARN, and the events' Source. `region` empty: the bus ARN's, else
// aws.region or the environment's.
struct EventBridgeOptions final : ChannelOptions {
  std::string bus;
  std::string source = "jit";
  std::string region;
};

// securityhub. `account_id`: the account importing the findings; empty: asked of STS
// GetCallerIdentity. `region` empty: aws.region or the environment's.
struct SecurityHubOptions final : ChannelOptions {
  std::string region;
  std::string account_id;
};

// Reads `notify: [{type, name?, audiences?, events?, timeout?, <the type's keys>}]`, in file
// order, reporting problems to `reader`. A null `notify:` is the same as none. Only the shapes
// of file paths are checked here; CheckChannelFiles checks that they can be read.
std::vector<ChannelConfig> ParseChannels(const config::Field& field, config::Reader& reader);

// InvalidArgument with a "FILE:LINE: TYPE channel 'NAME': 'KEY': cannot read PATH" line (the
// channel's entry) for each file of a channel (ChannelOptions::Files) that cannot be read.
Status CheckChannelFiles(const std::vector<ChannelConfig>& channels, std::string_view file_name);

}  // namespace jit::notify
