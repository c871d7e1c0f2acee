#include "api/handlers.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/decode.h"
#include "api/http_error.h"
#include "api/json.h"
#include "api/router.h"
#include "api/slack.h"
#include "audit/export.h"
#include "core/ids.h"
#include "findings/finding.h"
#include "model/audit_event.h"
#include "model/identity.h"
#include "model/request.h"
#include "model/request_json.h"
#include "policy/policy.h"

namespace jit::api {
namespace {

using nlohmann::json;

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

ApiResponse Error(int status, std::string_view code, std::string_view message) {
  return JsonResponse(status, ErrorJson(code, message));
}

// A Status from below becomes its HTTP error. Messages that could carry internals are logged
// here and replaced with a generic one.
ApiResponse FromStatus(const Status& s) {
  HttpError e = HttpErrorFor(s.code());
  if (MessageIsSafeToShow(s.code())) return Error(e.status, e.code, s.message());
  spdlog::warn("api: {} answered as HTTP {}", s.ToString(), e.status);
  if (e.status == 503) return Error(e.status, e.code, "service unavailable; retry later");
  return Error(e.status, e.code, "internal error");
}

// A refusal of a per-user limit (workflow::Workflow::Submit): 429 with Retry-After, in the one
// place the API adds that header. Any other status: FromStatus alone.
ApiResponse FromStatus(const Status& s, Duration retry_after) {
  ApiResponse r = FromStatus(s);
  if (r.status == 429) {
    // The workflow says how long; a refusal that did not gets a minute.
    Duration wait = retry_after.count() > 0 ? retry_after : Duration(std::chrono::minutes(1));
    r.headers.emplace_back("Retry-After", RetryAfterSeconds(wait));
  }
  return r;
}

// A refused input as its JSON error.
ApiResponse Refused(const InputError& e) { return Error(e.status, e.code, e.message); }

// The token of "Bearer TOKEN" (scheme case-insensitive); empty for anything else.
std::string_view BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return {};
  }
  std::string_view token = header.substr(kScheme.size());
  std::size_t first = token.find_first_not_of(' ');
  if (first == std::string_view::npos) return {};
  token.remove_prefix(first);
  std::size_t last = token.find_last_not_of(' ');
  return token.substr(0, last + 1);
}

json ListJson(const store::RequestPage& page) {
  json items = json::array();
  for (const model::Request& r : page.items) items.push_back(model::RequestToJson(r));
  return json{{"items", std::move(items)},
              {"next_cursor", page.next_cursor.empty() ? json(nullptr) : json(page.next_cursor)}};
}

}  // namespace

std::string PathForLog(std::string_view target) {
  constexpr std::size_t kMaxLength = 200;
  std::string_view path = target.substr(0, target.find('?'));
  std::string out;
  for (char c : path.substr(0, kMaxLength)) {
    bool printable = c > 0x20 && c < 0x7f;
    out.push_back(printable ? c : '?');
  }
  if (path.size() > kMaxLength) out += "...";
  return out;
}

ApiHandler::ApiHandler(workflow::Workflow& workflow, auth::Authenticator& authenticator,
                       policy::ConfigHolder& config, std::function<Status()> readiness,
                       ApiHooks hooks)
    : workflow_(workflow),
      authenticator_(authenticator),
      config_(config),
      readiness_(std::move(readiness)),
      hooks_(std::move(hooks)) {}

Result<model::Identity> ApiHandler::Authenticate(const ApiRequest& request) const {
  // A bearer token wins over a cookie: a browser never adds one to a cross-site request.
  if (request.authorization.empty() && hooks_.sessions != nullptr) {
    if (std::optional<Result<model::Identity>> who = hooks_.sessions->Authenticate(request)) {
      return *std::move(who);
    }
  }
  return authenticator_.Authenticate(BearerToken(request.authorization));
}

ApiResponse ApiHandler::Handle(const ApiRequest& request) {
  try {
    return HandleUnchecked(request);
  } catch (const std::exception& e) {
    spdlog::error("api: unexpected exception on {} {}: {}", request.method,
                  PathForLog(request.target), e.what());
  } catch (...) {
    spdlog::error("api: unexpected exception on {} {}", request.method, PathForLog(request.target));
  }
  return Error(500, "internal", "internal error");
}

// ---- The route table ----

