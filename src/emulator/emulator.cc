#include "emulator/emulator.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "aws/sigv4.h"
#include "core/crypto.h"
#include "core/form.h"
#include "core/mutex.h"
#include "emulator/cloudtrail.h"
#include "emulator/notify_services.h"
#include "emulator/organizations.h"
#include "emulator/service.h"
#include "net/http_server.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr std::string_view kAwsJson = "application/x-amz-json-1.1";

// One answer on the wire.
struct Reply {
  int status = 200;
  std::string content_type = std::string(kAwsJson);
  std::string body;
  std::string error_type;  // x-amzn-ErrorType, for errors
  Duration delay{0};
};

Reply FromService(const ServiceResponse& r) {
  Reply reply;
  reply.status = r.status;
  reply.body = r.body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (r.body.contains("__type")) reply.error_type = r.body["__type"].get<std::string>();
  reply.delay = r.delay;
  return reply;
}

Reply AwsError(int status, std::string_view type, std::string_view message) {
  return FromService(ErrorResponse(status, type, message));
}

Reply FromWire(const WireResponse& w) {
  Reply reply;
  reply.status = w.status;
  reply.content_type = w.content_type;
  reply.body = w.body;
  reply.error_type = w.error_type;
  return reply;
}

// How a call is spoken: awsJson (X-Amz-Target), the query protocol (form-encoded, SNS and
// STS) or REST-JSON (Security Hub).
enum class Protocol { kJson, kQuery, kRest };

// An error in the protocol's own shape. Signature errors keep their meaning; the query
// protocol names them as SNS and STS do.
Reply ProtocolError(Protocol p, int status, const std::string& type, std::string_view message) {
  if (p == Protocol::kJson) return AwsError(status, type, message);
  if (p == Protocol::kRest) return FromWire(RestJsonError(status, type, message));
  std::string code = type;
  if (type == "InvalidSignatureException") code = "SignatureDoesNotMatch";
  if (type == "UnrecognizedClientException") code = "InvalidClientTokenId";
  if (type == "IncompleteSignatureException") code = "IncompleteSignature";
  if (type == "MissingAuthenticationTokenException") code = "MissingAuthenticationToken";
  if (type == "UnknownOperationException") code = "InvalidAction";
  return FromWire(QueryError(status, code, message));
}

// The `after` of "/_emulator/history?after=N" (0 when absent); nullopt when it is not a whole
// number >= 0 or the query is not a well-formed form.
std::optional<std::int64_t> HistoryAfter(std::string_view target) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) return 0;
  std::optional<std::map<std::string, std::string>> query = ParseForm(target.substr(q + 1));
  if (!query) return std::nullopt;
  auto it = query->find("after");
  if (it == query->end()) return 0;
  const std::string& value = it->second;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || n < 0) {
    return std::nullopt;
  }
  return n;
}

// The test endpoints answer plain JSON.
Reply TestReply(int status, json body) {
  Reply reply;
  reply.status = status;
  reply.content_type = "application/json";
  reply.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return reply;
}

}  // namespace

Status EmulatorOptions::Validate() const {
  JIT_RETURN_IF_ERROR(net::ValidateListen(listen));
  if (access_key_id.empty()) return InvalidArgumentError("access_key_id is empty");
  if (secret_access_key.empty()) return InvalidArgumentError("secret_access_key is empty");
  if (region.empty()) return InvalidArgumentError("region is empty");
  if (completion_delay < Duration::zero()) {
    return InvalidArgumentError("completion_delay must not be negative");
  }
  if (max_skew <= Duration::zero()) return InvalidArgumentError("max_skew must be > 0");
  if (Status s = seed.Validate(); !s.ok()) return s.WithContext("seed");
  if (Status s = faults.Validate(); !s.ok()) return s.WithContext("faults");
  return OkStatus();
}

class Emulator::Impl {
 public:
  Impl(EmulatorOptions options, Clock& clock)
      : options_(std::move(options)),
        clock_(clock),
        service_(options_.seed, options_.faults, options_.completion_delay, clock, options_.region),
        notify_(options_.region, options_.seed.instance.owner_account_id, options_.access_key_id,
                clock),
        organizations_(options_.seed, options_.faults),
        cloudtrail_(options_.seed, options_.region, clock) {
    notify_.SetFaults(options_.faults);
    cloudtrail_.SetFaults(options_.faults);
  }

  ~Impl() { Stop(); }

