#pragma once
// A small synchronous HTTP/1.1 client for tests only (never linked into the binary): plain
// structs in and out, Boost.Beast inside test_http_client.cc so that test files do not
// instantiate its serializer and parser themselves. Like Beast's own synchronous calls, a
// failed connect, write or read throws (GoogleTest reports the test as failed).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jit::net::testing {

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query
  // Written in order; no Host header unless given. Content-Length (or none, for a bodiless
  // GET) is added as Beast's prepare_payload decides.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Beast's `set`: drops every header named `name` (case-insensitively), then appends it.
  ClientRequest& Set(std::string name, std::string value);
};

struct ClientResponse {
  int status = 0;
  unsigned version = 11;
  bool keep_alive = false;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;

  // The first value of header `name` (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
};

// One connection to 127.0.0.1:port.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes `request` and reads its answer.
  ClientResponse RoundTrip(const ClientRequest& request);

  // For "Expect: 100-continue": writes the header of `request` only; WriteBody then writes the
  // rest of it.
  void WriteHeader(const ClientRequest& request);
  void WriteBody();
  // Writes `bytes` as they are: for requests Beast would not serialize (bad framing).
  void WriteRaw(std::string_view bytes);
  // Reads one answer (a "100 Continue" too).
  ClientResponse Read();

  // Shuts the socket down both ways (errors ignored).
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects, sends `request`, reads the answer and shuts the connection down.
ClientResponse Fetch(std::uint16_t port, const ClientRequest& request);

}  // namespace jit::net::testing