// What a handler is handed: the request, and for authenticated routes the caller, the decoded
// query string and the path's well-formed {id} (empty for public routes and routes without one).
struct ApiHandler::Call {
  const ApiRequest& request;
  const model::Identity& who;
  const Query& query;
  const std::string& id;
};

struct ApiHandler::Route {
  RouteInfo info;
  ApiResponse (ApiHandler::*handle)(const Call&);
};

std::span<const ApiHandler::Route> ApiHandler::Routes() {
  // Matched in order; the order of one path's methods is its Allow header's.
  static const Route kRoutes[] = {
      {{"GET", "/healthz", "Healthz", false}, &ApiHandler::Healthz},
      {{"GET", "/readyz", "Readyz", false}, &ApiHandler::Readyz},
      {{"GET", "/metrics", "Metrics", false}, &ApiHandler::Metrics},
      // Slack signs its calls instead of sending a bearer token (api/slack.h).
      {{"POST", "/v1/slack/interactions", "SlackInteractions", false},
       &ApiHandler::SlackInteractions},
      {{"POST", "/v1/slack/commands", "SlackCommands", false}, &ApiHandler::SlackCommands},
      {{"GET", "/v1/requests", "ListRequests"}, &ApiHandler::ListRequests},
      {{"POST", "/v1/requests", "SubmitRequest"}, &ApiHandler::SubmitRequest},
      {{"GET", "/v1/requests/{id}", "GetRequest"}, &ApiHandler::GetRequest},
      {{"GET", "/v1/requests/{id}/activity", "GetActivity"}, &ApiHandler::GetActivity},
      {{"POST", "/v1/requests/{id}/approve", "ApproveRequest"}, &ApiHandler::ApproveRequest},
      {{"POST", "/v1/requests/{id}/deny", "DenyRequest"}, &ApiHandler::DenyRequest},
      {{"POST", "/v1/requests/{id}/cancel", "CancelRequest"}, &ApiHandler::CancelRequest},
      {{"POST", "/v1/requests/{id}/revoke", "RevokeRequest"}, &ApiHandler::RevokeRequest},
      {{"POST", "/v1/requests/{id}/extend", "ExtendRequest"}, &ApiHandler::ExtendRequest},
      {{"POST", "/v1/requests/{id}/review", "ReviewRequest"}, &ApiHandler::ReviewRequest},
      {{"GET", "/v1/catalog", "Catalog"}, &ApiHandler::Catalog},
      {{"GET", "/v1/me", "Me"}, &ApiHandler::Me},
      {{"GET", "/v1/audit", "Audit"}, &ApiHandler::Audit},
      {{"GET", "/v1/audit/verify", "AuditVerify"}, &ApiHandler::AuditVerify},
      {{"POST", "/v1/policy/explain", "ExplainPolicy"}, &ApiHandler::ExplainPolicy},
      {{"GET", "/v1/reports/summary", "ReportSummary"}, &ApiHandler::ReportSummary},
      {{"GET", "/v1/assignments/standing", "StandingAssignments"},
       &ApiHandler::StandingAssignments},
      // GuardDuty and Security Hub findings from an EventBridge API destination (docs/FINDINGS.md),
      // with an automation token.
      {{"POST", "/v1/findings", "PostFindings", true, true}, &ApiHandler::PostFindings},
  };
  return kRoutes;
}

std::vector<ApiHandler::RouteInfo> ApiHandler::RouteTable() {
  std::vector<RouteInfo> out;
  for (const Route& r : Routes()) out.push_back(r.info);
  return out;
}

