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

#include <map>
#include <memory>
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
  // True the first time a signature is seen within max_age.
  bool FirstSight(const std::string& signature);

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
