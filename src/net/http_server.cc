#include "net/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "net/connection_limits.h"
#include "net/listener.h"

namespace jit::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// After an answer that closes the connection, unread input is drained for at most this long so
// that the peer sees the answer rather than a reset (HttpServerOptions::graceful_close).
constexpr auto kLingerTime = std::chrono::seconds(2);

// At most one warning this often about failed accepts, and one about connections shed at the cap.
constexpr Duration kWarningInterval = std::chrono::seconds(10);

// Waits of 50 ms doubling to 1 s between failed accepts, warnings at most every
// kWarningInterval.
AcceptBackoff::Options BackoffOptions() {
  AcceptBackoff::Options options;
  options.log_interval = kWarningInterval;
  return options;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The plain request of a (complete or partial) Beast message.
enum class Framing { kOk, kMalformed, kUnsupportedCoding };

// RFC 9112 6.1 and 6.3: a request's Transfer-Encoding, over all its fields, must end with
// "chunked"; jit implements no other coding. Beast reads "xchunked" or "chunked, gzip" as a
// message without a body and would parse what follows as the next request (request smuggling):
// such a request is refused before its body is read, and the connection closed.
Framing CheckFraming(const http::request<http::string_body>& req) {
  std::vector<std::string> codings;
  bool present = false;
  for (const auto& field : req) {
    if (field.name() != http::field::transfer_encoding) continue;
    present = true;
    std::string_view value(field.value().data(), field.value().size());
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t comma = value.find(',', start);
      if (comma == std::string_view::npos) comma = value.size();
      std::string_view item = value.substr(start, comma - start);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) {
        std::string lower(item);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        codings.push_back(std::move(lower));
      }
      start = comma + 1;
    }
  }
  if (!present) return Framing::kOk;
  if (codings.empty() || codings.back() != "chunked") return Framing::kMalformed;
  if (codings.size() > 1) return Framing::kUnsupportedCoding;
  return Framing::kOk;
}

HttpRequest FromBeast(http::request<http::string_body>&& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.version = req.version();
  out.keep_alive = req.keep_alive();
  for (const auto& field : req) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(req.body());
  return out;
}

class Session;

// The open connections of one server and what happened to them. The acceptor and the sessions
// update it (on the I/O thread); HttpServer::Stats reads the counters from any thread.
struct Connections {
  std::atomic<std::int64_t> open{0};  // sessions alive, each holding its socket
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> accept_failures{0};
  Mutex mu;
  // The sessions that may be evicted (waiting for a request's header, or draining after their
  // last answer), by when they started waiting: the first has waited longest. Keys are never
  // reused.
  std::map<std::uint64_t, std::weak_ptr<Session>> waiting GUARDED_BY(mu);
  std::uint64_t next_key GUARDED_BY(mu) = 1;
};

