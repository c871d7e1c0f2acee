#include "api/slack.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "api/http_error.h"
#include "api/json.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "model/identity.h"
#include "notify/render.h"

namespace jit::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRemembered = 100000;

std::string Describe(const model::Request& r) {
  return r.permission_set_name + " on " + (r.account_name.empty() ? r.account_id : r.account_name) +
         " for " + r.requester;
}

}  // namespace

SlackInteractions::SlackInteractions(std::vector<notify::SlackApp> apps,
                                     workflow::Workflow& workflow,
                                     provider::UserDirectory& directory, aws::HttpTransport& http,
                                     Clock& clock, SlackInteractionsOptions options)
    : workflow_(workflow),
      directory_(directory),
      http_(http),
      clock_(clock),
      options_(std::move(options)) {
  SetApps(std::move(apps));
}

std::shared_ptr<const std::vector<SlackInteractions::App>> SlackInteractions::MakeApps(
    std::vector<notify::SlackApp> apps) {
  auto out = std::make_shared<std::vector<App>>();
  for (notify::SlackApp& a : apps) {
    auto web = std::make_unique<notify::SlackWebApi>(a.api_url, a.bot_token, http_, clock_);
    out->push_back(App{std::move(a), std::move(web)});
  }
  return out;
}

void SlackInteractions::SetApps(std::vector<notify::SlackApp> apps) {
  std::shared_ptr<const std::vector<App>> built = MakeApps(std::move(apps));
  MutexLock lock(&mu_);
  apps_ = std::move(built);
}

bool SlackInteractions::FirstSight(const std::string& signature) {
  Time now = clock_.Now();
  MutexLock lock(&mu_);
  // Forget what has aged out (a replay older than max_age fails the timestamp check anyway).
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (now - it->second > options_.max_age * 2) {
      it = seen_.erase(it);
    } else {
      ++it;
    }
  }
  if (seen_.size() >= kMaxRemembered) seen_.clear();
  return seen_.emplace(signature, now).second;
}

ApiResponse SlackInteractions::Answer(int status, std::string_view code, const std::string& text,
                                      const std::string& response_url) {
  json body = notify::SlackEphemeral(text);
  if (status != 200) body["error"] = ErrorJson(code, text)["error"];
  if (!response_url.empty() && !options_.response_url_prefix.empty() &&
      response_url.rfind(options_.response_url_prefix, 0) == 0) {
    Result<aws::HttpResponse> r = http_.Send({.method = "POST",
                                              .url = response_url,
                                              .headers = {{"Content-Type", "application/json"}},
                                              .body = Dump(notify::SlackEphemeral(text)),
                                              .connect_timeout = Duration(1000),
                                              .total_timeout = Duration(2000)});
    Status s = notify::HttpOutcome("slack response_url", r);
    if (!s.ok()) spdlog::warn("slack: could not post the answer to response_url: {}", s.message());
  }
  ApiResponse out;
  out.status = status;
  out.body = Dump(body);
  return out;
}

