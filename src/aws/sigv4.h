#pragma once
// AWS Signature Version 4 (header signing) with OpenSSL. Checked against AWS's published vectors
// (tests/testdata/sigv4).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;       // empty for long-term keys
  std::optional<Time> expiration;  // set for temporary credentials

  bool Empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

// An HTTP request as it will go on the wire (or as it arrived, for verification).
struct HttpRequest {
  std::string method;  // "POST"
  std::string path;    // raw path as sent, without the query: "/"
  std::string query;   // raw query string without '?': "a=b&c=d" or ""
  std::vector<std::pair<std::string, std::string>> headers;  // in order; names as sent
  std::string body;

  // The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // Replaces every header of this name (case-insensitive) by one with `value`.
  void SetHeader(std::string_view name, std::string value);
};

struct SigningParams {
  std::string region;               // "us-east-1"
  std::string service;              // signing name: "sso", "identitystore", "sts", ...
  Time time;                        // the request time (X-Amz-Date)
  bool normalize_path = true;       // false only for S3 (never used by jit)
  bool sign_body = false;           // add x-amz-content-sha256 (the JS SDK does; botocore not)
  bool omit_session_token = false;  // sign without X-Amz-Security-Token, add it after
};

// The intermediate results, exposed for tests against AWS's vectors.
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // the Authorization header value
};

// Signs `req` in place: sets X-Amz-Date, X-Amz-Security-Token (with a session token),
// x-amz-content-sha256 (with sign_body) and Authorization. Host must already be set.
// Every header present is signed (an old Authorization is dropped first). The canonical URI is
// `path` (the wire path, already encoded once by whoever built it) normalised and URI-encoded
// once more: AWS's "encode twice" rule for non-S3 services. The query is percent-decoded and
// re-encoded pair by pair, then sorted.
// InvalidArgument when a required part is missing (credentials, Host, region, service).
Result<Signature> Sign(HttpRequest& req, const Credentials& creds, const SigningParams& params);

// The parts of a received Authorization header.
struct AuthorizationHeader {
  std::string access_key_id;
  std::string date;  // yyyymmdd of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;
  std::string signature;
};
Result<AuthorizationHeader> ParseAuthorization(std::string_view value);

// Checks a received request's signature (for the emulator). `secret_for` returns the secret of
// an access key id (nullopt: unknown key). The request must carry X-Amz-Date within `max_skew`
// of `now`, sign at least host and x-amz-date, and use `expected_service`. Errors:
// Unauthenticated with AWS's error type as the message prefix: "UnrecognizedClientException: ..."
// (unknown key), "InvalidSignatureException: ..." (mismatch, skew, malformed), "
// IncompleteSignatureException: ..." (no or incomplete Authorization header).
Status Verify(const HttpRequest& req,
              const std::function<std::optional<std::string>(std::string_view)>& secret_for,
              std::string_view expected_service, Time now, Duration max_skew);

// "%XX"-encodes all but A-Za-z0-9-_.~ (uppercase hex); `keep_slash` leaves '/' as is.
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace jit::aws
