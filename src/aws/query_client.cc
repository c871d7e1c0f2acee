#include "aws/query_client.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "aws/sigv4.h"

namespace jit::aws {
namespace {

// "scheme://authority/path" -> authority (user info dropped) and path ("" when none).
void SplitEndpoint(const std::string& endpoint, std::string& authority, std::string& path) {
  std::size_t scheme = endpoint.find("://");
  std::string rest = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
  std::size_t slash = rest.find('/');
  authority = rest.substr(0, slash);
  path = slash == std::string::npos ? "" : rest.substr(slash);
  if (std::size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
}

Duration FullJitter(const RetryPolicy& retry, int attempt) {
  double cap = static_cast<double>(retry.base.count()) * std::pow(2.0, attempt);
  cap = std::min(cap, static_cast<double>(retry.max.count()));
  if (cap <= 0) return Duration(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, cap);
  return Duration(static_cast<Duration::rep>(dist(rng)));
}

}  // namespace

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
      Duration wait = FullJitter(retry_, attempt - 1);
      if (retry_.sleep) {
        retry_.sleep(wait);
      } else {
        std::this_thread::sleep_for(wait);
      }
    }
    limiter_.AcquireCall();
    Result<Credentials> creds = creds_.Get();
    if (!creds.has_value()) {
      last = creds.error().WithContext(action + ": credentials");
      if (last.code() == StatusCode::kUnavailable) continue;
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
      if (last.code() == StatusCode::kUnavailable) continue;
      return last;
    }
    if (resp->status >= 200 && resp->status <= 299) return std::move(resp->body);
    last = ToStatus(ParseAwsError(*resp)).WithContext(action);
    if (last.code() != StatusCode::kUnavailable) return last;
  }
  if (attempts == 1) return last;
  return Status(last.code(), last.message() + " (after " + std::to_string(attempts) + " attempts)");
}

}  // namespace jit::aws
