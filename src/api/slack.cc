#include "api/slack.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "api/http_error.h"
#include "api/json.h"
#include "core/duration.h"
#include "core/form.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "model/identity.h"
#include "notify/render.h"

namespace jit::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRemembered = 100000;

// The words of a command's text, split on blanks.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

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

void SlackInteractions::PostToResponseUrl(const json& message, const std::string& response_url) {
  if (response_url.empty() || options_.response_url_prefix.empty() ||
      response_url.rfind(options_.response_url_prefix, 0) != 0) {
    return;
  }
  Result<aws::HttpResponse> r = http_.Send({.method = "POST",
                                            .url = response_url,
                                            .headers = {{"Content-Type", "application/json"}},
                                            .body = Dump(message),
                                            .connect_timeout = Duration(1000),
                                            .total_timeout = Duration(2000)});
  Status s = notify::HttpOutcome("slack response_url", r);
  if (!s.ok()) spdlog::warn("slack: could not post the answer to response_url: {}", s.message());
}

ApiResponse SlackInteractions::Answer(int status, std::string_view code, const std::string& text,
                                      const std::string& response_url) {
  json body = notify::SlackEphemeral(text);
  if (status != 200) body["error"] = ErrorJson(code, text)["error"];
  PostToResponseUrl(notify::SlackEphemeral(text), response_url);
  ApiResponse out;
  out.status = status;
  out.body = Dump(body);
  return out;
}

ApiResponse SlackInteractions::AnswerLines(const std::vector<std::string>& lines,
                                           const std::string& response_url) {
  json body = notify::SlackEphemeralLines(lines);
  PostToResponseUrl(body, response_url);
  ApiResponse out;
  out.body = Dump(body);
  return out;
}

const SlackInteractions::App* SlackInteractions::Verify(const ApiRequest& request,
                                                        const std::vector<App>& apps,
                                                        ApiResponse* refusal) {
  std::string timestamp = request.Header("x-slack-request-timestamp");
  std::string signature = request.Header("x-slack-signature");
  const App* app = nullptr;
  Status first_error;
  for (const App& a : apps) {
    Status s = notify::VerifySlackSignature(a.settings.signing_secret, timestamp, signature,
                                            request.body, clock_.Now(), options_.max_age);
    if (s.ok()) {
      app = &a;
      break;
    }
    if (first_error.ok()) first_error = s;
  }
  if (app == nullptr) {
    std::string why = apps.empty() ? "no Slack app is configured" : first_error.message();
    spdlog::warn("slack: refused a call to {}: {}", notify::OneLine(request.target, 80), why);
    *refusal = Answer(401, "unauthenticated", why, "");
    return nullptr;
  }
  if (!FirstSight(signature)) {
    *refusal = Answer(401, "unauthenticated", "this request was seen before (a replay)", "");
    return nullptr;
  }
  return app;
}

std::optional<model::Identity> SlackInteractions::Identify(const App& app,
                                                           const std::string& slack_user,
                                                           const std::string& reply_to,
                                                           ApiResponse* refusal) {
  Result<std::string> email = app.web->UserEmail(slack_user);
  if (!email.has_value()) {
    Status s = email.error();
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
      *refusal =
          Answer(403, "permission_denied", "jit cannot tell who you are: " + s.message(), reply_to);
    } else {
      spdlog::warn("slack: users.info failed: {}", s.ToString());
      *refusal =
          Answer(503, "unavailable", "jit could not ask Slack who you are; try again", reply_to);
    }
    return std::nullopt;
  }
  auto directory_error = [&](const Status& s) {
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
      *refusal =
          Answer(403, "permission_denied",
                 "your Slack e-mail " + *email + " is not an Identity Center user", reply_to);
    } else {
      spdlog::warn("slack: identity store look-up failed: {}", s.ToString());
      *refusal = Answer(503, "unavailable",
                        "jit could not look you up in Identity Center; try again", reply_to);
    }
    return std::nullopt;
  };
  Result<std::string> user_id = directory_.UserIdByEmail(*email);
  if (!user_id.has_value()) return directory_error(user_id.error());
  Result<provider::DirectoryUser> user = directory_.DescribeUser(*user_id);
  if (!user.has_value()) return directory_error(user.error());
  Result<std::vector<std::string>> groups = directory_.GroupNames(*user_id);
  if (!groups.has_value()) return directory_error(groups.error());
  return model::Identity{user->user_name, *groups, *user_id};
}

