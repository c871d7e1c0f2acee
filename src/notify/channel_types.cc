#include "notify/channel_types.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <utility>

#include "aws/credentials.h"
#include "aws/names.h"
#include "core/email_address.h"
#include "core/secret_file.h"
#include "core/strings.h"
#include "core/url.h"
#include "notify/aws_channels.h"
#include "notify/email.h"
#include "notify/render.h"
#include "notify/slack.h"
#include "notify/webhook.h"

namespace jit::notify {
namespace {

using config::Field;
using config::Fields;
using config::Named;
using config::Reader;

// A file path the broker must be able to read (secrets and URLs are kept in files). Only its
// shape is checked here; CheckChannelFiles (config::LoadConfigFile) checks that it can be read.
void ReadableFile(Reader& r, const Fields& fields, const char* key, int line,
                  const std::string& what, bool required, std::string& out) {
  if (!required && fields.Get(key) == nullptr) return;
  if (std::optional<std::string> path = r.RequiredString(fields, key, line, what)) out = *path;
}

// An optional key that must not be empty when present.
void OptionalString(Reader& r, const Fields& fields, const char* key, int line,
                    const std::string& what, std::string& out) {
  if (fields.Get(key) == nullptr) return;
  if (auto s = r.RequiredString(fields, key, line, what)) out = *s;
}

// The `region` key of the AWS channels.
void ReadRegion(Reader& r, const Fields& fields, std::string& out) {
  if (const Field* region = fields.Get("region")) {
    if (auto s = r.String(*region)) {
      if (!aws::IsAwsRegion(*s)) {
        r.Error(region->line, "'" + *s + "' is not an AWS region (like us-east-1)");
      } else {
        out = *s;
      }
    }
  }
}

// The region of an ARN ("arn:aws:sns:eu-west-1:111111111111:jit" -> "eu-west-1"), or "".
std::string ArnRegion(const std::string& arn) {
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  std::size_t end = arn.find(':', pos);
  return end == std::string::npos ? "" : arn.substr(pos, end - pos);
}

Result<std::string> ReadUrlFile(const std::string& path, const std::string& what) {
  JIT_ASSIGN_OR_RETURN(std::string url, ReadSecretFile(path, what));
  if (!IsHttpsOrLoopbackHttpUrl(url) || url.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgumentError(what + ": " + path +
                                " must hold one https URL (http only on a loopback host)");
  }
  return url;
}

std::string What(const ChannelConfig& c) { return c.type + " channel " + c.name; }

// --- webhook ------------------------------------------------------------------------------

std::shared_ptr<const ChannelOptions> ParseWebhook(const Fields& fields, int line,
                                                   const std::string& what, Reader& r) {
  auto o = std::make_shared<WebhookOptions>();
  if (auto url = r.RequiredString(fields, "url", line, what)) {
    if (!IsHttpsOrLoopbackHttpUrl(*url)) {
      r.Error(fields.Get("url")->line, "'url' must be an https URL (http only on a loopback host)");
    } else {
      o->url = *url;
    }
  }
  ReadableFile(r, fields, "secret_file", line, what, /*required=*/true, o->secret_file);
  return o;
}

Result<std::unique_ptr<Channel>> MakeWebhook(const ChannelConfig& c, ChannelSettings settings,
                                             const NotifierDeps& deps) {
  const auto& o = c.As<WebhookOptions>();
  JIT_ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(o.secret_file, What(c)));
  return NewWebhookChannel(std::move(settings), o.url, secret, deps.http, deps.clock);
}

// --- slack --------------------------------------------------------------------------------

std::shared_ptr<const ChannelOptions> ParseSlack(const Fields& fields, int line,
                                                 const std::string& what, Reader& r) {
  auto o = std::make_shared<SlackOptions>();
  ReadableFile(r, fields, "webhook_url_file", line, what, false, o->webhook_url_file);
  ReadableFile(r, fields, "signing_secret_file", line, what, false, o->signing_secret_file);
  ReadableFile(r, fields, "bot_token_file", line, what, false, o->bot_token_file);
  if (const Field* f = fields.Get("channel")) {
    if (auto s = r.RequiredString(fields, "channel", line, what)) {
      static const std::regex kChannelId("[CG][A-Z0-9]{2,30}");
      if (!std::regex_match(*s, kChannelId)) {
        r.Error(f->line, "'channel' must be a Slack channel id (like C0123ABCD), not '" +
                             OneLine(*s, 80) + "'");
      } else {
        o->channel = *s;
      }
    }
    if (fields.Get("bot_token_file") == nullptr) {
      r.Error(f->line, "'channel' needs 'bot_token_file': jit posts there with chat.postMessage");
    }
  }
  if (const Field* f = fields.Get("direct_messages")) {
    if (auto b = r.Bool(*f)) o->direct_messages = *b;
  }
  if (fields.Get("webhook_url_file") == nullptr && fields.Get("channel") == nullptr &&
      fields.Get("bot_token_file") == nullptr) {
    r.Error(line,
            "a slack channel needs 'webhook_url_file', or 'bot_token_file' (direct messages to "
            "approvers) with an optional 'channel'");
  }
  if (fields.Get("webhook_url_file") != nullptr && fields.Get("channel") != nullptr) {
    r.Error(fields.Get("channel")->line,
            "'channel' and 'webhook_url_file' both say where channel messages go; keep one");
  }
  if (!o->signing_secret_file.empty() && fields.Get("bot_token_file") == nullptr) {
    r.Error(fields.Get("signing_secret_file")->line,
            "'signing_secret_file' (Approve / Deny buttons) needs 'bot_token_file' too: jit "
            "looks the Slack user's e-mail up with it");
  }
  if (const Field* api = fields.Get("api_url")) {
    if (auto s = r.RequiredString(fields, "api_url", line, what)) {
      if (!IsHttpsOrLoopbackHttpUrl(*s)) {
        r.Error(api->line, "'api_url' must be an https URL (http only on a loopback host)");
      } else {
        o->api_url = *s;
      }
    }
  }
  OptionalString(r, fields, "team_id", line, what, o->team_id);
  return o;
}

Result<std::unique_ptr<Channel>> MakeSlack(const ChannelConfig& c, ChannelSettings settings,
                                           const NotifierDeps& deps) {
  const auto& o = c.As<SlackOptions>();
  SlackChannelOptions options;
  if (!o.webhook_url_file.empty()) {
    JIT_ASSIGN_OR_RETURN(options.webhook_url, ReadUrlFile(o.webhook_url_file, What(c)));
  }
  if (!o.bot_token_file.empty()) {
    JIT_ASSIGN_OR_RETURN(options.bot_token, ReadSecretFile(o.bot_token_file, What(c)));
  }
  options.channel = o.channel;
  options.api_url = o.api_url;
  while (!options.api_url.empty() && options.api_url.back() == '/') options.api_url.pop_back();
  options.direct_messages = o.direct_messages;
  return NewSlackChannel(std::move(settings), std::move(options), deps.http, deps.clock,
                         deps.directory, deps.sent_messages);
}

// --- teams --------------------------------------------------------------------------------

std::shared_ptr<const ChannelOptions> ParseTeams(const Fields& fields, int line,
                                                 const std::string& what, Reader& r) {
  auto o = std::make_shared<TeamsOptions>();
  const Field* url = fields.Get("url");
  const Field* file = fields.Get("webhook_url_file");
  if ((url == nullptr) == (file == nullptr)) {
    r.Error(line, "a teams channel needs exactly one of 'url' and 'webhook_url_file'");
  } else if (url != nullptr) {
    if (auto s = r.RequiredString(fields, "url", line, what)) {
      if (!IsHttpsOrLoopbackHttpUrl(*s)) {
        r.Error(url->line, "'url' must be an https URL (http only on a loopback host)");
      } else {
        o->url = *s;
      }
    }
  } else {
    ReadableFile(r, fields, "webhook_url_file", line, what, true, o->webhook_url_file);
  }
  return o;
}

Result<std::unique_ptr<Channel>> MakeTeams(const ChannelConfig& c, ChannelSettings settings,
                                           const NotifierDeps& deps) {
  const auto& o = c.As<TeamsOptions>();
  std::string url = o.url;
  if (url.empty()) {
    JIT_ASSIGN_OR_RETURN(url, ReadUrlFile(o.webhook_url_file, What(c)));
  }
  return NewTeamsChannel(std::move(settings), url, deps.http);
}

// --- email --------------------------------------------------------------------------------

std::shared_ptr<const ChannelOptions> ParseEmail(const Fields& fields, int line,
                                                 const std::string& what, Reader& r) {
  auto c = std::make_shared<EmailOptions>();
  if (auto url = r.RequiredString(fields, "smtp_url", line, what)) {
    int url_line = fields.Get("smtp_url")->line;
    std::string_view rest;
    if (url->rfind("smtp://", 0) == 0) {
      rest = std::string_view(*url).substr(7);
    } else if (url->rfind("smtps://", 0) == 0) {
      rest = std::string_view(*url).substr(8);
    }
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.empty() || authority.find('@') != std::string_view::npos) {
      r.Error(url_line,
              "'smtp_url' must be smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT], without "
              "user info (use 'username' and 'password_file')");
    } else {
      c->smtp_url = *url;
    }
  }
  if (auto from = r.RequiredString(fields, "from", line, what)) {
    if (!IsMailAddress(*from)) {
      r.Error(fields.Get("from")->line, "'from' is not an e-mail address: '" + *from + "'");
    } else {
      c->from = *from;
    }
  }
  if (const Field* to = fields.Get("to")) {
    if (auto names = r.Names(*to)) {
      for (const Named& n : *names) {
        if (!IsMailAddress(n.value)) {
          r.Error(n.line, "'" + n.value + "' is not an e-mail address");
        } else {
          c->to.push_back(n.value);
        }
      }
    }
  }
  if (const Field* f = fields.Get("to_requester")) {
    if (auto b = r.Bool(*f)) c->to_requester = *b;
  }
  if (const Field* f = fields.Get("to_approvers")) {
    if (auto b = r.Bool(*f)) c->to_approvers = *b;
  }
  if (c->to.empty() && !c->to_requester && !c->to_approvers) {
    r.Error(line,
            "an email channel needs 'to' recipients (or 'to_requester: true' or "
            "'to_approvers: true')");
  }
  if (const Field* f = fields.Get("username")) {
    if (auto s = r.RequiredString(fields, "username", line, what)) c->username = *s;
    if (fields.Get("password_file") == nullptr) {
      r.Error(f->line, "'username' needs 'password_file'");
    }
  }
  ReadableFile(r, fields, "password_file", line, what, false, c->password_file);
  ReadableFile(r, fields, "ca_file", line, what, false, c->ca_file);
  if (const Field* f = fields.Get("starttls")) {
    if (auto b = r.Bool(*f)) {
      c->starttls = *b;
      if (!*b && !c->smtp_url.empty()) {
        std::string as_http = "http://" + c->smtp_url.substr(c->smtp_url.find("://") + 3);
        if (c->smtp_url.rfind("smtps://", 0) == 0) {
          r.Error(f->line, "'starttls: false' makes no sense with smtps:// (TLS from the start)");
        } else if (!IsHttpsOrLoopbackHttpUrl(as_http)) {
          r.Error(f->line,
                  "'starttls: false' is allowed only for a loopback SMTP server; mail to " +
                      c->smtp_url + " must be encrypted");
        }
      }
    }
  }
  return c;
}

