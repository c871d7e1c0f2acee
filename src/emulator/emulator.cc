#include "emulator/emulator.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "aws/sigv4.h"
#include "core/crypto.h"
#include "core/form.h"
#include "emulator/notify_services.h"
#include "emulator/service.h"
#include "net/listener.h"

namespace jit::emulator {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::size_t kMaxBodyBytes = 1024 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr std::string_view kAwsJson = "application/x-amz-json-1.1";

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

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
  Result<tcp::endpoint> endpoint = net::ParseListen(listen);
  if (!endpoint) return endpoint.error();
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
        service_(options_.seed, options_.faults, options_.completion_delay, clock),
        notify_(options_.region, options_.seed.instance.owner_account_id, options_.access_key_id,
                clock) {
    notify_.SetFaults(options_.faults);
  }

  ~Impl() { Stop(); }

  Status Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) return FailedPreconditionError("the emulator was started before");
    JIT_RETURN_IF_ERROR(options_.Validate());
    auto rt = std::make_unique<Runtime>();
    JIT_ASSIGN_OR_RETURN(
        tcp::endpoint local,
        net::Listen(rt->acceptor, options_.listen, options_.loopback_only,
                    "the emulator listens on loopback only, not " + options_.listen));
    port_.store(local.port());
    std::string host = local.address().to_string();
    if (local.address().is_unspecified()) host = "127.0.0.1";
    if (local.address().is_v6() && !local.address().is_unspecified()) host = "[" + host + "]";
    {
      std::lock_guard<std::mutex> url_lock(url_mu_);
      url_ = "http://" + host + ":" + std::to_string(local.port());
    }
    rt_ = std::move(rt);
    Accept(rt_.get());
    rt_->io_thread = net::RunIoThread(rt_->ioc, "emulator");
    state_ = State::kRunning;
    return OkStatus();
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kRunning) return;
    state_ = State::kStopped;
    rt_->ioc.stop();
    rt_->io_thread.join();
    beast::error_code ignored;
    rt_->acceptor.close(ignored);
    // Destroying the io_context destroys the handlers it holds, and with them every session.
    rt_.reset();
  }

  std::uint16_t port() const { return port_.load(); }
  std::string url() const {
    std::lock_guard<std::mutex> lock(url_mu_);
    return url_;
  }
  Service& service() { return service_; }
  NotifyServices& notify_services() { return notify_; }

  // Identity Center's state and what the notification services received.
  json FullState() {
    json state = service_.State();
    json received = notify_.State();
    for (auto& [key, value] : received.items()) state[key] = std::move(value);
    return state;
  }
  void Reset() {
    service_.Reset();
    notify_.Reset();
    notify_.SetFaults(service_.faults());
  }
  void SetFaults(const Faults& faults) {
    service_.SetFaults(faults);
    notify_.SetFaults(faults);
  }

  // Answers one request. Runs on the I/O thread; never throws.
  Reply Handle(const http::request<http::string_body>& req) {
    try {
      return HandleOrThrow(req);
    } catch (const std::exception& e) {
      return AwsError(500, "InternalServerException", e.what());
    }
  }

 private:
  class Session;

  struct Runtime {
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    asio::steady_timer retry{ioc};
    std::thread io_thread;
  };

  void Accept(Runtime* rt);

  Reply HandleOrThrow(const http::request<http::string_body>& req) {
    std::string_view target = View(req.target());
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    if (path.rfind("/_emulator/", 0) == 0) return HandleTestEndpoint(req, path);

    const bool findings = path == "/findings/import";
    if (req.method() != http::verb::post || (path != "/" && !findings)) {
      return AwsError(400, "UnknownOperationException",
                      "The emulator serves POST / with an X-Amz-Target header, form-encoded "
                      "POST / (SNS, STS) and POST /findings/import (Security Hub)");
    }
    std::string amz_target(req["X-Amz-Target"]);
    std::string_view content_type = View(req[http::field::content_type]);
    std::string_view authorization = View(req[http::field::authorization]);
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
    signed_req.method = std::string(req.method_string());
    signed_req.path = std::string(path);
    if (q != std::string_view::npos) signed_req.query = std::string(target.substr(q + 1));
    for (const auto& field : req) {
      signed_req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    signed_req.body = req.body();
    Status verified = aws::Verify(
        signed_req,
        [this](std::string_view key_id) -> std::optional<std::string> {
          if (key_id == options_.access_key_id) return options_.secret_access_key;
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
    std::string_view content_sha = View(req["x-amz-content-sha256"]);
    if (!content_sha.empty() && content_sha != Sha256Hex(req.body())) {
      return ProtocolError(protocol, 403, "InvalidSignatureException",
                           "x-amz-content-sha256 does not match the SHA-256 of the body");
    }
    if (protocol == Protocol::kQuery) {
      return FromWire(notify_.HandleQuery(service, req.body()));
    }
    if (protocol == Protocol::kRest) {
      if (content_type.rfind("application/json", 0) != 0) {
        return ProtocolError(protocol, 415, "UnsupportedMediaTypeException",
                             "Content-Type must be application/json");
      }
      return FromWire(notify_.HandleFindings(req.body()));
    }
    if (content_type.rfind("application/x-amz-json-1.1", 0) != 0 &&
        content_type.rfind("application/x-amz-json-1.0", 0) != 0) {
      return AwsError(400, "SerializationException",
                      "Content-Type must be application/x-amz-json-1.1");
    }
    json input = json::object();
    if (req.body().find_first_not_of(" \t\r\n") != std::string::npos) {
      input = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
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
    return FromService(service_.Handle(amz_target, input));
  }

  Reply HandleTestEndpoint(const http::request<http::string_body>& req, std::string_view path) {
    if (path == "/_emulator/state") {
      if (req.method() != http::verb::get) return TestReply(405, {{"message", "use GET"}});
      return TestReply(200, FullState());
    }
    if (path == "/_emulator/history") {
      if (req.method() != http::verb::get) return TestReply(405, {{"message", "use GET"}});
      std::optional<std::int64_t> after = HistoryAfter(View(req.target()));
      if (!after) return TestReply(400, {{"message", "after must be a whole number >= 0"}});
      return TestReply(200, service_.History(*after));
    }
    if (path == "/_emulator/reset") {
      if (req.method() != http::verb::post) return TestReply(405, {{"message", "use POST"}});
      Reset();
      return TestReply(200, json::object());
    }
    if (path == "/_emulator/faults") {
      if (req.method() != http::verb::post) return TestReply(405, {{"message", "use POST"}});
      json body = json::parse(req.body().empty() ? std::string("{}") : req.body(), nullptr,
                              /*allow_exceptions=*/false);
      if (body.is_discarded()) return TestReply(400, {{"message", "the body is not JSON"}});
      Result<Faults> faults = FaultsFromJson(body, service_.faults());
      if (!faults.has_value()) return TestReply(400, {{"message", faults.error().message()}});
      SetFaults(*faults);
      return TestReply(200, {{"faults", FaultsToJson(*faults)}});
    }
    return TestReply(404, {{"message", "no such emulator endpoint"}});
  }

  const EmulatorOptions options_;
  Clock& clock_;
  Service service_;
  NotifyServices notify_;

  std::atomic<std::uint16_t> port_{0};
  mutable std::mutex url_mu_;
  std::string url_;  // GUARDED_BY(url_mu_)

  enum class State { kNew, kRunning, kStopped };
  std::mutex mu_;                // serializes Start and Stop
  State state_ = State::kNew;    // GUARDED_BY(mu_)
  std::unique_ptr<Runtime> rt_;  // GUARDED_BY(mu_) for Start/Stop; used by the I/O thread
};

// One connection: read a request, answer it (after the fault latency), repeat while kept alive.
// Everything runs on the single I/O thread.
class Emulator::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Impl& impl)
      : stream_(std::move(socket)), delay_(stream_.get_executor()), impl_(impl) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kReadTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // curl sends "Expect: 100-continue" with larger bodies and waits for a go-ahead.
  void OnHeader(beast::error_code ec, std::size_t bytes) {
    if (ec) return OnRead(ec, bytes);
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, parser_->get().version());
      return http::async_write(
          stream_, *continue_,
          [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
            self->continue_.reset();
            if (write_ec) return self->Close();
            self->ReadBody();
          });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::body_limit) {
      Reply reply = AwsError(413, "SerializationException", "The request body is too large");
      return Write(std::move(reply), parser_->get().version(), /*keep_alive=*/false);
    }
    if (ec) return Close();
    stream_.expires_never();
    http::request<http::string_body> req = parser_->release();
    Reply reply = impl_.Handle(req);
    unsigned version = req.version();
    bool keep_alive = req.keep_alive();
    if (reply.delay > Duration::zero()) {
      delay_.expires_after(reply.delay);
      return delay_.async_wait([self = shared_from_this(), reply = std::move(reply), version,
                                keep_alive](beast::error_code wait_ec) mutable {
        if (wait_ec) return self->Close();
        self->Write(std::move(reply), version, keep_alive);
      });
    }
    Write(std::move(reply), version, keep_alive);
  }

  void Write(Reply reply, unsigned version, bool keep_alive) {
    res_.emplace();
    res_->version(version);
    res_->result(static_cast<http::status>(reply.status));
    res_->set(http::field::content_type, reply.content_type);
    res_->set("x-amzn-RequestId", NewUuid());
    if (!reply.error_type.empty()) res_->set("x-amzn-ErrorType", reply.error_type);
    res_->body() = std::move(reply.body);
    res_->keep_alive(keep_alive);
    res_->prepare_payload();
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return Close();
    bool close = res_->need_eof();
    res_.reset();
    if (close) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer delay_;
  Impl& impl_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;      // alive while it is written
  std::optional<http::response<http::empty_body>> continue_;  // likewise, for 100 Continue
};

