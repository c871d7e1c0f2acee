#include "app/approver_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "core/mutex.h"
#include "core/testing.h"
#include "provider/fake_group_memberships.h"

namespace jit::app {
namespace approver_directory_test {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;

// Users by name and id; counts DescribeUser calls; fails every call with a status when told.
class FakeUsers final : public provider::Directory, public provider::UserDirectory {
 public:
  void Add(const std::string& name, const std::string& id, std::string email) {
    MutexLock lock(&mu_);
    users_[id] = provider::DirectoryUser{id, name, name, {std::move(email)}};
  }
  void FailWith(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  int describes() const {
    MutexLock lock(&mu_);
    return describes_;
  }
  Result<std::string> UserId(const std::string& username) override {
    MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    for (const auto& [id, u] : users_) {
      if (u.user_name == username) return id;
    }
    return NotFoundError("no user " + username);
  }
  Result<std::string> UserIdByEmail(const std::string&) override {
    return NotFoundError("not used");
  }
  Result<provider::DirectoryUser> DescribeUser(const std::string& user_id) override {
    MutexLock lock(&mu_);
    ++describes_;
    if (!fail_.ok()) return fail_;
    auto it = users_.find(user_id);
    if (it == users_.end()) return NotFoundError("no user " + user_id);
    return it->second;
  }
  Result<std::vector<std::string>> GroupNames(const std::string&) override {
    return std::vector<std::string>{};
  }

 private:
  mutable Mutex mu_;
  std::map<std::string, provider::DirectoryUser> users_ GUARDED_BY(mu_);
  Status fail_ GUARDED_BY(mu_);
  int describes_ GUARDED_BY(mu_) = 0;
};

class ApproverDirectoryTest : public ::testing::Test {
 protected:
  ApproverDirectoryTest() {
    users_.Add("alice", "u-alice", "alice@example.com");
    users_.Add("bob", "u-bob", "bob@example.com");
    users_.Add("carol", "u-carol", "carol@example.com");
    groups_.AddGroup("g-approvers", "approvers");
    for (const char* id : {"u-alice", "u-bob", "u-carol"}) groups_.AddUser(id);
    EXPECT_THAT(groups_.AddMember("g-approvers", "u-carol").error(), IsOk());
    EXPECT_THAT(groups_.AddMember("g-approvers", "u-bob").error(), IsOk());
  }

  static std::vector<std::string> Names(const Result<std::vector<notify::Person>>& people) {
    std::vector<std::string> out;
    if (!people.has_value()) return {"error: " + people.error().ToString()};
    for (const notify::Person& p : *people) out.push_back(p.username + " " + p.emails.at(0));
    return out;
  }

  FakeClock clock_;
  FakeUsers users_;
  provider::FakeGroupMemberships groups_;
  ApproverDirectory directory_{users_, users_, groups_, clock_, std::chrono::minutes(5)};
};

TEST_F(ApproverDirectoryTest, UsersAndGroupMembersEachOnceInUsernameOrder) {
  EXPECT_THAT(
      Names(directory_.People({"carol", "alice", "nobody"}, {"approvers", "gone"})),
      ElementsAre("alice alice@example.com", "bob bob@example.com", "carol carol@example.com"));
  Result<std::vector<std::string>> emails = directory_.Emails("u-bob");
  ASSERT_THAT(emails.error(), IsOk());
  EXPECT_THAT(*emails, ElementsAre("bob@example.com"));
  EXPECT_THAT(directory_.Emails("u-nobody").error(), StatusIs(StatusCode::kNotFound));
}

TEST_F(ApproverDirectoryTest, CachesForTheTtlThenAsksAgain) {
  ASSERT_THAT(directory_.People({}, {"approvers"}).error(), IsOk());
  int groups_calls = groups_.calls("ListMembers");
  int describes = users_.describes();
  ASSERT_THAT(directory_.People({}, {"approvers"}).error(), IsOk());
  EXPECT_EQ(groups_.calls("ListMembers"), groups_calls);
  EXPECT_EQ(users_.describes(), describes);

  // A member added later is seen once the answer is older than the ttl.
  ASSERT_THAT(groups_.AddMember("g-approvers", "u-alice").error(), IsOk());
  clock_.Advance(std::chrono::minutes(4));
  EXPECT_EQ(Names(directory_.People({}, {"approvers"})).size(), 2u);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(Names(directory_.People({}, {"approvers"})).size(), 3u);
  EXPECT_GT(groups_.calls("ListMembers"), groups_calls);
}

TEST_F(ApproverDirectoryTest, AFailedRefreshAnswersTheStaleAnswerAndNoAnswerIsAnError) {
  ASSERT_THAT(directory_.People({}, {"approvers"}).error(), IsOk());
  clock_.Advance(std::chrono::minutes(6));
  groups_.FailWith(UnavailableError("throttled"));
  users_.FailWith(UnavailableError("throttled"));
  EXPECT_THAT(Names(directory_.People({}, {"approvers"})),
              ElementsAre("bob bob@example.com", "carol carol@example.com"));
  // Never asked before: nothing stale to fall back on.
  EXPECT_THAT(directory_.People({"alice"}, {}).error(), StatusIs(StatusCode::kUnavailable));
}

}  // namespace approver_directory_test
}  // namespace jit::app