ApiResponse SlackInteractions::Refused(Status s, const std::string& what,
                                       const std::string& reply_to) {
  HttpError e = HttpErrorFor(s.code());
  std::string why = MessageIsSafeToShow(s.code()) ? s.message() : "try again later";
  if (!MessageIsSafeToShow(s.code())) spdlog::warn("slack: {}", s.ToString());
  return Answer(e.status, e.code, "jit did not " + what + ": " + why, reply_to);
}

ApiResponse SlackInteractions::Handle(const ApiRequest& request) {
  try {
    std::shared_ptr<const std::vector<App>> apps;
    {
      MutexLock lock(&mu_);
      apps = apps_;
    }
    ApiResponse refusal;
    const App* app = Verify(request, *apps, &refusal);
    if (app == nullptr) return refusal;
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
    std::optional<model::Identity> who = Identify(*app, action->user_id, reply_to, &refusal);
    if (!who) return refusal;

    Result<model::Request> decided =
        approve ? workflow_.Approve(*who, action->request_id, "approved in Slack")
                : workflow_.Deny(*who, action->request_id, "denied in Slack by " + who->username);
    if (!decided.has_value()) {
      Status s = decided.error();
      // The workflow hides requests from those who may not see them (NotFound). The button came
      // from a message about this very request, so say plainly that the user may not decide it.
      if (s.code() == StatusCode::kNotFound) {
        s = PermissionDeniedError("only its approvers may decide it");
      }
      return Refused(s, std::string(approve ? "approve" : "deny") + " " + action->request_id,
                     reply_to);
    }
    std::string text = approve ? "You approved " + decided->id + " (" + Describe(*decided) +
                                     "); it is now " +
                                     std::string(model::RequestStateName(decided->state)) + "."
                               : "You denied " + decided->id + " (" + Describe(*decided) + ").";
    spdlog::info("slack: {} {} {} as {}", who->username, approve ? "approved" : "denied",
                 decided->id, action->user_id);
    ApiResponse r = Answer(200, "", text, reply_to);
    r.user = who->username;
    return r;
  } catch (const std::exception& e) {
    spdlog::error("slack: unexpected exception: {}", e.what());
    return Answer(500, "internal", "internal error", "");
  }
}

ApiResponse SlackInteractions::HandleCommand(const ApiRequest& request) {
  try {
    std::shared_ptr<const std::vector<App>> apps;
    {
      MutexLock lock(&mu_);
      apps = apps_;
    }
    ApiResponse refusal;
    const App* app = Verify(request, *apps, &refusal);
    if (app == nullptr) return refusal;
    std::optional<std::map<std::string, std::string>> form = ParseForm(request.body);
    if (!form) return Answer(400, "bad_request", "the body is not form-encoded", "");
    auto field = [&](const char* key) {
      auto it = form->find(key);
      return it == form->end() ? std::string() : it->second;
    };
    const std::string reply_to = field("response_url");
    if (field("user_id").empty()) {
      return Answer(400, "bad_request", "the command names no user", "");
    }
    if (!app->settings.team_id.empty() && field("team_id") != app->settings.team_id) {
      return Answer(403, "permission_denied", "this Slack workspace may not use jit", "");
    }
    std::vector<std::string> words = Words(field("text"));
    std::string verb = words.empty() ? "" : words[0];
    bool ok_shape = (verb == "request" && words.size() >= 5) ||
                    (verb == "ls" && words.size() == 1) || (verb == "approve" && words.size() == 2);
    if (!ok_shape) {
      return Answer(400, "bad_request", std::string(kSlackCommandUsage), reply_to);
    }
    std::optional<model::Identity> who = Identify(*app, field("user_id"), reply_to, &refusal);
    if (!who) return refusal;
    ApiResponse r;
    if (verb == "request") {
      r = CommandRequest(*who, words, reply_to);
    } else if (verb == "ls") {
      r = CommandList(*who, reply_to);
    } else {
      r = CommandApprove(*who, words[1], reply_to);
    }
    r.user = who->username;
    return r;
  } catch (const std::exception& e) {
    spdlog::error("slack: unexpected exception: {}", e.what());
    return Answer(500, "internal", "internal error", "");
  }
}

