#include "notify/render.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/crypto.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "model/request.h"
#include "model/request_json.h"

namespace jit::notify {
namespace {

using nlohmann::json;

json StringOrNull(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

std::string Seconds(std::int64_t s) { return FormatDuration(std::chrono::seconds(s)); }

// "Admin on prod (222222222222)", or for a group membership "membership of the group sre".
std::string What(const model::Request& r) {
  if (model::IsGroupAccount(r.account_id)) {
    return "membership of the group " + OneLine(r.permission_set_name, 100);
  }
  std::string account =
      r.account_name.empty() ? r.account_id : r.account_name + " (" + r.account_id + ")";
  return OneLine(r.permission_set_name, 100) + " on " + OneLine(account, 120);
}

// "HH:MM UTC" of a time, or "" when unset.
std::string UtcMinute(const std::optional<Time>& t) {
  if (!t) return "";
  std::string s = FormatRfc3339(*t);  // 2026-01-01T10:30:00.000Z
  return s.substr(0, 10) + " " + s.substr(11, 5) + " UTC";
}

}  // namespace

std::string DeliveryId(const Message& m) {
  std::string key = std::string(EventName(m.event)) + "\n" + m.request.id + "\n" +
                    std::to_string(ToUnixMillis(m.at)) + "\n" + m.detail;
  return "evt_" + Sha256Hex(key).substr(0, 32);
}

std::string RequestLink(const Message& m) {
  if (m.public_url.empty() || m.request.id.empty()) return "";
  std::string base = m.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The web UI's page where this audience acts on it; the id rides along for people to see.
  const char* page = AudienceOf(m.event) == Audience::kApprovers  ? "approvals"
                     : AudienceOf(m.event) == Audience::kSecurity ? "audit"
                                                                  : "mine";
  return base + "/#/" + page + "?request=" + m.request.id;
}

json EventJson(const Message& m) {
  std::string link = RequestLink(m);
  return json{{"id", DeliveryId(m)},
              {"event", std::string(EventName(m.event))},
              {"audience", std::string(AudienceName(AudienceOf(m.event)))},
              {"time", FormatRfc3339(m.at)},
              {"actor", m.actor},
              {"detail", StringOrNull(m.detail)},
              {"request", m.request.id.empty() ? json(nullptr) : model::RequestToJson(m.request)},
              {"url", StringOrNull(link)}};
}

std::string OneLine(std::string_view s, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (out.size() > max_bytes) {
    std::size_t cut = max_bytes;
    // Back up to the start of a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string Title(const Message& m) {
  const model::Request& r = m.request;
  std::string who = OneLine(r.requester, 100);
  std::string what = What(r);
  std::string by = OneLine(m.actor, 100);
  switch (m.event) {
    case Event::kRequestCreated:
      return "Approval needed: " + who + " requests " + what + " for " +
             Seconds(r.duration_seconds);
    case Event::kApprovalReminder:
      return "Still waiting for approval: " + who + " requests " + what + " for " +
             Seconds(r.duration_seconds);
    case Event::kExtensionRequested:
      return "Extension needs approval: " + who + " asks for " +
             Seconds(r.extension ? r.extension->seconds : 0) + " more of " + what;
    case Event::kRequestApproved:
      return "Approved: " + what + " for " + who + (by.empty() ? "" : " (by " + by + ")");
    case Event::kRequestDenied:
      return "Denied: " + what + " for " + who + (by.empty() ? "" : " (by " + by + ")");
    case Event::kRequestCancelled:
      return "Cancelled: " + what + " for " + who;
    case Event::kRequestTimedOut:
      return "Timed out without a decision: " + what + " for " + who;
    case Event::kGrantActivated:
      return "Access active: " + who + " has " + what +
             (r.expires_at ? " until " + UtcMinute(r.expires_at) : "");
    case Event::kGrantExpiringSoon:
      return "Access expires in 10 minutes: " + who + " has " + what;
    case Event::kGrantExtended:
      return "Access extended: " + who + " has " + what +
             (r.expires_at ? " until " + UtcMinute(r.expires_at) : "");
    case Event::kGrantEnded:
      return "Access ended: " + who + " no longer has " + what;
    case Event::kGrantFailed:
      return "Access could not be granted: " + what + " for " + who;
    case Event::kBreakGlassActivated:
      return "BREAK-GLASS: " + who + " activated " + what;
    case Event::kDriftDetected:
      return "Drift detected in Identity Center" +
             (r.id.empty() ? std::string() : ": " + what + " for " + who);
    case Event::kRevocationOverdue:
      return "Revocation overdue: " + who + " still has " + what;
    case Event::kSessionCutoffFailed:
      return "Sessions not cut off: " + who + " may still use " + what;
    case Event::kFindingRevoked:
      // The message names no one request: the detail says whose access ended and why.
      return "THREAT FINDING: jit ended access";
  }
  return std::string(EventName(m.event));
}

std::vector<std::pair<std::string, std::string>> Facts(const Message& m) {
  const model::Request& r = m.request;
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&out](std::string label, const std::string& value, std::size_t max = 500) {
    if (!value.empty()) out.emplace_back(std::move(label), OneLine(value, max));
  };
  if (!r.id.empty()) {
    add("Request", r.id);
    add("Requester", r.requester);
    if (model::IsGroupAccount(r.account_id)) {
      add("Group", r.permission_set_name + " (" + r.permission_set_arn + ")");
    } else {
      add("Account",
          r.account_name.empty() ? r.account_id : r.account_name + " (" + r.account_id + ")");
      add("Permission set", r.permission_set_name);
    }
    add("Duration", Seconds(r.duration_seconds));
    add("Reason", r.reason);
    add("Ticket", r.ticket);
    if (r.break_glass) add("Break-glass", "yes");
    if (m.event == Event::kExtensionRequested && r.extension) {
      add("Extension", Seconds(r.extension->seconds));
    }
    add("Expires", UtcMinute(r.expires_at));
    if (m.event == Event::kRequestCreated || m.event == Event::kApprovalReminder) {
      add("Decide by", UtcMinute(r.approval_deadline));
    }
    if (m.event == Event::kGrantEnded) add("Why", r.end_reason);
    if (m.event == Event::kGrantFailed) add("Why", r.failure_reason);
  }
  if (!m.actor.empty() && m.actor != r.requester) add("By", m.actor);
  add("Detail", m.detail, 2000);
  add("When", FormatRfc3339(m.at));
  return out;
}

std::string PlainText(const Message& m) {
  std::string out = Title(m) + "\n\n";
  for (const auto& [label, value] : Facts(m)) {
    out.append(label).append(": ").append(value).append("\n");
  }
  std::string link = RequestLink(m);
  if (!link.empty()) out += "\nOpen in jit: " + link + "\n";
  out += "\n-- \njit, just-in-time access for AWS IAM Identity Center (event " +
         std::string(EventName(m.event)) + ", " + DeliveryId(m) + ")\n";
  return out;
}

Status HttpOutcome(std::string_view what, const Result<aws::HttpResponse>& response) {
  std::string name(what);
  if (!response.has_value()) {
    Status e = response.error();
    if (e.code() == StatusCode::kUnavailable) return UnavailableError(name + ": " + e.message());
    return ForJobQueue(e.WithContext(name));
  }
  long status = response->status;
  if (status >= 200 && status <= 299) return OkStatus();
  std::string body = OneLine(response->body, 200);
  std::string message =
      name + ": HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body);
  if (status == 408 || status == 425 || status == 429 || status >= 500) {
    return UnavailableError(message);
  }
  if (status == 401 || status == 403) return PermissionDeniedError(message);
  if ((status >= 300 && status <= 399) || status == 404 || status == 410) {
    return FailedPreconditionError(message);
  }
  return InvalidArgumentError(message);
}

Status ForJobQueue(Status s) {
  switch (s.code()) {
    case StatusCode::kOk:
    case StatusCode::kUnavailable:
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied:
    case StatusCode::kFailedPrecondition:
      return s;
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
    case StatusCode::kInternal:
      return UnavailableError(s.message());
    case StatusCode::kUnauthenticated:
      return PermissionDeniedError(s.message());
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
      return FailedPreconditionError(s.message());
  }
  return UnavailableError(s.message());
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace jit::notify