ApiResponse ApiHandler::HandleUnchecked(const ApiRequest& request) {
  std::string_view target = request.target;
  std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  std::span<const Route> routes = Routes();
  static const std::vector<RoutePattern> kPatterns = [routes] {
    std::vector<RoutePattern> patterns;
    for (const Route& r : routes) patterns.push_back({r.info.method, r.info.pattern});
    return patterns;
  }();
  RouteMatch m = MatchRoute(kPatterns, request.method, path);
  if (m.outcome == RouteMatch::Outcome::kNoSuchPath) {
    return Error(404, "not_found", "no such endpoint");
  }
  if (m.outcome == RouteMatch::Outcome::kMethodNotAllowed) {
    ApiResponse r = Error(405, "method_not_allowed",
                          "method " + request.method + " is not allowed here; use " + m.allow);
    r.headers.emplace_back("Allow", m.allow);
    return r;
  }
  const Route& route = routes[m.index];

  if (!route.info.authenticated) {
    static const model::Identity kNobody;
    static const Query kNoQuery;
    static const std::string kNoId;
    return (this->*route.handle)(Call{request, kNobody, kNoQuery, kNoId});
  }

  Result<model::Identity> authenticated = Authenticate(request);
  if (!authenticated.has_value()) {
    Status s = authenticated.error();
    ApiResponse r =
        s.code() == StatusCode::kUnauthenticated    ? Error(401, "unauthenticated", s.message())
        : s.code() == StatusCode::kPermissionDenied ? Error(403, "csrf_failed", s.message())
                                                    : FromStatus(s);
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"jit\"");
    return r;
  }
  const model::Identity& who = *authenticated;

  ApiResponse response = [&]() -> ApiResponse {
    if (who.automation && !route.info.automation) {
      return Error(403, "permission_denied",
                   "an automation token may only post findings (POST /v1/findings)");
    }
    Decoded<Query> params = DecodeQuery(query);
    if (!params) return Refused(params.error());
    Decoded<std::string> id = std::string();
    if (!m.id.empty()) id = DecodeRequestId(m.id);
    if (!id) return Refused(id.error());
    return (this->*route.handle)(Call{request, who, *params, *id});
  }();
  response.user = who.username;
  if (response.request_id.empty() && IsWellFormedId(m.id, "req_")) response.request_id = m.id;
  return response;
}

// ---- Public routes ----

ApiResponse ApiHandler::Healthz(const Call&) { return JsonResponse(200, json{{"status", "ok"}}); }

ApiResponse ApiHandler::Readyz(const Call&) {
  Status ready = readiness_ ? readiness_() : OkStatus();
  if (ready.ok()) return JsonResponse(200, json{{"status", "ready"}});
  spdlog::warn("api: not ready: {}", ready.ToString());
  return Error(503, "unavailable", "not ready");
}

ApiResponse ApiHandler::Metrics(const Call&) {
  if (!hooks_.metrics) return Error(404, "not_found", "no such endpoint");
  ApiResponse r;
  r.body = hooks_.metrics();
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

ApiResponse ApiHandler::SlackInteractions(const Call& call) {
  if (hooks_.slack == nullptr) {
    return Error(404, "not_found",
                 "Slack interactions are not configured (no slack channel has a "
                 "signing_secret_file)");
  }
  return hooks_.slack->Handle(call.request);
}

ApiResponse ApiHandler::SlackCommands(const Call& call) {
  if (hooks_.slack == nullptr) {
    return Error(404, "not_found",
                 "Slack commands are not configured (no slack channel has a "
                 "signing_secret_file)");
  }
  return hooks_.slack->HandleCommand(call.request);
}

// ---- Requests ----

ApiResponse ApiHandler::ListRequests(const Call& call) {
  workflow::ListInput in;
  Decoded<std::optional<model::RequestState>> state = DecodeState(call.query);
  if (!state) return Refused(state.error());
  in.state = *state;
  Decoded<bool> mine = DecodeMine(call.query);
  if (!mine) return Refused(mine.error());
  in.mine = *mine;
  Decoded<bool> awaiting = DecodeAwaiting(call.query);
  if (!awaiting) return Refused(awaiting.error());
  in.awaiting = *awaiting;
  Decoded<std::optional<int>> limit = DecodeLimit(call.query, workflow::kMaxListLimit);
  if (!limit) return Refused(limit.error());
  if (*limit) in.limit = **limit;
  in.cursor = DecodeCursor(call.query);
  in.review = DecodeReview(call.query);
  Result<store::RequestPage> page = workflow_.List(call.who, in);
  if (!page) return FromStatus(page.error());
  return JsonResponse(200, ListJson(*page));
}

ApiResponse ApiHandler::SubmitRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e =
          CheckKnownFields(*body, {"account", "accounts", "permission_set", "group", "duration",
                                   "reason", "ticket", "start_at"})) {
    return Refused(*e);
  }
  // Membership in an Identity Center group (`group`: a name of identity_center_groups), which
  // stands as the permission set of the group account (model/request.h kGroupAccount).
  Decoded<std::string> group = DecodeString(*body, "group");
  if (!group) return Refused(group.error());
  if (!group->empty() && (body->contains("account") || body->contains("accounts") ||
                          body->contains("permission_set"))) {
    return Refused(BadValue("give group, or account and permission_set, not both"));
  }
  // One account (`account`) or several (`accounts`: one request per account, decided once).
  Decoded<std::vector<std::string>> accounts = DecodeAccounts(*body);
  if (!accounts) return Refused(accounts.error());
  if (!accounts->empty() && body->contains("account")) {
    return Refused(BadValue("give account or accounts, not both"));
  }
  Decoded<std::string> account = !group->empty()
                                     ? Decoded<std::string>(std::string(model::kGroupAccount))
                                 : !accounts->empty() ? Decoded<std::string>(accounts->front())
                                                      : DecodeRequiredString(*body, "account");
  Decoded<std::string> permission_set =
      !group->empty() ? group : DecodeRequiredString(*body, "permission_set");
  Decoded<std::string> reason = DecodeReason(*body, /*required=*/false);
  Decoded<std::string> ticket = DecodeString(*body, "ticket");
  Decoded<std::optional<Time>> start_at = DecodeStartAt(*body);
  Decoded<std::optional<Duration>> duration = DecodeDuration(*body, /*required=*/true);
  for (std::optional<InputError> e :
       {FirstRefusal(400, {account.refusal(), permission_set.refusal(), reason.refusal(),
                           ticket.refusal(), start_at.refusal(), duration.refusal()}),
        FirstRefusal(422, {account.refusal(), permission_set.refusal(), duration.refusal(),
                           start_at.refusal()})}) {
    if (e) return Refused(*e);
  }
  workflow::SubmitInput in{*account, *permission_set, **duration, *reason, *ticket, *start_at};
  if (accounts->size() > 1) {
    in.account.clear();
    in.accounts = *accounts;
  }
  Duration retry_after{0};
  std::vector<model::AuditEvent> history;
  Result<model::Request> created = workflow_.Submit(call.who, in, &retry_after, &history);
  if (!created) return FromStatus(created.error(), retry_after);
  // Answer with the history too, like every other single-request answer: as the submit
  // committed it, or (a request for several accounts, which lists its batch) read back. The
  // request is committed either way, so a failed re-read only loses the history.
  Result<workflow::RequestView> view = !history.empty()
                                           ? workflow::RequestView{*created, std::move(history), {}}
                                           : workflow_.Get(call.who, created->id);
  ApiResponse r =
      JsonResponse(201, view ? RequestViewToJson(*view) : model::RequestToJson(*created));
  r.headers.emplace_back("Location", "/v1/requests/" + created->id);
  r.request_id = created->id;
  return r;
}

