#pragma once
// Routing and the handlers of the HTTP API (docs/ARCHITECTURE.md "HTTP API"), apart from the
// transport so that they can be driven without sockets. Nothing here knows about Beast.
//
// Who checks what (docs/ARCHITECTURE.md "Who checks what"; one layer for each kind of check):
//  - Routing: one table in handlers.cc maps each (method, path pattern) to one handler
//    function (api/router.h); an unknown path is 404 not_found, a known one with another method
//    405 method_not_allowed with an Allow header. The {id} of a path is read once, before the
//    handler runs (api/decode.h DecodeRequestId: 404 "no such request" when malformed).
//  - Authentication (who is calling) is the API's: ApiHandler::Authenticate, by bearer token
//    (auth::Authenticator) or by web UI session cookie and CSRF token (CookieSessions), once for
//    every /v1 route before its handler runs: 401 unauthenticated, 403 csrf_failed. The public
//    routes (/healthz, /readyz, /metrics) need none; Slack's calls are signed instead and are
//    checked by api/slack.h.
//  - Token scope: an automation token (auth.automation, Identity::automation) reaches only the
//    routes marked for it (POST /v1/findings): every other /v1 route answers it 403
//    permission_denied before its handler runs. Who may act on a finding is still the
//    workflow's (workflow::Workflow::ActOnFindings refuses everyone but automation).
//  - Decoding (the form of the input: JSON types, unknown fields, the syntax of durations,
//    times and numbers, required fields) is the API's, in api/decode.h, one function per field
//    with one wording: 400 bad_request for the wrong shape, 422 invalid_argument for a value
//    that cannot be read.
//  - Authorization (whether this caller may do this) is the workflow's, for every action:
//    submitting (policy::Evaluate), approving, denying, cancelling, revoking, extending,
//    reviewing, seeing a request, explaining for someone else, and reading the audit trail
//    (workflow::Workflow::CheckAuditReader, for both GET /v1/audit and GET /v1/audit/verify)
//    and reading reports (workflow::Workflow::Report, GET /v1/reports/summary).
//    Handlers make no permission decision of their own; GET /v1/me and /v1/catalog only report
//    what policy says about the caller.
//  - Limits (a duration against its rule and permission set, the schedule window, the hours, a
//    reason or ticket a rule requires, an extension's minimum, page sizes) are checked once, in
//    policy/ and workflow/, which every caller (API, Slack, tests) passes through; the API
//    answers their InvalidArgument as 422.
//  - Only the API turns a Status into an HTTP status (api/http_error.h).

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/trail.h"
#include "auth/auth.h"
#include "core/status.h"
#include "model/identity.h"
#include "policy/config.h"
#include "workflow/workflow.h"

namespace jit::api {

// One HTTP request as the transport received it.
struct ApiRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // path and query as received, e.g. "/v1/requests?state=pending"
  std::string authorization;  // the Authorization header's value; empty when absent
  std::string body;
  // Every header as received, names lowercased (Slack's signature headers, say).
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that (lowercase) name; "" when absent.
  std::string Header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return value;
    }
    return "";
  }

  // Headers the web UI reads (api/ui.h); empty when absent.
  std::string cookie;         // Cookie
  std::string csrf_token;     // X-CSRF-Token
  std::string if_none_match;  // If-None-Match
  std::string content_type;   // Content-Type
};

// What to answer.
struct ApiResponse {
  int status = 200;
  std::string body;  // JSON text (or the web UI's files and pages)
  std::string content_type = "application/json";
  // Extra headers (WWW-Authenticate, Allow, Set-Cookie, ...); a name may repeat. A
  // Cache-Control here replaces the default "no-store".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string user;        // who called, for the log line; empty when not authenticated
  std::string request_id;  // the jit request the call was about, for the log line; may be empty
};

// The web UI's sessions (api/ui.h), as the API sees them: another way to say who is calling.
class CookieSessions {
 public:
  virtual ~CookieSessions() = default;
  // nullopt when `request` carries no session cookie. Otherwise who the cookie says, or
  // Unauthenticated for a bad or expired one, or PermissionDenied when a state-changing
  // method lacks the session's CSRF token (X-CSRF-Token). Thread-safe.
  virtual std::optional<Result<model::Identity>> Authenticate(const ApiRequest& request) const = 0;
};

class SlackInteractions;  // api/slack.h
class Ui;                 // api/ui.h

