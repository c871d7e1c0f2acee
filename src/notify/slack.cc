#include "notify/slack.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <set>

#include "aws/sigv4.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/form.h"
#include "core/mutex.h"
#include "core/retry.h"
#include "core/secret_file.h"
#include "core/time_format.h"
#include "notify/render.h"

namespace jit::notify {
namespace {

using nlohmann::json;

json PlainText(std::string_view s, std::size_t max) {
  return {{"type", "plain_text"}, {"text", OneLine(s, max)}, {"emoji", false}};
}

json Mrkdwn(std::string s) { return {{"type", "mrkdwn"}, {"text", std::move(s)}}; }

bool AwaitsApproval(Event e) {
  return e == Event::kRequestCreated || e == Event::kApprovalReminder;
}

// The events that settle a pending request: the messages that asked about it are updated.
bool Settles(Event e) {
  return e == Event::kRequestApproved || e == Event::kRequestDenied ||
         e == Event::kRequestCancelled || e == Event::kRequestTimedOut;
}

// A Slack answer's "error" word as a Status (SlackWebApi's class comment).
Status SlackError(const std::string& what, const std::string& error) {
  static const std::set<std::string> kRetry = {"ratelimited", "internal_error", "fatal_error",
                                               "service_unavailable", "request_timeout"};
  static const std::set<std::string> kAuth = {
      "invalid_auth",     "not_authed",    "account_inactive", "token_revoked",
      "token_expired",    "no_permission", "missing_scope",    "not_allowed_token_type",
      "ekm_access_denied"};
  static const std::set<std::string> kMissing = {"users_not_found", "user_not_found",
                                                 "channel_not_found", "message_not_found"};
  std::string message = what + ": " + OneLine(error.empty() ? "refused" : error, 80);
  if (kRetry.count(error) > 0) return UnavailableError(message);
  if (kAuth.count(error) > 0) return PermissionDeniedError(message);
  if (kMissing.count(error) > 0) return NotFoundError(message);
  return FailedPreconditionError(message);
}

std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

class SlackChannel final : public BasicChannel {
 public:
  SlackChannel(ChannelSettings settings, SlackChannelOptions options, aws::HttpTransport& http,
               Clock* clock, Directory* directory, SentMessages* sent)
      : BasicChannel(std::move(settings)),
        options_(std::move(options)),
        http_(http),
        directory_(directory),
        sent_(sent) {
    if (!options_.bot_token.empty() && clock != nullptr) {
      web_ = std::make_unique<SlackWebApi>(options_.api_url, options_.bot_token, http, *clock);
    }
  }

  bool Wants(const Message& m) const override {
    if (BasicChannel::Wants(m)) return true;
    // It has messages to update when a request is settled.
    return Updates() && Settles(m.event) && settings().filter.Routes(m.request);
  }

  Status Send(const Message& m) override {
    if (Updates() && Settles(m.event) && !m.request.id.empty()) {
      JIT_RETURN_IF_ERROR(UpdateKept(m));
    }
    if (!BasicChannel::Wants(m)) return OkStatus();
    // What this delivery posted already, before a failure made the job queue try again.
    std::set<std::string> done;
    if (sent_ != nullptr && web_ && !m.request.id.empty()) {
      Result<std::vector<SentMessage>> kept = sent_->Kept(m.request.id);
      if (!kept.has_value()) return kept.error().WithContext("slack " + name());
      for (const SentMessage& k : *kept) {
        if (k.delivery == DeliveryId(m)) done.insert(k.to);
      }
    }
    if (web_ && options_.direct_messages && directory_ != nullptr &&
        AudienceOf(m.event) == Audience::kApprovers && !m.request.id.empty()) {
      Status dm = DirectMessages(m, done);
      // A retry may help (what went out is skipped then); a refusal (a token without the
      // users:read.email scope, say) must not keep the channel message from going out.
      if (IsRetryable(dm)) return dm;
      if (!dm.ok()) {
        spdlog::warn("notify: slack {}: no direct messages for {}: {}", name(), m.request.id,
                     dm.ToString());
      }
    }
    if (!options_.channel.empty() && web_) {
      if (done.count(options_.channel) > 0) return OkStatus();
      return PostAndKeep(options_.channel, m);
    }
    if (options_.webhook_url.empty()) return OkStatus();
    aws::HttpCall call{.method = "POST",
                       .url = options_.webhook_url,
                       .headers = {{"Content-Type", "application/json; charset=utf-8"}},
                       .body = DumpJson(SlackBlocks(m)),
                       .connect_timeout = std::min(timeout(), Duration(5000)),
                       .total_timeout = timeout()};
    // Slack answers 200 "ok"; errors are 4xx with a word such as invalid_payload,
    // channel_not_found or no_service, 429 and 5xx.
    return HttpOutcome("slack " + name(), http_.Send(call));
  }