Result<std::unique_ptr<Channel>> MakeEmail(const ChannelConfig& c, ChannelSettings settings,
                                           const NotifierDeps& deps) {
  const auto& o = c.As<EmailOptions>();
  EmailSettings email;
  email.smtp.url = o.smtp_url;
  email.smtp.username = o.username;
  if (!o.password_file.empty()) {
    JIT_ASSIGN_OR_RETURN(email.smtp.password, ReadSecretFile(o.password_file, What(c)));
  }
  // The config parser allows starttls: false only for loopback smtp:// URLs.
  email.smtp.require_tls = o.starttls;
  email.smtp.ca_file = o.ca_file;
  email.from = o.from;
  email.to = o.to;
  email.to_requester = o.to_requester;
  email.to_approvers = o.to_approvers;
  std::unique_ptr<SmtpSender> owned;
  SmtpSender* sender = deps.smtp;
  if (sender == nullptr) {
    owned = NewCurlSmtpSender();
    sender = owned.get();
  }
  return NewEmailChannel(std::move(settings), email, *sender, std::move(owned), deps.directory,
                         deps.clock);
}

// --- sns, eventbridge, securityhub --------------------------------------------------------

// The region an AWS channel sends to: its own `region`, else `from_arn`, else aws.region, else
// the environment's. FailedPrecondition without credentials or a region.
Result<std::string> AwsRegionFor(const ChannelConfig& c, const std::string& region,
                                 const std::string& from_arn, const NotifierDeps& deps) {
  if (deps.aws_credentials == nullptr) {
    return FailedPreconditionError(What(c) + ": no AWS credentials to sign with");
  }
  std::string out = region;
  if (out.empty()) out = from_arn;
  if (out.empty()) out = deps.default_region;
  if (out.empty()) {
    Result<std::string> resolved = aws::ResolveRegion(deps.env);
    if (resolved.has_value()) out = *resolved;
  }
  if (out.empty()) {
    return FailedPreconditionError(What(c) +
                                   ": no AWS region (set 'region', aws.region or AWS_REGION)");
  }
  return out;
}

