#include "cutoff/check.h"

#include <gtest/gtest.h>

#include "provider/fake_provider.h"

namespace jit::cutoff {
namespace {

using provider::FakeProvider;

policy::Config WithCutoff(bool on) {
  policy::Config c;
  policy::PermissionSet ps;
  ps.name = "Admin";
  ps.arn = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  if (on) ps.session_cutoff = true;
  c.permission_sets.push_back(ps);
  return c;
}

TEST(CutoffCheckTest, SaysNothingWhenCutoffIsOffOrEverythingIsAllowed) {
  FakeProvider fake;
  fake.FailNext(FakeProvider::Op::kPutInlinePolicy, 1, PermissionDeniedError("AccessDenied"));
  EXPECT_TRUE(PermissionWarnings(fake, WithCutoff(false)).empty());
  EXPECT_EQ(fake.Calls(FakeProvider::Op::kPutInlinePolicy), 0);
  FakeProvider allowed;
  EXPECT_TRUE(PermissionWarnings(allowed, WithCutoff(true)).empty());
}

TEST(CutoffCheckTest, NamesEachCallTheCredentialsMayNotMake) {
  FakeProvider fake;
  fake.FailNext(FakeProvider::Op::kPutInlinePolicy, 1, PermissionDeniedError("AccessDenied"));
  fake.FailNext(FakeProvider::Op::kProvision, 1, PermissionDeniedError("AccessDenied"));
  fake.FailNext(FakeProvider::Op::kDeleteInlinePolicy, 1, NotFoundError("no such set"));
  std::vector<std::string> w = PermissionWarnings(fake, WithCutoff(true));
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("sso:PutInlinePolicyToPermissionSet"), std::string::npos);
  EXPECT_NE(w[1].find("sso:ProvisionPermissionSet"), std::string::npos);
}

TEST(CutoffCheckTest, ATroubleThatIsNotAPermissionIsSaidAsSuch) {
  FakeProvider fake;
  fake.FailNext(FakeProvider::Op::kGetInlinePolicy, 1, UnavailableError("throttled"));
  std::vector<std::string> w = PermissionWarnings(fake, WithCutoff(true));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("could not check sso:GetInlinePolicyForPermissionSet"), std::string::npos);
}

}  // namespace
}  // namespace jit::cutoff