// What the connections share; owned by the server and outliving every session's handlers.
struct Context {
  HttpServerOptions options;
  HttpHandler handler;
  BadHttpRequestHandler on_bad_request;
  Clock& clock;
  asio::thread_pool* pool = nullptr;  // null: handlers run on the I/O thread
  Connections connections;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Context& ctx)
      : stream_(std::move(socket)), delay_(stream_.get_executor()), ctx_(ctx) {
    beast::error_code ec;
    tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string();
    ctx_.connections.open.fetch_add(1);
  }

  ~Session() {
    StopWaiting();
    ctx_.connections.open.fetch_sub(1);
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

  // Closes the connection on its strand, whatever it is doing: the server needs its descriptor
  // for a new one. Thread-safe.
  void Evict() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  // Whether the server may evict this session to make room for a new connection: from now
  // until StopWaiting. Runs on the session's strand.
  void StartWaiting() {
    StopWaiting();
    Connections& c = ctx_.connections;
    MutexLock lock(&c.mu);
    waiting_key_ = c.next_key++;
    c.waiting.emplace(waiting_key_, weak_from_this());
  }

  void StopWaiting() {
    if (waiting_key_ == 0) return;
    Connections& c = ctx_.connections;
    MutexLock lock(&c.mu);
    c.waiting.erase(waiting_key_);  // a no-op when the acceptor took it to evict it
    waiting_key_ = 0;
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(ctx_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(ctx_.options.max_header_bytes));
    stream_.expires_after(ctx_.options.read_timeout);
    // Until a request's header has been read, the connection costs a descriptor and serves
    // nobody yet: a connection flood looks like this (issue 15), and so does a client between
    // keep-alive requests. Either may be evicted at the cap.
    StartWaiting();
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // Clients such as curl send "Expect: 100-continue" with larger bodies and wait for a go-ahead
  // before sending them. An oversize Content-Length has already failed the header read.
  void OnHeader(beast::error_code ec, std::size_t bytes) {
    StopWaiting();
    if (ec) return OnRead(ec, bytes);
    if (Framing framing = CheckFraming(parser_->get()); framing != Framing::kOk) {
      BadHttpRequest bad;
      bad.unsupported_coding = framing == Framing::kUnsupportedCoding;
      return RefuseBad(std::move(bad));
    }
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

  // Answers a request that cannot be served (if the owner has an answer) and closes.
  void RefuseBad(BadHttpRequest bad) {
    stream_.expires_never();
    // Whatever of the start line and fields was parsed before the error (may be empty).
    bad.partial = FromBeast(parser_->release());
    bad.partial.peer = peer_;
    bad.partial.received = ctx_.clock.MonoNow();
    std::optional<HttpResponse> answer =
        ctx_.on_bad_request ? ctx_.on_bad_request(bad) : std::nullopt;
    if (!answer) return Close();
    return Write(std::move(*answer), bad.partial.version, /*keep_alive=*/false);
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec == http::error::end_of_stream) return End();
    if (ec == http::error::partial_message) return Close();  // the peer went away mid-request
    if (ec.category() == http::make_error_code(http::error::body_limit).category()) {
      // Too large, or not HTTP we understand: the owner may answer.
      BadHttpRequest bad;
      bad.too_large = ec == http::error::body_limit;
      bad.header_too_large = ec == http::error::header_limit;
      return RefuseBad(std::move(bad));
    }
    if (ec) return Close();  // time-out, reset: nobody to answer

    stream_.expires_never();
    HttpRequest req = FromBeast(parser_->release());
    req.peer = peer_;
    req.received = ctx_.clock.MonoNow();
    if (ctx_.pool == nullptr) {
      unsigned version = req.version;
      bool keep_alive = req.keep_alive;
      return Answer(ctx_.handler(std::move(req)), version, keep_alive);
    }
    // The handler may block: run it on the pool, then write from the strand.
    asio::post(*ctx_.pool, [self = shared_from_this(), req = std::move(req)]() mutable {
      unsigned version = req.version;
      bool keep_alive = req.keep_alive;
      HttpResponse res = self->ctx_.handler(std::move(req));
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res), version, keep_alive]() mutable {
                   self->Answer(std::move(res), version, keep_alive);
                 });
    });
  }

  // Writes the answer after its delay. Runs on the session's strand.
  void Answer(HttpResponse res, unsigned version, bool keep_alive) {
    if (res.delay > Duration::zero()) {
      delay_.expires_after(res.delay);
      return delay_.async_wait([self = shared_from_this(), res = std::move(res), version,
                                keep_alive](beast::error_code wait_ec) mutable {
        if (wait_ec) return self->Close();
        self->Write(std::move(res), version, keep_alive);
      });
    }
    Write(std::move(res), version, keep_alive);
  }

  void Write(HttpResponse res, unsigned request_version, bool keep_alive) {
    res_.emplace();
    res_->version(res.version != 0 ? res.version : request_version);
    res_->result(static_cast<http::status>(res.status));
    // insert, not set: a header such as Set-Cookie may repeat.
    for (const auto& [name, value] : res.headers) res_->insert(name, value);
    res_->body() = std::move(res.body);
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
    if (close) return End();
    Read();
  }

  // The connection is over: closed gracefully or at once, as the options say.
  void End() {
    if (ctx_.options.graceful_close) return CloseGracefully();
    Close();
  }

  // Half-closes, then drains what the peer still sends for a while, so that it reads our
  // answer instead of a connection reset.
  void CloseGracefully() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    StartWaiting();  // nothing more to do for it: the first to go at the cap
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
  asio::steady_timer delay_;
  Context& ctx_;
  std::string peer_;  // the client's address, "" when the socket could not tell
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;      // alive while it is written
  std::optional<http::response<http::empty_body>> continue_;  // likewise, for 100 Continue
  std::array<char, 4096> drain_buffer_{};
  // Its key in Connections::waiting; 0: not waiting. Touched on the session's strand only.
  std::uint64_t waiting_key_ = 0;
};

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (IEquals(n, name)) return v;
  }
  return {};
}