std::shared_ptr<const ChannelOptions> ParseSns(const Fields& fields, int line,
                                               const std::string& what, Reader& r) {
  auto o = std::make_shared<SnsOptions>();
  if (auto arn = r.RequiredString(fields, "topic_arn", line, what)) {
    static const std::regex kTopic(
        "arn:aws(-[a-z]{1,5}){0,3}:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?");
    if (!std::regex_match(*arn, kTopic)) {
      r.Error(fields.Get("topic_arn")->line,
              "'" + *arn + "' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
    } else {
      o->topic_arn = *arn;
    }
  }
  if (fields.Get("format") != nullptr) {
    if (auto s = r.RequiredString(fields, "format", line, what)) o->format = *s;
    if (o->format != "json" && o->format != "text") {
      r.Error(fields.Get("format")->line, "'format' must be json or text");
    }
  }
  ReadRegion(r, fields, o->region);
  return o;
}

Result<std::unique_ptr<Channel>> MakeSns(const ChannelConfig& c, ChannelSettings settings,
                                         const NotifierDeps& deps) {
  const auto& o = c.As<SnsOptions>();
  JIT_ASSIGN_OR_RETURN(std::string region, AwsRegionFor(c, o.region, ArnRegion(o.topic_arn), deps));
  AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                   aws::ResolveEndpoint(deps.env, "SNS", "sns", region)};
  return NewSnsChannel(std::move(settings), target, o.topic_arn, o.format);
}

