#pragma once
// The `aws:` section of the config file: where the broker finds Identity Center.

#include <chrono>
#include <string>

#include "config/reader.h"
#include "core/duration.h"

namespace jit::aws {

// Where the broker finds Identity Center (the `aws:` section). Credentials never come from the
// config: they come from the default credential chain (environment, profiles, roles).
struct AwsSettings {
  std::string region;             // "us-east-1"; empty: AWS_REGION, AWS_DEFAULT_REGION, profile
  std::string instance_arn;       // "arn:aws:sso:::instance/ssoins-<16 characters>"
  std::string identity_store_id;  // "d-<10 hex digits>" (or a UUID)
  // The client-side pacing of every Identity Center call (aws::NewLimiter): calls a second,
  // shared by all clients (AWS's default quota is about 20 for sso-admin and identitystore
  // together), and asynchronous creates outstanding at once (AWS: 10). Raise them only with
  // raised quotas.
  int calls_per_second = 18;       // `calls_per_second`: 1..1000
  int max_creates_in_flight = 10;  // `max_creates_in_flight`: 1..100
  // AWS Organizations, read when the policy names accounts of the organization
  // (docs/POLICY.md "Accounts from AWS Organizations"): how often, and the pacing of its calls
  // (a limiter of its own; AWS throttles Organizations' read calls at a few a second).
  Duration organizations_refresh{std::chrono::minutes(15)};  // 1m..24h
  int organizations_calls_per_second = 4;                    // 1..100
  int line = 0;                                              // of the `aws:` key (0: no section)

  bool Empty() const { return instance_arn.empty() && identity_store_id.empty() && region.empty(); }
};

// Reads `aws: {region, instance_arn, identity_store_id, calls_per_second,
// max_creates_in_flight, organizations_refresh, organizations_calls_per_second}`, reporting
// problems to `reader`. A present section must name the instance and its identity store; the region
// may come from the environment instead. A null `aws:` is the same as none.
AwsSettings ParseAwsSettings(const config::Field& field, config::Reader& reader);

}  // namespace jit::aws
