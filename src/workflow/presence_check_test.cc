// PresenceCheck: one listing of a target answers "absent" for a burst of grants, "present" is
// always asked again, and errors are passed on (issue 18: Identity Center calls per lifecycle).

#include "workflow/presence_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/testing.h"
#include "provider/fake_provider.h"

namespace jit::workflow {
namespace presence_check_test {
namespace {

using provider::Assignment;
using provider::FakeProvider;

constexpr char kAccount[] = "111111111111";
constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";

Assignment For(const std::string& user) { return {user, kAccount, kPs}; }

class PresenceCheckTest : public ::testing::Test {
 protected:
  std::int64_t Lists() const { return provider_.Calls(FakeProvider::Op::kList); }

  FakeClock clock_;
  FakeProvider provider_;
};

TEST_F(PresenceCheckTest, OneListingAnswersABurstOfAbsentUsers) {
  PresenceCheck check(provider_, clock_, std::chrono::seconds(5));
  provider_.AddStanding(For("u-standing"));
  for (int i = 0; i < 20; ++i) {
    auto exists = check.Exists(For("u-" + std::to_string(i)));
    ASSERT_THAT(exists, IsOk());
    EXPECT_FALSE(*exists);
    clock_.Advance(std::chrono::milliseconds(200));  // 20 grants over 4 s
  }
  EXPECT_EQ(Lists(), 1);
  EXPECT_EQ(check.listings(), 1);
  // Another target is listed on its own.
  auto other = check.Exists({"u-0", "222222222222", kPs});
  ASSERT_THAT(other, IsOk());
  EXPECT_FALSE(*other);
  EXPECT_EQ(Lists(), 2);
}

TEST_F(PresenceCheckTest, ListsAgainOnceTheListingHasAged) {
  PresenceCheck check(provider_, clock_, std::chrono::seconds(5));
  ASSERT_THAT(check.Exists(For("u-1")), IsOk());
  clock_.Advance(std::chrono::seconds(5) + std::chrono::milliseconds(1));
  ASSERT_THAT(check.Exists(For("u-2")), IsOk());
  EXPECT_EQ(Lists(), 2);
}

TEST_F(PresenceCheckTest, PresentIsAskedAgainSoThatAnEndedAssignmentIsNotTakenForStanding) {
  PresenceCheck check(provider_, clock_, std::chrono::seconds(5));
  // The listing sees alice's assignment while an earlier grant of hers holds it ...
  provider_.AddStanding(For("alice"));
  auto held = check.Exists(For("alice"));
  ASSERT_THAT(held, IsOk());
  EXPECT_TRUE(*held);
  // ... which then ends: the next grant must not take the assignment for standing access.
  ASSERT_THAT(provider_.Revoke(For("alice")), IsOk());
  auto again = check.Exists(For("alice"));
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(*again);
  EXPECT_EQ(Lists(), 2);
  // That fresh listing answers "absent" for others in turn.
  ASSERT_THAT(check.Exists(For("bob")), IsOk());
  EXPECT_EQ(Lists(), 2);
}

TEST_F(PresenceCheckTest, AnAssignmentMadeOutsideJitWithinTheReuseIsSeenOnlyAfterIt) {
  // The documented cost of the reuse.
  PresenceCheck check(provider_, clock_, std::chrono::seconds(5));
  ASSERT_THAT(check.Exists(For("u-1")), IsOk());
  provider_.AddStanding(For("bob"));
  auto within = check.Exists(For("bob"));
  ASSERT_THAT(within, IsOk());
  EXPECT_FALSE(*within);
  clock_.Advance(std::chrono::seconds(6));
  auto after = check.Exists(For("bob"));
  ASSERT_THAT(after, IsOk());
  EXPECT_TRUE(*after);
}

TEST_F(PresenceCheckTest, ZeroReuseListsEveryTime) {
  PresenceCheck check(provider_, clock_, Duration(0));
  ASSERT_THAT(check.Exists(For("u-1")), IsOk());
  provider_.AddStanding(For("bob"));
  auto bob = check.Exists(For("bob"));
  ASSERT_THAT(bob, IsOk());
  EXPECT_TRUE(*bob);
  EXPECT_EQ(Lists(), 2);
}

TEST_F(PresenceCheckTest, AFailedListingIsPassedOnAndNotKept) {
  PresenceCheck check(provider_, clock_, std::chrono::seconds(5));
  provider_.FailNext(FakeProvider::Op::kList, 1, UnavailableError("throttled"));
  EXPECT_THAT(check.Exists(For("u-1")), StatusIs(StatusCode::kUnavailable));
  provider_.AddStanding(For("u-1"));
  auto exists = check.Exists(For("u-1"));
  ASSERT_THAT(exists, IsOk());
  EXPECT_TRUE(*exists);
  EXPECT_EQ(Lists(), 2);
}

// Forwards to a FakeProvider; each listing takes 50 ms of real time.
class SlowListing final : public provider::Provider {
 public:
  explicit SlowListing(FakeProvider& p) : p_(p) {}
  Result<provider::Operation> Grant(const Assignment& a) override { return p_.Grant(a); }
  Result<provider::Operation> GrantStatus(const std::string& id) override {
    return p_.GrantStatus(id);
  }
  Result<provider::Operation> Revoke(const Assignment& a) override { return p_.Revoke(a); }
  Result<provider::Operation> RevokeStatus(const std::string& id) override {
    return p_.RevokeStatus(id);
  }
  Result<std::vector<Assignment>> ListAssignments(const std::string& account,
                                                  const std::string& ps) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return p_.ListAssignments(account, ps);
  }

 private:
  FakeProvider& p_;
};

TEST_F(PresenceCheckTest, ConcurrentChecksShareTheListingUnderWay) {
  SlowListing slow(provider_);
  PresenceCheck check(slow, clock_, std::chrono::seconds(5));
  provider_.AddStanding(For("u-3"));
  std::atomic<int> present{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto exists = check.Exists(For("u-" + std::to_string(i)));
      if (!exists.has_value()) {
        ++failed;
      } else if (*exists) {
        ++present;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(present.load(), 1);  // u-3, from a listing asked for after its check began
  // One listing for the seven absent users; u-3's "present" may need one of its own when its
  // check began after the shared listing had started.
  EXPECT_LE(Lists(), 2);
}

}  // namespace
}  // namespace presence_check_test
}  // namespace jit::workflow
