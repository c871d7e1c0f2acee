#pragma once
// The HTTP/1.1 server that the broker's API (api/server.h) and the emulator (emulator/emulator.h)
// share: accepts connections, reads requests with a time limit, a header limit and a body limit,
// answers "Expect: 100-continue", hands each request to a handler as plain structs, writes the
// answers and keeps connections alive. Boost.Beast stays inside http_server.cc, so that its
// parser and serializer are compiled once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"

namespace jit::net {

// One request as read from the wire.
struct HttpRequest {
  std::string method;     // as sent, e.g. "POST"
  std::string target;     // path and query, e.g. "/v1/requests?state=pending"
  unsigned version = 11;  // 11 for HTTP/1.1, 10 for HTTP/1.0
  bool keep_alive = true;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent: names' case and order
  std::string body;
  // When the request had been read completely, by the server's Clock.
  MonoTime received{};
  // The client's address as text ("127.0.0.1", "::1"); "" when unknown (no socket).
  std::string peer;

  // The first value of the header `name` (compared case-insensitively); "" when absent.
  std::string_view Header(std::string_view name) const;
};

// One answer. Written as: status line, `headers` in order (a name may repeat), then
// "Connection" as the request's keep-alive asks and "Content-Length" for `body`.
struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The answer's HTTP version; 0: the request's.
  unsigned version = 0;
  // Real time to wait before writing the answer (the emulator's fault latency).
  Duration delay{0};
};

// A request the server could not read to the end but may still answer.
struct BadHttpRequest {
  bool too_large = false;         // the body is larger than max_body_bytes
  bool header_too_large = false;  // the start line and fields exceed max_header_bytes
  // Transfer-Encoding names a coding besides the final "chunked" (RFC 9112 6.1): understood,
  // but not implemented (501). A Transfer-Encoding whose last coding is not "chunked" cannot be
  // framed at all and is malformed (all three false).
  bool unsupported_coding = false;
  HttpRequest partial;  // whatever was parsed before the error (fields may be empty)
};

struct HttpServerOptions {
  // "HOST:PORT" (see net/listener.h ParseListen); port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Anything but a loopback address is refused with InvalidArgument `loopback_refusal`.
  bool loopback_only = false;
  std::string loopback_refusal;
  // Names the server in log lines and in the I/O thread's crash message ("http", "emulator").
  std::string name = "http";
  // Requests with larger bodies are BadHttpRequest::too_large; larger headers are malformed.
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // How long a connection may take to send one request, and to take one answer.
  Duration read_timeout = std::chrono::seconds(30);
  // Threads that run the handler (it may block); 0: it runs on the one I/O thread.
  int handler_threads = 0;
  // Whether a connection that ends (after an answer that closes it, or a client that is done)
  // is half-closed and drained for a while, so that the peer reads the answer rather than a
  // reset; otherwise it is closed at once.
  bool graceful_close = false;
  // Whether a failed accept (out of file descriptors and the like) is logged as a warning (the
  // first at once, then at most one every 10 s with the number of failures in between), and
  // likewise connections shed at the cap. Either way a failed accept is retried after a wait
  // that grows from 50 ms to 1 s while accepts keep failing.
  bool log_accept_errors = false;
  // The most connections open at once; 0: no cap. A connection accepted at the cap takes the
  // place of the open connection that has waited longest for a request (its client sent
  // nothing, or is idle between keep-alive requests, or is still sending a request's header):
  // that one is closed ("evicted"). When every open connection is busy (a body being read, a
  // handler running, an answer being written) the new one is closed at once ("refused").
  int max_connections = 0;
};

// What a server's connections have done since it started. Read from any thread.
struct ConnectionStats {
  std::int64_t open = 0;              // connections open now (their descriptors held)
  std::uint64_t accepted = 0;         // connections accepted and served (evictions made room)
  std::uint64_t evicted = 0;          // idle connections closed to make room at the cap
  std::uint64_t refused = 0;          // connections closed at once: the cap was reached, none idle
  std::uint64_t accept_failures = 0;  // accepts that failed (e.g. out of file descriptors)
};

// Never throws; runs on a handler thread (or the I/O thread).
using HttpHandler = std::function<HttpResponse(HttpRequest)>;
// The answer to a request that could not be read (written with "Connection: close"); nullopt:
// close the connection without one. Runs on the I/O thread.
using BadHttpRequestHandler = std::function<std::optional<HttpResponse>(const BadHttpRequest&)>;

// Where the server listens.
struct BoundAddress {
  std::string host;  // the address as text, "127.0.0.1" or "::1" (no brackets)
  std::uint16_t port = 0;
  bool is_v6 = false;
  bool is_unspecified = false;  // a wildcard address (0.0.0.0 or ::)
  bool is_loopback = false;     // 127.0.0.0/8 or ::1
};

// The request as the server would hand it over (HTTP/1.1), for answering requests without a
// socket (emulator::Emulator::HandleRaw). InvalidArgument with Beast's reason when Beast refuses
// the method, the target or a header.
Result<HttpRequest> MakeHttpRequest(const std::string& method, const std::string& target,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    const std::string& body);

// OK when `listen` is a HOST:PORT that ParseListen accepts; its InvalidArgument otherwise.
Status ValidateListen(std::string_view listen);

class HttpServer {
 public:
  // The Clock stamps HttpRequest::received and must outlive the server.
  HttpServer(HttpServerOptions options, HttpHandler handler, BadHttpRequestHandler on_bad_request,
             Clock& clock);
  // Stops the server if it runs.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts serving in the background. Errors: InvalidArgument (a bad
  // address, or loopback_refusal), Unavailable (cannot bind), FailedPrecondition (started
  // before).
  Result<BoundAddress> Start();

  // Stops accepting, waits for running handlers to finish (their answers are dropped) and
  // closes every connection. Idempotent. Must not be called from a handler.
  void Stop();

  // The connection counters (all 0 before Start). Thread-safe.
  ConnectionStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::net