std::shared_ptr<const ChannelOptions> ParseEventBridge(const Fields& fields, int line,
                                                       const std::string& what, Reader& r) {
  auto o = std::make_shared<EventBridgeOptions>();
  if (auto bus = r.RequiredString(fields, "bus", line, what)) {
    static const std::regex kBus(
        "[/\\.\\-_A-Za-z0-9]{1,256}|arn:aws[\\w-]*:events:[a-z0-9-]+:\\d{12}:event-bus/"
        "[/\\.\\-_A-Za-z0-9]+");
    if (bus->size() > 1600 || !std::regex_match(*bus, kBus)) {
      r.Error(fields.Get("bus")->line, "'" + *bus + "' is not an event bus name or ARN");
    } else {
      o->bus = *bus;
    }
  }
  if (fields.Get("source") != nullptr) {
    if (auto s = r.RequiredString(fields, "source", line, what)) o->source = *s;
    if (o->source.size() > 256 || o->source.rfind("aws.", 0) == 0) {
      r.Error(fields.Get("source")->line,
              "'source' must be at most 256 characters and must not start with 'aws.'");
    }
  }
  ReadRegion(r, fields, o->region);
  return o;
}

Result<std::unique_ptr<Channel>> MakeEventBridge(const ChannelConfig& c, ChannelSettings settings,
                                                 const NotifierDeps& deps) {
  const auto& o = c.As<EventBridgeOptions>();
  std::string from_arn = o.bus.rfind("arn:", 0) == 0 ? ArnRegion(o.bus) : "";
  JIT_ASSIGN_OR_RETURN(std::string region, AwsRegionFor(c, o.region, from_arn, deps));
  AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                   aws::ResolveEndpoint(deps.env, "EVENTBRIDGE", "events", region)};
  return NewEventBridgeChannel(std::move(settings), target, o.bus, o.source);
}