ApiResponse SlackInteractions::Handle(const ApiRequest& request) {
  try {
    std::string timestamp = request.Header("x-slack-request-timestamp");
    std::string signature = request.Header("x-slack-signature");
    std::shared_ptr<const std::vector<App>> apps;
    {
      MutexLock lock(&mu_);
      apps = apps_;
    }
    const App* app = nullptr;
    Status first_error;
    for (const App& a : *apps) {
      Status s = notify::VerifySlackSignature(a.settings.signing_secret, timestamp, signature,
                                              request.body, clock_.Now(), options_.max_age);
      if (s.ok()) {
        app = &a;
        break;
      }
      if (first_error.ok()) first_error = s;
    }
    if (app == nullptr) {
      std::string why = apps->empty() ? "no Slack app is configured" : first_error.message();
      spdlog::warn("slack: refused an interaction: {}", why);
      return Answer(401, "unauthenticated", why, "");
    }
    if (!FirstSight(signature)) {
      return Answer(401, "unauthenticated", "this request was seen before (a replay)", "");
    }
    Result<notify::SlackAction> action = notify::ParseSlackAction(request.body);
    if (!action.has_value()) return Answer(400, "bad_request", action.error().message(), "");
    const std::string& reply_to = action->response_url;
    if (!app->settings.team_id.empty() && action->team_id != app->settings.team_id) {
      return Answer(403, "permission_denied", "this Slack workspace may not decide jit requests",
                    "");
    }
    bool approve = action->action_id == notify::kSlackApproveAction;
    bool deny = action->action_id == notify::kSlackDenyAction;
    if (!approve && !deny) {
      // The "Open in jit" link button posts too; there is nothing to do for it.
      if (action->action_id == "jit_open") {
        ApiResponse ack;
        ack.body = "{}";
        return ack;
      }
      return Answer(400, "bad_request",
                    "unknown action '" + notify::OneLine(action->action_id, 40) + "'", "");
    }
    if (!IsWellFormedId(action->request_id, "req_")) {
      return Answer(400, "bad_request", "the button names no jit request", reply_to);
    }

    // Who pressed it, as jit knows them.
    Result<std::string> email = app->web->UserEmail(action->user_id);
    if (!email.has_value()) {
      Status s = email.error();
      if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
        return Answer(403, "permission_denied", "jit cannot tell who you are: " + s.message(),
                      reply_to);
      }
      spdlog::warn("slack: users.info failed: {}", s.ToString());
      return Answer(503, "unavailable", "jit could not ask Slack who you are; try again", reply_to);
    }
    auto directory_error = [&](const Status& s) {
      if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
        return Answer(403, "permission_denied",
                      "your Slack e-mail " + *email + " is not an Identity Center user", reply_to);
      }
      spdlog::warn("slack: identity store look-up failed: {}", s.ToString());
      return Answer(503, "unavailable", "jit could not look you up in Identity Center; try again",
                    reply_to);
    };
    Result<std::string> user_id = directory_.UserIdByEmail(*email);
    if (!user_id.has_value()) return directory_error(user_id.error());
    Result<provider::DirectoryUser> user = directory_.DescribeUser(*user_id);
    if (!user.has_value()) return directory_error(user.error());
    Result<std::vector<std::string>> groups = directory_.GroupNames(*user_id);
    if (!groups.has_value()) return directory_error(groups.error());
    model::Identity who{user->user_name, *groups, *user_id};

    Result<model::Request> decided =
        approve ? workflow_.Approve(who, action->request_id, "approved in Slack")
                : workflow_.Deny(who, action->request_id, "denied in Slack by " + who.username);
    if (!decided.has_value()) {
      Status s = decided.error();
      // The workflow hides requests from those who may not see them (NotFound). The button came
      // from a message about this very request, so say plainly that the user may not decide it.
      if (s.code() == StatusCode::kNotFound) {
        s = PermissionDeniedError("only its approvers may decide it");
      }
      HttpError e = HttpErrorFor(s.code());
      std::string why = MessageIsSafeToShow(s.code()) ? s.message() : "try again later";
      if (!MessageIsSafeToShow(s.code())) spdlog::warn("slack: {}", s.ToString());
      return Answer(e.status, e.code,
                    std::string("jit did not ") + (approve ? "approve" : "deny") + " " +
                        action->request_id + ": " + why,
                    reply_to);
    }
    std::string text = approve ? "You approved " + decided->id + " (" + Describe(*decided) +
                                     "); it is now " +
                                     std::string(model::RequestStateName(decided->state)) + "."
                               : "You denied " + decided->id + " (" + Describe(*decided) + ").";
    spdlog::info("slack: {} {} {} as {}", who.username, approve ? "approved" : "denied",
                 decided->id, action->user_id);
    ApiResponse r = Answer(200, "", text, reply_to);
    r.user = who.username;
    return r;
  } catch (const std::exception& e) {
    spdlog::error("slack: unexpected exception: {}", e.what());
    return Answer(500, "internal", "internal error", "");
  }
}

}  // namespace jit::api