// Optional parts of the API that main wires in; an empty one turns its endpoint off.
struct ApiHooks {
  // POST /v1/slack/interactions and /v1/slack/commands (api/slack.h); not owned, must outlive
  // the handler. null: 404.
  SlackInteractions* slack = nullptr;
  // GET /v1/audit/verify: the whole trail checked against its signed checkpoints.
  std::function<Result<audit::TrailReport>()> verify_audit;
  // GET /metrics: the Prometheus text exposition.
  std::function<std::string()> metrics;
  // The web UI (api/ui.h): the server hands it the paths it owns (/, /ui/...). Not owned.
  Ui* ui = nullptr;
  // Web UI sessions calling /v1 (null: bearer tokens only); HttpServer sets it to `ui`.
  const CookieSessions* sessions = nullptr;
  // GET /v1/requests/{id}/activity: the session activity (activity/service.h) of a request the
  // caller was allowed to see (Workflow::Get decided), as the JSON object to answer. Empty:
  // session activity is off (409 failed_precondition).
  std::function<Result<nlohmann::json>(const workflow::RequestView&)> activity;
};

// Routes requests to the workflow, the authenticator and the config. Thread-safe; Handle may
// block while the workflow waits for a durable commit. Never throws: an unexpected exception
// becomes a 500 "internal" answer.
class ApiHandler {
 public:
  // All references must outlive the handler. `readiness` decides GET /readyz (empty: ready).
  // `sessions` (may be null: bearer tokens only) lets web UI sessions call /v1: a request
  // without an Authorization header is authenticated by its session cookie, through exactly
  // the same checks afterwards.
  ApiHandler(workflow::Workflow& workflow, auth::Authenticator& authenticator,
             policy::ConfigHolder& config, std::function<Status()> readiness, ApiHooks hooks = {});

  ApiResponse Handle(const ApiRequest& request);

  // One row of the route table, for tests and docs: the method and path pattern it answers (see
  // api/router.h), the name of the handler it reaches, and whether the caller must be
  // authenticated first.
  struct RouteInfo {
    std::string_view method;
    std::string_view pattern;
    std::string_view handler;
    bool authenticated = true;
    // Open to automation identities (auth.automation): POST /v1/findings alone.
    bool automation = false;
  };
  // The route table, in matching order.
  static std::vector<RouteInfo> RouteTable();

 private:
  struct Call;   // what a handler is handed (handlers.cc)
  struct Route;  // a row of the table (handlers.cc)
  static std::span<const Route> Routes();

  ApiResponse HandleUnchecked(const ApiRequest& request);

  // The handlers, one per route.
  ApiResponse Healthz(const Call& call);
  ApiResponse Readyz(const Call& call);
  ApiResponse Metrics(const Call& call);
  ApiResponse SlackInteractions(const Call& call);
  ApiResponse SlackCommands(const Call& call);
  ApiResponse ListRequests(const Call& call);
  ApiResponse SubmitRequest(const Call& call);
  ApiResponse GetRequest(const Call& call);
  ApiResponse GetActivity(const Call& call);
  ApiResponse ApproveRequest(const Call& call);
  ApiResponse DenyRequest(const Call& call);
  ApiResponse CancelRequest(const Call& call);
  ApiResponse RevokeRequest(const Call& call);
  ApiResponse ExtendRequest(const Call& call);
  ApiResponse ReviewRequest(const Call& call);
  ApiResponse Catalog(const Call& call);
  ApiResponse Me(const Call& call);
  ApiResponse Audit(const Call& call);
  ApiResponse AuditVerify(const Call& call);
  ApiResponse StandingAssignments(const Call& call);
  ApiResponse ExplainPolicy(const Call& call);
  ApiResponse ReportSummary(const Call& call);
  ApiResponse PostFindings(const Call& call);

  // A decided request, answered with its history like every single-request answer.
  ApiResponse DecidedRequest(const Call& call, const Result<model::Request>& decided);

  // The caller: by bearer token when the request has an Authorization header, else by session
  // cookie when there is one.
  Result<model::Identity> Authenticate(const ApiRequest& request) const;

  workflow::Workflow& workflow_;
  auth::Authenticator& authenticator_;
  policy::ConfigHolder& config_;
  std::function<Status()> readiness_;
  ApiHooks hooks_;
};

// The path of a request target without its query, cut to a length fit for a log line.
std::string PathForLog(std::string_view target);

}  // namespace jit::api