  Status Start() {
    MutexLock lock(&mu_);
    if (server_ != nullptr) return FailedPreconditionError("the emulator was started before");
    JIT_RETURN_IF_ERROR(options_.Validate());
    net::HttpServerOptions net_options;
    net_options.listen = options_.listen;
    net_options.loopback_only = options_.loopback_only;
    net_options.loopback_refusal = "the emulator listens on loopback only, not " + options_.listen;
    net_options.name = "emulator";
    net_options.max_body_bytes = kMaxBodyBytes;
    net_options.max_header_bytes = kMaxHeaderBytes;
    net_options.read_timeout = kReadTimeout;
    net_options.handler_threads = 0;  // everything on the one I/O thread
    auto server = std::make_unique<net::HttpServer>(
        std::move(net_options), [this](net::HttpRequest req) { return ToWire(Handle(req)); },
        [](const net::BadHttpRequest& bad) -> std::optional<net::HttpResponse> {
          if (!bad.too_large) return std::nullopt;
          return ToWire(AwsError(413, "SerializationException", "The request body is too large"));
        },
        clock_);
    Result<net::BoundAddress> local = server->Start();
    if (!local) return local.error();
    port_.store(local->port);
    std::string host = local->host;
    if (local->is_unspecified) host = "127.0.0.1";
    if (local->is_v6 && !local->is_unspecified) host = "[" + host + "]";
    {
      MutexLock url_lock(&url_mu_);
      url_ = "http://" + host + ":" + std::to_string(local->port);
      listen_address_ = (local->is_v6 ? "[" + local->host + "]" : local->host) + ":" +
                        std::to_string(local->port);
    }
    control_needs_key_.store(!local->is_loopback || options_.control_needs_key);
    server_ = std::move(server);
    return OkStatus();
  }

  void Stop() {
    MutexLock lock(&mu_);
    if (server_ != nullptr) server_->Stop();
  }

  std::uint16_t port() const { return port_.load(); }
  bool control_needs_key() const { return control_needs_key_.load(); }
  std::string listen_address() const {
    MutexLock lock(&url_mu_);
    return listen_address_;
  }
  std::string url() const {
    MutexLock lock(&url_mu_);
    return url_;
  }
  Service& service() { return service_; }
  NotifyServices& notify_services() { return notify_; }

  // Identity Center's state and what the notification services received.
  json FullState() {
    json state = service_.State();
    json received = notify_.State();
    for (auto& [key, value] : received.items()) state[key] = std::move(value);
    json org = organizations_.State();
    state["organization"] = std::move(org["organization"]);
    for (auto& [op, n] : org["calls"].items()) state["calls"][op] = std::move(n);
    json cloudtrail = cloudtrail_.State();
    for (auto& [key, value] : cloudtrail.items()) state[key] = std::move(value);
    return state;
  }
  void Reset() {
    service_.Reset();
    notify_.Reset();
    notify_.SetFaults(service_.faults());
    organizations_.Reset();
    organizations_.SetFaults(service_.faults());
    cloudtrail_.Reset();
    cloudtrail_.SetFaults(service_.faults());
  }
  void SetFaults(const Faults& faults) {
    service_.SetFaults(faults);
    notify_.SetFaults(faults);
    organizations_.SetFaults(faults);
    cloudtrail_.SetFaults(faults);
  }

  // Answers one request. Runs on the I/O thread; never throws.
  Reply Handle(const net::HttpRequest& req) {
    try {
      return HandleOrThrow(req);
    } catch (const std::exception& e) {
      return AwsError(500, "InternalServerException", e.what());
    }
  }

 private:
  // The answer on the wire.
  static net::HttpResponse ToWire(Reply reply) {
    net::HttpResponse res;
    res.status = reply.status;
    res.headers.emplace_back("Content-Type", std::move(reply.content_type));
    res.headers.emplace_back("x-amzn-RequestId", NewUuid());
    if (!reply.error_type.empty()) res.headers.emplace_back("x-amzn-ErrorType", reply.error_type);
    res.body = std::move(reply.body);
    res.delay = reply.delay;
    return res;
  }

