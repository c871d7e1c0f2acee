#include "permsets/check.h"

#include <gtest/gtest.h>

#include "provider/fake_permission_set_admin.h"

namespace jit::permsets {
namespace {

constexpr char kInstance[] = "arn:aws:sso:::instance/ssoins-1111111111111111";

TEST(PermissionWarningsTest, NothingWithoutDefinitionsOrWhenEverythingIsAllowed) {
  provider::FakePermissionSetAdmin admin;
  EXPECT_TRUE(PermissionWarnings(admin, kInstance, {}).empty());
  Definition d;
  d.name = "ReadOnly";
  // The fake knows no permission set ps-0000000000000000: every probe is "not found".
  EXPECT_TRUE(PermissionWarnings(admin, kInstance, {d}).empty());
  EXPECT_TRUE(admin.ListPermissionSets().value().empty());  // nothing was made
}

TEST(PermissionWarningsTest, NamesTheCallsTheCredentialsMayNotMake) {
  provider::FakePermissionSetAdmin admin;
  admin.FailNext("AttachManagedPolicyToPermissionSet", PermissionDeniedError("AccessDenied"));
  admin.FailNext("TagResource", PermissionDeniedError("AccessDenied"));
  admin.FailNext("ListPermissionSets", UnavailableError("throttled"));
  Definition d;
  d.name = "ReadOnly";
  std::vector<std::string> w = PermissionWarnings(admin, kInstance, {d});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NE(w[0].find("could not check sso:ListPermissionSets"), std::string::npos);
  EXPECT_NE(w[1].find("may not call sso:AttachManagedPolicyToPermissionSet"), std::string::npos);
  EXPECT_NE(w[2].find("may not call sso:TagResource"), std::string::npos);
}

}  // namespace
}  // namespace jit::permsets
