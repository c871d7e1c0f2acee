#pragma once
// POST /v1/slack/interactions: the Approve / Deny buttons of Slack messages (notify/slack.h).
//
// Slack posts `payload=<JSON>` form-encoded, signed with the app's signing secret. The endpoint
// checks X-Slack-Signature (constant-time) and X-Slack-Request-Timestamp (within 5 minutes of
// the Clock), refuses a signature it has seen before (replay), maps the Slack user to a jit
// identity by e-mail (Slack users.info -> identitystore GetUserId on emails.value ->
// DescribeUser's userName and the user's groups) and then calls Workflow::Approve / Deny with
// that identity: the same authorization as the API (no self-approval, approvers only).
//
// Answers are JSON: 200 with a Slack ephemeral message {"response_type": "ephemeral",
// "replace_original": false, "text": ...}; refusals carry the API's error object as well,
// {"error": {"code", "message"}, "response_type": "ephemeral", "text": ...}, with 401 (bad or
// old signature, replay), 400 (garbled payload), 403 (unknown user, not allowed), 404, 409
// (decided already) or 503. The same text is posted to the payload's response_url when it
// starts with the allowed prefix, since Slack shows nothing of a block_actions answer itself.
//
// POST /v1/slack/commands: the `/jit` slash command (docs/NOTIFY.md "Slash command"), signed,
// checked and mapped to a jit identity exactly as above, from Slack's form-encoded command
// payload (user_id, team_id, text, response_url). `/jit request ACCOUNT PS DURATION REASON...`
// files a request (Workflow::Submit), `/jit ls` lists the caller's open requests and the pending
// ones waiting for their approval, `/jit approve ID` approves (Workflow::Approve). Answers are
// ephemeral as above; any other text gets 400 with the usage line.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/handlers.h"
#include "aws/http.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "notify/slack.h"
#include "provider/provider.h"
#include "workflow/workflow.h"

namespace jit::api {

// What a slash command that jit cannot read is answered with.
inline constexpr std::string_view kSlackCommandUsage =
    "usage: /jit request ACCOUNT PERMISSION_SET DURATION REASON... | /jit ls | /jit approve "
    "REQUEST_ID";

struct SlackInteractionsOptions {
  // Oldest (or most future) X-Slack-Request-Timestamp accepted.
  Duration max_age = std::chrono::minutes(5);
  // Follow-up messages go to the payload's response_url only when it starts with this.
  std::string response_url_prefix = "https://hooks.slack.com/";
};

// Thread-safe. Every reference must outlive it.
class SlackInteractions {
 public:
  SlackInteractions(std::vector<notify::SlackApp> apps, workflow::Workflow& workflow,
                    provider::UserDirectory& directory, aws::HttpTransport& http, Clock& clock,
                    SlackInteractionsOptions options = {});

  // Answers one POST /v1/slack/interactions (never throws).
  ApiResponse Handle(const ApiRequest& request);
  // Answers one POST /v1/slack/commands (never throws).
  ApiResponse HandleCommand(const ApiRequest& request);

  // Replaces the apps whose signatures are accepted (a SIGHUP re-read their signing secrets and
  // bot tokens: rotation without a restart). Interactions being answered finish with the apps
  // they started with. Thread-safe.
  void SetApps(std::vector<notify::SlackApp> apps);

 private:
  struct App {
    notify::SlackApp settings;
    std::unique_ptr<notify::SlackWebApi> web;
  };
  // 200 or the error, with `text` as the ephemeral message (and to response_url).
  ApiResponse Answer(int status, std::string_view code, const std::string& text,
                     const std::string& response_url);
  // 200 with the lines as one ephemeral message (notify::SlackEphemeralLines).
  ApiResponse AnswerLines(const std::vector<std::string>& lines, const std::string& response_url);
  // Posts `message` to response_url when it starts with the allowed prefix.
  void PostToResponseUrl(const nlohmann::json& message, const std::string& response_url);
  // True the first time a signature is seen within max_age.
  bool FirstSight(const std::string& signature);
  // The app whose signing secret signed `request`, seen for the first time; null with
  // `*refusal` set (401) otherwise.
  const App* Verify(const ApiRequest& request, const std::vector<App>& apps, ApiResponse* refusal);
  // The jit identity of a Slack user (users.info, then the identity store); nullopt with
  // `*refusal` set (403 unknown, 503 unavailable) otherwise.
  std::optional<model::Identity> Identify(const App& app, const std::string& slack_user,
                                          const std::string& reply_to, ApiResponse* refusal);
  // A workflow refusal as an answer: "jit did not <what>: <why>".
  ApiResponse Refused(Status s, const std::string& what, const std::string& reply_to);
  ApiResponse CommandRequest(const model::Identity& who, const std::vector<std::string>& words,
                             const std::string& reply_to);
  ApiResponse CommandList(const model::Identity& who, const std::string& reply_to);
  ApiResponse CommandApprove(const model::Identity& who, const std::string& id,
                             const std::string& reply_to);

  // Builds the App of each SlackApp (its Web API client).
  std::shared_ptr<const std::vector<App>> MakeApps(std::vector<notify::SlackApp> apps);

  workflow::Workflow& workflow_;
  provider::UserDirectory& directory_;
  aws::HttpTransport& http_;
  Clock& clock_;
  const SlackInteractionsOptions options_;

  Mutex mu_;
  std::map<std::string, Time> seen_ GUARDED_BY(mu_);  // signature -> when it was first seen
  std::shared_ptr<const std::vector<App>> apps_ GUARDED_BY(mu_);
};

}  // namespace jit::api
