#pragma once
// Notifications (docs/NOTIFY.md): which events there are, who
// hears each, the channels that carry them and the Notifier that holds the configured ones.
//
// Delivery runs from the durable job queue: the workflow enqueues one `notify` job per (event,
// channel) and calls Notifier::Deliver from the job. A failing channel is retried by the job
// queue with back-off, so a channel makes exactly one attempt per Send, bounded by its time-out,
// and says through the Status code whether a retry can help.

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "model/request.h"
#include "notify/channel_config.h"
#include "notify/directory.h"
#include "notify/sent_messages.h"

namespace jit::notify {

enum class Event {
  kRequestCreated,      // a request awaits approval                        -> approvers
  kApprovalReminder,    // still awaiting approval (15m, then doubling)     -> approvers
  kExtensionRequested,  // an extension awaits approval                     -> approvers
  kRequestApproved,     // -> requester
  kRequestDenied,
  kRequestCancelled,
  kRequestTimedOut,
  kGrantActivated,
  kGrantExpiringSoon,  // 10 minutes left
  kGrantExtended,
  kGrantEnded,
  kGrantFailed,
  kBreakGlassActivated,  // -> security
  kDriftDetected,
  kRevocationOverdue,
  kSessionCutoffFailed,  // an ended grant's AWS sessions could not be cut off -> security
  kFindingRevoked,       // a threat finding ended a user's access (critical) -> security
};
inline constexpr std::array<Event, 17> kAllEvents = {
    Event::kRequestCreated,      Event::kApprovalReminder, Event::kExtensionRequested,
    Event::kRequestApproved,     Event::kRequestDenied,    Event::kRequestCancelled,
    Event::kRequestTimedOut,     Event::kGrantActivated,   Event::kGrantExpiringSoon,
    Event::kGrantExtended,       Event::kGrantEnded,       Event::kGrantFailed,
    Event::kBreakGlassActivated, Event::kDriftDetected,    Event::kRevocationOverdue,
    Event::kSessionCutoffFailed, Event::kFindingRevoked};

// "request.created", "request.reminder", "extension.requested", "request.approved",
// "request.denied", "request.cancelled", "request.timed_out", "grant.activated",
// "grant.expiring_soon", "grant.extended", "grant.ended", "grant.failed",
// "breakglass.activated", "drift.detected", "revocation.overdue", "session_cutoff.failed",
// "finding.revoked": the names the config's `events:` filters use.
std::string_view EventName(Event e);
std::optional<Event> ParseEvent(std::string_view name);

enum class Audience { kApprovers, kRequester, kSecurity };
Audience AudienceOf(Event e);
std::string_view AudienceName(Audience a);  // "approvers", "requester", "security"
std::optional<Audience> ParseAudience(std::string_view name);

struct Message {
  Event event = Event::kRequestCreated;
  // The request after the transition (id empty for drift events without a request).
  model::Request request;
  Time at;
  std::string actor;       // who caused it; "jit" for the broker
  std::string detail;      // free text: deny reason, drift description, ... (may be empty)
  std::string public_url;  // config server.public_url, for links and buttons (may be empty)
};

// One configured destination. Implementations are thread-safe.
class Channel {
 public:
  virtual ~Channel() = default;
  // Unique in the config.
  virtual const std::string& name() const = 0;
  // Its audience / event filter.
  virtual bool Wants(const Message& m) const = 0;
  // One delivery attempt, bounded by a time-out; never retries or sleeps. Errors:
  // Unavailable (network error, time-out, 429, 5xx, throttling: the job queue retries later);
  // InvalidArgument / PermissionDenied / FailedPrecondition (4xx, refused credentials, bad
  // settings: retrying cannot help, the job gives up and logs). No other codes.
  virtual Status Send(const Message& m) = 0;
};

// Which events a channel takes: those of its audiences, and of those only the listed events
// when any are listed.
struct Filter {
  std::set<Audience> audiences = {Audience::kApprovers, Audience::kRequester, Audience::kSecurity};
  std::set<Event> events;  // empty: every event of the audiences
  // Per-rule routing: only requests of these policy rules, and only requests for these
  // accounts (ids or names). Empty: every rule, every account. A channel that lists either
  // takes no event without a request (drift).
  std::set<std::string> rules;
  std::set<std::string> accounts;

