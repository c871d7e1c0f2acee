#include "aws/http.h"

#include <curl/curl.h>

#include <mutex>

#include "core/strings.h"

namespace jit::aws {
namespace {

// Bodies beyond this are refused: no AWS answer jit reads comes near it.
constexpr std::size_t kMaxBody = 32 * 1024 * 1024;

struct Received {
  HttpResponse response;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  std::size_t len = size * n;
  if (r->response.body.size() + len > kMaxBody) {
    r->too_large = true;
    return 0;  // aborts the transfer
  }
  r->response.body.append(data, len);
  return len;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  std::size_t len = size * n;
  std::string_view line(data, len);
  // A new status line (after 100 Continue, say) starts a fresh header block.
  if (line.substr(0, 5) == "HTTP/") {
    r->response.headers.clear();
    return len;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  r->response.headers.emplace_back(ToLower(Trim(line.substr(0, colon))),
                                   std::string(Trim(line.substr(colon + 1))));
  return len;
}

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<HttpResponse> Send(const HttpCall& call) override {
    if (call.url.rfind("http://", 0) != 0 && call.url.rfind("https://", 0) != 0) {
      return InvalidArgumentError("http: not an http(s) URL: '" + call.url + "'");
    }
    if (call.method.empty()) return InvalidArgumentError("http: no method");
    // One easy handle per call: simple and thread-safe; jit's call rate is ~20/s.
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) return InternalError("http: curl_easy_init failed");
    CURL* h = curl.get();

    struct curl_slist* list = nullptr;
    for (const auto& [name, value] : call.headers) {
      // "Name;" is curl's way to send a header with an empty value.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      list = curl_slist_append(list, line.c_str());
    }
    // No "Expect: 100-continue" round trip.
    list = curl_slist_append(list, "Expect:");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, &curl_slist_free_all);

    Received received;
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::max<Duration::rep>(1, call.connect_timeout.count())));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<Duration::rep>(1, call.total_timeout.count())));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &received);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &received);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    if (call.method == "GET" && call.body.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (call.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
      if (call.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
      std::string detail = error[0] != '\0' ? error : curl_easy_strerror(rc);
      std::string what = call.method + " " + call.url + ": " + detail;
      if (received.too_large) return UnavailableError("http: answer too large: " + what);
      if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        return InvalidArgumentError("http: " + what);
      }
      return UnavailableError("http: " + what);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    received.response.status = status;
    return std::move(received.response);
  }
};

}  // namespace

std::string HttpResponse::Header(std::string_view lowercase_name) const {
  // Tolerates a mixed-case argument although the stored names are lowercase.
  std::string wanted = ToLower(lowercase_name);
  for (const auto& [name, value] : headers) {
    if (name == wanted) return value;
  }
  return "";
}

std::unique_ptr<HttpTransport> NewCurlTransport() { return std::make_unique<CurlTransport>(); }

}  // namespace jit::aws
