#include "aws/settings.h"

#include <optional>

#include "aws/names.h"

namespace jit::aws {

AwsSettings ParseAwsSettings(const config::Field& f, config::Reader& r) {
  AwsSettings aws;
  if (f.value.IsNull()) return aws;
  std::optional<config::Fields> fields = r.Map(
      f, {"region", "instance_arn", "identity_store_id", "calls_per_second",
          "max_creates_in_flight", "organizations_refresh", "organizations_calls_per_second"});
  if (!fields) return aws;
  aws.line = f.line;
  if (const config::Field* region = fields->Get("region")) {
    if (auto s = r.String(*region)) {
      if (!IsAwsRegion(*s)) {
        r.Error(region->line, "'" + *s + "' is not an AWS region (like us-east-1)");
      } else {
        aws.region = *s;
      }
    }
  }
  if (auto arn = r.RequiredString(*fields, "instance_arn", f.line, "'aws'")) {
    if (!IsInstanceArn(*arn)) {
      r.Error(fields->Get("instance_arn")->line, "'" + *arn +
                                                     "' is not an Identity Center instance ARN " +
                                                     "(arn:aws:sso:::instance/ssoins-<16>)");
    } else {
      aws.instance_arn = *arn;
    }
  }
  if (auto id = r.RequiredString(*fields, "identity_store_id", f.line, "'aws'")) {
    if (!IsIdentityStoreId(*id)) {
      r.Error(fields->Get("identity_store_id")->line,
              "'" + *id + "' is not an identity store id (d-<10 hex digits>)");
    } else {
      aws.identity_store_id = *id;
    }
  }
  if (const config::Field* x = fields->Get("calls_per_second")) {
    if (auto n = r.Int(*x, 1, 1000)) aws.calls_per_second = *n;
  }
  if (const config::Field* x = fields->Get("max_creates_in_flight")) {
    if (auto n = r.Int(*x, 1, 100)) aws.max_creates_in_flight = *n;
  }
  if (const config::Field* x = fields->Get("organizations_refresh")) {
    if (auto d = r.DurationIn(*x, std::chrono::minutes(1), std::chrono::hours(24),
                              "'organizations_refresh' must be from 1m to 24h")) {
      aws.organizations_refresh = *d;
    }
  }
  if (const config::Field* x = fields->Get("organizations_calls_per_second")) {
    if (auto n = r.Int(*x, 1, 100)) aws.organizations_calls_per_second = *n;
  }
  return aws;
}

}  // namespace jit::aws
