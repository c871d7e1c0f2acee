#include "aws/json_client.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include "core/mutex.h"
#include "core/retry.h"
#include "core/strings.h"

namespace jit::aws {
namespace {

// The error type with any ":suffix" cut and any "namespace#" prefix dropped.
std::string NormaliseType(std::string_view type) {
  type = type.substr(0, type.find(':'));
  if (std::size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type = type.substr(hash + 1);
  }
  return std::string(Trim(type));
}

std::string JsonString(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

bool IsOneOf(const std::string& s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// Calls that end access: they go before the others while the pacing rate is the limit.
bool IsUrgent(const std::string& operation) {
  return IsOneOf(operation, {"DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus",
                             "DeleteGroupMembership"});
}

// Seconds from RetryAfterSeconds in an error body (number or numeric string), or -1.
double RetryAfterSeconds(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return -1;
  auto it = j.find("RetryAfterSeconds");
  if (it == j.end()) return -1;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && *end == '\0') return v;
  }
  return -1;
}

// The token bucket and the creates-in-flight gate. Waiting for tokens uses a clock timer, so
// that a FakeClock's Advance() releases waiters in tests, with a real-time fallback in case a
// wall-clock step delays the timer.
class TokenBucketLimiter final : public Limiter {
 public:
  TokenBucketLimiter(Clock& clock, double calls_per_second, int max_creates)
      : clock_(clock),
        rate_(calls_per_second),
        capacity_(std::max(1.0, calls_per_second)),
        max_creates_(max_creates),
        state_(std::make_shared<State>()) {
    state_->tokens = capacity_;
    state_->last = clock_.MonoNow();
  }

  void AcquireCall() override { Acquire(/*urgent=*/false); }
  void AcquireUrgentCall() override { Acquire(/*urgent=*/true); }

  // Takes a token when one is there and, for an ordinary call, no urgent call is waiting.
  void Acquire(bool urgent) {
    if (rate_ <= 0) return;
    MutexLock lock(&state_->mu);
    if (urgent) ++state_->urgent_waiting;
    while (true) {
      MonoTime now = clock_.MonoNow();
      if (now > state_->last) {
        double elapsed = std::chrono::duration<double>(now - state_->last).count();
        state_->tokens = std::min(capacity_, state_->tokens + elapsed * rate_);
        state_->last = now;
      }
      if (state_->tokens >= 1.0 && (urgent || state_->urgent_waiting == 0)) {
        state_->tokens -= 1.0;
        if (urgent && --state_->urgent_waiting == 0) {
          state_->cv.SignalAll();  // ordinary callers held back by it may go on
        }
        return;
      }
      auto wait =
          Duration(static_cast<Duration::rep>(std::ceil((1.0 - state_->tokens) / rate_ * 1000.0)));
      wait = std::max(wait, Duration(1));
      std::uint64_t generation = state_->generation;
      state_->mu.Unlock();
      std::weak_ptr<State> weak = state_;
      TimerId timer = clock_.ScheduleAt(clock_.Now() + wait, [weak] {
        if (auto s = weak.lock()) {
          MutexLock l(&s->mu);
          ++s->generation;
          s->cv.SignalAll();
        }
      });
      state_->mu.Lock();
      const MonoTime deadline = std::chrono::steady_clock::now() + wait * 2 + Duration(10);
      while (state_->generation == generation && state_->cv.WaitUntil(state_->mu, deadline)) {
      }
      state_->mu.Unlock();
      clock_.Cancel(timer);
      state_->mu.Lock();
    }
  }

  void AcquireCreate() override {
    if (max_creates_ <= 0) return;
    MutexLock lock(&state_->mu);
    while (state_->creates >= max_creates_) state_->cv.Wait(state_->mu);
    ++state_->creates;
  }

  void ReleaseCreate() override {
    if (max_creates_ <= 0) return;
    MutexLock lock(&state_->mu);
    if (state_->creates > 0) --state_->creates;
    state_->cv.SignalAll();
  }

 private:
  // Shared with timer callbacks, which may outlive a wait.
  struct State {
    Mutex mu;
    CondVar cv;
    double tokens GUARDED_BY(mu) = 0;
    MonoTime last GUARDED_BY(mu);
    std::uint64_t generation GUARDED_BY(mu) = 0;  // bumped by each timer
    int urgent_waiting GUARDED_BY(mu) = 0;        // urgent callers in Acquire
    int creates GUARDED_BY(mu) = 0;               // creates in flight
  };