ApiResponse ApiHandler::GetRequest(const Call& call) {
  Result<workflow::RequestView> view = workflow_.Get(call.who, call.id);
  if (!view) return FromStatus(view.error());
  return JsonResponse(200, RequestViewToJson(*view));
}

// Who may read it is Get's decision: the requester, the request's approvers, auditors, admins.
ApiResponse ApiHandler::GetActivity(const Call& call) {
  Result<workflow::RequestView> view = workflow_.Get(call.who, call.id);
  if (!view) return FromStatus(view.error());
  if (!hooks_.activity) {
    return FromStatus(FailedPreconditionError(
        "session activity is off: the config has no activity.role_name (docs/AWS.md \"Session "
        "activity\")"));
  }
  Result<json> activity = hooks_.activity(*view);
  if (!activity) return FromStatus(activity.error());
  return JsonResponse(200, *activity);
}

ApiResponse ApiHandler::DecidedRequest(const Call& call, const Result<model::Request>& decided) {
  if (!decided) return FromStatus(decided.error());
  Result<workflow::RequestView> view = workflow_.Get(call.who, call.id);
  return JsonResponse(200, view ? RequestViewToJson(*view) : model::RequestToJson(*decided));
}

ApiResponse ApiHandler::ApproveRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {"comment"})) return Refused(*e);
  Decoded<std::string> comment = DecodeComment(*body);
  if (!comment) return Refused(comment.error());
  return DecidedRequest(call, workflow_.Approve(call.who, call.id, *comment));
}

ApiResponse ApiHandler::DenyRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {"reason"})) return Refused(*e);
  Decoded<std::string> reason = DecodeReason(*body, /*required=*/true);
  if (!reason) return Refused(reason.error());
  return DecidedRequest(call, workflow_.Deny(call.who, call.id, *reason));
}

ApiResponse ApiHandler::CancelRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {})) return Refused(*e);
  return DecidedRequest(call, workflow_.Cancel(call.who, call.id));
}