std::shared_ptr<const ChannelOptions> ParseSecurityHub(const Fields& fields, int line,
                                                       const std::string& what, Reader& r) {
  auto o = std::make_shared<SecurityHubOptions>();
  if (fields.Get("account_id") != nullptr) {
    if (auto s = r.RequiredString(fields, "account_id", line, what)) o->account_id = *s;
    if (!o->account_id.empty() && !IsDigits(o->account_id, 12)) {
      r.Error(fields.Get("account_id")->line, "'account_id' must be exactly 12 digits");
    }
  }
  ReadRegion(r, fields, o->region);
  return o;
}

Result<std::unique_ptr<Channel>> MakeSecurityHub(const ChannelConfig& c, ChannelSettings settings,
                                                 const NotifierDeps& deps) {
  const auto& o = c.As<SecurityHubOptions>();
  JIT_ASSIGN_OR_RETURN(std::string region, AwsRegionFor(c, o.region, "", deps));
  AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                   aws::ResolveEndpoint(deps.env, "SECURITYHUB", "securityhub", region)};
  return NewSecurityHubChannel(std::move(settings), target, o.account_id,
                               aws::ResolveEndpoint(deps.env, "STS", "sts", region));
}

Filter SecurityOnly() {
  Filter f;
  f.audiences = {Audience::kSecurity};
  return f;
}

// --- the notify: list ---------------------------------------------------------------------

std::vector<std::string> TypeNames() {
  std::vector<std::string> out;
  for (const ChannelType& t : ChannelTypes()) out.emplace_back(t.name);
  return out;
}

std::vector<std::string> EventNames() {
  std::vector<std::string> out;
  for (Event e : kAllEvents) out.emplace_back(EventName(e));
  return out;
}

std::optional<ChannelConfig> ReadChannel(const config::Node& item, int line, Reader& r) {
  if (!item.IsMap()) {
    r.Error(line, "a 'notify' entry must be a map");
    return std::nullopt;
  }
  // The type decides which keys are allowed, so read it first.
  std::string type;
  for (const auto& [key, value] : item.Entries()) {
    if (key.IsScalar() && key.Scalar() == "type" && value.IsScalar()) type = value.Scalar();
  }
  const ChannelType* kind = FindChannelType(type);
  if (kind == nullptr) {
    std::string names;
    for (const std::string& n : TypeNames()) names += (names.empty() ? "" : ", ") + n;
    r.Error(line, type.empty()
                      ? "a 'notify' entry needs a 'type' (one of " + names + ")"
                      : "unknown channel type '" + type + "'" + config::Hint(type, TypeNames()));
    return std::nullopt;
  }
  std::vector<std::string> allowed = {"type",    "name",  "audiences", "events",
                                      "timeout", "rules", "accounts"};
  allowed.insert(allowed.end(), kind->keys.begin(), kind->keys.end());
  const std::string what = "a " + type + " channel";
  std::optional<Fields> fields = r.Map(item, line, what, allowed);
  if (!fields) return std::nullopt;

  ChannelConfig c;
  c.type = type;
  c.line = line;
  OptionalString(r, *fields, "name", line, what, c.name);
  if (const Field* a = fields->Get("audiences")) {
    static const std::vector<std::string> kAudiences = {"approvers", "requester", "security"};
    if (auto names = r.Names(*a)) {
      for (const Named& n : *names) {
        if (!ParseAudience(n.value)) {
          r.Error(n.line, "unknown audience '" + n.value +
                              "'; use approvers, requester or security" +
                              config::Hint(n.value, kAudiences));
        } else {
          c.audiences.push_back(n.value);
        }
      }
      if (names->empty()) r.Error(a->line, "'audiences' must not be empty");
    }
  }
  if (const Field* e = fields->Get("events")) {
    if (auto names = r.Names(*e)) {
      for (const Named& n : *names) {
        if (!ParseEvent(n.value)) {
          r.Error(n.line, "unknown event '" + n.value + "'" + config::Hint(n.value, EventNames()));
        } else {
          c.events.push_back(n.value);
        }
      }
      if (names->empty()) r.Error(e->line, "'events' must not be empty");
    }
  }
  // Per-rule routing; config::LoadConfigFile checks the names against the policy.
  for (const char* key : {"rules", "accounts"}) {
    const Field* f = fields->Get(key);
    if (f == nullptr) continue;
    if (auto names = r.Names(*f)) {
      std::vector<std::string>& out = std::string_view(key) == "rules" ? c.rules : c.accounts;
      for (const Named& n : *names) out.push_back(n.value);
      if (names->empty()) r.Error(f->line, "'" + std::string(key) + "' must not be empty");
    }
  }
  if (const Field* t = fields->Get("timeout")) {
    if (auto d = r.DurationIn(*t, Duration(1000), Duration(60 * 1000),
                              "'timeout' must be a duration from 1s to 60s")) {
      c.timeout = *d;
    }
  }
  c.options = kind->parse(*fields, line, what, r);
  // A filter that lets nothing through is a mistake, not a way to switch a channel off.
  if (!c.audiences.empty() && !c.events.empty()) {
    bool any = false;
    for (const std::string& e : c.events) {
      std::string_view audience = AudienceName(AudienceOf(*ParseEvent(e)));
      any = any || std::find(c.audiences.begin(), c.audiences.end(), audience) != c.audiences.end();
    }
    if (!any) r.Error(line, "this channel's 'events' and 'audiences' have no event in common");
  }
  return c;
}

}  // namespace

