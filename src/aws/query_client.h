#pragma once
// An AWS query-protocol client (SNS, STS): signed, form-encoded `POST /` with Action and
// Version, XML answers. Shares the signer, transport, Limiter, retry policy and error mapping
// of the awsJson client (json_client.h).

#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

struct QueryServiceSpec {
  std::string endpoint;                // "https://sns.us-east-1.amazonaws.com"
  std::string region;                  // "us-east-1"
  std::string signing_name;            // "sns", "sts"
  std::string version;                 // "2010-03-31" (SNS), "2011-06-15" (STS)
  Duration timeout = Duration(15000);  // one attempt, connecting included (at most 3s of it)
};

// `key=value&...` with both sides percent-encoded as SigV4 wants (UriEncode), in order.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params);

// One query-protocol service. Thread-safe.
class QueryClient {
 public:
  QueryClient(QueryServiceSpec spec, HttpTransport& http, CredentialSource& creds, Limiter& limiter,
              Clock& clock, RetryPolicy retry = {});
  // Sends Action=<action>&Version=<version>&<params>; returns the XML answer. Errors and
  // retries as JsonClient::Call (the XML error's Code decides, see ToStatus).
  Result<std::string> Call(const std::string& action,
                           const std::vector<std::pair<std::string, std::string>>& params);

 private:
  QueryServiceSpec spec_;
  HttpTransport& http_;
  CredentialSource& creds_;
  Limiter& limiter_;
  Clock& clock_;
  RetryPolicy retry_;
};

}  // namespace jit::aws
