#pragma once
// E-mail over SMTP (libcurl), with STARTTLS required unless the server is on loopback and the
// config says `starttls: false`.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/email_address.h"
#include "notify/channel_base.h"
#include "notify/directory.h"

namespace jit::notify {

// How to reach the SMTP server.
struct SmtpSettings {
  std::string url;          // smtp://host:587 (STARTTLS) or smtps://host:465
  std::string username;     // empty: no login
  std::string password;     // not logged
  bool require_tls = true;  // CURLUSESSL_ALL; false only for loopback smtp:// (see config)
  std::string ca_file;      // extra CA bundle; empty: the system's
  Duration timeout{Duration(10 * 1000)};
};

// One message on the wire: envelope and the RFC 5322 text (CRLF line ends).
struct MailMessage {
  std::string from;
  std::vector<std::string> to;
  std::string data;
};

// Sends e-mail. Thread-safe.
class SmtpSender {
 public:
  virtual ~SmtpSender() = default;
  // One attempt. Unavailable: connection refused, time-out, a 4xx reply; FailedPrecondition:
  // TLS required but not offered, or the certificate not trusted; PermissionDenied: login
  // refused; InvalidArgument: a 5xx reply (a recipient or sender refused) or a bad URL.
  virtual Status Send(const SmtpSettings& settings, const MailMessage& mail) = 0;
};

// libcurl's SMTP client.
std::unique_ptr<SmtpSender> NewCurlSmtpSender();

// The message text: Date (from `now`), From, To, Subject (the title; RFC 2047 encoded when not
// ASCII), Message-ID <DeliveryId.channel@from-domain> (stable for a re-delivery), MIME-Version,
// Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding base64, X-Jit-Event,
// Auto-Submitted: auto-generated; then the PlainText body in base64. No request field reaches a
// header unencoded, so CR/LF in them cannot add headers.
// REQUIRES: from and every `to` pass IsMailAddress (core/email_address.h).
std::string BuildMail(const Message& m, const std::string& channel, const std::string& from,
                      const std::vector<std::string>& to, Time now);

struct EmailSettings {
  SmtpSettings smtp;
  std::string from;
  std::vector<std::string> to;
  bool to_requester = true;   // requester events also go to the requester's e-mail
  bool to_approvers = false;  // approver events also go to each approver's (ApproversToAsk)
};

// An e-mail channel. `sender` and `directory` (may be null: no requester or approver look-up)
// must outlive it; `owned` (may be null) is kept alive with the channel. With `to_approvers`
// one message of an approver event goes to `to` and every approver's primary address.
std::unique_ptr<Channel> NewEmailChannel(ChannelSettings settings, EmailSettings email,
                                         SmtpSender& sender, std::unique_ptr<SmtpSender> owned,
                                         Directory* directory, Clock& clock);

}  // namespace jit::notify
