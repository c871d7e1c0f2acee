// GroupMemberships (group elevation, issue 16): one conformance suite run against the
// fake and against IdentityStoreGroupMemberships talking to the emulator over loopback, so that
// the fake cannot drift from the wire; then the wire's own cases (paging, error mapping, the
// calls it makes) against the emulator and a scripted transport.

#include "provider/group_membership.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/test_fakes.h"
#include "core/check.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "provider/fake_group_memberships.h"
#include "provider/identity_center.h"

namespace jit::provider {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using json = nlohmann::json;

// The emulator's default seed (emulator/seed.cc DefaultSeed), mirrored in the fake.
constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";
constexpr char kCarol[] = "ca401000-0000-4000-8000-000000000003";
constexpr char kEngineers[] = "e0000000-0000-4000-8000-000000000011";  // alice
constexpr char kApprovers[] = "a0000000-0000-4000-8000-000000000012";  // bob, carol
constexpr char kNobody[] = "00000000-0000-4000-8000-00000000dead";

std::vector<std::string> UserIds(const std::vector<GroupMember>& members) {
  std::vector<std::string> out;
  for (const GroupMember& m : members) out.push_back(m.user_id);
  return out;
}

// The emulator with a signed identitystore client and IdentityStoreGroupMemberships over it.
struct EmulatorBackend {
  explicit EmulatorBackend(int page_size = 100) {
    emulator = std::make_unique<emulator::Emulator>(emulator::EmulatorOptions(), clock);
    JIT_CHECK(emulator->Start().ok());
    http = aws::NewCurlTransport();
    creds = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    limiter = aws::NewLimiter(clock, 0, 10);
    ids = std::make_unique<aws::JsonClient>(IdentityStoreSpec(emulator->url(), "us-east-1"), *http,
                                            *creds, *limiter, clock,
                                            aws::RetryPolicy{.max_attempts = 1});
    IdentityStoreGroupsOptions options;
    options.identity_store_id = "d-1111111111";
    options.page_size = page_size;
    groups = std::make_unique<IdentityStoreGroupMemberships>(options, *ids);
  }
  std::int64_t Calls(const std::string& op) {
    return emulator->State()["calls"].value(op, std::int64_t{0});
  }

  FakeClock clock;
  std::unique_ptr<emulator::Emulator> emulator;
  std::unique_ptr<aws::HttpTransport> http;
  std::unique_ptr<aws::CredentialSource> creds;
  std::unique_ptr<aws::Limiter> limiter;
  std::unique_ptr<aws::JsonClient> ids;
  std::unique_ptr<IdentityStoreGroupMemberships> groups;
};

// ---- Conformance: the fake and the wire answer alike -------------------------------------------

class GroupMembershipsConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      fake_ = std::make_unique<FakeGroupMemberships>();
      fake_->AddGroup(kEngineers, "engineers");
      fake_->AddGroup(kApprovers, "approvers");
      for (const char* u : {kAlice, kBob, kCarol}) fake_->AddUser(u);
      ASSERT_OK(fake_->AddMember(kEngineers, kAlice));
      ASSERT_OK(fake_->AddMember(kApprovers, kBob));
      ASSERT_OK(fake_->AddMember(kApprovers, kCarol));
      groups_ = fake_.get();
    } else {
      wire_ = std::make_unique<EmulatorBackend>(/*page_size=*/2);
      groups_ = wire_->groups.get();
    }
  }

  GroupMemberships& groups() { return *groups_; }

  std::unique_ptr<FakeGroupMemberships> fake_;
  std::unique_ptr<EmulatorBackend> wire_;
  GroupMemberships* groups_ = nullptr;
};

TEST_P(GroupMembershipsConformance, AddFindListAndRemoveAMember) {
  Result<std::string> id = groups().AddMember(kEngineers, kBob);
  ASSERT_OK(id);
  EXPECT_FALSE(id->empty());
  Result<std::optional<std::string>> found = groups().MembershipId(kEngineers, kBob);
  ASSERT_OK(found);
  EXPECT_EQ(*found, *id);
  Result<std::vector<GroupMember>> members = groups().ListMembers(kEngineers);
  ASSERT_OK(members);
  EXPECT_THAT(UserIds(*members), ElementsAre(kAlice, kBob));
  EXPECT_EQ(members->back(), (GroupMember{*id, kBob}));

  ASSERT_OK(groups().RemoveMember(*id));
  found = groups().MembershipId(kEngineers, kBob);
  ASSERT_OK(found);
  EXPECT_EQ(*found, std::nullopt);
  members = groups().ListMembers(kEngineers);
  ASSERT_OK(members);
  EXPECT_THAT(UserIds(*members), ElementsAre(kAlice));
  // Removing it again: NotFound, which a retrying caller may take as done.
  EXPECT_THAT(groups().RemoveMember(*id), StatusIs(StatusCode::kNotFound));
}

