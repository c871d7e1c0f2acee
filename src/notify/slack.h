#pragma once
// Slack: Block Kit messages through an incoming webhook, and the pieces of the interactions
// endpoint (POST /v1/slack/interactions, src/api/slack.h) that know Slack: the signing-secret
// check, the payload parser and the Web API look-up of a user's e-mail.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "notify/channel_base.h"
#include "notify/directory.h"
#include "notify/sent_messages.h"

namespace jit::notify {

// action_id of the buttons on requests that await approval; their value is the request id.
inline constexpr std::string_view kSlackApproveAction = "jit_approve";
inline constexpr std::string_view kSlackDenyAction = "jit_deny";

// The incoming-webhook body: {"text": Title (the notification's fallback), "blocks": [...]}: a
// section with the title and fields, then, for requests awaiting approval (request.created,
// request.reminder), an actions block with Approve (primary) and Deny (danger, with a
// confirmation) buttons whose value is the request id, and an "Open in jit" link button when
// there is a public URL; a context line with the event name and time last. Request fields are
// escaped for mrkdwn (&, <, >) so they cannot form links or mentions.
nlohmann::json SlackBlocks(const Message& m);

// `s` escaped for Slack mrkdwn: & < > become &amp; &lt; &gt;.
std::string SlackEscape(std::string_view s);

// A Slack incoming-webhook channel.
std::unique_ptr<Channel> NewSlackChannel(ChannelSettings settings, std::string webhook_url,
                                         aws::HttpTransport& http);

// What a Slack channel posts with and to (docs/NOTIFY.md "slack").
struct SlackChannelOptions {
  std::string webhook_url;  // the incoming webhook (a secret); empty: none
  // A Slack channel id: channel messages go there with chat.postMessage (bot token) instead of
  // the webhook, so that they can be updated after the decision. Empty: the webhook's.
  std::string channel;
  std::string bot_token;  // empty: no Web API (no direct messages, no updates)
  std::string api_url = "https://slack.com/api";
  // With a bot token and a directory: each approver gets the approver events as a direct
  // message (users.lookupByEmail, then chat.postMessage to the user id).
  bool direct_messages = true;
};

// A Slack channel. With a bot token it asks each approver personally (ApproversToAsk of
// `directory`: never the requester, and at a reminder only those who have not answered), keeps
// every message it posts with chat.postMessage in `sent` (when not null: a retried delivery
// skips the messages it posted already), and after a decision (approved, denied, cancelled,
// timed out) updates every kept message of the request with chat.update: the decision and who
// made it, without buttons. It takes those decisions even when its filter does not list them
// (it has messages to update), but posts them only when its filter lists them. `directory` and
// `sent` may be null; they and `http` and `clock` must outlive the channel.
std::unique_ptr<Channel> NewSlackChannel(ChannelSettings settings, SlackChannelOptions options,
                                         aws::HttpTransport& http, Clock& clock,
                                         Directory* directory, SentMessages* sent);

// Checks Slack's request signature: `signature` must be "v0=" + hex HMAC-SHA256(secret,
// "v0:<timestamp>:<body>") (compared in constant time) and `timestamp` (unix seconds) at most
// `max_age` from `now` either way. Unauthenticated saying which part failed.
Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp,
                            std::string_view signature, std::string_view body, Time now,
                            Duration max_age = std::chrono::minutes(5));
// The X-Slack-Signature a request with this timestamp and body would carry (tests, tools).
std::string SlackSignature(std::string_view signing_secret, std::string_view timestamp,
                           std::string_view body);

// One button press, from the form-encoded `payload=<JSON>` body Slack posts.
struct SlackAction {
  std::string team_id;
  std::string user_id;    // Slack user id (U...)
  std::string user_name;  // Slack handle, for messages only
  std::string action_id;  // kSlackApproveAction or kSlackDenyAction
  std::string request_id;
  std::string response_url;  // where Slack takes follow-up messages (may be empty)
};
// InvalidArgument for a body that is not `payload=<JSON object>`, a type other than
// block_actions, or a missing user or action; the message is safe to show.
Result<SlackAction> ParseSlackAction(std::string_view form_body);