  Reply HandleOrThrow(const net::HttpRequest& req) {
    std::string_view target = req.target;
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    if (path.rfind("/_emulator/", 0) == 0) return HandleTestEndpoint(req, path);

    const bool findings = path == "/findings/import";
    if (req.method != "POST" || (path != "/" && !findings)) {
      return AwsError(400, "UnknownOperationException",
                      "The emulator serves POST / with an X-Amz-Target header, form-encoded "
                      "POST / (SNS, STS) and POST /findings/import (Security Hub)");
    }
    std::string amz_target(req.Header("X-Amz-Target"));
    std::string_view content_type = req.Header("Content-Type");
    std::string_view authorization = req.Header("Authorization");
    Protocol protocol = Protocol::kJson;
    std::string service;
    if (findings) {
      protocol = Protocol::kRest;
      service = "securityhub";
    } else if (!amz_target.empty()) {
      service = std::string(ServiceForTarget(amz_target));
      if (service.empty()) {
        return AwsError(400, "UnknownOperationException",
                        "Unknown X-Amz-Target '" + amz_target.substr(0, 200) + "'");
      }
    } else if (content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
      // One host stands in for every service, so the credential scope says which one.
      protocol = Protocol::kQuery;
      Result<aws::AuthorizationHeader> scope = aws::ParseAuthorization(authorization);
      service = scope.has_value() ? scope->service : "sns";
      if (service != "sns" && service != "sts") {
        return ProtocolError(protocol, 400, "InvalidAction",
                             "The emulator speaks the query protocol for sns and sts only");
      }
    } else {
      return AwsError(400, "UnknownOperationException",
                      "The emulator serves POST / with an X-Amz-Target header");
    }
    if (authorization.empty()) {
      return ProtocolError(protocol, 403, "MissingAuthenticationTokenException",
                           "Missing Authentication Token");
    }

    aws::HttpRequest signed_req;
    signed_req.method = req.method;
    signed_req.path = std::string(path);
    if (q != std::string_view::npos) signed_req.query = std::string(target.substr(q + 1));
    signed_req.headers = req.headers;
    signed_req.body = req.body;
    // A temporary key from AssumeRole signs too, for the one account it was issued for.
    std::optional<CloudTrailService::IssuedKey> issued;
    Status verified = aws::Verify(
        signed_req,
        [this, &issued](std::string_view key_id) -> std::optional<std::string> {
          if (key_id == options_.access_key_id) return options_.secret_access_key;
          issued = cloudtrail_.Issued(key_id);
          if (issued) return issued->secret_access_key;
          return std::nullopt;
        },
        service, clock_.Now(), options_.max_skew);
    if (!verified.ok()) {
      // Verify's message is "<AWS error type>: <text>".
      const std::string& m = verified.message();
      std::size_t colon = m.find(": ");
      std::string type =
          colon == std::string::npos ? "InvalidSignatureException" : m.substr(0, colon);
      std::string text = colon == std::string::npos ? m : m.substr(colon + 2);
      return ProtocolError(protocol, 403, type, text);
    }
    Result<aws::AuthorizationHeader> auth = aws::ParseAuthorization(authorization);
    if (auth.has_value() && auth->region != options_.region) {
      return ProtocolError(protocol, 403, "InvalidSignatureException",
                           "Credential should be scoped to a valid region, not '" + auth->region +
                               "'. Expected '" + options_.region + "'.");
    }
    std::string_view content_sha = req.Header("x-amz-content-sha256");
    if (!content_sha.empty() && content_sha != Sha256Hex(req.body)) {
      return ProtocolError(protocol, 403, "InvalidSignatureException",
                           "x-amz-content-sha256 does not match the SHA-256 of the body");
    }
    if (issued) {
      if (!ConstantTimeEquals(req.Header("X-Amz-Security-Token"), issued->session_token)) {
        return ProtocolError(protocol, 403, "UnrecognizedClientException",
                             "The security token included in the request is invalid.");
      }
      if (clock_.Now() >= issued->expires) {
        return ProtocolError(protocol, 400, "ExpiredTokenException",
                             "The security token included in the request is expired");
      }
    }
    if (protocol == Protocol::kQuery) {
      std::optional<std::map<std::string, std::string>> params = ParseForm(req.body);
      std::string action;
      if (params) {
        auto it = params->find("Action");
        if (it != params->end()) action = it->second;
      }
      if (service == "sts" && params && (action == "AssumeRole" || issued)) {
        auto version = params->find("Version");
        if (version == params->end() || version->second != "2011-06-15") {
          return FromWire(
              QueryError(400, "InvalidAction",
                         "Could not find operation " + action.substr(0, 64) + " for this version"));
        }
        if (issued && action == "GetCallerIdentity") {
          return FromWire(cloudtrail_.CallerIdentity(*issued));
        }
        if (issued) {
          return FromWire(
              QueryError(403, "AccessDenied",
                         "User: " + issued->assumed_role_arn +
                             " is not authorized to perform: sts:" + action.substr(0, 64) +
                             " (the emulator's assumed roles "
                             "read CloudTrail only)"));
        }
        return FromWire(cloudtrail_.AssumeRole(*params));
      }
      if (issued) {
        return FromWire(QueryError(403, "AccessDenied",
                                   "User: " + issued->assumed_role_arn +
                                       " is not authorized (the emulator's assumed roles read "
                                       "CloudTrail only)"));
      }
      return FromWire(notify_.HandleQuery(service, req.body));
    }
    if (issued && service != "cloudtrail") {
      return ProtocolError(protocol, 400, "AccessDeniedException",
                           "User: " + issued->assumed_role_arn +
                               " is not authorized (the emulator's assumed roles read CloudTrail "
                               "only)");
    }
    if (protocol == Protocol::kRest) {
      if (content_type.rfind("application/json", 0) != 0) {
        return ProtocolError(protocol, 415, "UnsupportedMediaTypeException",
                             "Content-Type must be application/json");
      }
      return FromWire(notify_.HandleFindings(req.body));
    }
    if (content_type.rfind("application/x-amz-json-1.1", 0) != 0 &&
        content_type.rfind("application/x-amz-json-1.0", 0) != 0) {
      return AwsError(400, "SerializationException",
                      "Content-Type must be application/x-amz-json-1.1");
    }
    json input = json::object();
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      input = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (input.is_discarded()) {
        return AwsError(400, "SerializationException", "The request body is not valid JSON");
      }
    }
    if (service == "events") {
      if (!input.is_object()) {
        return AwsError(400, "SerializationException", "The request body must be a JSON object");
      }
      return FromWire(notify_.HandleEvents(
          std::string_view(amz_target).substr(amz_target.find('.') + 1), input));
    }
    if (service == "cloudtrail") {
      std::string_view op = std::string_view(amz_target).substr(amz_target.rfind('.') + 1);
      if (op != "LookupEvents") {
        return AwsError(400, "UnknownOperationException",
                        "The emulator serves CloudTrail LookupEvents only, not " +
                            std::string(op.substr(0, 100)));
      }
      return FromWire(cloudtrail_.LookupEvents(
          issued ? issued->account_id : options_.seed.instance.owner_account_id, input));
    }
    if (service == "organizations") {
      return FromService(organizations_.Handle(
          std::string_view(amz_target).substr(amz_target.find('.') + 1), input));
    }
    return FromService(service_.Handle(amz_target, input));
  }

  // Why a control request is refused, or "" when it may go on. A browser page on another origin
  // must not reach them (a no-cors POST needs no preflight: it is refused by its Origin or
  // Sec-Fetch-Site header, and a body must be JSON); beyond loopback, the caller must also show
  // the emulator's secret key.
  std::string ControlRefusal(const net::HttpRequest& req) const {
    if (!req.Header("Origin").empty()) return "the emulator's control endpoints refuse browsers";
    std::string_view site = req.Header("Sec-Fetch-Site");
    if (!site.empty() && site != "none" && site != "same-origin") {
      return "the emulator's control endpoints refuse browsers";
    }
    if (!req.body.empty() &&
        req.Header("Content-Type").substr(0, 16) != std::string_view("application/json")) {
      return "the body must be JSON (Content-Type: application/json)";
    }
    if (control_needs_key_.load()) {
      std::string_view auth = req.Header("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (auth.substr(0, kBearer.size()) != kBearer ||
          !ConstantTimeEquals(auth.substr(kBearer.size()), options_.secret_access_key)) {
        return "beyond loopback the emulator's control endpoints need \"Authorization: Bearer "
               "<secret access key>\"";
      }
    }
    return "";
  }

  Reply HandleTestEndpoint(const net::HttpRequest& req, std::string_view path) {
    if (std::string why = ControlRefusal(req); !why.empty()) {
      return TestReply(403, {{"message", why}});
    }
    if (path == "/_emulator/state") {
      if (req.method != "GET") return TestReply(405, {{"message", "use GET"}});
      return TestReply(200, FullState());
    }
    if (path == "/_emulator/history") {
      if (req.method != "GET") return TestReply(405, {{"message", "use GET"}});
      std::optional<std::int64_t> after = HistoryAfter(req.target);
      if (!after) return TestReply(400, {{"message", "after must be a whole number >= 0"}});
      return TestReply(200, service_.History(*after));
    }
    if (path == "/_emulator/reset") {
      if (req.method != "POST") return TestReply(405, {{"message", "use POST"}});
      Reset();
      return TestReply(200, json::object());
    }
    if (path == "/_emulator/faults") {
      if (req.method != "POST") return TestReply(405, {{"message", "use POST"}});
      json body = json::parse(req.body.empty() ? std::string("{}") : req.body, nullptr,
                              /*allow_exceptions=*/false);
      if (body.is_discarded()) return TestReply(400, {{"message", "the body is not JSON"}});
      Result<Faults> faults = FaultsFromJson(body, service_.faults());
      if (!faults.has_value()) return TestReply(400, {{"message", faults.error().message()}});
      SetFaults(*faults);
      return TestReply(200, {{"faults", FaultsToJson(*faults)}});
    }
    if (path == "/_emulator/sessions") {
      if (req.method == "GET") return TestReply(200, service_.Sessions());
      if (req.method != "POST") return TestReply(405, {{"error", "use GET or POST"}});
      json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) return TestReply(400, {{"error", "the body is not JSON"}});
      ServiceResponse r = service_.OpenSession(body);
      return TestReply(r.status, std::move(r.body));
    }
    if (path == "/_emulator/cloudtrail/events") {
      if (req.method == "DELETE") {
        cloudtrail_.ClearEvents();
        return TestReply(200, json::object());
      }
      if (req.method != "POST") return TestReply(405, {{"message", "use POST or DELETE"}});
      json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded()) return TestReply(400, {{"message", "the body is not JSON"}});
      Result<std::vector<std::string>> ids = cloudtrail_.AddEvents(body);
      if (!ids.has_value()) return TestReply(400, {{"message", ids.error().message()}});
      return TestReply(200, {{"event_ids", *ids}});
    }
    constexpr std::string_view kSessions = "/_emulator/sessions/";
    constexpr std::string_view kCalls = "/calls";
    if (path.rfind(kSessions, 0) == 0 && path.size() > kSessions.size() + kCalls.size() &&
        path.substr(path.size() - kCalls.size()) == kCalls) {
      std::string_view id =
          path.substr(kSessions.size(), path.size() - kSessions.size() - kCalls.size());
      if (id.find('/') == std::string_view::npos) {
        if (req.method != "POST") return TestReply(405, {{"error", "use POST"}});
        json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded()) return TestReply(400, {{"error", "the body is not JSON"}});
        Service::SessionCallRecord call;
        call.allowed = false;
        ServiceResponse r = service_.SessionCall(id, body, &call);
        // The call leaves its trace in the account's CloudTrail, as AWS's would.
        if (r.status == 200 && !call.action.empty()) {
          cloudtrail_.RecordSessionCall(call.user_name, call.account_id, call.permission_set,
                                        call.action, call.region, call.at, call.allowed);
        }
        return TestReply(r.status, std::move(r.body));
      }
    }
    return TestReply(404, {{"message", "no such emulator endpoint"}});
  }

  const EmulatorOptions options_;
  Clock& clock_;
  Service service_;
  NotifyServices notify_;
  OrganizationsService organizations_;
  CloudTrailService cloudtrail_;

  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> control_needs_key_{false};
  mutable Mutex url_mu_;
  std::string url_ GUARDED_BY(url_mu_);
  std::string listen_address_ GUARDED_BY(url_mu_);

  Mutex mu_;                                                 // serializes Start and Stop
  std::unique_ptr<net::HttpServer> server_ GUARDED_BY(mu_);  // set once started
};

