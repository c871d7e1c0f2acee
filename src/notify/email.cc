#include "notify/email.h"

#include <curl/curl.h>

#include <array>
#include <cstring>
#include <ctime>
#include <mutex>

#include "core/encoding.h"
#include "notify/render.h"

namespace jit::notify {
namespace {

// RFC 5322 date in UTC: "Tue, 01 Dec 2026 19:40:49 +0000".
std::string MailDate(Time t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  std::size_t n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf.data(), n);
}

// The Subject value: plain when printable ASCII, else RFC 2047 encoded words of at most 45
// bytes of UTF-8 each (cut on character boundaries), folded onto continuation lines.
std::string EncodeSubject(const std::string& subject) {
  bool ascii = std::all_of(subject.begin(), subject.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (ascii && subject.size() <= 900) return subject;
  std::string out;
  std::size_t i = 0;
  while (i < subject.size()) {
    std::size_t n = std::min<std::size_t>(45, subject.size() - i);
    while (i + n < subject.size() && n > 0 &&
           (static_cast<unsigned char>(subject[i + n]) & 0xC0) == 0x80) {
      --n;
    }
    if (n == 0) n = std::min<std::size_t>(45, subject.size() - i);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + EncodeBase64(subject.substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

// Message-ID characters: letters, digits and a few symbols.
std::string IdPart(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '-');
  }
  return out.substr(0, 64);
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t ReadUpload(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  std::size_t room = size * n;
  std::size_t left = up->data->size() - up->offset;
  std::size_t len = std::min(room, left);
  std::memcpy(buffer, up->data->data() + up->offset, len);
  up->offset += len;
  return len;
}

class CurlSmtpSender final : public SmtpSender {
 public:
  CurlSmtpSender() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Status Send(const SmtpSettings& s, const MailMessage& mail) override {
    if (s.url.rfind("smtp://", 0) != 0 && s.url.rfind("smtps://", 0) != 0) {
      return InvalidArgumentError("smtp: not an smtp:// or smtps:// URL");
    }
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) return UnavailableError("smtp: curl_easy_init failed");
    CURL* h = curl.get();
    struct curl_slist* list = nullptr;
    for (const std::string& to : mail.to) list = curl_slist_append(list, ("<" + to + ">").c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(list, &curl_slist_free_all);
    std::string from = "<" + mail.from + ">";
    Upload upload{&mail.data};
    std::array<char, CURL_ERROR_SIZE> error{};
    curl_easy_setopt(h, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     static_cast<long>(s.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    if (!s.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, s.ca_file.c_str());
    if (!s.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, s.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, s.password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadUpload);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<Duration::rep>(5000, s.timeout.count())));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count()));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) return OkStatus();
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    std::string what =
        "smtp: " + std::string(error[0] != '\0' ? error.data() : curl_easy_strerror(rc)) +
        (reply > 0 ? " (reply " + std::to_string(reply) + ")" : "");
    switch (rc) {
      case CURLE_USE_SSL_FAILED:
        return FailedPreconditionError(what +
                                       ": the server does not offer STARTTLS, which is "
                                       "required");
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
        return FailedPreconditionError(what);
      case CURLE_LOGIN_DENIED:
        return PermissionDeniedError(what);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgumentError(what);
      default:
        break;
    }
    // SMTP's own reply codes: 4xx is transient, 5xx is for good.
    if (reply >= 500 && reply <= 599) {
      if (reply == 530 || reply == 535) return PermissionDeniedError(what);
      return InvalidArgumentError(what);
    }
    return UnavailableError(what);
  }
};

class EmailChannel final : public BasicChannel {
 public:
  EmailChannel(ChannelSettings settings, EmailSettings email, SmtpSender& sender,
               std::unique_ptr<SmtpSender> owned, Directory* directory, Clock& clock)
      : BasicChannel(std::move(settings)),
        email_(std::move(email)),
        owned_(std::move(owned)),
        sender_(sender),
        directory_(directory),
        clock_(clock) {
    email_.smtp.timeout = timeout();
  }

