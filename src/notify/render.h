#pragma once
// What a notification says, shared by the channels: the JSON event (webhooks, EventBridge,
// SNS), a title and facts for people (Slack, Teams, e-mail), links, and how HTTP answers become
// Status codes the job queue understands. Pure functions; nothing here throws.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/http.h"
#include "core/result.h"
#include "notify/notify.h"

namespace jit::notify {

// The event as JSON (webhook body, EventBridge Detail, SNS json message):
//   {"id": DeliveryId, "event": "request.created", "audience": "approvers",
//    "time": RFC 3339, "actor": "...", "detail": "..." or null,
//    "request": model::RequestToJson or null (no request), "url": RequestLink or null}
nlohmann::json EventJson(const Message& m);

// A stable id of one (event, request, time): a re-delivery carries the same id, so receivers
// can drop duplicates. "evt_" + 32 hex digits.
std::string DeliveryId(const Message& m);

// The web UI's page where the event's audience acts on the request, with its id:
// "<public_url>/#/approvals?request=<id>" for approvers, "#/mine?..." for the requester,
// "#/audit?..." for security; "" without a public URL or a request.
std::string RequestLink(const Message& m);

// One line for people: "Approval needed: alice requests Admin on prod (222222222222) for 1h".
// Control characters of request fields are replaced by spaces.
std::string Title(const Message& m);

// Labelled lines that follow the title: Requester, Account, Permission set, Duration, Reason,
// Ticket, By, Expires, Detail... (those that apply and are not empty).
std::vector<std::pair<std::string, std::string>> Facts(const Message& m);

// Title, facts and link as plain text (e-mail bodies, SNS text messages).
std::string PlainText(const Message& m);

// `s` with every ASCII control character (CR and LF included) replaced by a space, cut to
// `max_bytes` on a UTF-8 boundary ("..." appended when cut).
std::string OneLine(std::string_view s, std::size_t max_bytes = 500);

// j as compact JSON; invalid UTF-8 in strings is replaced rather than thrown about.
std::string DumpJson(const nlohmann::json& j);

// The outcome of one HTTP delivery: OK for 2xx; Unavailable for transport errors, 408, 425,
// 429 and 5xx; PermissionDenied for 401/403; FailedPrecondition for 3xx (redirects are not
// followed), 404 and 410; InvalidArgument for other 4xx. `what` names the channel; the answer's
// first 200 bytes go into the message.
Status HttpOutcome(std::string_view what, const Result<aws::HttpResponse>& response);

// Maps any Status to the codes Channel::Send may return: Aborted, ResourceExhausted, Internal
// -> Unavailable; Unauthenticated -> PermissionDenied; NotFound, AlreadyExists ->
// FailedPrecondition (NotFound is Deliver's "no such channel"); the rest as they are.
Status ForJobQueue(Status s);
}  // namespace jit::notify