 private:
  bool Updates() const { return web_ != nullptr && sent_ != nullptr; }

  // Each approver not asked yet by this delivery gets it as a direct message. An approver
  // without an e-mail, or whom Slack does not know by it, is skipped (logged): they still have
  // the channel, e-mail and the web UI.
  Status DirectMessages(const Message& m, const std::set<std::string>& done) {
    Result<std::vector<Person>> people = ApproversToAsk(m.request, *directory_);
    if (!people.has_value()) {
      return people.error().WithContext("slack " + name() + ": the approvers");
    }
    for (const Person& p : *people) {
      if (p.emails.empty()) {
        spdlog::info("notify: slack {}: approver {} has no e-mail; no direct message", name(),
                     OneLine(p.username, 80));
        continue;
      }
      Result<std::string> user = web_->UserIdByEmail(p.emails.front());
      if (!user.has_value()) {
        if (user.error().code() == StatusCode::kNotFound) {
          spdlog::info("notify: slack {}: no Slack member has {}'s e-mail; no direct message",
                       name(), OneLine(p.username, 80));
          continue;
        }
        return user.error().WithContext("slack " + name());
      }
      if (done.count(*user) > 0) continue;
      JIT_RETURN_IF_ERROR(PostAndKeep(*user, m));
    }
    return OkStatus();
  }

  Status PostAndKeep(const std::string& to, const Message& m) {
    Result<SlackWebApi::Posted> posted = web_->PostMessage(to, SlackBlocks(m), timeout());
    if (!posted.has_value()) return posted.error().WithContext("slack " + name());
    if (sent_ == nullptr || m.request.id.empty()) return OkStatus();
    Status kept =
        sent_->Keep(m.request.id, SentMessage{posted->channel, posted->ts, to, DeliveryId(m)});
    if (!kept.ok()) {
      // The message is out; a retry would post it again, which is worse than one message that
      // is not updated later.
      spdlog::warn("notify: slack {}: could not keep the message to {} for {}: {}", name(), to,
                   m.request.id, kept.ToString());
    }
    return OkStatus();
  }

  // Every kept message of the request now shows the decision, without buttons.
  Status UpdateKept(const Message& m) {
    Result<std::vector<SentMessage>> kept = sent_->Kept(m.request.id);
    if (!kept.has_value()) return kept.error().WithContext("slack " + name());
    json blocks = SlackBlocks(m);
    for (const SentMessage& k : *kept) {
      Status s = web_->UpdateMessage(k.channel, k.ts, blocks, timeout());
      if (s.ok()) continue;
      if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kFailedPrecondition) {
        // Deleted, or in a conversation this token cannot change: nothing to retry.
        spdlog::info("notify: slack {}: message {} in {} not updated: {}", name(), k.ts, k.channel,
                     s.message());
        continue;
      }
      return s.WithContext("slack " + name());
    }
    return OkStatus();
  }

  const SlackChannelOptions options_;  // webhook_url and bot_token are secrets: not logged
  aws::HttpTransport& http_;
  Directory* directory_;
  SentMessages* sent_;
  std::unique_ptr<SlackWebApi> web_;  // null without a bot token
};

}  // namespace

std::string SlackEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