void Emulator::Impl::Accept(Runtime* rt) {
  rt->acceptor.async_accept(asio::make_strand(rt->ioc),
                            [this, rt](beast::error_code ec, tcp::socket socket) {
                              if (ec == asio::error::operation_aborted) return;
                              if (ec) {
                                // Out of file descriptors and the like: wait a little instead of
                                // spinning.
                                rt->retry.expires_after(std::chrono::milliseconds(100));
                                return rt->retry.async_wait([this, rt](beast::error_code wait_ec) {
                                  if (!wait_ec) Accept(rt);
                                });
                              }
                              std::make_shared<Session>(std::move(socket), *this)->Start();
                              Accept(rt);
                            });
}

Emulator::Emulator(EmulatorOptions options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}

Emulator::~Emulator() = default;

Status Emulator::Start() { return impl_->Start(); }

std::uint16_t Emulator::port() const { return impl_->port(); }

std::string Emulator::url() const { return impl_->url(); }

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
  try {
    http::request<http::string_body> req;
    req.version(11);
    req.method_string(request.method);
    req.target(request.target);
    for (const auto& [name, value] : request.headers) req.insert(name, value);
    req.body() = request.body;
    reply = impl_->Handle(req);
  } catch (const std::exception& e) {
    // Beast refuses some methods, targets or header names that no parser would produce.
    reply = AwsError(400, "SerializationException", std::string("bad request: ") + e.what());
  }
  RawResponse out;
  out.status = reply.status;
  out.content_type = std::move(reply.content_type);
  out.error_type = std::move(reply.error_type);
  out.body = std::move(reply.body);
  return out;
}

}  // namespace jit::emulator
