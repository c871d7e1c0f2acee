#include <spdlog/spdlog.h>

#include <array>
#include <set>

#include "aws/credentials.h"
#include "core/mutex.h"
#include "core/secret_file.h"
#include "notify/aws_channels.h"
#include "notify/channel_types.h"
#include "notify/email.h"
#include "notify/notify.h"
#include "notify/render.h"

namespace jit::notify {
namespace {

// In Event order.
constexpr std::array<std::string_view, kAllEvents.size()> kEventNames = {
    "request.created",      "request.reminder",  "extension.requested", "request.approved",
    "request.denied",       "request.cancelled", "request.timed_out",   "grant.activated",
    "grant.expiring_soon",  "grant.extended",    "grant.ended",         "grant.failed",
    "breakglass.activated", "drift.detected",    "revocation.overdue",  "session_cutoff.failed",
    "finding.revoked"};

}  // namespace

std::string_view EventName(Event e) { return kEventNames.at(static_cast<std::size_t>(e)); }

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
    case Event::kSessionCutoffFailed:
    case Event::kFindingRevoked:
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

bool Filter::Routes(const model::Request& r) const {
  if (rules.empty() && accounts.empty()) return true;
  if (r.id.empty()) return false;
  if (!rules.empty() && rules.count(r.rule) == 0) return false;
  if (!accounts.empty() && accounts.count(r.account_id) == 0 &&
      accounts.count(r.account_name) == 0) {
    return false;
  }
  return true;
}

Filter Filter::FromConfig(const ChannelConfig& c, const Filter& defaults) {
  Filter f = defaults;
  f.rules.insert(c.rules.begin(), c.rules.end());
  f.accounts.insert(c.accounts.begin(), c.accounts.end());
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

Result<std::vector<std::unique_ptr<Channel>>> NewChannels(
    const std::vector<ChannelConfig>& channels, const NotifierDeps& deps) {
  std::vector<std::unique_ptr<Channel>> out;
  std::set<std::string> names;
  for (const ChannelConfig& c : channels) {
    const std::string what = c.type + " channel " + c.name;
    if (!names.insert(c.name).second)
      return InvalidArgumentError(what + ": the name is used twice");
    const ChannelType* type = FindChannelType(c.type);
    if (type == nullptr || c.options == nullptr) {
      return InvalidArgumentError("unknown channel type '" + c.type + "'");
    }
    ChannelSettings settings{c.name, Filter::FromConfig(c, type->default_filter), c.timeout};
    JIT_ASSIGN_OR_RETURN(std::unique_ptr<Channel> channel, type->make(c, settings, deps));
    out.push_back(std::move(channel));
  }
  return out;
}

Result<std::unique_ptr<Notifier>> NewNotifier(const std::vector<ChannelConfig>& channels,
                                              const NotifierDeps& deps) {
  JIT_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Channel>> out, NewChannels(channels, deps));
  return std::make_unique<Notifier>(std::move(out));
}

}  // namespace jit::notify