json SlackBlocks(const Message& m) {
  json blocks = json::array();
  std::string title = SlackEscape(Title(m));
  if (AudienceOf(m.event) == Audience::kSecurity) title = ":rotating_light: " + title;
  json section = {{"type", "section"}, {"text", Mrkdwn("*" + OneLine(title, 2900) + "*")}};
  json fields = json::array();
  for (const auto& [label, value] : Facts(m)) {
    if (fields.size() == 10) break;  // Slack's limit per section
    fields.push_back(Mrkdwn("*" + label + "*\n" + SlackEscape(OneLine(value, 1900))));
  }
  if (!fields.empty()) section["fields"] = std::move(fields);
  blocks.push_back(std::move(section));

  json elements = json::array();
  if (AwaitsApproval(m.event) && !m.request.id.empty()) {
    elements.push_back({{"type", "button"},
                        {"action_id", std::string(kSlackApproveAction)},
                        {"text", PlainText("Approve", 75)},
                        {"style", "primary"},
                        {"value", m.request.id}});
    elements.push_back({{"type", "button"},
                        {"action_id", std::string(kSlackDenyAction)},
                        {"text", PlainText("Deny", 75)},
                        {"style", "danger"},
                        {"value", m.request.id},
                        {"confirm",
                         {{"title", PlainText("Deny this request?", 100)},
                          {"text", PlainText(Title(m), 300)},
                          {"confirm", PlainText("Deny", 30)},
                          {"deny", PlainText("Keep it", 30)}}}});
  }
  std::string link = RequestLink(m);
  if (!link.empty()) {
    elements.push_back({{"type", "button"},
                        {"action_id", "jit_open"},
                        {"text", PlainText("Open in jit", 75)},
                        {"url", link}});
  }
  if (!elements.empty()) {
    blocks.push_back({{"type", "actions"},
                      {"block_id", "jit_actions_" + m.request.id},
                      {"elements", std::move(elements)}});
  }
  blocks.push_back({{"type", "context"},
                    {"elements", json::array({Mrkdwn("jit · " + std::string(EventName(m.event)) +
                                                     " · " + FormatRfc3339(m.at))})}});
  return {{"text", Title(m)}, {"blocks", std::move(blocks)}};
}

std::unique_ptr<Channel> NewSlackChannel(ChannelSettings settings, std::string webhook_url,
                                         aws::HttpTransport& http) {
  SlackChannelOptions options;
  options.webhook_url = std::move(webhook_url);
  return std::make_unique<SlackChannel>(std::move(settings), std::move(options), http, nullptr,
                                        nullptr, nullptr);
}

std::unique_ptr<Channel> NewSlackChannel(ChannelSettings settings, SlackChannelOptions options,
                                         aws::HttpTransport& http, Clock& clock,
                                         Directory* directory, SentMessages* sent) {
  return std::make_unique<SlackChannel>(std::move(settings), std::move(options), http, &clock,
                                        directory, sent);
}

std::string SlackSignature(std::string_view signing_secret, std::string_view timestamp,
                           std::string_view body) {
  std::string base = "v0:" + std::string(timestamp) + ":" + std::string(body);
  return "v0=" + Hex(HmacSha256(signing_secret, base));
}

Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp,
                            std::string_view signature, std::string_view body, Time now,
                            Duration max_age) {
  if (timestamp.empty() || signature.empty()) {
    return UnauthenticatedError(
        "the request has no X-Slack-Request-Timestamp or X-Slack-Signature header");
  }
  std::int64_t ts = 0;
  auto [ptr, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || ptr != timestamp.data() + timestamp.size() || timestamp.size() > 12) {
    return UnauthenticatedError("X-Slack-Request-Timestamp is not a unix time");
  }
  std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::int64_t age = now_s - ts;
  if (age < 0) age = -age;
  if (age > std::chrono::duration_cast<std::chrono::seconds>(max_age).count()) {
    return UnauthenticatedError(
        "X-Slack-Request-Timestamp is more than 5 minutes away from now (an old or replayed "
        "request)");
  }
  if (!ConstantTimeEquals(signature, SlackSignature(signing_secret, timestamp, body))) {
    return UnauthenticatedError("X-Slack-Signature does not match the signing secret");
  }
  return OkStatus();
}