// {"response_type": "ephemeral", "replace_original": false, "text": text}.
nlohmann::json SlackEphemeral(std::string_view text);
// SlackEphemeral of several lines: each made one line (OneLine) and escaped (SlackEscape), then
// joined with line feeds; at most 50 lines.
nlohmann::json SlackEphemeralLines(const std::vector<std::string>& lines);

// One Slack app of the config (a slack channel with signing_secret_file): what the interactions
// endpoint needs to accept its button presses.
struct SlackApp {
  std::string channel;  // the channel's name
  std::string signing_secret;
  std::string bot_token;
  std::string api_url = "https://slack.com/api";
  std::string team_id;  // empty: any workspace
};
// The slack channels of the config that have a signing secret, with their files read.
// InvalidArgument naming the channel when a file cannot be read or is empty.
Result<std::vector<SlackApp>> SlackAppsFromConfig(const std::vector<ChannelConfig>& channels);

// Slack's Web API: users.info (interactions), users.lookupByEmail, chat.postMessage and
// chat.update (channels with a bot token). Thread-safe; user look-ups are cached for `ttl`.
//
// Errors of every call: Unavailable for network errors, 429, 5xx and Slack's ratelimited,
// internal_error, fatal_error, service_unavailable and request_timeout; PermissionDenied when
// Slack refuses the token (invalid_auth, not_authed, token_revoked, missing_scope, ...);
// NotFound for users_not_found, user_not_found, channel_not_found and message_not_found;
// FailedPrecondition for a message Slack will not take or change (cant_update_message,
// not_in_channel, is_archived, ...) and when there is no bot token.
class SlackWebApi {
 public:
  SlackWebApi(std::string api_url, std::string bot_token, aws::HttpTransport& http, Clock& clock,
              Duration ttl = std::chrono::minutes(5));
  // The e-mail of a Slack user (users.info, user.profile.email; needs the users:read.email
  // scope). NotFound when Slack knows no such user or shows no e-mail for it; PermissionDenied
  // when Slack refuses the token; Unavailable for network errors, 429 and 5xx.
  Result<std::string> UserEmail(const std::string& user_id);
  // The Slack user id of the member with this e-mail (users.lookupByEmail; needs the
  // users:read.email scope). NotFound when no member has it.
  Result<std::string> UserIdByEmail(const std::string& email);

  struct Posted {
    std::string channel;  // the conversation Slack put it in (a DM's D... id for a user id)
    std::string ts;
  };
  // chat.postMessage of `message` ({"text", "blocks"}, as SlackBlocks makes) to `channel` (a
  // channel id, or a user id for a direct message), one attempt within `timeout`.
  Result<Posted> PostMessage(const std::string& channel, const nlohmann::json& message,
                             Duration timeout);
  // chat.update of the message `ts` in `channel` to `message`.
  Status UpdateMessage(const std::string& channel, const std::string& ts,
                       const nlohmann::json& message, Duration timeout);

 private:
  // One Web API call: GET with `query`, or POST of `body` as JSON when `body` is not null.
  // The answer's JSON object when "ok" is true, else the error as the class comment says.
  Result<nlohmann::json> Call(const std::string& method, const std::string& query,
                              const nlohmann::json* body, Duration timeout);

  const std::string api_url_;
  const std::string bot_token_;
  aws::HttpTransport& http_;
  Clock& clock_;
  const Duration ttl_;
  Mutex mu_;
  struct Cached {
    std::string email;
    MonoTime at;
  };
  std::map<std::string, Cached> cache_ GUARDED_BY(mu_);
  std::map<std::string, Cached> ids_by_email_ GUARDED_BY(mu_);  // email -> user id
};

}  // namespace jit::notify
