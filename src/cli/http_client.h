#pragma once
// A small blocking HTTP client over libcurl, for the command line's calls to the broker's API.

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace jit::cli {

// What the server answered: the HTTP status and the body as received.
struct HttpResponse {
  long status = 0;
  std::string body;
};

// The longest a call may take in all (connect, send, receive).
inline constexpr std::chrono::milliseconds kDefaultHttpTimeout{30'000};

// Sends one request and waits for the answer. `method` is "GET", "POST", ...; `url` is absolute
// ("http://127.0.0.1:8080/v1/me"). An empty `bearer_token` sends no Authorization header; an
// empty `json_body` sends no body (a POST then has Content-Length: 0). Content-Type is always
// application/json. Proxies from the environment are not used for loopback hosts.
// Any HTTP status is a value (the caller decides what 4xx/5xx mean); Unavailable when the
// server cannot be reached or the call fails or times out, with curl's message;
// InvalidArgument for a malformed URL. Thread-safe (each call uses its own curl handle).
Result<HttpResponse> HttpCall(std::string_view method, const std::string& url,
                              std::string_view bearer_token, std::string_view json_body,
                              std::chrono::milliseconds timeout = kDefaultHttpTimeout);

// Percent-encodes everything but the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), for
// query values and path segments.
std::string UrlEncode(std::string_view text);

}  // namespace jit::cli