Emulator::Emulator(EmulatorOptions options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Emulator::~Emulator() = default;

Status Emulator::Start() { return impl_->Start(); }

std::uint16_t Emulator::port() const { return impl_->port(); }

std::string Emulator::url() const { return impl_->url(); }

std::string Emulator::listen_address() const { return impl_->listen_address(); }

bool Emulator::control_needs_key() const { return impl_->control_needs_key(); }

void Emulator::Stop() { impl_->Stop(); }

void Emulator::SetFaults(const Faults& faults) {
  if (faults.Validate().ok()) impl_->SetFaults(faults);
}

void Emulator::Reset() { impl_->Reset(); }

nlohmann::json Emulator::State() const { return impl_->FullState(); }

nlohmann::json Emulator::History(std::int64_t after_seq) const {
  return impl_->service().History(after_seq);
}

RawResponse Emulator::HandleRaw(const RawRequest& request) {
  Reply reply;
  Result<net::HttpRequest> req =
      net::MakeHttpRequest(request.method, request.target, request.headers, request.body);
  if (req.has_value()) {
    reply = impl_->Handle(*req);
  } else {
    // Beast refuses some methods, targets or header names that no parser would produce.
    reply = AwsError(400, "SerializationException", "bad request: " + req.error().message());
  }
  RawResponse out;
  out.status = reply.status;
  out.content_type = std::move(reply.content_type);
  out.error_type = std::move(reply.error_type);
  out.body = std::move(reply.body);
  return out;
}

}  // namespace jit::emulator
