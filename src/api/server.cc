#include "api/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "api/handlers.h"
#include "api/json.h"
#include "api/ui.h"
#include "core/ids.h"
#include "core/log.h"
#include "net/listener.h"

namespace jit::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
constexpr char kRequestIdHeader[] = "X-Request-Id";
constexpr std::size_t kMaxRequestIdLength = 64;
// After an answer that closes the connection, unread input is drained for at most this long so
// that the peer sees the answer rather than a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// What every session shares; owned by the server and outliving every session's handlers.
struct Context {
  HttpServerOptions options;
  ApiHandler handler;
  Clock& clock;
  Ui* ui = nullptr;  // the web UI; null: the API alone
  asio::thread_pool* pool = nullptr;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Context& ctx) : stream_(std::move(socket)), ctx_(ctx) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(ctx_.options.max_body_bytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(ctx_.options.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // Clients such as curl send "Expect: 100-continue" with larger bodies and wait for a go-ahead
  // before sending them. An oversize Content-Length has already failed the header read.
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
    if (ec == http::error::end_of_stream) return CloseGracefully();
    if (ec == http::error::partial_message) return Close();  // the peer went away mid-request
    if (ec.category() == http::make_error_code(http::error::body_limit).category()) {
      // An answerable request: too large, or not HTTP we understand.
      stream_.expires_never();
      // Whatever of the start line and fields was parsed before the error (may be empty).
      const auto& partial = parser_->get();
      const std::string method(partial.method_string());
      const std::string target(partial.target());
      const std::string request_id = RequestIdFor(std::string(partial[kRequestIdHeader]));
      bool too_large = ec == http::error::body_limit;
      ApiResponse r;
      r.status = too_large ? 413 : 400;
      r.body =
          Dump(too_large ? ErrorJson("payload_too_large",
                                     "request body is larger than " +
                                         std::to_string(ctx_.options.max_body_bytes) + " bytes")
                         : ErrorJson("bad_request", "malformed HTTP request"));
      MonoTime start = ctx_.clock.MonoNow();
      return Answer(std::move(r), method, target, request_id, /*version=*/11,
                    /*keep_alive=*/false, start);
    }
    if (ec) return Close();  // time-out, reset: nobody to answer

    stream_.expires_never();
    MonoTime start = ctx_.clock.MonoNow();
    http::request<http::string_body> req = parser_->release();
    std::string request_id = RequestIdFor(std::string(req[kRequestIdHeader]));
    // The handler may block on the store: run it on the pool, then write from the strand.
    asio::post(*ctx_.pool, [self = shared_from_this(), req = std::move(req), start,
                            request_id = std::move(request_id)]() mutable {
      ApiRequest api_req;
      api_req.method = std::string(req.method_string());
      api_req.target = std::string(req.target());
      api_req.authorization = std::string(req[http::field::authorization]);
      api_req.cookie = std::string(req[http::field::cookie]);
      api_req.csrf_token = std::string(req["X-CSRF-Token"]);
      api_req.if_none_match = std::string(req[http::field::if_none_match]);
      api_req.content_type = std::string(req[http::field::content_type]);
      api_req.body = std::move(req.body());
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        api_req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      Ui* ui = self->ctx_.ui;
      ApiResponse r;
      {
        // Whatever the handler logs carries the HTTP request id.
        logging::ScopedFields fields{{"http_request_id", request_id}};
        r = ui != nullptr && Ui::Owns(api_req.target) ? ui->Handle(api_req)
                                                      : self->ctx_.handler.Handle(api_req);
      }
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r), method = std::move(api_req.method),
                  target = std::move(api_req.target), request_id = std::move(request_id),
                  version = req.version(), keep_alive = req.keep_alive(), start]() mutable {
                   self->Answer(std::move(r), method, target, request_id, version, keep_alive,
                                start);
                 });
    });
  }

  // The client's X-Request-Id when it is sane, else a new one.
  std::string RequestIdFor(const std::string& client_request_id) const {
    return IsSaneRequestId(client_request_id) ? client_request_id
                                              : NewId("http_", ctx_.clock.Now());
  }

  // Logs the request and writes the answer. Runs on the session's strand.
  void Answer(ApiResponse r, const std::string& method, const std::string& target,
              const std::string& request_id, unsigned version, bool keep_alive, MonoTime start) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx_.clock.MonoNow() - start);
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

    res_.emplace();
    res_->version(version);
    res_->result(static_cast<http::status>(r.status));
    const bool json = r.content_type == "application/json";
    if (r.status != 304) res_->set(http::field::content_type, r.content_type);
    bool cache_given = std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
      return beast::iequals(h.first, "Cache-Control");
    });
    if (!cache_given) res_->set(http::field::cache_control, "no-store");
    res_->set("X-Content-Type-Options", "nosniff");
    res_->set(kRequestIdHeader, request_id);
    // insert, not set: Set-Cookie may repeat.
    for (const auto& [name, value] : r.headers) res_->insert(name, value);
    res_->body() = std::move(r.body);
    if (json) res_->body().push_back('\n');
    res_->keep_alive(keep_alive);
    res_->prepare_payload();

    stream_.expires_after(ctx_.options.read_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return Close();
    bool close = res_->need_eof();
    res_.reset();
    if (close) return CloseGracefully();
    Read();
  }

  // Half-closes, then drains what the peer still sends for a while, so that it reads our
  // answer instead of a connection reset.
  void CloseGracefully() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Context& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;      // alive while it is written
  std::optional<http::response<http::empty_body>> continue_;  // likewise, for 100 Continue
  std::array<char, 4096> drain_buffer_{};
};

}  // namespace