const std::vector<ChannelType>& ChannelTypes() {
  static const std::vector<ChannelType> kTypes = {
      {"webhook", {"url", "secret_file"}, ParseWebhook, MakeWebhook, Filter{}},
      {"slack",
       {"webhook_url_file", "signing_secret_file", "bot_token_file", "api_url", "team_id",
        "channel", "direct_messages"},
       ParseSlack,
       MakeSlack,
       Filter{}},
      {"teams", {"url", "webhook_url_file"}, ParseTeams, MakeTeams, Filter{}},
      {"email",
       {"smtp_url", "from", "to", "username", "password_file", "starttls", "ca_file",
        "to_requester", "to_approvers"},
       ParseEmail,
       MakeEmail,
       Filter{}},
      {"sns", {"topic_arn", "region", "format"}, ParseSns, MakeSns, Filter{}},
      {"eventbridge", {"bus", "source", "region"}, ParseEventBridge, MakeEventBridge, Filter{}},
      {"securityhub", {"region", "account_id"}, ParseSecurityHub, MakeSecurityHub, SecurityOnly()},
  };
  return kTypes;
}

const ChannelType* FindChannelType(std::string_view name) {
  for (const ChannelType& t : ChannelTypes()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<ChannelConfig> ParseChannels(const config::Field& f, config::Reader& r) {
  std::vector<ChannelConfig> out;
  if (f.value.IsNull()) return out;
  if (!f.value.IsSequence()) {
    r.Error(f.line, "'notify' must be a list of channels");
    return out;
  }
  std::map<std::string, int> names;
  std::map<std::string, int> per_type;
  for (const config::Node& item : f.value.Items()) {
    int line = item.Line(f.line);
    std::optional<ChannelConfig> c = ReadChannel(item, line, r);
    if (!c) continue;
    if (c->name.empty()) {
      int n = ++per_type[c->type];
      c->name = n == 1 ? c->type : c->type + "-" + std::to_string(n);
    }
    auto [it, fresh] = names.emplace(c->name, line);
    if (!fresh) {
      r.Error(line, "channel name '" + c->name + "' is already used on line " +
                        std::to_string(it->second) + "; give each channel its own 'name'");
      continue;
    }
    out.push_back(std::move(*c));
  }
  return out;
}

Status CheckChannelFiles(const std::vector<ChannelConfig>& channels, std::string_view file_name) {
  std::string message;
  for (const ChannelConfig& c : channels) {
    if (c.options == nullptr) continue;
    for (const auto& [key, path] : c.options->Files()) {
      if (path.empty()) continue;
      std::ifstream in(path, std::ios::binary);
      if (in) continue;
      if (!message.empty()) message += '\n';
      message += std::string(file_name) + ":" + std::to_string(c.line) + ": " + c.type +
                 " channel '" + c.name + "': '" + key + "': cannot read " + path;
    }
  }
  if (message.empty()) return OkStatus();
  return InvalidArgumentError(std::move(message));
}

}  // namespace jit::notify
