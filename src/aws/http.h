#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  std::string Header(std::string_view lowercase_name) const;  // "" when absent
};

struct HttpCall {
  std::string method;  // GET, PUT, POST
  std::string url;     // absolute http(s) URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration connect_timeout = Duration(3000);
  Duration total_timeout = Duration(15000);
};

// Sends HTTP requests. Implementations: libcurl (NewCurlTransport) and fakes in tests.
// Thread-safe.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a response (not an error). Errors: Unavailable (connection refused,
  // DNS, TLS, time-out), InvalidArgument (malformed URL).
  virtual Result<HttpResponse> Send(const HttpCall& call) = 0;
};

// libcurl; proxies from the environment are not used for loopback addresses.
std::unique_ptr<HttpTransport> NewCurlTransport();

}  // namespace jit::aws