Result<SlackAction> ParseSlackAction(std::string_view form_body) {
  std::optional<std::string> payload;
  std::string_view rest = form_body;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.rfind("payload=", 0) != 0) continue;
    if (payload) return InvalidArgumentError("the body has more than one payload");
    payload = FormDecode(part.substr(8));
    if (!payload) return InvalidArgumentError("the payload is not form-encoded");
  }
  if (!payload) return InvalidArgumentError("the body has no payload= field");
  json p = json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded() || !p.is_object()) {
    return InvalidArgumentError("the payload is not a JSON object");
  }
  if (Str(p, "type") != "block_actions") {
    return InvalidArgumentError("only block_actions payloads are handled, not '" +
                                OneLine(Str(p, "type"), 40) + "'");
  }
  SlackAction a;
  auto user = p.find("user");
  if (user == p.end() || !user->is_object() || Str(*user, "id").empty()) {
    return InvalidArgumentError("the payload names no user");
  }
  a.user_id = Str(*user, "id");
  a.user_name = Str(*user, "username");
  if (a.user_name.empty()) a.user_name = Str(*user, "name");
  auto team = p.find("team");
  if (team != p.end() && team->is_object()) a.team_id = Str(*team, "id");
  if (a.team_id.empty()) a.team_id = Str(*user, "team_id");
  a.response_url = Str(p, "response_url");
  auto actions = p.find("actions");
  if (actions == p.end() || !actions->is_array() || actions->empty()) {
    return InvalidArgumentError("the payload has no action");
  }
  const json& action = (*actions)[0];
  a.action_id = Str(action, "action_id");
  a.request_id = Str(action, "value");
  if (a.action_id.empty()) return InvalidArgumentError("the action has no action_id");
  return a;
}

json SlackEphemeral(std::string_view text) {
  return {
      {"response_type", "ephemeral"}, {"replace_original", false}, {"text", OneLine(text, 2000)}};
}

json SlackEphemeralLines(const std::vector<std::string>& lines) {
  std::string text;
  for (std::size_t i = 0; i < lines.size() && i < 50; ++i) {
    text += (i == 0 ? "" : "\n") + SlackEscape(OneLine(lines[i], 300));
  }
  return {{"response_type", "ephemeral"}, {"replace_original", false}, {"text", text}};
}

Result<std::vector<SlackApp>> SlackAppsFromConfig(const std::vector<ChannelConfig>& channels) {
  std::vector<SlackApp> apps;
  for (const ChannelConfig& channel : channels) {
    if (channel.type != "slack") continue;
    const SlackOptions& c = channel.As<SlackOptions>();
    if (c.signing_secret_file.empty()) continue;
    SlackApp app;
    app.channel = channel.name;
    JIT_ASSIGN_OR_RETURN(app.signing_secret,
                         ReadSecretFile(c.signing_secret_file, "slack " + channel.name));
    if (!c.bot_token_file.empty()) {
      JIT_ASSIGN_OR_RETURN(app.bot_token,
                           ReadSecretFile(c.bot_token_file, "slack " + channel.name));
    }
    app.api_url = c.api_url;
    while (!app.api_url.empty() && app.api_url.back() == '/') app.api_url.pop_back();
    app.team_id = c.team_id;
    apps.push_back(std::move(app));
  }
  return apps;
}

SlackWebApi::SlackWebApi(std::string api_url, std::string bot_token, aws::HttpTransport& http,
                         Clock& clock, Duration ttl)
    : api_url_(std::move(api_url)),
      bot_token_(std::move(bot_token)),
      http_(http),
      clock_(clock),
      ttl_(ttl) {}

