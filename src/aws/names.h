#pragma once
// Shapes of the AWS names jit is configured with (docs/AWS.md, "sso-admin"): checked when the
// config is read (aws/settings.cc) and again when the Identity Center client is made
// (provider/identity_center.cc). Syntax only; whether the thing exists is AWS's answer. Pure
// functions; thread-safe.

#include <string_view>

namespace jit::aws {

// "us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4", "cn-north-1".
bool IsAwsRegion(std::string_view s);
// arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}
bool IsInstanceArn(std::string_view s);
// d-<10 lowercase hex digits>, or a lowercase UUID.
bool IsIdentityStoreId(std::string_view s);

}  // namespace jit::aws