ApiResponse ApiHandler::RevokeRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {"reason"})) return Refused(*e);
  Decoded<std::string> reason = DecodeReason(*body, /*required=*/false);
  if (!reason) return Refused(reason.error());
  return DecidedRequest(call, workflow_.Revoke(call.who, call.id, *reason));
}

ApiResponse ApiHandler::ExtendRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {"duration"})) return Refused(*e);
  Decoded<std::optional<Duration>> extra = DecodeDuration(*body, /*required=*/true);
  if (!extra) return Refused(extra.error());
  return DecidedRequest(call, workflow_.Extend(call.who, call.id, **extra));
}

ApiResponse ApiHandler::ReviewRequest(const Call& call) {
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e = CheckKnownFields(*body, {"comment"})) return Refused(*e);
  Decoded<std::string> comment = DecodeComment(*body);
  if (!comment) return Refused(comment.error());
  return DecidedRequest(call, workflow_.Review(call.who, call.id, *comment));
}

// ---- The caller and the catalog ----

ApiResponse ApiHandler::Catalog(const Call& call) {
  Decoded<bool> compact = DecodeCompactView(call.query);
  if (!compact) return Refused(compact.error());
  std::shared_ptr<const policy::Config> config = config_.Get();
  ApiResponse r;
  r.status = 200;
  std::vector<policy::CatalogEntry> entries = policy::Catalog(*config, call.who);
  r.body = *compact ? CatalogCompactJsonText(entries) : CatalogJsonText(entries);
  return r;
}

ApiResponse ApiHandler::Me(const Call& call) {
  const model::Identity& who = call.who;
  std::shared_ptr<const policy::Config> config = config_.Get();
  json roles = json::array();
  if (policy::IsAdmin(*config, who)) roles.push_back("admin");
  if (policy::IsAuditor(*config, who)) roles.push_back("auditor");
  return JsonResponse(
      200, json{{"username", who.username},
                {"groups", who.groups},
                {"principal_id", who.principal_id.empty() ? json(nullptr) : json(who.principal_id)},
                {"roles", std::move(roles)},
                {"may_request", policy::MayRequestAnything(*config, who)},
                {"may_approve", policy::MayApproveAnything(*config, who)}});
}

// ---- The audit trail ----

ApiResponse ApiHandler::Audit(const Call& call) {
  Decoded<std::int64_t> after = DecodeAfter(call.query);
  if (!after) return Refused(after.error());
  Decoded<std::optional<int>> limit = DecodeLimit(call.query, workflow::kMaxAuditLimit);
  if (!limit) return Refused(limit.error());
  Decoded<std::string> format = DecodeAuditFormat(call.query);
  if (!format) return Refused(format.error());
  constexpr int kDefaultLimit = 100;
  Result<std::vector<model::AuditEvent>> events =
      workflow_.Audit(call.who, *after, limit->value_or(kDefaultLimit));
  if (!events) return FromStatus(events.error());
  json items = json::array();
  for (const model::AuditEvent& e : *events) {
    items.push_back(*format == "ocsf" ? audit::ToOcsf(e) : AuditEventToJson(e));
  }
  json next_after = events->empty() ? json(nullptr) : json(events->back().seq);
  return JsonResponse(200, json{{"items", std::move(items)}, {"next_after", next_after}});
}

ApiResponse ApiHandler::AuditVerify(const Call& call) {
  // Like the audit trail itself, and by the same check: admins and auditors only, first.
  Status reader = workflow_.CheckAuditReader(call.who);
  if (!reader.ok()) return FromStatus(reader);
  if (!hooks_.verify_audit) {
    return Error(501, "not_implemented", "this broker cannot verify its audit trail");
  }
  Result<audit::TrailReport> report = hooks_.verify_audit();
  if (!report) return FromStatus(report.error());
  return JsonResponse(200, TrailReportToJson(*report));
}

// ---- Reports ----

ApiResponse ApiHandler::ReportSummary(const Call& call) {
  Decoded<Duration> since = DecodeSince(call.query);
  if (!since) return Refused(since.error());
  Result<workflow::ReportSummary> summary = workflow_.Report(call.who, *since);
  if (!summary) return FromStatus(summary.error());
  return JsonResponse(200, ReportSummaryToJson(*summary, *since));
}

// ---- Standing access ----