TEST_P(GroupMembershipsConformance, AddingAMemberTwiceIsAlreadyExistsAndTheIdIsFindable) {
  // alice's standing membership of engineers.
  Result<std::optional<std::string>> standing = groups().MembershipId(kEngineers, kAlice);
  ASSERT_OK(standing);
  ASSERT_TRUE(standing->has_value());
  Result<std::string> again = groups().AddMember(kEngineers, kAlice);
  EXPECT_THAT(again, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(again.error().message(), HasSubstr(**standing));
  Result<std::vector<GroupMember>> members = groups().ListMembers(kEngineers);
  ASSERT_OK(members);
  EXPECT_THAT(*members, ElementsAre(GroupMember{**standing, kAlice}));
}

TEST_P(GroupMembershipsConformance, UnknownGroupsUsersAndNamesAreNotFound) {
  EXPECT_THAT(groups().AddMember(kNobody, kBob), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(groups().AddMember(kEngineers, kNobody), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(groups().MembershipId(kNobody, kBob), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(groups().ListMembers(kNobody), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(groups().RemoveMember(kNobody), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(groups().GroupId("nobody"), StatusIs(StatusCode::kNotFound));
  // A user that is in the store but not in the group is not a member, not an error.
  Result<std::optional<std::string>> none = groups().MembershipId(kEngineers, kCarol);
  ASSERT_OK(none);
  EXPECT_EQ(*none, std::nullopt);
  // Nor is a user the store does not know, in a group it knows.
  Result<std::optional<std::string>> unknown_user = groups().MembershipId(kEngineers, kNobody);
  ASSERT_OK(unknown_user);
  EXPECT_EQ(*unknown_user, std::nullopt);
}

TEST_P(GroupMembershipsConformance, GroupIdFindsAGroupByDisplayName) {
  Result<std::string> id = groups().GroupId("approvers");
  ASSERT_OK(id);
  EXPECT_EQ(*id, kApprovers);
}

TEST_P(GroupMembershipsConformance, ListsMoreMembersThanOnePage) {
  // The wire backend pages two at a time.
  ASSERT_OK(groups().AddMember(kApprovers, kAlice));
  Result<std::vector<GroupMember>> members = groups().ListMembers(kApprovers);
  ASSERT_OK(members);
  EXPECT_THAT(UserIds(*members), ElementsAre(kBob, kCarol, kAlice));
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupMembershipsConformance,
                         ::testing::Values("fake", "emulator"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

// ---- The wire ---------------------------------------------------------------------------------

TEST(IdentityStoreGroupMemberships, PagesThroughEveryMemberWithTheConfiguredPageSize) {
  EmulatorBackend wire(/*page_size=*/1);
  ASSERT_OK(wire.groups->AddMember(kApprovers, kAlice));
  Result<std::vector<GroupMember>> members = wire.groups->ListMembers(kApprovers);
  ASSERT_OK(members);
  EXPECT_THAT(*members, SizeIs(3));
  EXPECT_EQ(wire.Calls("ListGroupMemberships"), 3);
}

TEST(IdentityStoreGroupMemberships, BadIdsAreRefusedBeforeAnyCall) {
  EmulatorBackend wire;
  EXPECT_THAT(wire.groups->AddMember("", kBob), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(wire.groups->AddMember(kEngineers, std::string(48, 'a')),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(wire.groups->RemoveMember(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(wire.groups->ListMembers(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(wire.groups->GroupId(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(wire.emulator->State()["calls"].empty()) << wire.emulator->State()["calls"];
  // A well-formed length but a malformed id reaches AWS, which refuses it.
  EXPECT_THAT(wire.groups->AddMember("engineers", kBob), StatusIs(StatusCode::kInvalidArgument));
}

TEST(IdentityStoreGroupMemberships, ThrottlingIsUnavailableAndChangesNothing) {
  EmulatorBackend wire;
  emulator::Faults faults;
  faults.throttle_rate = 1.0;
  wire.emulator->SetFaults(faults);
  EXPECT_THAT(wire.groups->AddMember(kEngineers, kBob), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(wire.groups->RemoveMember(kNobody), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(wire.groups->ListMembers(kEngineers), StatusIs(StatusCode::kUnavailable));
  wire.emulator->SetFaults(emulator::Faults());
  Result<std::optional<std::string>> none = wire.groups->MembershipId(kEngineers, kBob);
  ASSERT_OK(none);
  EXPECT_EQ(*none, std::nullopt);
}

TEST(IdentityStoreGroupMemberships, MembershipIdAsksDescribeGroupOnlyWhenThereIsNoMembership) {
  EmulatorBackend wire;
  ASSERT_OK(wire.groups->MembershipId(kEngineers, kAlice));
  EXPECT_EQ(wire.Calls("DescribeGroup"), 0);
  ASSERT_OK(wire.groups->MembershipId(kEngineers, kBob));
  EXPECT_EQ(wire.Calls("DescribeGroup"), 1);
}

// A scripted identitystore: each operation answers what `answers` says (status, body).
class ScriptedStore {
 public:
  using Answer = std::pair<long, json>;

  explicit ScriptedStore(std::map<std::string, Answer> answers)
      : answers_(std::move(answers)),
        transport_([this](const aws::HttpCall& call) -> Result<aws::HttpResponse> {
          std::string target;
          for (const auto& [name, value] : call.headers) {
            if (name == "X-Amz-Target") target = value.substr(value.find('.') + 1);
          }
          auto it = answers_.find(target);
          aws::HttpResponse r;
          r.headers = {{"x-amzn-requestid", "00000000-0000-4000-8000-000000000000"}};
          if (it == answers_.end()) {
            r.status = 400;
            r.body = json({{"__type", "UnknownOperationException"}}).dump();
          } else {
            r.status = it->second.first;
            r.body = it->second.second.dump();
          }
          return r;
        }),
        creds_(aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}})),
        limiter_(aws::NewLimiter(clock_, 0, 10)),
        client_(IdentityStoreSpec("http://127.0.0.1:9", "us-east-1"), transport_, *creds_,
                *limiter_, clock_, aws::RetryPolicy{.max_attempts = 1}),
        groups_(IdentityStoreGroupsOptions{"d-1111111111", 100}, client_) {}

  GroupMemberships& groups() { return groups_; }
  std::vector<std::string> Operations() const {
    std::vector<std::string> out;
    for (const aws::HttpCall& call : transport_.calls()) {
      for (const auto& [name, value] : call.headers) {
        if (name == "X-Amz-Target") out.push_back(value.substr(value.find('.') + 1));
      }
    }
    return out;
  }

 private:
  std::map<std::string, Answer> answers_;
  aws::testing::FakeTransport transport_;
  FakeClock clock_;
  std::unique_ptr<aws::CredentialSource> creds_;
  std::unique_ptr<aws::Limiter> limiter_;
  aws::JsonClient client_;
  IdentityStoreGroupMemberships groups_;
};

const json kConflict = {{"__type", "ConflictException"},
                        {"message", "concurrent modification"},
                        {"Reason", "CONCURRENT_MODIFICATION"}};
const json kNoMembership = {{"__type", "ResourceNotFoundException"},
                            {"message", "not a member"},
                            {"ResourceType", "GROUP_MEMBERSHIP"}};

TEST(IdentityStoreGroupMemberships, AConcurrentModificationConflictIsAborted) {
  ScriptedStore store({{"CreateGroupMembership", {400, kConflict}},
                       {"GetGroupMembershipId", {400, kNoMembership}},
                       {"DescribeGroup", {200, {{"GroupId", kEngineers}}}}});
  EXPECT_THAT(store.groups().AddMember(kEngineers, kBob), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(store.Operations(),
              ElementsAre("CreateGroupMembership", "GetGroupMembershipId", "DescribeGroup"));
}

TEST(IdentityStoreGroupMemberships, AnAnswerWithoutTheIdIsInternal) {
  ScriptedStore store({{"CreateGroupMembership", {200, json::object()}},
                       {"GetGroupId", {200, json::object()}},
                       {"GetGroupMembershipId", {200, json::object()}},
                       {"ListGroupMemberships",
                        {200, {{"GroupMemberships", {{{"MemberId", {{"UserId", kBob}}}}}}}}}});
  EXPECT_THAT(store.groups().AddMember(kEngineers, kBob), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(store.groups().GroupId("engineers"), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(store.groups().MembershipId(kEngineers, kBob), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(store.groups().ListMembers(kEngineers), StatusIs(StatusCode::kInternal));
}

TEST(IdentityStoreGroupMemberships, AccessDeniedIsPermissionDenied) {
  json denied = {{"__type", "AccessDeniedException"}, {"message", "not allowed"}};
  ScriptedStore store(
      {{"CreateGroupMembership", {400, denied}}, {"DeleteGroupMembership", {400, denied}}});
  EXPECT_THAT(store.groups().AddMember(kEngineers, kBob), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(store.groups().RemoveMember(kNobody), StatusIs(StatusCode::kPermissionDenied));
}

// ---- The fake's own switches --------------------------------------------------------------------

TEST(FakeGroupMemberships, FailSwitchFailsEveryCallAndCountsIt) {
  FakeGroupMemberships fake;
  fake.AddGroup(kEngineers, "engineers");
  fake.AddUser(kBob);
  fake.FailWith(UnavailableError("down"));
  EXPECT_THAT(fake.AddMember(kEngineers, kBob), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fake.ListMembers(kEngineers), StatusIs(StatusCode::kUnavailable));
  fake.FailWith(OkStatus());
  Result<std::vector<GroupMember>> members = fake.ListMembers(kEngineers);
  ASSERT_OK(members);
  EXPECT_THAT(*members, SizeIs(0));
  EXPECT_EQ(fake.calls("AddMember"), 1);
  EXPECT_EQ(fake.calls("ListMembers"), 2);
  EXPECT_EQ(fake.calls(), 3);
}

}  // namespace
}  // namespace jit::provider
