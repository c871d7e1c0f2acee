#include "api/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "api/handlers.h"
#include "api/json.h"
#include "api/refusal_audit.h"
#include "api/ui.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mutex.h"
#include "net/http_server.h"

namespace jit::api {
namespace {

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr char kRequestIdHeader[] = "X-Request-Id";
constexpr std::size_t kMaxRequestIdLength = 64;

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// Whether `host` (a Host header's value) names this machine's loopback interface: 127.0.0.1,
// localhost or [::1], with or without ":PORT".
bool IsLoopbackHost(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(0, close + 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else if (std::size_t colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      port.size() > 5) {
    return false;
  }
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "127.0.0.1" || lower == "localhost" || lower == "[::1]";
}

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

Status HttpServerOptions::Validate() const {
  JIT_RETURN_IF_ERROR(net::ValidateListen(listen));
  if (max_body_bytes == 0 || max_body_bytes > 64 * 1024 * 1024) {
    return InvalidArgumentError("max_body_bytes must be from 1 to 64 MiB");
  }
  if (threads < 1 || threads > 256) return InvalidArgumentError("threads must be from 1 to 256");
  if (read_timeout <= Duration::zero()) return InvalidArgumentError("read_timeout must be > 0");
  if (max_connections < 0) return InvalidArgumentError("max_connections must be >= 0");
  return OkStatus();
}

// The hooks with the web UI's sessions wired in, unless they were given apart.
ApiHooks WithSessions(ApiHooks hooks) {
  if (hooks.sessions == nullptr) hooks.sessions = hooks.ui;
  return hooks;
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, workflow::Workflow& workflow, auth::Authenticator& authenticator,
       policy::ConfigHolder& config, std::function<Status()> readiness, Clock& clock,
       ApiHooks hooks)
      : options_(std::move(options)),
        handler_(workflow, authenticator, config, std::move(readiness), WithSessions(hooks)),
        refusals_(workflow, clock, RefusalAudit::Options{}),
        clock_(clock),
        ui_(hooks.ui) {}

  ~Impl() { Stop(); }

  Status Start() {
    MutexLock lock(&mu_);
    if (server_ != nullptr) return FailedPreconditionError("the server was started before");
    JIT_RETURN_IF_ERROR(options_.Validate());
    net::HttpServerOptions net_options;
    net_options.listen = options_.listen;
    net_options.loopback_only = options_.loopback_only;
    net_options.loopback_refusal = "dev mode listens on loopback only";
    net_options.name = "http";
    net_options.max_body_bytes = options_.max_body_bytes;
    net_options.max_header_bytes = kMaxHeaderBytes;
    net_options.read_timeout = options_.read_timeout;
    net_options.handler_threads = options_.threads;
    net_options.graceful_close = true;
    net_options.log_accept_errors = true;
    net_options.max_connections = options_.max_connections;
    auto server = std::make_unique<net::HttpServer>(
        std::move(net_options), [this](net::HttpRequest req) { return Handle(std::move(req)); },
        [this](const net::BadHttpRequest& bad) { return HandleBad(bad); }, clock_);
    Result<net::BoundAddress> bound = server->Start();
    if (!bound) return bound.error();
    port_.store(bound->port);
    server_ = std::move(server);
    started_.store(server_.get());
    spdlog::info("http: listening on {}:{}", bound->host, bound->port);
    return OkStatus();
  }

  void Stop() {
    MutexLock lock(&mu_);
    if (server_ != nullptr) server_->Stop();
  }

  std::uint16_t port() const { return port_.load(); }

  // Without mu_: a /metrics handler reads this while Stop, holding mu_, waits for handlers.
  net::ConnectionStats connections() const {
    const net::HttpServer* server = started_.load();
    return server != nullptr ? server->Stats() : net::ConnectionStats{};
  }

 private:
  // The answer to a request refused for its Host header, if it is: 400 for HTTP/1.1 without one
  // (RFC 9112, 3.2), 421 in dev mode for a name that is not loopback.
  std::optional<ApiResponse> HostRefusal(const net::HttpRequest& req) const {
    bool has_host = std::any_of(req.headers.begin(), req.headers.end(),
                                [](const auto& h) { return IEquals(h.first, "Host"); });
    std::string_view host = req.Header("Host");
    ApiResponse r;
    if (req.version >= 11 && (!has_host || host.empty())) {
      r.status = 400;
      r.body = Dump(ErrorJson("bad_request", "an HTTP/1.1 request needs a Host header"));
      return r;
    }
    if (options_.loopback_only && has_host && !IsLoopbackHost(host)) {
      r.status = 421;
      r.body = Dump(ErrorJson("misdirected_request",
                              "dev mode answers only requests for 127.0.0.1, localhost or [::1]"));
      return r;
    }
    return std::nullopt;
  }

  // Runs on a worker thread.
  net::HttpResponse Handle(net::HttpRequest req) {
    std::string request_id = RequestIdFor(req.Header(kRequestIdHeader));
    if (std::optional<ApiResponse> refused = HostRefusal(req)) {
      return Answer(std::move(*refused), req.method, req.target, request_id, req.received);
    }
    ApiRequest api_req;
    api_req.method = req.method;
    api_req.target = req.target;
    api_req.authorization = std::string(req.Header("Authorization"));
    api_req.cookie = std::string(req.Header("Cookie"));
    api_req.csrf_token = std::string(req.Header("X-CSRF-Token"));
    api_req.if_none_match = std::string(req.Header("If-None-Match"));
    api_req.content_type = std::string(req.Header("Content-Type"));
    api_req.body = std::move(req.body);
    for (auto& [field_name, value] : req.headers) {
      std::string name = std::move(field_name);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      api_req.headers.emplace_back(std::move(name), std::move(value));
    }
    ApiResponse r;
    {
      // Whatever the handler logs carries the HTTP request id.
      logging::ScopedFields fields{{"http_request_id", request_id}};
      r = ui_ != nullptr && Ui::Owns(api_req.target) ? ui_->Handle(api_req)
                                                     : handler_.Handle(api_req);
    }
    refusals_.Observe(api_req.method, api_req.target, req.peer, r);
    return Answer(std::move(r), api_req.method, api_req.target, request_id, req.received);
  }

  // An answerable request: too large, or not HTTP we understand.
  std::optional<net::HttpResponse> HandleBad(const net::BadHttpRequest& bad) {
    ApiResponse r;
    if (bad.too_large) {
      r.status = 413;
      r.body = Dump(ErrorJson(
          "payload_too_large",
          "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes"));
    } else if (bad.header_too_large) {
      r.status = 431;
      r.body = Dump(ErrorJson(
          "request_header_fields_too_large",
          "request header fields are larger than " + std::to_string(kMaxHeaderBytes) + " bytes"));
    } else if (bad.unsupported_coding) {
      r.status = 501;
      r.body = Dump(
          ErrorJson("not_implemented", "the only transfer coding jit reads is \"chunked\" alone"));
    } else {
      r.status = 400;
      r.body = Dump(ErrorJson("bad_request", "malformed HTTP request"));
    }
    net::HttpResponse res =
        Answer(std::move(r), bad.partial.method, bad.partial.target,
               RequestIdFor(bad.partial.Header(kRequestIdHeader)), bad.partial.received);
    res.version = 11;
    return res;
  }

  // The client's X-Request-Id when it is sane, else a new one.
  std::string RequestIdFor(std::string_view client_request_id) const {
    return IsSaneRequestId(client_request_id) ? std::string(client_request_id)
                                              : NewId("http_", clock_.Now());
  }

  // Logs the request and shapes the answer.
  net::HttpResponse Answer(ApiResponse r, const std::string& method, const std::string& target,
                           const std::string& request_id, MonoTime start) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.MonoNow() - start);
    {
      std::vector<logging::Field> fields = {{"method", method.empty() ? "-" : method},
                                            {"path", target.empty() ? "-" : PathForLog(target)},
                                            {"status", std::to_string(r.status)},
                                            {"duration_ms", std::to_string(ms.count())},
                                            {"http_request_id", request_id},
                                            {"user", r.user.empty() ? "-" : r.user}};
      if (!r.request_id.empty()) fields.push_back({"request_id", r.request_id});
      logging::ScopedFields scope(std::move(fields));
      spdlog::info("http");
    }

