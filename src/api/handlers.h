#pragma once
// Routing and the handlers of the HTTP API (DESIGN.md "HTTP API"), apart from the transport so
// that they can be driven without sockets. Nothing here knows about Beast.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/trail.h"
#include "auth/auth.h"
#include "config/config.h"
#include "core/status.h"
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
  virtual std::optional<Result<policy::Identity>> Authenticate(const ApiRequest& request) const = 0;
};

class SlackInteractions;  // api/slack.h
class Ui;                 // api/ui.h

// Optional parts of the API that main wires in; an empty one turns its endpoint off.
struct ApiHooks {
  // POST /v1/slack/interactions (api/slack.h); not owned, must outlive the handler. null: 404.
  SlackInteractions* slack = nullptr;
  // GET /v1/audit/verify: the whole trail checked against its signed checkpoints.
  std::function<Result<audit::TrailReport>()> verify_audit;
  // GET /metrics: the Prometheus text exposition.
  std::function<std::string()> metrics;
  // The web UI (api/ui.h): the server hands it the paths it owns (/, /ui/...). Not owned.
  Ui* ui = nullptr;
  // Web UI sessions calling /v1 (null: bearer tokens only); HttpServer sets it to `ui`.
  const CookieSessions* sessions = nullptr;
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
             config::ConfigHolder& config, std::function<Status()> readiness, ApiHooks hooks = {});

  ApiResponse Handle(const ApiRequest& request);

 private:
  ApiResponse HandleUnchecked(const ApiRequest& request);
  // The caller: by bearer token when the request has an Authorization header, else by session
  // cookie when there is one.
  Result<policy::Identity> Authenticate(const ApiRequest& request) const;

  workflow::Workflow& workflow_;
  auth::Authenticator& authenticator_;
  config::ConfigHolder& config_;
  std::function<Status()> readiness_;
  ApiHooks hooks_;
};

// The path of a request target without its query, cut to a length fit for a log line.
std::string PathForLog(std::string_view target);

}  // namespace jit::api
