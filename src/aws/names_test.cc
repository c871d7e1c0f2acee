#include "aws/names.h"

#include <gtest/gtest.h>

namespace jit::aws {
namespace {

TEST(AwsNames, Shapes) {
  for (const char* r : {"us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1",
                        "cn-north-1", "il-central-1", "us-isob-east-1"}) {
    EXPECT_TRUE(IsAwsRegion(r)) << r;
  }
  for (const char* r :
       {"", "us-east", "US-EAST-1", "us_east_1", "us-east-1a", "useast1", "us-east-123"}) {
    EXPECT_FALSE(IsAwsRegion(r)) << r;
  }
  EXPECT_TRUE(IsInstanceArn("arn:aws:sso:::instance/ssoins-1111111111111111"));
  EXPECT_TRUE(IsInstanceArn("arn:aws:sso:::instance/ins-1111111111111111"));
  EXPECT_TRUE(IsInstanceArn("arn:aws-cn:sso:::instance/ssoins-a.b-c.d-e.f-g.h-"));
  EXPECT_FALSE(IsInstanceArn("arn:aws:sso:::instance/ssoins-111111111111111"));
  EXPECT_FALSE(IsInstanceArn("arn:aws:sso:::permissionSet/ssoins-1111111111111111"));
  EXPECT_FALSE(IsInstanceArn("arn:aws:sso:::instance/ssoins-1111111111111111 "));
  EXPECT_TRUE(IsIdentityStoreId("d-1111111111"));
  EXPECT_TRUE(IsIdentityStoreId("d-90679d1a2b"));
  EXPECT_TRUE(IsIdentityStoreId("0123abcd-0123-4567-89ab-0123456789ab"));
  EXPECT_FALSE(IsIdentityStoreId("d-111111111"));
  EXPECT_FALSE(IsIdentityStoreId("d-111111111G"));
  EXPECT_FALSE(IsIdentityStoreId("s-1111111111"));
}

}  // namespace
}  // namespace jit::aws