Result<HttpRequest> MakeHttpRequest(const std::string& method, const std::string& target,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& body) {
  try {
    http::request<http::string_body> req;
    req.version(11);
    req.method_string(method);
    req.target(target);
    for (const auto& [name, value] : headers) req.insert(name, value);
    req.body() = body;
    return FromBeast(std::move(req));
  } catch (const std::exception& e) {
    return InvalidArgumentError(e.what());
  }
}

Status ValidateListen(std::string_view listen) {
  Result<tcp::endpoint> endpoint = ParseListen(listen);
  if (!endpoint) return endpoint.error();
  return OkStatus();
}

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler, BadHttpRequestHandler on_bad_request,
       Clock& clock)
      : ctx_{std::move(options), std::move(handler), std::move(on_bad_request), clock} {}

  ~Impl() { Stop(); }

  Result<BoundAddress> Start() {
    MutexLock lock(&mu_);
    if (state_ != State::kNew) return FailedPreconditionError("the server was started before");
    auto rt = std::make_unique<Runtime>(ctx_.options.handler_threads);
    JIT_ASSIGN_OR_RETURN(tcp::endpoint local,
                         Listen(rt->acceptor, ctx_.options.listen, ctx_.options.loopback_only,
                                ctx_.options.loopback_refusal));
    ctx_.pool = rt->pool ? &*rt->pool : nullptr;
    rt_ = std::move(rt);
    Accept(rt_.get());
    rt_->io_thread = RunIoThread(rt_->ioc, ctx_.options.name);
    state_ = State::kRunning;
    BoundAddress bound;
    bound.host = local.address().to_string();
    bound.port = local.port();
    bound.is_v6 = local.address().is_v6();
    bound.is_unspecified = local.address().is_unspecified();
    bound.is_loopback = local.address().is_loopback();
    return bound;
  }

  void Stop() {
    MutexLock lock(&mu_);
    if (state_ != State::kRunning) return;
    state_ = State::kStopped;
    rt_->ioc.stop();
    rt_->io_thread.join();
    if (rt_->pool) rt_->pool->join();  // running handlers finish; their answers are dropped
    beast::error_code ignored;
    rt_->acceptor.close(ignored);
    // Destroying the io_context destroys the handlers it holds, and with them every session
    // and its socket.
    rt_.reset();
    ctx_.pool = nullptr;
  }

  ConnectionStats Stats() const {
    const Connections& c = ctx_.connections;
    ConnectionStats out;
    out.open = c.open.load();
    out.accepted = c.accepted.load();
    out.evicted = c.evicted.load();
    out.refused = c.refused.load();
    out.accept_failures = c.accept_failures.load();
    return out;
  }

 private:
  // What runs while the server serves. Members are destroyed in reverse order: the pool (joined
  // by then), the retry timer and the acceptor go before the io_context.
  struct Runtime {
    // With no handler threads everything runs on the I/O thread: tell Asio so.
    explicit Runtime(int handler_threads) : ioc(handler_threads > 0 ? -1 : 1) {
      if (handler_threads > 0) pool.emplace(static_cast<std::size_t>(handler_threads));
    }
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    asio::steady_timer retry{ioc};
    std::optional<asio::thread_pool> pool;
    std::thread io_thread;
    // Used on the I/O thread only.
    AcceptBackoff backoff{BackoffOptions()};
    LogThrottle shed_log{kWarningInterval};
  };

  // Runs on the I/O thread (and once from Start, before it starts).
  void Accept(Runtime* rt) {
    rt->acceptor.async_accept(
        asio::make_strand(rt->ioc), [this, rt](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (ec) return AcceptFailed(rt, ec);
          std::optional<std::uint64_t> unreported = rt->backoff.OnSuccess(ctx_.clock.MonoNow());
          if (unreported && ctx_.options.log_accept_errors) {
            spdlog::info("{}: accepting again; {} more failed accepts since the last warning",
                         ctx_.options.name, *unreported);
          }
          if (MakeRoom(rt)) {
            ctx_.connections.accepted.fetch_add(1);
            std::make_shared<Session>(std::move(socket), ctx_)->Start();
          } else {
            beast::error_code ignored;
            socket.close(ignored);
          }
          Accept(rt);
        });
  }

  // Out of file descriptors and the like: the accept is tried again after a wait that grows
  // while it keeps failing, rather than ten times a second, and logged at most once in
  // kWarningInterval. Runs on the I/O thread.
  void AcceptFailed(Runtime* rt, const beast::error_code& ec) {
    ctx_.connections.accept_failures.fetch_add(1);
    AcceptBackoff::Step step = rt->backoff.OnFailure(ctx_.clock.MonoNow());
    if (step.log_failures && ctx_.options.log_accept_errors) {
      if (*step.log_failures == 1) {
        spdlog::warn("{}: accept failed: {}; trying again in {} ms", ctx_.options.name,
                     ec.message(), step.wait.count());
      } else {
        spdlog::warn(
            "{}: accept failed {} times since the last warning (now: {}); trying again "
            "in {} ms",
            ctx_.options.name, *step.log_failures, ec.message(), step.wait.count());
      }
    }
    rt->retry.expires_after(step.wait);
    rt->retry.async_wait([this, rt](beast::error_code wait_ec) {
      if (!wait_ec) Accept(rt);
    });
  }

  // Whether a connection just accepted may be served: below the cap, or at it once the session
  // that has waited longest for a request has been told to close (evicted). False: every open
  // connection is busy, and the new one is to be closed at once (refused). Runs on the I/O
  // thread.
  //
  // At the cap, connections are still accepted (and then served or closed), not left in the
  // listen backlog: a backlog that nobody drains fills with the flood's connections, after which
  // the kernel drops new SYNs, and a health check or an API client waits for its connect to be
  // retried (1 s, 3 s, 7 s ...) behind connections that will never send a request. Accepting
  // keeps the backlog empty and lets the server choose: the new connection against the oldest
  // idle one, so that a client holding thousands of idle sockets cannot shut out a client that
  // sends a request, while the process's descriptors above the cap stay free for its own
  // outbound calls (issue 15: revocations were late because DeleteAccountAssignment could not
  // open a socket).
  bool MakeRoom(Runtime* rt) {
    int max = ctx_.options.max_connections;
    Connections& c = ctx_.connections;
    if (max <= 0 || c.open.load() < max) return true;
    std::shared_ptr<Session> victim;
    {
      MutexLock lock(&c.mu);
      while (victim == nullptr && !c.waiting.empty()) {
        victim = c.waiting.begin()->second.lock();  // null: being destroyed already
        c.waiting.erase(c.waiting.begin());
      }
    }
    if (victim != nullptr) {
      victim->Evict();
      c.evicted.fetch_add(1);
    } else {
      c.refused.fetch_add(1);
    }
    if (ctx_.options.log_accept_errors) {
      if (std::optional<std::uint64_t> shed = rt->shed_log.Hit(ctx_.clock.MonoNow())) {
        spdlog::warn(
            "{}: {} connections open, the most allowed (max_connections): {} connections shed "
            "since the last warning ({} idle ones closed to make room and {} new ones refused "
            "since start)",
            ctx_.options.name, max, *shed, c.evicted.load(), c.refused.load());
      }
    }
    return victim != nullptr;
  }

  Context ctx_;

  enum class State { kNew, kRunning, kStopped };
  Mutex mu_;  // serializes Start and Stop
  State state_ GUARDED_BY(mu_) = State::kNew;
  std::unique_ptr<Runtime> rt_ GUARDED_BY(mu_);  // for Start/Stop; used by the I/O thread
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler,
                       BadHttpRequestHandler on_bad_request, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler),
                                   std::move(on_bad_request), clock)) {}

HttpServer::~HttpServer() = default;

Result<BoundAddress> HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

ConnectionStats HttpServer::Stats() const { return impl_->Stats(); }

}  // namespace jit::net