ApiResponse SlackInteractions::CommandRequest(const model::Identity& who,
                                              const std::vector<std::string>& words,
                                              const std::string& reply_to) {
  workflow::SubmitInput in;
  in.account = words[1];
  in.permission_set = words[2];
  Result<Duration> duration = ParseDuration(words[3]);
  if (!duration.has_value()) {
    return Answer(400, "bad_request",
                  "'" + notify::OneLine(words[3], 40) + "' is not a duration (like 1h or 30m); " +
                      std::string(kSlackCommandUsage),
                  reply_to);
  }
  in.duration = *duration;
  for (std::size_t i = 4; i < words.size(); ++i) in.reason += (i > 4 ? " " : "") + words[i];
  Result<model::Request> filed = workflow_.Submit(who, in);
  if (!filed.has_value()) return Refused(filed.error(), "file the request", reply_to);
  spdlog::info("slack: {} filed {}", who.username, filed->id);
  std::string text = "Filed " + filed->id + " (" + Describe(*filed) + ", " +
                     FormatDuration(std::chrono::seconds(filed->duration_seconds)) +
                     "): " + std::string(model::RequestStateName(filed->state)) + ".";
  ApiResponse r = Answer(200, "", text, reply_to);
  r.request_id = filed->id;
  return r;
}

ApiResponse SlackInteractions::CommandList(const model::Identity& who,
                                           const std::string& reply_to) {
  std::vector<std::string> lines = {"Your open requests:"};
  auto add = [&](const model::Request& r) {
    lines.push_back("• " + r.id + " " + Describe(r) + ": " +
                    std::string(model::RequestStateName(r.state)));
  };
  // The caller's open requests.
  workflow::ListInput mine;
  mine.mine = true;
  mine.limit = 20;
  Result<store::RequestPage> own = workflow_.List(who, mine);
  if (!own.has_value()) return Refused(own.error(), "list your requests", reply_to);
  std::size_t before = lines.size();
  for (const model::Request& r : own->items) {
    if (!model::IsTerminal(r.state)) add(r);
  }
  if (lines.size() == before) lines.push_back("none");
  // What waits for the caller's approval: pending, not theirs, not approved by them yet.
  lines.push_back("Waiting for your approval:");
  workflow::ListInput waiting;
  waiting.state = model::RequestState::kPending;
  waiting.limit = 20;
  Result<store::RequestPage> pending = workflow_.List(who, waiting);
  if (!pending.has_value()) return Refused(pending.error(), "list what waits for you", reply_to);
  before = lines.size();
  for (const model::Request& r : pending->items) {
    if (r.requester == who.username) continue;
    bool answered =
        std::any_of(r.approvals.begin(), r.approvals.end(),
                    [&](const model::Approval& a) { return a.approver == who.username; });
    if (!answered) add(r);
  }
  if (lines.size() == before) lines.push_back("none");
  return AnswerLines(lines, reply_to);
}

ApiResponse SlackInteractions::CommandApprove(const model::Identity& who, const std::string& id,
                                              const std::string& reply_to) {
  if (!IsWellFormedId(id, "req_")) {
    return Answer(400, "bad_request",
                  "'" + notify::OneLine(id, 40) + "' is not a request id (req_...); " +
                      std::string(kSlackCommandUsage),
                  reply_to);
  }
  Result<model::Request> decided = workflow_.Approve(who, id, "approved in Slack");
  if (!decided.has_value()) return Refused(decided.error(), "approve " + id, reply_to);
  spdlog::info("slack: {} approved {} with /jit approve", who.username, decided->id);
  ApiResponse r =
      Answer(200, "",
             "You approved " + decided->id + " (" + Describe(*decided) + "); it is now " +
                 std::string(model::RequestStateName(decided->state)) + ".",
             reply_to);
  r.request_id = decided->id;
  return r;
}

}  // namespace jit::api