  Clock& clock_;
  const double rate_;
  const double capacity_;
  const int max_creates_;
  std::shared_ptr<State> state_;
};

}  // namespace

std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name) {
  std::string open = "<" + std::string(name);
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t after = pos + open.size();
    if (after >= xml.size()) return std::nullopt;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '/') {
      pos = after;  // a longer name (<CodeX>)
      continue;
    }
    std::size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) return std::nullopt;
    if (xml[gt - 1] == '/') return std::string();  // <Name/>
    std::string close = "</" + std::string(name) + ">";
    std::size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return XmlUnescape(xml.substr(gt + 1, end - gt - 1));
  }
  return std::nullopt;
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    std::size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp") {
      out.push_back('&');
    } else if (entity == "lt") {
      out.push_back('<');
    } else if (entity == "gt") {
      out.push_back('>');
    } else if (entity == "quot") {
      out.push_back('"');
    } else if (entity == "apos") {
      out.push_back('\'');
    } else if (!entity.empty() && entity[0] == '#') {
      unsigned long code = 0;
      bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      code = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0' || code == 0 || code > 0x10FFFF) {
        out.append(s.substr(i, semi - i + 1));
      } else if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

AwsError ParseAwsError(const HttpResponse& response) {
  AwsError e;
  e.http_status = response.status;
  e.request_id = response.Header("x-amzn-requestid");
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    e.type = NormaliseType(JsonString(j, {"__type", "code", "Code"}));
    e.message = JsonString(j, {"message", "Message", "errorMessage"});
  } else if (std::optional<std::string> code = XmlElementText(response.body, "Code")) {
    // Query-protocol services (SNS, STS) answer <ErrorResponse><Error><Code>..</Code>
    // <Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
    e.type = NormaliseType(*code);
    e.message = XmlElementText(response.body, "Message").value_or("");
    if (e.request_id.empty())
      e.request_id = XmlElementText(response.body, "RequestId").value_or("");
  } else if (!response.body.empty()) {
    e.message = response.body.substr(0, 300);
  }
  if (e.type.empty()) e.type = NormaliseType(response.Header("x-amzn-errortype"));
  return e;
}

Status ToStatus(const AwsError& e) {
  std::string message =
      (e.type.empty() ? "HTTP " + std::to_string(e.http_status) : e.type) + ": " + e.message;
  if (!e.request_id.empty()) message += " (request id " + e.request_id + ")";
  const std::string& t = e.type;
  if (IsOneOf(t, {"ThrottlingException", "Throttling", "Throttled", "ThrottledException",
                  "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled",
                  "RequestThrottledException", "SlowDown", "InternalServerException",
                  "InternalFailure", "InternalError", "ServiceUnavailable",
                  "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
                  "InternalException", "KMSThrottling", "LimitExceededException"})) {
    return UnavailableError(message);
  }
  if (t == "ConflictException") return AbortedError(message);
  if (t == "ResourceNotFoundException") return NotFoundError(message);
  if (t == "NotFound") return NotFoundError(message);
  if (IsOneOf(t, {"AccessDeniedException", "AccessDenied", "AuthorizationError"})) {
    return PermissionDeniedError(message);
  }
  if (IsOneOf(t, {"ValidationException", "SerializationException", "InvalidParameterException",
                  "InvalidParameter", "InvalidParameterValue", "InvalidInputException",
                  "ValidationError", "MalformedQueryString", "InvalidAction"})) {
    return InvalidArgumentError(message);
  }
  if (t == "ServiceQuotaExceededException") return ResourceExhaustedError(message);
  if (IsOneOf(t, {"UnrecognizedClientException", "InvalidSignatureException",
                  "IncompleteSignatureException", "SignatureDoesNotMatch", "InvalidClientTokenId",
                  "ExpiredTokenException", "ExpiredToken", "MissingAuthenticationTokenException",
                  "MissingAuthenticationToken", "InvalidAccessException"})) {
    return UnauthenticatedError(message);
  }
  if (e.http_status >= 500 || e.http_status == 429) return UnavailableError(message);
  if (e.http_status == 401) return UnauthenticatedError(message);
  if (e.http_status == 403) return PermissionDeniedError(message);
  if (e.http_status == 404) return NotFoundError(message);
  if (e.http_status == 409) return AbortedError(message);
  if (e.http_status >= 400) return InvalidArgumentError(message);
  return InternalError(message);
}

std::unique_ptr<Limiter> NewLimiter(Clock& clock, double calls_per_second,
                                    int max_creates_in_flight) {
  return std::make_unique<TokenBucketLimiter>(clock, calls_per_second, max_creates_in_flight);
}

