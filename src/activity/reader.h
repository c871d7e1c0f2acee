#pragma once
// Reading CloudTrail in a member account (docs/AWS.md "Session activity"): the broker assumes
// arn:aws:iam::<account>:role/<role name> (aws/assume_role.h) and pages through LookupEvents
// with LookupAttributes [{Username: <user>}] over a time range, paced per account and retried
// with back-off when throttled.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/retry.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"

namespace jit::activity {

// The raw answer of one lookup: LookupEvents' Events[] members, newest first.
struct Lookup {
  std::vector<nlohmann::json> events;
  bool truncated = false;  // stopped at `max_events` with more to read
  int calls = 0;           // LookupEvents pages read
};

// Reads a user's CloudTrail events in an account. Thread-safe.
class EventReader {
 public:
  virtual ~EventReader() = default;
  // The events of `user_name` in `account_id` from `start` to `end` (both included), at most
  // `max_events`. Errors: PermissionDenied (the role cannot be assumed, or may not read
  // CloudTrail), Unavailable (throttled or unreachable after the retries), InvalidArgument
  // (CloudTrail refused the input), Unauthenticated (the broker's own credentials).
  virtual Result<Lookup> Read(const std::string& account_id, const std::string& user_name,
                              Time start, Time end, int max_events) = 0;
};

struct CloudTrailReaderOptions {
  std::string role_name;                      // the read-only role in each account
  std::string session_name = "jit-activity";  // RoleSessionName
  std::string region;                         // where CloudTrail is read
  std::string sts_endpoint;                   // "https://sts.<region>.amazonaws.com"
  std::string cloudtrail_endpoint;            // "https://cloudtrail.<region>.amazonaws.com"
  double calls_per_second = 2;                // LookupEvents per account (AWS: 2)
  // Retries of one call (throttling, 5xx, time-outs), with full-jitter back-off.
  aws::RetryPolicy retry{.max_attempts = 8, .base = Duration(500), .max = Duration(10000)};
  // Told about every attempt (metrics, call health); may be empty.
  aws::CallObserver observer;
};

// LookupEvents over AssumeRole. `http`, `base` (the broker's own credentials) and `clock` must
// outlive it. The assumed role's credentials are kept per account until shortly before they
// expire; each account has its own pacing (LookupEvents' quota is per account).
class CloudTrailReader final : public EventReader {
 public:
  CloudTrailReader(CloudTrailReaderOptions options, aws::HttpTransport& http,
                   aws::CredentialSource& base, Clock& clock);
  ~CloudTrailReader() override;

  Result<Lookup> Read(const std::string& account_id, const std::string& user_name, Time start,
                      Time end, int max_events) override;

 private:
  struct Account {
    std::unique_ptr<aws::CredentialSource> role;
    std::unique_ptr<aws::Limiter> limiter;
    std::unique_ptr<aws::JsonClient> cloudtrail;
  };
  Account& AccountFor(const std::string& account_id);

  const CloudTrailReaderOptions options_;
  aws::HttpTransport& http_;
  aws::CredentialSource& base_;
  Clock& clock_;
  std::unique_ptr<aws::Limiter> sts_limiter_;  // AssumeRole calls, all accounts
  Mutex mu_;
  // Never erased: the references AccountFor hands out stay valid.
  std::map<std::string, std::unique_ptr<Account>> accounts_ GUARDED_BY(mu_);
};

}  // namespace jit::activity