  Status Send(const Message& m) override {
    std::vector<std::string> to = email_.to;
    if (email_.to_requester && AudienceOf(m.event) == Audience::kRequester &&
        directory_ != nullptr && !m.request.principal_id.empty()) {
      Result<std::vector<std::string>> emails = directory_->Emails(m.request.principal_id);
      if (emails.has_value()) {
        if (!emails->empty() && IsMailAddress((*emails)[0]) &&
            std::find(to.begin(), to.end(), (*emails)[0]) == to.end()) {
          to.push_back((*emails)[0]);
        }
      } else if (emails.error().code() != StatusCode::kNotFound) {
        // Nothing is sent yet: the retry mails everyone once.
        return ForJobQueue(emails.error().WithContext("email " + name() + ": requester's e-mail"));
      }
    }
    // Each approver is asked in a message of their own, to their own address: approvers do not
    // learn each other's addresses, and the fixed list's message stays as it was.
    std::vector<std::string> approvers;
    if (email_.to_approvers && AudienceOf(m.event) == Audience::kApprovers &&
        directory_ != nullptr && !m.request.id.empty()) {
      Result<std::vector<Person>> people = ApproversToAsk(m.request, *directory_);
      if (!people.has_value()) {
        return ForJobQueue(people.error().WithContext("email " + name() + ": the approvers"));
      }
      for (const Person& p : *people) {
        if (p.emails.empty() || !IsMailAddress(p.emails.front())) continue;
        const std::string& address = p.emails.front();
        if (std::find(to.begin(), to.end(), address) == to.end() &&
            std::find(approvers.begin(), approvers.end(), address) == approvers.end()) {
          approvers.push_back(address);
        }
      }
    }
    // A failure part-way is retried whole: someone may then get a message twice, nobody none.
    if (!to.empty()) {
      MailMessage mail{email_.from, to, BuildMail(m, name(), email_.from, to, clock_.Now())};
      JIT_RETURN_IF_ERROR(
          ForJobQueue(sender_.Send(email_.smtp, mail).WithContext("email " + name())));
    }
    for (const std::string& address : approvers) {
      // A Message-ID of its own per recipient (the channel part names the address).
      MailMessage mail{email_.from,
                       {address},
                       BuildMail(m, name() + "." + address, email_.from, {address}, clock_.Now())};
      JIT_RETURN_IF_ERROR(
          ForJobQueue(sender_.Send(email_.smtp, mail).WithContext("email " + name())));
    }
    return OkStatus();
  }

 private:
  EmailSettings email_;
  std::unique_ptr<SmtpSender> owned_;
  SmtpSender& sender_;
  Directory* directory_;
  Clock& clock_;
};

}  // namespace

std::string BuildMail(const Message& m, const std::string& channel, const std::string& from,
                      const std::vector<std::string>& to, Time now) {
  JIT_CHECK(IsMailAddress(from));
  std::string to_line;
  for (const std::string& t : to) {
    JIT_CHECK(IsMailAddress(t));
    to_line += (to_line.empty() ? "" : ",\r\n ") + t;
  }
  std::string domain = from.substr(from.find('@') + 1);
  std::string out;
  out += "Date: " + MailDate(now) + "\r\n";
  out += "From: " + from + "\r\n";
  out += "To: " + to_line + "\r\n";
  out += "Subject: " + EncodeSubject("[jit] " + OneLine(Title(m), 400)) + "\r\n";
  out += "Message-ID: <" + DeliveryId(m) + "." + IdPart(channel) + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  out += "X-Jit-Event: " + std::string(EventName(m.event)) + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  std::string body = PlainText(m);
  // CRLF line ends inside the encoded text too, as text/plain wants.
  std::string crlf;
  for (char c : body) {
    if (c == '\n') crlf += '\r';
    if (c != '\r') crlf += c;
  }
  std::string encoded = EncodeBase64(crlf);
  for (std::size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

std::unique_ptr<SmtpSender> NewCurlSmtpSender() { return std::make_unique<CurlSmtpSender>(); }

std::unique_ptr<Channel> NewEmailChannel(ChannelSettings settings, EmailSettings email,
                                         SmtpSender& sender, std::unique_ptr<SmtpSender> owned,
                                         Directory* directory, Clock& clock) {
  return std::make_unique<EmailChannel>(std::move(settings), std::move(email), sender,
                                        std::move(owned), directory, clock);
}

}  // namespace jit::notify