JsonClient::JsonClient(ServiceSpec spec, HttpTransport& http, CredentialSource& creds,
                       Limiter& limiter, Clock& clock, RetryPolicy retry)
    : spec_(std::move(spec)),
      http_(http),
      creds_(creds),
      limiter_(limiter),
      clock_(clock),
      retry_(std::move(retry)) {}

std::string_view OutcomeOf(long status, const std::string& error_type) {
  if (status >= 200 && status <= 299) return "ok";
  if (status == 429 || error_type == "ThrottlingException" || error_type == "Throttling" ||
      error_type == "TooManyRequestsException") {
    return "throttled";
  }
  if (status >= 500) return "server_error";
  return "client_error";
}

Result<nlohmann::json> JsonClient::Call(const std::string& operation, const nlohmann::json& body) {
  return Exchange(operation, "POST", "/",
                  {{"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", spec_.target_prefix + "." + operation}},
                  body);
}

Result<nlohmann::json> JsonClient::CallRest(const std::string& operation, const std::string& method,
                                            const std::string& path, const nlohmann::json& body) {
  return Exchange(operation, method, path, {{"Content-Type", "application/json"}}, body);
}

Result<nlohmann::json> JsonClient::Exchange(
    const std::string& operation, const std::string& method, const std::string& path,
    std::vector<std::pair<std::string, std::string>> headers, const nlohmann::json& body) {
  if (!body.is_null() && !body.is_object()) {
    return InvalidArgumentError(operation + ": the request body must be a JSON object");
  }
  std::string payload;
  try {
    payload = body.is_null() ? "{}" : body.dump();
  } catch (const nlohmann::json::exception& ex) {  // invalid UTF-8 in a string
    return InvalidArgumentError(operation + ": cannot encode the request: " + ex.what());
  }
  std::string authority;
  std::string base_path;
  SplitEndpoint(spec_.endpoint, authority, base_path);
  std::string endpoint = spec_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  headers.insert(headers.begin(), {"Host", authority});
  const int attempts = std::max(1, retry_.max_attempts);

  Status last;
  // The service's RetryAfterSeconds, when it gave one, replaces the jittered wait.
  std::optional<Duration> retry_after;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      Duration wait = retry_after.value_or(FullJitter(retry_, attempt - 1));
      retry_after.reset();
      WaitBeforeRetry(retry_, clock_, wait);
    }
    if (IsUrgent(operation)) {
      limiter_.AcquireUrgentCall();
    } else {
      limiter_.AcquireCall();
    }

    Result<Credentials> creds = creds_.Get();
    if (!creds.has_value()) {
      last = creds.error().WithContext(operation + ": credentials");
      if (ShouldRetryCall(last)) continue;
      return last;
    }
    HttpRequest req{
        .method = method, .path = base_path + path, .headers = headers, .body = payload};
    Result<Signature> sig = Sign(
        req, *creds, {.region = spec_.region, .service = spec_.signing_name, .time = clock_.Now()});
    if (!sig.has_value()) return sig.error().WithContext(operation);

    // The endpoint's own path is in `endpoint` already.
    Result<HttpResponse> resp =
        http_.Send({.method = method,
                    .url = endpoint + path,
                    .headers = req.headers,
                    .body = req.body,
                    .connect_timeout = std::min(spec_.timeout, Duration(3000)),
                    .total_timeout = spec_.timeout});
    if (!resp.has_value()) {
      Tell(operation, "network_error");
      last = resp.error().WithContext(operation);
      if (ShouldRetryCall(last)) continue;
      return last;
    }
    if (resp->status >= 200 && resp->status <= 299) {
      Tell(operation, "ok");
      bool blank = std::all_of(resp->body.begin(), resp->body.end(),
                               [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
      if (blank) return nlohmann::json::object();
      nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) {
        return InternalError(operation + ": the answer is not valid JSON (request id " +
                             resp->Header("x-amzn-requestid") + ")");
      }
      return j;
    }
    AwsError error = ParseAwsError(*resp);
    Tell(operation, OutcomeOf(resp->status, error.type));
    last = ToStatus(error).WithContext(operation);
    if (!ShouldRetryCall(last)) return last;
    if (double seconds = RetryAfterSeconds(resp->body); seconds >= 0) {
      // Honoured, within reason: a broken value must not stall a worker for long.
      retry_after = Duration(static_cast<Duration::rep>(std::min(seconds, 60.0) * 1000.0));
    }
  }
  return Status(last.code(), last.message() + " (after " + std::to_string(attempts) + " attempts)");
}

}  // namespace jit::aws