    net::HttpResponse res;
    res.status = r.status;
    const bool json = r.content_type == "application/json";
    if (r.status != 304) res.headers.emplace_back("Content-Type", r.content_type);
    bool cache_given = std::any_of(r.headers.begin(), r.headers.end(),
                                   [](const auto& h) { return IEquals(h.first, "Cache-Control"); });
    if (!cache_given) res.headers.emplace_back("Cache-Control", "no-store");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    res.headers.emplace_back(kRequestIdHeader, request_id);
    for (auto& header : r.headers) res.headers.push_back(std::move(header));
    res.body = std::move(r.body);
    if (json) res.body.push_back('\n');
    return res;
  }

  const HttpServerOptions options_;
  ApiHandler handler_;
  RefusalAudit refusals_;  // refused calls into the audit trail
  Clock& clock_;
  Ui* ui_ = nullptr;  // the web UI; null: the API alone
  std::atomic<std::uint16_t> port_{0};

  Mutex mu_;                                                 // serializes Start and Stop
  std::unique_ptr<net::HttpServer> server_ GUARDED_BY(mu_);  // set once started
  std::atomic<const net::HttpServer*> started_{nullptr};     // server_, once started; kept
};

HttpServer::HttpServer(HttpServerOptions options, workflow::Workflow& workflow,
                       auth::Authenticator& authenticator, policy::ConfigHolder& config,
                       std::function<Status()> readiness, Clock& clock, ApiHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), workflow, authenticator, config,
                                   std::move(readiness), clock, std::move(hooks))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }

std::uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

net::ConnectionStats HttpServer::connections() const { return impl_->connections(); }

}  // namespace jit::api