  bool Matches(Event e) const;
  // Whether `r` (empty id: the event names no request) passes `rules` and `accounts`.
  bool Routes(const model::Request& r) const;
  // From a channel's config (`audiences`, `events`); names were checked by the config parser.
  // `defaults` is used when the config lists neither.
  static Filter FromConfig(const ChannelConfig& c, const Filter& defaults);
};

// Holds the configured channels. Thread-safe: deliveries may run on many threads while the
// channels are replaced (config reload); a delivery in flight finishes on the channel it began.
class Notifier {
 public:
  // REQUIRES: channel names are unique and no channel is null.
  explicit Notifier(std::vector<std::unique_ptr<Channel>> channels);

  // Names of the channels that want `m`, in config order.
  std::vector<std::string> ChannelsFor(const Message& m) const;
  // Sends `m` on the named channel: the channel's Status (see Channel::Send). NotFound when no
  // channel has that name (the config was reloaded since the job was made). A channel that no
  // longer wants `m` (its filter changed) is skipped: OK.
  Status Deliver(const std::string& channel, const Message& m);
  // Every channel name, in config order.
  std::vector<std::string> ChannelNames() const;
  // Replaces the channels (config reload). REQUIRES: as for the constructor.
  void SetChannels(std::vector<std::unique_ptr<Channel>> channels);

 private:
  using Channels = std::vector<std::shared_ptr<Channel>>;
  std::shared_ptr<const Channels> Snapshot() const;

  mutable Mutex mu_;
  std::shared_ptr<const Channels> channels_ GUARDED_BY(mu_);
};

// Sends one e-mail. Implementations: libcurl SMTP (NewCurlSmtpSender) and fakes in tests.
// Thread-safe.
class SmtpSender;

// What the channels stand on. References must outlive the channels made with them.
struct NotifierDeps {
  aws::HttpTransport& http;  // webhooks, Slack, Teams and the AWS services
  Clock& clock;
  // AWS credentials for sns, eventbridge and securityhub channels; null: such channels are
  // refused (FailedPrecondition).
  aws::CredentialSource* aws_credentials = nullptr;
  // Region and endpoint resolution (AWS_REGION, AWS_ENDPOINT_URL_SNS / _EVENTBRIDGE /
  // _SECURITYHUB / _STS, AWS_ENDPOINT_URL).
  aws::Environment env;
  // The region a channel uses when it names none (config aws.region); empty: from `env`.
  std::string default_region;
  // Looks up the requester's e-mail for email channels (to_requester) and the approvers of a
  // request (email to_approvers, Slack direct messages); null: only `to`, no direct messages.
  Directory* directory = nullptr;
  // Where Slack channels keep the messages they post, to update them after the decision;
  // null: messages are not kept or updated.
  SentMessages* sent_messages = nullptr;
  // Sends the e-mail of email channels; null: libcurl SMTP.
  SmtpSender* smtp = nullptr;
};

// Builds the channels of the config's `notify:` list (ParseChannels) with their types'
// factories (ChannelTypes()), reading their secret files. InvalidArgument naming the channel
// for a file that cannot be read or holds something unusable (an empty secret, a URL that is
// not https); FailedPrecondition for an AWS channel without credentials or region.
Result<std::vector<std::unique_ptr<Channel>>> NewChannels(
    const std::vector<ChannelConfig>& channels, const NotifierDeps& deps);
// NewChannels, held by a Notifier.
Result<std::unique_ptr<Notifier>> NewNotifier(const std::vector<ChannelConfig>& channels,
                                              const NotifierDeps& deps);

}  // namespace jit::notify
