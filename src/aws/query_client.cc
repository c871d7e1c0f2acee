#include "aws/query_client.h"

#include <algorithm>

#include "aws/retry.h"
#include "aws/sigv4.h"
#include "core/retry.h"

namespace jit::aws {

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(k, false) + "=" + UriEncode(v, false);
  }
  return out;
}

QueryClient::QueryClient(QueryServiceSpec spec, HttpTransport& http, CredentialSource& creds,
                         Limiter& limiter, Clock& clock, RetryPolicy retry)
    : spec_(std::move(spec)),
      http_(http),
      creds_(creds),
      limiter_(limiter),
      clock_(clock),
      retry_(std::move(retry)) {}

Result<std::string> QueryClient::Call(
    const std::string& action, const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> all = {{"Action", action},
                                                          {"Version", spec_.version}};
  all.insert(all.end(), params.begin(), params.end());
  const std::string payload = FormEncode(all);
  std::string authority;
  std::string base_path;
  SplitEndpoint(spec_.endpoint, authority, base_path);
  std::string endpoint = spec_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const int attempts = std::max(1, retry_.max_attempts);

  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      WaitBeforeRetry(retry_, clock_, FullJitter(retry_, attempt - 1));
    }
    limiter_.AcquireCall();
    Result<Credentials> creds = creds_.Get();
    if (!creds.has_value()) {
      last = creds.error().WithContext(action + ": credentials");
      if (ShouldRetryCall(last)) continue;
      return last;
    }
    HttpRequest req{
        .method = "POST",
        .path = base_path + "/",
        .headers = {{"Host", authority},
                    {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
        .body = payload};
    Result<Signature> sig = Sign(
        req, *creds, {.region = spec_.region, .service = spec_.signing_name, .time = clock_.Now()});
    if (!sig.has_value()) return sig.error().WithContext(action);
    Result<HttpResponse> resp =
        http_.Send({.method = "POST",
                    .url = endpoint + "/",
                    .headers = req.headers,
                    .body = req.body,
                    .connect_timeout = std::min(spec_.timeout, Duration(3000)),
                    .total_timeout = spec_.timeout});
    if (!resp.has_value()) {
      last = resp.error().WithContext(action);
      if (ShouldRetryCall(last)) continue;
      return last;
    }
    if (resp->status >= 200 && resp->status <= 299) return std::move(resp->body);
    last = ToStatus(ParseAwsError(*resp)).WithContext(action);
    if (!ShouldRetryCall(last)) return last;
  }
  if (attempts == 1) return last;
  return Status(last.code(), last.message() + " (after " + std::to_string(attempts) + " attempts)");
}

}  // namespace jit::aws