Result<std::string> SlackWebApi::UserEmail(const std::string& user_id) {
  bool plain = !user_id.empty() && user_id.size() <= 32 &&
               std::all_of(user_id.begin(), user_id.end(), [](char c) {
                 return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
               });
  if (!plain) return InvalidArgumentError("'" + OneLine(user_id, 40) + "' is not a Slack user id");
  MonoTime now = clock_.MonoNow();
  {
    MutexLock lock(&mu_);
    auto it = cache_.find(user_id);
    if (it != cache_.end() && now - it->second.at < ttl_) return it->second.email;
  }
  if (bot_token_.empty()) {
    return FailedPreconditionError("no bot_token_file: cannot ask Slack for the user's e-mail");
  }
  aws::HttpCall call{.method = "GET",
                     .url = api_url_ + "/users.info?user=" + user_id,
                     .headers = {{"Authorization", "Bearer " + bot_token_}},
                     .connect_timeout = Duration(2000),
                     .total_timeout = Duration(2500)};
  Result<aws::HttpResponse> r = http_.Send(call);
  Status outcome = HttpOutcome("slack users.info", r);
  if (!outcome.ok()) return outcome;
  json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError("slack users.info: the answer is not JSON");
  }
  // "ok" must be the boolean true; j.value("ok", false) would throw on any other type.
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean() || !ok->get<bool>()) {
    std::string error = Str(j, "error");
    if (error == "user_not_found" || error == "users_not_found") {
      return NotFoundError("Slack knows no user " + user_id);
    }
    if (error == "ratelimited") return UnavailableError("slack users.info: rate limited");
    return PermissionDeniedError("slack users.info refused: " + OneLine(error, 80));
  }
  std::string email;
  if (auto user = j.find("user"); user != j.end() && user->is_object()) {
    if (auto profile = user->find("profile"); profile != user->end())
      email = Str(*profile, "email");
  }
  if (email.empty()) {
    return NotFoundError("Slack shows no e-mail for user " + user_id +
                         " (the app needs the users:read.email scope)");
  }
  MutexLock lock(&mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[user_id] = Cached{email, now};
  return email;
}

Result<json> SlackWebApi::Call(const std::string& method, const std::string& query,
                               const json* body, Duration timeout) {
  if (bot_token_.empty()) {
    return FailedPreconditionError("no bot_token_file: cannot call Slack's " + method);
  }
  aws::HttpCall call{.method = body == nullptr ? "GET" : "POST",
                     .url = api_url_ + "/" + method + (query.empty() ? "" : "?" + query),
                     .headers = {{"Authorization", "Bearer " + bot_token_}},
                     .connect_timeout = std::min(timeout, Duration(5000)),
                     .total_timeout = timeout};
  if (body != nullptr) {
    call.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    call.body = DumpJson(*body);
  }
  Result<aws::HttpResponse> r = http_.Send(call);
  JIT_RETURN_IF_ERROR(HttpOutcome("slack " + method, r));
  json j = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError("slack " + method + ": the answer is not JSON");
  }
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean() || !ok->get<bool>()) {
    return SlackError("slack " + method, Str(j, "error"));
  }
  return j;
}

Result<std::string> SlackWebApi::UserIdByEmail(const std::string& email) {
  MonoTime now = clock_.MonoNow();
  {
    MutexLock lock(&mu_);
    auto it = ids_by_email_.find(email);
    if (it != ids_by_email_.end() && now - it->second.at < ttl_) return it->second.email;
  }
  JIT_ASSIGN_OR_RETURN(
      json j, Call("users.lookupByEmail", "email=" + aws::UriEncode(email, /*keep_slash=*/false),
                   nullptr, Duration(2500)));
  std::string id;
  if (auto user = j.find("user"); user != j.end()) id = Str(*user, "id");
  if (id.empty()) return NotFoundError("slack users.lookupByEmail: the answer names no user");
  MutexLock lock(&mu_);
  if (ids_by_email_.size() > 10000) ids_by_email_.clear();
  ids_by_email_[email] = Cached{id, now};
  return id;
}

Result<SlackWebApi::Posted> SlackWebApi::PostMessage(const std::string& channel,
                                                     const json& message, Duration timeout) {
  json body = message;
  body["channel"] = channel;
  body["unfurl_links"] = false;
  JIT_ASSIGN_OR_RETURN(json j, Call("chat.postMessage", "", &body, timeout));
  Posted p{Str(j, "channel"), Str(j, "ts")};
  if (p.channel.empty() || p.ts.empty()) {
    return UnavailableError("slack chat.postMessage: the answer has no channel or ts");
  }
  return p;
}

Status SlackWebApi::UpdateMessage(const std::string& channel, const std::string& ts,
                                  const json& message, Duration timeout) {
  json body = message;
  body["channel"] = channel;
  body["ts"] = ts;
  return Call("chat.update", "", &body, timeout).error();
}

}  // namespace jit::notify
