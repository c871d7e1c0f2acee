#include "api/handlers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "api/http_error.h"
#include "api/json.h"
#include "api/slack.h"
#include "audit/export.h"
#include "core/duration.h"
#include "core/form.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "policy/policy.h"
#include "store/model.h"

namespace jit::api {
namespace {

using nlohmann::json;

// Longest duration accepted as whole seconds, like ParseDuration's limit.
constexpr std::int64_t kMaxDurationSeconds = 366LL * 24 * 60 * 60;

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

ApiResponse Error(int status, std::string_view code, std::string_view message) {
  return JsonResponse(status, ErrorJson(code, message));
}

ApiResponse BadRequest(std::string_view message) { return Error(400, "bad_request", message); }

ApiResponse Unprocessable(std::string_view message) {
  return Error(422, "invalid_argument", message);
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

// ---- Query strings and paths ----

std::string Param(const std::map<std::string, std::string>& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

// A whole decimal number without sign or spaces.
std::optional<std::int64_t> ParseInt(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

enum class Route {
  kNone,
  kHealthz,
  kReadyz,
  kMetrics,
  kRequests,
  kRequest,
  kDecision,
  kCatalog,
  kMe,
  kAudit,
  kAuditVerify,
  kPolicyExplain,
  kSlackInteractions,
};

struct Match {
  Route route = Route::kNone;
  std::string_view allowed;  // the one method the route answers
  std::string id;
  std::string action;
};

bool IsDecision(std::string_view action) {
  return action == "approve" || action == "deny" || action == "cancel" || action == "revoke" ||
         action == "extend" || action == "review";
}

Match MatchRoute(std::string_view path) {
  std::vector<std::string_view> p = SplitPath(path);
  Match m;
  auto is = [&p](std::initializer_list<std::string_view> want) {
    return std::equal(p.begin(), p.end(), want.begin(), want.end());
  };
  if (is({"healthz"})) {
    m = {Route::kHealthz, "GET"};
  } else if (is({"readyz"})) {
    m = {Route::kReadyz, "GET"};
  } else if (is({"metrics"})) {
    m = {Route::kMetrics, "GET"};
  } else if (is({"v1", "requests"})) {
    // GET and POST both; checked by the caller.
    m = {Route::kRequests, "GET, POST"};
  } else if (p.size() == 3 && p[0] == "v1" && p[1] == "requests" && !p[2].empty()) {
    m = {Route::kRequest, "GET", std::string(p[2])};
  } else if (p.size() == 4 && p[0] == "v1" && p[1] == "requests" && !p[2].empty() &&
             IsDecision(p[3])) {
    m = {Route::kDecision, "POST", std::string(p[2]), std::string(p[3])};
  } else if (is({"v1", "catalog"})) {
    m = {Route::kCatalog, "GET"};
  } else if (is({"v1", "me"})) {
    m = {Route::kMe, "GET"};
  } else if (is({"v1", "audit"})) {
    m = {Route::kAudit, "GET"};
  } else if (is({"v1", "audit", "verify"})) {
    m = {Route::kAuditVerify, "GET"};
  } else if (is({"v1", "policy", "explain"})) {
    m = {Route::kPolicyExplain, "POST"};
  } else if (is({"v1", "slack", "interactions"})) {
    m = {Route::kSlackInteractions, "POST"};
  }
  return m;
}

bool MethodAllowed(const Match& m, std::string_view method) {
  if (m.route == Route::kRequests) return method == "GET" || method == "POST";
  return method == m.allowed;
}

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

// ---- Bodies: shape problems are 400 bad_request ----

// InvalidArgument naming the first member of `body` that is not in `allowed`.
Status CheckKnownFields(const json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidArgumentError("unknown field \"" + key + "\"");
    }
  }
  return OkStatus();
}

// A string member; absent or null reads as empty.
Result<std::string> StringField(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("field \"") + name + "\" must be a string");
  }
  return it->get<std::string>();
}

struct SubmitBody {
  workflow::SubmitInput input;
  bool has_duration = false;
  json duration;         // string or integer, checked by the caller
  std::string start_at;  // RFC 3339 text, checked by the caller; empty: at once
};

// A time a caller sends ("start_at"): an RFC 3339 string. InvalidArgument (422) when the text
// is not one; the caller has checked that it is a string.
Result<Time> ParseTimeValue(const std::string& name, const std::string& text) {
  Result<Time> t = ParseRfc3339(text);
  if (!t.has_value()) {
    return InvalidArgumentError(name + " must be an RFC 3339 time like \"2026-12-01T09:00:00Z\"");
  }
  return t;
}

Result<SubmitBody> DecodeSubmit(const json& body) {
  JIT_RETURN_IF_ERROR(CheckKnownFields(
      body, {"account", "permission_set", "duration", "reason", "ticket", "start_at"}));
  SubmitBody out;
  JIT_ASSIGN_OR_RETURN(out.input.account, StringField(body, "account"));
  JIT_ASSIGN_OR_RETURN(out.input.permission_set, StringField(body, "permission_set"));
  JIT_ASSIGN_OR_RETURN(out.input.reason, StringField(body, "reason"));
  JIT_ASSIGN_OR_RETURN(out.input.ticket, StringField(body, "ticket"));
  JIT_ASSIGN_OR_RETURN(out.start_at, StringField(body, "start_at"));
  auto duration = body.find("duration");
  if (duration != body.end() && !duration->is_null()) {
    if (!duration->is_string() && !duration->is_number_integer()) {
      return InvalidArgumentError(
          "field \"duration\" must be a string like \"30m\" or a whole number of seconds");
    }
    out.has_duration = true;
    out.duration = *duration;
  }
  return out;
}

// The duration of a submit body: "30m" or whole seconds. InvalidArgument (422) when bad.
Result<Duration> SubmitDuration(const json& d) {
  if (d.is_string()) return ParseDuration(d.get_ref<const std::string&>());
  if (d.is_number_unsigned()) {
    std::uint64_t s = d.get<std::uint64_t>();
    if (s > static_cast<std::uint64_t>(kMaxDurationSeconds)) {
      return InvalidArgumentError("duration must be at most 366 days");
    }
    return Duration(std::chrono::seconds(static_cast<std::int64_t>(s)));
  }
  return InvalidArgumentError("duration must not be negative");
}

json ListJson(const store::RequestPage& page) {
  json items = json::array();
  for (const store::Request& r : page.items) items.push_back(RequestToJson(r));
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
                       config::ConfigHolder& config, std::function<Status()> readiness,
                       ApiHooks hooks)
    : workflow_(workflow),
      authenticator_(authenticator),
      config_(config),
      readiness_(std::move(readiness)),
      hooks_(std::move(hooks)) {}

Result<policy::Identity> ApiHandler::Authenticate(const ApiRequest& request) const {
  // A bearer token wins over a cookie: a browser never adds one to a cross-site request.
  if (request.authorization.empty() && hooks_.sessions != nullptr) {
    if (std::optional<Result<policy::Identity>> who = hooks_.sessions->Authenticate(request)) {
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

ApiResponse ApiHandler::HandleUnchecked(const ApiRequest& request) {
  std::string_view target = request.target;
  std::size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  Match m = MatchRoute(path);
  if (m.route == Route::kNone) return Error(404, "not_found", "no such endpoint");
  if (!MethodAllowed(m, request.method)) {
    ApiResponse r =
        Error(405, "method_not_allowed",
              "method " + request.method + " is not allowed here; use " + std::string(m.allowed));
    r.headers.emplace_back("Allow", std::string(m.allowed));
    return r;
  }

  if (m.route == Route::kHealthz) return JsonResponse(200, json{{"status", "ok"}});
  if (m.route == Route::kReadyz) {
    Status ready = readiness_ ? readiness_() : OkStatus();
    if (ready.ok()) return JsonResponse(200, json{{"status", "ready"}});
    spdlog::warn("api: not ready: {}", ready.ToString());
    return Error(503, "unavailable", "not ready");
  }
  if (m.route == Route::kMetrics) {
    if (!hooks_.metrics) return Error(404, "not_found", "no such endpoint");
    ApiResponse r;
    r.body = hooks_.metrics();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }

  // Slack signs its calls instead of sending a bearer token (api/slack.h).
  if (m.route == Route::kSlackInteractions) {
    if (hooks_.slack == nullptr) {
      return Error(404, "not_found",
                   "Slack interactions are not configured (no slack channel has a "
                   "signing_secret_file)");
    }
    return hooks_.slack->Handle(request);
  }

  // Everything under /v1 needs a caller.
  Result<policy::Identity> authenticated = Authenticate(request);
  if (!authenticated.has_value()) {
    Status s = authenticated.error();
    ApiResponse r =
        s.code() == StatusCode::kUnauthenticated    ? Error(401, "unauthenticated", s.message())
        : s.code() == StatusCode::kPermissionDenied ? Error(403, "csrf_failed", s.message())
                                                    : FromStatus(s);
    if (r.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"jit\"");
    return r;
  }
  const policy::Identity& who = *authenticated;

  std::optional<std::map<std::string, std::string>> params = ParseForm(query);
  if (!params) return BadRequest("malformed query string");

  ApiResponse response = [&]() -> ApiResponse {
    switch (m.route) {
      case Route::kRequests: {
        if (request.method == "POST") {
          Result<json> body = ParseJsonObject(request.body);
          if (!body) return BadRequest(body.error().message());
          Result<SubmitBody> decoded = DecodeSubmit(*body);
          if (!decoded) return BadRequest(decoded.error().message());
          SubmitBody& in = *decoded;
          if (in.input.account.empty()) return Unprocessable("account is required");
          if (in.input.permission_set.empty()) return Unprocessable("permission_set is required");
          if (!in.has_duration) return Unprocessable("duration is required");
          Result<Duration> duration = SubmitDuration(in.duration);
          if (!duration) return Unprocessable(duration.error().message());
          in.input.duration = *duration;
          if (!in.start_at.empty()) {
            Result<Time> start = ParseTimeValue("start_at", in.start_at);
            if (!start) return Unprocessable(start.error().message());
            in.input.start_at = *start;
          }
          Result<store::Request> created = workflow_.Submit(who, in.input);
          if (!created) return FromStatus(created.error());
          // Answer with the history too, like every other single-request answer; the request
          // is committed either way, so a failed re-read only loses the history.
          Result<workflow::RequestView> view = workflow_.Get(who, created->id);
          ApiResponse r =
              JsonResponse(201, view ? RequestViewToJson(*view) : RequestToJson(*created));
          r.headers.emplace_back("Location", "/v1/requests/" + created->id);
          r.request_id = created->id;
          return r;
        }
        workflow::ListInput in;
        std::string state = Param(*params, "state");
        if (!state.empty()) {
          in.state = store::ParseRequestState(state);
          if (!in.state) {
            return Unprocessable(
                "unknown state \"" + state +
                "\"; use pending, approved, active, revoking, ended, denied, cancelled, "
                "timed_out or failed");
          }
        }
        std::string mine = Param(*params, "mine");
        if (mine == "true" || mine == "1") {
          in.mine = true;
        } else if (!mine.empty() && mine != "false" && mine != "0") {
          return Unprocessable("mine must be true or false");
        }
        std::string limit = Param(*params, "limit");
        if (!limit.empty()) {
          std::optional<std::int64_t> n = ParseInt(limit);
          if (!n || *n < 1 || *n > 500) {
            return Unprocessable("limit must be a whole number from 1 to 500");
          }
          in.limit = static_cast<int>(*n);
        }
        in.cursor = Param(*params, "cursor");
        in.review = Param(*params, "review");
        if (!in.review.empty() && in.review != "open" && in.review != "closed") {
          return Unprocessable("review must be open or closed");
        }
        Result<store::RequestPage> page = workflow_.List(who, in);
        if (!page) return FromStatus(page.error());
        return JsonResponse(200, ListJson(*page));
      }
      case Route::kRequest: {
        if (!IsWellFormedId(m.id, "req_")) return Error(404, "not_found", "no such request");
        Result<workflow::RequestView> view = workflow_.Get(who, m.id);
        if (!view) return FromStatus(view.error());
        return JsonResponse(200, RequestViewToJson(*view));
      }
      case Route::kDecision: {
        if (!IsWellFormedId(m.id, "req_")) return Error(404, "not_found", "no such request");
        Result<json> body = ParseJsonObject(request.body);
        if (!body) return BadRequest(body.error().message());
        Result<store::Request> decided = InternalError("unreachable");
        if (m.action == "approve") {
          Status known = CheckKnownFields(*body, {"comment"});
          if (!known.ok()) return BadRequest(known.message());
          Result<std::string> comment = StringField(*body, "comment");
          if (!comment) return BadRequest(comment.error().message());
          decided = workflow_.Approve(who, m.id, *comment);
        } else if (m.action == "deny") {
          Status known = CheckKnownFields(*body, {"reason"});
          if (!known.ok()) return BadRequest(known.message());
          Result<std::string> reason = StringField(*body, "reason");
          if (!reason) return BadRequest(reason.error().message());
          if (reason->empty()) return Unprocessable("reason is required");
          decided = workflow_.Deny(who, m.id, *reason);
        } else if (m.action == "cancel") {
          Status known = CheckKnownFields(*body, {});
          if (!known.ok()) return BadRequest(known.message());
          decided = workflow_.Cancel(who, m.id);
        } else if (m.action == "extend") {
          Status known = CheckKnownFields(*body, {"duration"});
          if (!known.ok()) return BadRequest(known.message());
          auto duration = body->find("duration");
          if (duration == body->end() || duration->is_null()) {
            return Unprocessable("duration is required");
          }
          if (!duration->is_string() && !duration->is_number_integer()) {
            return BadRequest(
                "field \"duration\" must be a string like \"30m\" or a whole number of seconds");
          }
          Result<Duration> extra = SubmitDuration(*duration);
          if (!extra) return Unprocessable(extra.error().message());
          decided = workflow_.Extend(who, m.id, *extra);
        } else if (m.action == "review") {
          Status known = CheckKnownFields(*body, {"comment"});
          if (!known.ok()) return BadRequest(known.message());
          Result<std::string> comment = StringField(*body, "comment");
          if (!comment) return BadRequest(comment.error().message());
          decided = workflow_.Review(who, m.id, *comment);
        } else {  // revoke
          Status known = CheckKnownFields(*body, {"reason"});
          if (!known.ok()) return BadRequest(known.message());
          Result<std::string> reason = StringField(*body, "reason");
          if (!reason) return BadRequest(reason.error().message());
          decided = workflow_.Revoke(who, m.id, *reason);
        }
        if (!decided) return FromStatus(decided.error());
        Result<workflow::RequestView> view = workflow_.Get(who, m.id);
        return JsonResponse(200, view ? RequestViewToJson(*view) : RequestToJson(*decided));
      }
      case Route::kCatalog: {
        std::shared_ptr<const policy::Config> config = config_.Policy();
        json items = json::array();
        for (const policy::CatalogEntry& e : policy::Catalog(*config, who)) {
          items.push_back(CatalogEntryToJson(e));
        }
        return JsonResponse(200, json{{"items", std::move(items)}});
      }
      case Route::kMe: {
        std::shared_ptr<const policy::Config> config = config_.Policy();
        json roles = json::array();
        if (policy::IsAdmin(*config, who)) roles.push_back("admin");
        if (policy::IsAuditor(*config, who)) roles.push_back("auditor");
        return JsonResponse(
            200, json{{"username", who.username},
                      {"groups", who.groups},
                      {"principal_id",
                       who.principal_id.empty() ? json(nullptr) : json(who.principal_id)},
                      {"roles", std::move(roles)}});
      }
      case Route::kAudit: {
        std::int64_t after = 0;
        int limit = 100;
        std::string after_text = Param(*params, "after");
        if (!after_text.empty()) {
          std::optional<std::int64_t> n = ParseInt(after_text);
          if (!n) return Unprocessable("after must be a whole number (an audit sequence number)");
          after = *n;
        }
        std::string limit_text = Param(*params, "limit");
        if (!limit_text.empty()) {
          std::optional<std::int64_t> n = ParseInt(limit_text);
          if (!n || *n < 1 || *n > 1000) {
            return Unprocessable("limit must be a whole number from 1 to 1000");
          }
          limit = static_cast<int>(*n);
        }
        std::string format = Param(*params, "format");
        if (!format.empty() && format != "jit" && format != "ocsf") {
          return Unprocessable("format must be jit or ocsf");
        }
        Result<std::vector<store::AuditEvent>> events = workflow_.Audit(who, after, limit);
        if (!events) return FromStatus(events.error());
        json items = json::array();
        for (const store::AuditEvent& e : *events) {
          items.push_back(format == "ocsf" ? audit::ToOcsf(e) : AuditEventToJson(e));
        }
        json next_after = events->empty() ? json(nullptr) : json(events->back().seq);
        return JsonResponse(200, json{{"items", std::move(items)}, {"next_after", next_after}});
      }
      case Route::kAuditVerify: {
        // Like the audit trail itself: admins and auditors only, before anything else.
        std::shared_ptr<const policy::Config> config = config_.Policy();
        if (!policy::IsAdmin(*config, who) && !policy::IsAuditor(*config, who)) {
          return Error(403, "permission_denied",
                       "only admins and auditors can read the audit trail");
        }
        if (!hooks_.verify_audit) {
          return Error(501, "not_implemented", "this broker cannot verify its audit trail");
        }
        Result<audit::TrailReport> report = hooks_.verify_audit();
        if (!report) return FromStatus(report.error());
        return JsonResponse(200, TrailReportToJson(*report));
      }
      case Route::kPolicyExplain: {
        // {user?, groups?, account, permission_set, duration?, reason?, ticket?}
        Result<json> body = ParseJsonObject(request.body);
        if (!body) return BadRequest(body.error().message());
        policy::Identity subject = who;
        policy::AccessRequest ask;
        bool groups_given = false;
        for (const auto& [key, value] : body->items()) {
          if (key == "duration") {
            if (!value.is_string() && !value.is_number_integer()) {
              return BadRequest("duration must be a string such as \"30m\" or whole seconds");
            }
            Result<Duration> d = SubmitDuration(value);
            if (!d) return Unprocessable(d.error().message());
            ask.duration = *d;
            continue;
          }
          if (key == "start_at") {
            if (value.is_null()) continue;
            if (!value.is_string()) return BadRequest("start_at must be a string");
            Result<Time> t = ParseTimeValue("start_at", value.get<std::string>());
            if (!t) return Unprocessable(t.error().message());
            ask.start_at = *t;
            continue;
          }
          if (key == "groups") {
            if (!value.is_array()) return BadRequest("groups must be an array of strings");
            subject.groups.clear();
            for (const json& g : value) {
              if (!g.is_string()) return BadRequest("groups must be an array of strings");
              subject.groups.push_back(g.get<std::string>());
            }
            groups_given = true;
            continue;
          }
          std::string* field = key == "user"             ? &subject.username
                               : key == "account"        ? &ask.account
                               : key == "permission_set" ? &ask.permission_set
                               : key == "reason"         ? &ask.reason
                               : key == "ticket"         ? &ask.ticket
                                                         : nullptr;
          if (field == nullptr) return BadRequest("unknown field \"" + key + "\"");
          if (!value.is_string()) return BadRequest(key + " must be a string");
          *field = value.get<std::string>();
        }
        if (subject.username.empty()) return Unprocessable("user must not be empty");
        if (ask.account.empty()) return Unprocessable("account is required");
        if (ask.permission_set.empty()) return Unprocessable("permission_set is required");
        // Someone else's groups are what the caller says they are (none unless given).
        if (subject.username != who.username && !groups_given) subject.groups.clear();
        Result<workflow::ExplainView> view = workflow_.Explain(who, subject, ask);
        if (!view) return FromStatus(view.error());
        json out = view->explanation.ToJson();
        out["text"] = view->explanation.ToText();
        return JsonResponse(200, out);
      }
      case Route::kNone:
      case Route::kHealthz:
      case Route::kReadyz:
      case Route::kMetrics:
      case Route::kSlackInteractions:
        break;
    }
    return Error(404, "not_found", "no such endpoint");
  }();
  response.user = who.username;
  if (response.request_id.empty() && IsWellFormedId(m.id, "req_")) response.request_id = m.id;
  return response;
}

}  // namespace jit::api
