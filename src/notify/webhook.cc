#include "notify/webhook.h"

#include <charconv>

#include "core/crypto.h"
#include "core/encoding.h"
#include "notify/render.h"

namespace jit::notify {
namespace {

using nlohmann::json;

std::int64_t UnixSeconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class WebhookChannel final : public BasicChannel {
 public:
  WebhookChannel(ChannelSettings settings, std::string url, std::string secret,
                 aws::HttpTransport& http, Clock& clock)
      : BasicChannel(std::move(settings)),
        url_(std::move(url)),
        secret_(std::move(secret)),
        http_(http),
        clock_(clock) {}

  Status Send(const Message& m) override {
    std::string body = DumpJson(EventJson(m));
    aws::HttpCall call{.method = "POST",
                       .url = url_,
                       .headers = {{"Content-Type", "application/json"},
                                   {"User-Agent", "jit-webhook/1"},
                                   {"X-Jit-Event", std::string(EventName(m.event))},
                                   {"X-Jit-Delivery", DeliveryId(m)},
                                   {"X-Jit-Signature", SignWebhook(secret_, clock_.Now(), body)}},
                       .body = body,
                       .connect_timeout = std::min(timeout(), Duration(5000)),
                       .total_timeout = timeout()};
    return HttpOutcome("webhook " + name(), http_.Send(call));
  }

 private:
  const std::string url_;
  const std::string secret_;
  aws::HttpTransport& http_;
  Clock& clock_;
};

class TeamsChannel final : public BasicChannel {
 public:
  TeamsChannel(ChannelSettings settings, std::string url, aws::HttpTransport& http)
      : BasicChannel(std::move(settings)), url_(std::move(url)), http_(http) {}

  Status Send(const Message& m) override {
    aws::HttpCall call{.method = "POST",
                       .url = url_,
                       .headers = {{"Content-Type", "application/json"}},
                       .body = DumpJson(TeamsCard(m)),
                       .connect_timeout = std::min(timeout(), Duration(5000)),
                       .total_timeout = timeout()};
    // Teams answers 200 "1" (connectors) or 202 (workflows); some errors come as 200 with a
    // text saying so, which only connectors do for throttling.
    Result<aws::HttpResponse> r = http_.Send(call);
    if (r.has_value() && r->status == 200 &&
        r->body.find("Microsoft Teams endpoint returned HTTP error 429") != std::string::npos) {
      return UnavailableError("teams " + name() + ": throttled");
    }
    return HttpOutcome("teams " + name(), r);
  }

 private:
  const std::string url_;
  aws::HttpTransport& http_;
};

}  // namespace

std::string SignWebhook(std::string_view secret, Time t, std::string_view body) {
  std::string ts = std::to_string(UnixSeconds(t));
  std::string signed_text = ts + "." + std::string(body);
  return "t=" + ts + ",v1=" + Hex(HmacSha256(secret, signed_text));
}

Status VerifyWebhookSignature(std::string_view secret, std::string_view header,
                              std::string_view body, Time now, Duration tolerance) {
  std::string_view ts_text;
  std::vector<std::string_view> signatures;
  std::string_view rest = header;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (part.rfind("t=", 0) == 0) {
      if (!ts_text.empty()) return UnauthenticatedError("X-Jit-Signature: more than one t=");
      ts_text = part.substr(2);
    } else if (part.rfind("v1=", 0) == 0) {
      signatures.push_back(part.substr(3));
    } else {
      return UnauthenticatedError("X-Jit-Signature: unexpected part");
    }
  }
  std::int64_t ts = 0;
  auto [ptr, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
  if (ts_text.empty() || ec != std::errc() || ptr != ts_text.data() + ts_text.size() ||
      ts_text.size() > 12) {
    return UnauthenticatedError("X-Jit-Signature: no valid t=<unix seconds>");
  }
  if (signatures.empty()) return UnauthenticatedError("X-Jit-Signature: no v1= signature");
  std::int64_t skew = UnixSeconds(now) - ts;
  if (skew < 0) skew = -skew;
  if (skew > std::chrono::duration_cast<std::chrono::seconds>(tolerance).count()) {
    return UnauthenticatedError("X-Jit-Signature: the timestamp is too far from now");
  }
  std::string expected = Hex(HmacSha256(secret, std::string(ts_text) + "." + std::string(body)));
  bool match = false;
  for (std::string_view sig : signatures) match = ConstantTimeEquals(sig, expected) || match;
  if (!match) return UnauthenticatedError("X-Jit-Signature: the signature does not match");
  return OkStatus();
}

std::unique_ptr<Channel> NewWebhookChannel(ChannelSettings settings, std::string url,
                                           std::string secret, aws::HttpTransport& http,
                                           Clock& clock) {
  return std::make_unique<WebhookChannel>(std::move(settings), std::move(url), std::move(secret),
                                          http, clock);
}

json TeamsCard(const Message& m) {
  json facts = json::array();
  for (const auto& [label, value] : Facts(m)) facts.push_back({{"title", label}, {"value", value}});
  bool security = AudienceOf(m.event) == Audience::kSecurity;
  json body = json::array({
      {{"type", "TextBlock"},
       {"text", Title(m)},
       {"weight", "Bolder"},
       {"size", "Medium"},
       {"wrap", true},
       {"color", security ? "Attention" : "Default"}},
      {{"type", "FactSet"}, {"facts", std::move(facts)}},
  });
  json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
               {"type", "AdaptiveCard"},
               {"version", "1.4"},
               {"body", std::move(body)}};
  std::string link = RequestLink(m);
  if (!link.empty()) {
    std::string title = (m.event == Event::kRequestCreated || m.event == Event::kApprovalReminder ||
                         m.event == Event::kExtensionRequested)
                            ? "Review in jit"
                            : "Open in jit";
    card["actions"] = json::array({{{"type", "Action.OpenUrl"}, {"title", title}, {"url", link}}});
  }
  return {{"type", "message"},
          {"summary", Title(m)},
          {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                        {"contentUrl", nullptr},
                                        {"content", std::move(card)}}})}};
}

std::unique_ptr<Channel> NewTeamsChannel(ChannelSettings settings, std::string url,
                                         aws::HttpTransport& http) {
  return std::make_unique<TeamsChannel>(std::move(settings), std::move(url), http);
}

}  // namespace jit::notify
