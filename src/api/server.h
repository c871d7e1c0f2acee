#pragma once
// The broker's HTTP server (on net/http_server.h): accepts connections, reads requests with a
// time limit and a body limit, hands them to ApiHandler on a pool of worker threads (handlers may
// block) and writes the answers, keeping connections alive. One log line per request.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/handlers.h"
#include "auth/auth.h"
#include "core/clock.h"
#include "core/status.h"
#include "net/http_server.h"
#include "policy/config.h"
#include "workflow/workflow.h"

namespace jit::api {

class Ui;

struct HttpServerOptions {
  // "HOST:PORT" with HOST an IPv4 address, "[IPv6]" or "localhost"; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Larger request bodies are refused with 413.
  std::size_t max_body_bytes = 64 * 1024;
  // Worker threads that run handlers (which may block on the store); I/O runs on one more.
  int threads = 4;
  // How long a connection may take to send one request, and to take one answer.
  Duration read_timeout = std::chrono::seconds(30);
  // Dev mode: refuse any address that is not loopback, and answer only requests whose Host is a
  // loopback name (127.0.0.1, localhost or [::1], with or without a port), so that a web page
  // cannot reach the dev broker through DNS rebinding. (Every mode answers 400 to an HTTP/1.1
  // request without Host.)
  bool loopback_only = false;
  // The most connections open at once (net::HttpServerOptions::max_connections); 0: no cap.
  int max_connections = 0;

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

class HttpServer {
 public:
  // Every reference must outlive the server. `readiness` decides GET /readyz (OK: ready).
  // `ui` (not owned, may be null) serves the web UI at / and /ui/, and lets its session
  // cookies call /v1.
  HttpServer(HttpServerOptions options, workflow::Workflow& workflow,
             auth::Authenticator& authenticator, policy::ConfigHolder& config,
             std::function<Status()> readiness, Clock& clock, ApiHooks hooks = {});
  // Stops the server if it runs.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Validates the options, binds, listens and starts serving in the background. Errors:
  // InvalidArgument for bad options or a bad address (and, with loopback_only, "dev mode
  // listens on loopback only" for any other address); Unavailable when the address cannot be
  // bound (in use, not local); FailedPrecondition when already started.
  Status Start();

  // The bound port (the one picked when listening on port 0); 0 before Start.
  std::uint16_t port() const;

  // Stops accepting, waits for running handlers to finish and closes every connection.
  // Idempotent. Must not be called from a handler.
  void Stop();

  // Open, evicted and refused connections (all 0 before Start). Thread-safe.
  net::ConnectionStats connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::api
