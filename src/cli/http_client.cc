#include "cli/http_client.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace jit::cli {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<HttpResponse> HttpCall(std::string_view method, const std::string& url,
                              std::string_view bearer_token, std::string_view json_body,
                              std::chrono::milliseconds timeout) {
  GlobalInitOnce();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return InternalError("curl_easy_init failed");
  CURL* c = curl.get();

  // Header lines are copied by curl_slist_append; the strings may go away after.
  curl_slist* raw_headers = nullptr;
  auto append = [&raw_headers](const std::string& line) {
    curl_slist* next = curl_slist_append(raw_headers, line.c_str());
    if (next != nullptr) raw_headers = next;
    return next != nullptr;
  };
  bool headers_ok = append("Content-Type: application/json") && append("Accept: application/json");
  if (!bearer_token.empty()) {
    headers_ok = headers_ok && append("Authorization: Bearer " + std::string(bearer_token));
  }
  // Without this, curl sends "Expect: 100-continue" for larger bodies and waits for an answer.
  headers_ok = headers_ok && append("Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  if (!headers_ok) return InternalError("curl_slist_append failed");

  std::string method_str(method);
  std::string body(json_body);
  std::string response_body;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response_body);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (method_str == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    if (method_str == "POST") {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method_str.c_str());
    }
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }

  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return InvalidArgumentError(message);
    }
    return UnavailableError(message);
  }
  HttpResponse response;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(response_body);
  return response;
}

}  // namespace jit::cli
