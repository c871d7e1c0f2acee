#pragma once
// Credentials of a role the broker assumes (STS AssumeRole), refreshed before they expire: how
// the broker reads CloudTrail in a member account through a read-only role there (issue 17,
// session activity; docs/AWS.md "Session activity").

#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/query_client.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

// The credentials in an AssumeRoleResponse (AccessKeyId, SecretAccessKey, SessionToken,
// Expiration). InvalidArgument when one is missing or Expiration is not RFC 3339.
Result<Credentials> ParseAssumeRoleResponse(std::string_view xml);

struct AssumeRoleSpec {
  std::string role_arn;                           // arn:aws:iam::<account>:role/<name>
  std::string session_name = "jit-activity";      // RoleSessionName, 2..64 of [\w+=,.@-]
  Duration duration = std::chrono::seconds(900);  // DurationSeconds, 15 min..12 h
  QueryServiceSpec sts;  // where STS is (signing name "sts", version "2011-06-15")
};

// A CredentialSource (Name "assume-role") that calls AssumeRole with `base`'s credentials and
// keeps the answer until 5 minutes before it expires (or half its life, when that is shorter).
// Get's errors are AssumeRole's (QueryClient::Call): PermissionDenied when the role may not be
// assumed (AccessDenied), InvalidArgument for a malformed role ARN, Unavailable when STS is
// throttled or unreachable (after its retries). Thread-safe; `http`, `base`, `limiter` and
// `clock` must outlive it.
std::unique_ptr<CredentialSource> NewAssumeRoleCredentials(AssumeRoleSpec spec, HttpTransport& http,
                                                           CredentialSource& base, Limiter& limiter,
                                                           Clock& clock, RetryPolicy retry = {});

}  // namespace jit::aws
