#include <spdlog/spdlog.h>

#include <set>

#include "aws/credentials.h"
#include "core/mutex.h"
#include "core/secret_file.h"
#include "notify/aws_channels.h"
#include "notify/email.h"
#include "notify/notify.h"
#include "notify/render.h"
#include "notify/slack.h"
#include "notify/webhook.h"

namespace jit::notify {
namespace {

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

Filter DefaultFilter(const std::string& type) {
  Filter f;
  if (type == "securityhub") {
    f.audiences = {Audience::kSecurity};
  }
  return f;
}

Result<std::string> ReadUrlFile(const std::string& path, const std::string& what) {
  JIT_ASSIGN_OR_RETURN(std::string url, ReadSecretFile(path, what));
  if (!policy::IsHttpsOrLoopbackHttpUrl(url) || url.find_first_of(" \t\r\n") != std::string::npos) {
    return InvalidArgumentError(what + ": " + path +
                                " must hold one https URL (http only on a loopback host)");
  }
  return url;
}

}  // namespace

std::string_view EventName(Event e) {
  return policy::NotifyEventNames().at(static_cast<std::size_t>(e));
}

std::optional<Event> ParseEvent(std::string_view name) {
  for (Event e : kAllEvents) {
    if (EventName(e) == name) return e;
  }
  return std::nullopt;
}

Audience AudienceOf(Event e) {
  switch (e) {
    case Event::kRequestCreated:
    case Event::kApprovalReminder:
    case Event::kExtensionRequested:
      return Audience::kApprovers;
    case Event::kBreakGlassActivated:
    case Event::kDriftDetected:
    case Event::kRevocationOverdue:
      return Audience::kSecurity;
    default:
      return Audience::kRequester;
  }
}

std::string_view AudienceName(Audience a) {
  switch (a) {
    case Audience::kApprovers:
      return "approvers";
    case Audience::kRequester:
      return "requester";
    case Audience::kSecurity:
      return "security";
  }
  return "requester";
}

std::optional<Audience> ParseAudience(std::string_view name) {
  for (Audience a : {Audience::kApprovers, Audience::kRequester, Audience::kSecurity}) {
    if (AudienceName(a) == name) return a;
  }
  return std::nullopt;
}

bool Filter::Matches(Event e) const {
  if (audiences.count(AudienceOf(e)) == 0) return false;
  return events.empty() || events.count(e) > 0;
}

Filter Filter::FromConfig(const policy::NotifyChannelConfig& c, const Filter& defaults) {
  Filter f = defaults;
  if (!c.audiences.empty()) {
    f.audiences.clear();
    for (const std::string& a : c.audiences) {
      if (std::optional<Audience> parsed = ParseAudience(a)) f.audiences.insert(*parsed);
    }
  }
  if (!c.events.empty()) {
    f.events.clear();
    for (const std::string& e : c.events) {
      if (std::optional<Event> parsed = ParseEvent(e)) f.events.insert(*parsed);
    }
    // Naming events without audiences means exactly those events.
    if (c.audiences.empty()) {
      f.audiences.clear();
      for (Event e : f.events) f.audiences.insert(AudienceOf(e));
    }
  }
  return f;
}

Notifier::Notifier(std::vector<std::unique_ptr<Channel>> channels) {
  SetChannels(std::move(channels));
}

void Notifier::SetChannels(std::vector<std::unique_ptr<Channel>> channels) {
  auto next = std::make_shared<Channels>();
  std::set<std::string> names;
  for (std::unique_ptr<Channel>& c : channels) {
    JIT_CHECK(c != nullptr);
    JIT_CHECK(names.insert(c->name()).second);
    next->push_back(std::shared_ptr<Channel>(std::move(c)));
  }
  MutexLock lock(&mu_);
  channels_ = std::move(next);
}

std::shared_ptr<const Notifier::Channels> Notifier::Snapshot() const {
  MutexLock lock(&mu_);
  return channels_;
}

std::vector<std::string> Notifier::ChannelsFor(const Message& m) const {
  std::vector<std::string> out;
  for (const std::shared_ptr<Channel>& c : *Snapshot()) {
    if (c->Wants(m)) out.push_back(c->name());
  }
  return out;
}

std::vector<std::string> Notifier::ChannelNames() const {
  std::vector<std::string> out;
  for (const std::shared_ptr<Channel>& c : *Snapshot()) out.push_back(c->name());
  return out;
}

Status Notifier::Deliver(const std::string& channel, const Message& m) {
  std::shared_ptr<const Channels> channels = Snapshot();
  for (const std::shared_ptr<Channel>& c : *channels) {
    if (c->name() != channel) continue;
    if (!c->Wants(m)) {
      spdlog::info("notify: channel {} no longer takes {}; skipped", channel, EventName(m.event));
      return OkStatus();
    }
    return ForJobQueue(c->Send(m));
  }
  return NotFoundError("no notification channel named '" + channel + "'");
}

Result<std::vector<std::unique_ptr<Channel>>> NewChannels(const policy::Config& config,
                                                          const NotifierDeps& deps) {
  std::vector<std::unique_ptr<Channel>> out;
  std::set<std::string> names;
  for (const policy::NotifyChannelConfig& c : config.notify) {
    const std::string what = c.type + " channel " + c.name;
    if (!names.insert(c.name).second)
      return InvalidArgumentError(what + ": the name is used twice");
    ChannelSettings settings{c.name, Filter::FromConfig(c, DefaultFilter(c.type)), c.timeout};
    if (c.type == "webhook") {
      JIT_ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(c.secret_file, what));
      out.push_back(NewWebhookChannel(settings, c.url, secret, deps.http, deps.clock));
    } else if (c.type == "slack") {
      JIT_ASSIGN_OR_RETURN(std::string url, ReadUrlFile(c.webhook_url_file, what));
      out.push_back(NewSlackChannel(settings, url, deps.http));
    } else if (c.type == "teams") {
      std::string url = c.url;
      if (url.empty()) {
        JIT_ASSIGN_OR_RETURN(url, ReadUrlFile(c.webhook_url_file, what));
      }
      out.push_back(NewTeamsChannel(settings, url, deps.http));
    } else if (c.type == "email") {
      EmailSettings email;
      email.smtp.url = c.smtp_url;
      email.smtp.username = c.username;
      if (!c.password_file.empty()) {
        JIT_ASSIGN_OR_RETURN(email.smtp.password, ReadSecretFile(c.password_file, what));
      }
      // The config parser allows starttls: false only for loopback smtp:// URLs.
      email.smtp.require_tls = c.starttls;
      email.smtp.ca_file = c.ca_file;
      email.from = c.from;
      email.to = c.to;
      email.to_requester = c.to_requester;
      std::unique_ptr<SmtpSender> owned;
      SmtpSender* sender = deps.smtp;
      if (sender == nullptr) {
        owned = NewCurlSmtpSender();
        sender = owned.get();
      }
      out.push_back(
          NewEmailChannel(settings, email, *sender, std::move(owned), deps.directory, deps.clock));
    } else if (c.type == "sns" || c.type == "eventbridge" || c.type == "securityhub") {
      if (deps.aws_credentials == nullptr) {
        return FailedPreconditionError(what + ": no AWS credentials to sign with");
      }
      std::string region = c.region;
      if (region.empty() && c.type == "sns") region = ArnRegion(c.topic_arn);
      if (region.empty() && c.type == "eventbridge" && c.bus.rfind("arn:", 0) == 0) {
        region = ArnRegion(c.bus);
      }
      if (region.empty()) region = deps.default_region;
      if (region.empty()) {
        Result<std::string> resolved = aws::ResolveRegion(deps.env);
        if (resolved.has_value()) region = *resolved;
      }
      if (region.empty()) {
        return FailedPreconditionError(what +
                                       ": no AWS region (set 'region', aws.region or AWS_REGION)");
      }
      if (c.type == "sns") {
        AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                         aws::ResolveEndpoint(deps.env, "SNS", "sns", region)};
        out.push_back(NewSnsChannel(settings, target, c.topic_arn, c.format));
      } else if (c.type == "eventbridge") {
        AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                         aws::ResolveEndpoint(deps.env, "EVENTBRIDGE", "events", region)};
        out.push_back(NewEventBridgeChannel(settings, target, c.bus, c.source));
      } else {
        AwsTarget target{deps.http, *deps.aws_credentials, deps.clock, region,
                         aws::ResolveEndpoint(deps.env, "SECURITYHUB", "securityhub", region)};
        out.push_back(NewSecurityHubChannel(settings, target, c.account_id,
                                            aws::ResolveEndpoint(deps.env, "STS", "sts", region)));
      }
    } else {
      return InvalidArgumentError("unknown channel type '" + c.type + "'");
    }
  }
  return out;
}

Result<std::unique_ptr<Notifier>> NewNotifier(const policy::Config& config,
                                              const NotifierDeps& deps) {
  JIT_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Channel>> channels, NewChannels(config, deps));
  return std::make_unique<Notifier>(std::move(channels));
}

}  // namespace jit::notify