ApiResponse ApiHandler::StandingAssignments(const Call& call) {
  Decoded<std::string> account = DecodeAccountFilter(call.query);
  if (!account) return Refused(account.error());
  Result<workflow::StandingInventory> inv = workflow_.StandingAccess(call.who, *account);
  if (!inv) return FromStatus(inv.error());
  json items = json::array();
  for (const workflow::StandingAssignment& a : inv->assignments) {
    items.push_back(
        {{"account_id", a.account_id},
         {"account_name", a.account_name},
         {"permission_set", a.permission_set_name},
         {"permission_set_arn", a.permission_set_arn},
         {"principal_type", provider::PrincipalTypeName(a.principal_type)},
         {"principal_id", a.principal_id},
         {"principal_name", a.principal_name.empty() ? json(nullptr) : json(a.principal_name)},
         {"held_through_jit", a.held_through_jit}});
  }
  return JsonResponse(200, json{{"items", std::move(items)}, {"pairs_listed", inv->pairs_listed}});
}

// ---- Policy ----

ApiResponse ApiHandler::ExplainPolicy(const Call& call) {
  // {user?, groups?, account, permission_set, duration?, start_at?, reason?, ticket?}
  Decoded<json> body = DecodeObject(call.request.body);
  if (!body) return Refused(body.error());
  if (std::optional<InputError> e =
          CheckKnownFields(*body, {"user", "groups", "account", "permission_set", "duration",
                                   "start_at", "reason", "ticket"})) {
    return Refused(*e);
  }
  Decoded<std::string> user = DecodeString(*body, "user");
  Decoded<std::optional<std::vector<std::string>>> groups = DecodeGroups(*body);
  Decoded<std::string> account = DecodeRequiredString(*body, "account");
  Decoded<std::string> permission_set = DecodeRequiredString(*body, "permission_set");
  Decoded<std::string> reason = DecodeReason(*body, /*required=*/false);
  Decoded<std::string> ticket = DecodeString(*body, "ticket");
  Decoded<std::optional<Duration>> duration = DecodeDuration(*body, /*required=*/false);
  Decoded<std::optional<Time>> start_at = DecodeStartAt(*body);
  // Absent (or null), the user is the caller.
  bool user_named = body->contains("user") && !body->at("user").is_null();
  std::optional<InputError> empty_user;
  if (user && (user_named ? *user : call.who.username).empty()) {
    empty_user = BadValue("user must not be empty");
  }
  for (std::optional<InputError> e :
       {FirstRefusal(400,
                     {user.refusal(), groups.refusal(), account.refusal(), permission_set.refusal(),
                      reason.refusal(), ticket.refusal(), duration.refusal(), start_at.refusal()}),
        FirstRefusal(422,
                     {duration.refusal(), start_at.refusal(), empty_user ? &*empty_user : nullptr,
                      account.refusal(), permission_set.refusal()})}) {
    if (e) return Refused(*e);
  }
  model::Identity subject = call.who;
  if (user_named) subject.username = *user;
  if (*groups) {
    subject.groups = **groups;
  } else if (subject.username != call.who.username) {
    subject.groups.clear();  // someone else's groups are what the caller says (none unless given)
  }
  policy::AccessRequest ask;
  ask.account = *account;
  ask.permission_set = *permission_set;
  ask.duration = duration->value_or(Duration(0));
  ask.reason = *reason;
  ask.ticket = *ticket;
  ask.start_at = *start_at;
  Result<workflow::ExplainView> view = workflow_.Explain(call.who, subject, ask);
  if (!view) return FromStatus(view.error());
  json out = view->explanation.ToJson();
  out["text"] = view->explanation.ToText();
  return JsonResponse(200, out);
}

// ---- Threat findings ----

ApiResponse ApiHandler::PostFindings(const Call& call) {
  Result<findings::Event> event = findings::ParseEvent(call.request.body);
  if (!event) return Refused(BadShape(event.error().message()));
  Result<workflow::FindingsOutcome> done = workflow_.ActOnFindings(call.who, *event);
  if (!done) return FromStatus(done.error());
  json items = json::array();
  for (const workflow::FindingOutcome& o : done->findings) {
    json item = {{"id", o.id}, {"outcome", o.outcome}};
    if (!o.why.empty()) item["why"] = o.why;
    if (o.outcome == "acted") {
      item["users"] = o.users;
      item["revoked"] = o.revoked;
      item["denied"] = o.denied;
    }
    items.push_back(std::move(item));
  }
  return JsonResponse(200, json{{"event_id", done->event_id},
                                {"duplicate", done->duplicate},
                                {"findings", std::move(items)}});
}

}  // namespace jit::api
