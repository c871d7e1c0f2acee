#pragma once
// An awsJson 1.1 client: signs, sends, parses AWS errors, retries and rate-limits.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

// An AWS error as the service reported it.
struct AwsError {
  long http_status = 0;
  std::string type;  // normalised: "ThrottlingException" (namespace and ":suffix" cut)
  std::string message;
  std::string request_id;  // x-amzn-RequestId
};

// The text of the first <name>...</name> element of an XML document, entities decoded; nullopt
// when there is none. Enough for the flat answers of query-protocol services; not a parser.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name);
// &amp; &lt; &gt; &quot; &apos; and numeric references decoded.
std::string XmlUnescape(std::string_view s);

// Parses an error body/response into AwsError (type normalised as the AWS SDKs do).
AwsError ParseAwsError(const HttpResponse& response);

// How an AwsError maps to a Status code: ThrottlingException, InternalServerException,
// ServiceUnavailable and 5xx -> Unavailable; ConflictException -> Aborted;
// ResourceNotFoundException -> NotFound; AccessDeniedException -> PermissionDenied;
// ValidationException -> InvalidArgument; ServiceQuotaExceededException -> ResourceExhausted;
// signature/credential errors -> Unauthenticated. The message is "<type>: <message>".
Status ToStatus(const AwsError& e);

struct ServiceSpec {
  std::string endpoint;  // "https://sso.us-east-1.amazonaws.com"
  std::string region;
  std::string signing_name;            // "sso"
  std::string target_prefix;           // "SWBExternalService"; empty for REST-JSON services
  Duration timeout = Duration(15000);  // one attempt, connecting included (at most 3s of it)
};

// Told about every attempt of a call to AWS: the operation ("CreateAccountAssignment") and how
// it ended: "ok", "throttled" (ThrottlingException or 429), "client_error" (another 4xx or a
// refused request), "server_error" (5xx) or "network_error" (no answer). Must not block.
using CallObserver = std::function<void(const std::string& operation, std::string_view outcome)>;

// The outcome name of one attempt's answer (for CallObserver): `status` is the HTTP status.
std::string_view OutcomeOf(long status, const std::string& error_type);

// Client-side limits shared by every client built on the same Limiter.
class Limiter {
 public:
  virtual ~Limiter() = default;
  // Blocks until a call may start (token bucket). Returns at once when not limited.
  virtual void AcquireCall() = 0;
  // As AcquireCall, for a call that ends access (a delete and its status): while such calls
  // wait, they take the tokens before any other call (issue 18: revocations go before grants
  // when the pacing rate is the limit). Default: AcquireCall.
  virtual void AcquireUrgentCall() { AcquireCall(); }
  // Blocks until fewer than the limit of creates are in flight, then counts one in flight.
  virtual void AcquireCreate() = 0;
  virtual void ReleaseCreate() = 0;
};
// Default: 18 calls/s shared, at most 10 creates in flight. Thread-safe; urgent callers that
// wait are served before others, each kind in no particular order.
std::unique_ptr<Limiter> NewLimiter(Clock& clock, double calls_per_second = 18,
                                    int max_creates_in_flight = 10);

// One awsJson 1.1 service. Thread-safe.
class JsonClient {
 public:
  JsonClient(ServiceSpec spec, HttpTransport& http, CredentialSource& creds, Limiter& limiter,
             Clock& clock, RetryPolicy retry = {});
  // POST / with X-Amz-Target: <target_prefix>.<operation>; returns the parsed JSON answer.
  // Throttling, 5xx and time-outs are retried with jittered back-off up to max_attempts; other
  // errors come back at once (see ToStatus). A RetryAfterSeconds in a throttling answer is
  // honoured.
  Result<nlohmann::json> Call(const std::string& operation, const nlohmann::json& body);
  // A REST-JSON call (Security Hub): `method` `path` (under the endpoint's path) with a JSON
  // body sent as application/json; errors, retries and the answer as for Call. `operation`
  // names the call in messages.
  Result<nlohmann::json> CallRest(const std::string& operation, const std::string& method,
                                  const std::string& path, const nlohmann::json& body);

  // Every attempt is reported to `observer` (metrics). Set it before the first call.
  void SetObserver(CallObserver observer) { observer_ = std::move(observer); }

 private:
  void Tell(const std::string& operation, std::string_view outcome) const {
    if (observer_) observer_(operation, outcome);
  }
  Result<nlohmann::json> Exchange(const std::string& operation, const std::string& method,
                                  const std::string& path,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  const nlohmann::json& body);

  ServiceSpec spec_;
  HttpTransport& http_;
  CredentialSource& creds_;
  Limiter& limiter_;
  Clock& clock_;
  RetryPolicy retry_;
  CallObserver observer_;
};

}  // namespace jit::aws
