// IdentityCenterProvider's UserDirectory (e-mail look-up, DescribeUser, groups) against the
// emulator over loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "provider/identity_center.h"

namespace jit::provider {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class IdentityCenterDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<emulator::Emulator>(emulator::EmulatorOptions(), clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    creds_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    limiter_ = aws::NewLimiter(clock_, 0, 10);
    sso_ = std::make_unique<aws::JsonClient>(SsoAdminSpec(emulator_->url(), "us-east-1"), *http_,
                                             *creds_, *limiter_, clock_,
                                             aws::RetryPolicy{.max_attempts = 1});
    ids_ = std::make_unique<aws::JsonClient>(IdentityStoreSpec(emulator_->url(), "us-east-1"),
                                             *http_, *creds_, *limiter_, clock_,
                                             aws::RetryPolicy{.max_attempts = 1});
    IdentityCenterOptions options;
    options.instance_arn = "arn:aws:sso:::instance/ssoins-1111111111111111";
    options.identity_store_id = "d-1111111111";
    provider_ = std::make_unique<IdentityCenterProvider>(options, *sso_, *ids_, *limiter_, clock_);
  }

  std::int64_t Calls(const std::string& op) {
    return emulator_->State()["calls"].value(op, std::int64_t{0});
  }

  FakeClock clock_;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> creds_;
  std::unique_ptr<aws::Limiter> limiter_;
  std::unique_ptr<aws::JsonClient> sso_;
  std::unique_ptr<aws::JsonClient> ids_;
  std::unique_ptr<IdentityCenterProvider> provider_;
};

TEST_F(IdentityCenterDirectoryTest, MapsAnEmailToTheUserAndItsGroups) {
  Result<std::string> id = provider_->UserIdByEmail("Carol@Example.com");
  ASSERT_OK(id);
  EXPECT_EQ(*id, "ca401000-0000-4000-8000-000000000003");
  Result<DirectoryUser> user = provider_->DescribeUser(*id);
  ASSERT_OK(user);
  EXPECT_EQ(user->user_name, "carol");
  EXPECT_THAT(user->emails, ElementsAre("carol@example.com"));
  Result<std::vector<std::string>> groups = provider_->GroupNames(*id);
  ASSERT_OK(groups);
  EXPECT_THAT(*groups, UnorderedElementsAre("approvers", "sre", "admins"));
}

TEST_F(IdentityCenterDirectoryTest, UnknownUsersAreNotFoundAndAnswersAreCachedBriefly) {
  EXPECT_THAT(provider_->UserIdByEmail("nobody@example.com"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(provider_->UserIdByEmail("not-an-address"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(provider_->DescribeUser("00000000-0000-4000-8000-000000000999"),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK(provider_->UserIdByEmail("bob@example.com"));
  ASSERT_OK(provider_->UserIdByEmail("bob@example.com"));
  ASSERT_OK(provider_->GroupNames("b0b00000-0000-4000-8000-000000000002"));
  ASSERT_OK(provider_->GroupNames("b0b00000-0000-4000-8000-000000000002"));
  EXPECT_EQ(Calls("GetUserId"), 2);  // nobody and bob; the bad address never left
  EXPECT_EQ(Calls("ListGroupMembershipsForMember"), 1);
  EXPECT_EQ(Calls("DescribeGroup"), 1);
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_OK(provider_->UserIdByEmail("bob@example.com"));
  EXPECT_EQ(Calls("GetUserId"), 3);
}

}  // namespace
}  // namespace jit::provider
