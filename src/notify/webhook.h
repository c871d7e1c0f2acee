#pragma once
// Generic webhooks and Microsoft Teams incoming webhooks.
//
// Generic webhook: `POST <url>` with the EventJson body (render.h), Content-Type
// application/json, `X-Jit-Event: <event name>`, `X-Jit-Delivery: <DeliveryId>` and
// `X-Jit-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (docs/NOTIFY.md).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/clock.h"
#include "notify/channel_base.h"

namespace jit::notify {

// The X-Jit-Signature value for `body` sent at `t`.
std::string SignWebhook(std::string_view secret, Time t, std::string_view body);

// Checks a received X-Jit-Signature for `body`, for receivers and tests: the header must be
// "t=<digits>,v1=<64 hex>" (more v1= entries are allowed, any may match), the time within
// `tolerance` of `now`, the HMAC equal (constant-time). Unauthenticated saying what is wrong.
Status VerifyWebhookSignature(std::string_view secret, std::string_view header,
                              std::string_view body, Time now,
                              Duration tolerance = std::chrono::minutes(5));

// A generic webhook channel. `secret` is not logged.
std::unique_ptr<Channel> NewWebhookChannel(ChannelSettings settings, std::string url,
                                           std::string secret, aws::HttpTransport& http,
                                           Clock& clock);

// The Teams message: {"type": "message", "attachments": [{"contentType":
// "application/vnd.microsoft.card.adaptive", "content": <Adaptive Card 1.4>}]}, the card with
// the title, a fact set and an "Open in jit" link button when there is a public URL.
nlohmann::json TeamsCard(const Message& m);

// A Teams incoming-webhook channel (POST TeamsCard to `url`).
std::unique_ptr<Channel> NewTeamsChannel(ChannelSettings settings, std::string url,
                                         aws::HttpTransport& http);

}  // namespace jit::notify