Status HttpServerOptions::Validate() const {
  Result<tcp::endpoint> endpoint = net::ParseListen(listen);
  if (!endpoint) return endpoint.error();
  if (max_body_bytes == 0 || max_body_bytes > 64 * 1024 * 1024) {
    return InvalidArgumentError("max_body_bytes must be from 1 to 64 MiB");
  }
  if (threads < 1 || threads > 256) return InvalidArgumentError("threads must be from 1 to 256");
  if (read_timeout <= Duration::zero()) return InvalidArgumentError("read_timeout must be > 0");
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
       config::ConfigHolder& config, std::function<Status()> readiness, Clock& clock,
       ApiHooks hooks)
      : ctx_{std::move(options),
             ApiHandler(workflow, authenticator, config, std::move(readiness), WithSessions(hooks)),
             clock, hooks.ui} {}

  ~Impl() { Stop(); }

  Status Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) return FailedPreconditionError("the server was started before");
    JIT_RETURN_IF_ERROR(ctx_.options.Validate());
    auto rt = std::make_unique<Runtime>(ctx_.options.threads);
    JIT_ASSIGN_OR_RETURN(tcp::endpoint local,
                         net::Listen(rt->acceptor, ctx_.options.listen, ctx_.options.loopback_only,
                                     "dev mode listens on loopback only"));
    port_.store(local.port());
    ctx_.pool = &rt->pool;
    rt_ = std::move(rt);
    Accept(rt_.get());
    rt_->io_thread = net::RunIoThread(rt_->ioc, "http");
    state_ = State::kRunning;
    spdlog::info("http: listening on {}:{}", local.address().to_string(), local.port());
    return OkStatus();
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kRunning) return;
    state_ = State::kStopped;
    rt_->ioc.stop();
    rt_->io_thread.join();
    rt_->pool.join();  // running handlers finish; their answers are dropped
    beast::error_code ignored;
    rt_->acceptor.close(ignored);
    // Destroying the io_context destroys the handlers it holds, and with them every session
    // and its socket.
    rt_.reset();
    ctx_.pool = nullptr;
  }

  std::uint16_t port() const { return port_.load(); }

 private:
  // What runs while the server serves. Members are destroyed in reverse order: the pool (joined
  // by then), the retry timer and the acceptor go before the io_context.
  struct Runtime {
    explicit Runtime(int threads) : pool(static_cast<std::size_t>(threads)) {}
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    asio::steady_timer retry{ioc};
    asio::thread_pool pool;
    std::thread io_thread;
  };

  // Runs on the I/O thread (and once from Start, before it starts).
  void Accept(Runtime* rt) {
    rt->acceptor.async_accept(asio::make_strand(rt->ioc),
                              [this, rt](beast::error_code ec, tcp::socket socket) {
                                if (ec == asio::error::operation_aborted) return;
                                if (ec) {
                                  // Out of file descriptors and the like: wait a little instead of
                                  // spinning.
                                  spdlog::warn("http: accept failed: {}", ec.message());
                                  rt->retry.expires_after(std::chrono::milliseconds(100));
                                  rt->retry.async_wait([this, rt](beast::error_code wait_ec) {
                                    if (!wait_ec) Accept(rt);
                                  });
                                  return;
                                }
                                std::make_shared<Session>(std::move(socket), ctx_)->Start();
                                Accept(rt);
                              });
  }

  Context ctx_;
  std::atomic<std::uint16_t> port_{0};

  enum class State { kNew, kRunning, kStopped };
  std::mutex mu_;                // serializes Start and Stop
  State state_ = State::kNew;    // GUARDED_BY(mu_)
  std::unique_ptr<Runtime> rt_;  // GUARDED_BY(mu_) for Start/Stop; used by the I/O thread
};

HttpServer::HttpServer(HttpServerOptions options, workflow::Workflow& workflow,
                       auth::Authenticator& authenticator, config::ConfigHolder& config,
                       std::function<Status()> readiness, Clock& clock, ApiHooks hooks)
    : impl_(std::make_unique<Impl>(std::move(options), workflow, authenticator, config,
                                   std::move(readiness), clock, std::move(hooks))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }

std::uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace jit::api
