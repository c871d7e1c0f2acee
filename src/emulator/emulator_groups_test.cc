// identitystore group memberships as the emulator serves them (issue 16, group elevation):
// CreateGroupMembership, DeleteGroupMembership, GetGroupMembershipId, DescribeGroupMembership
// and ListGroupMemberships, their errors, paging, and that a membership made or removed by a
// call changes what the access checks (/_emulator/sessions) and the older calls answer from the
// moment of the call. Signed requests through Emulator::HandleRaw (no socket).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/testing.h"
#include "core/time_format.h"
#include "emulator/emulator.h"

// Its own namespace: the unity build puts this file beside emulator_test.cc.
namespace jit::emulator::groups_test {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kStore[] = "d-1111111111";
constexpr char kInstance[] = "arn:aws:sso:::instance/ssoins-1111111111111111";
constexpr char kAdmin[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";
constexpr char kCarol[] = "ca401000-0000-4000-8000-000000000003";
constexpr char kEngineers[] = "e0000000-0000-4000-8000-000000000011";  // seed: alice
constexpr char kApprovers[] = "a0000000-0000-4000-8000-000000000012";  // seed: bob, carol
constexpr char kNobody[] = "00000000-0000-4000-8000-00000000dead";

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

struct Answer {
  int status = 0;
  json body;
  std::string Type() const { return body.is_object() ? body.value("__type", "") : ""; }
};

json Member(const std::string& user_id) { return {{"UserId", user_id}}; }

class EmulatorGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetTime(*ParseRfc3339("2026-12-05T00:00:00Z"));
    emulator_ = std::make_unique<Emulator>(EmulatorOptions(), clock_);
  }

  Answer Call(const std::string& target, const json& body) {
    aws::HttpRequest req;
    req.method = "POST";
    req.path = "/";
    req.headers = {{"Host", "127.0.0.1"},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", target}};
    req.body = body.dump();
    aws::SigningParams params;
    params.region = "us-east-1";
    params.service = target.rfind("AWSIdentityStore.", 0) == 0 ? "identitystore" : "sso";
    params.time = clock_.Now();
    Result<aws::Signature> sig =
        aws::Sign(req, {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}}, params);
    EXPECT_TRUE(sig.has_value()) << sig.error();
    RawResponse r = emulator_->HandleRaw({req.method, req.path, req.headers, req.body});
    return {r.status, json::parse(r.body, nullptr, /*allow_exceptions=*/false)};
  }
  Answer Ids(const std::string& op, json body) {
    if (!body.contains("IdentityStoreId")) body["IdentityStoreId"] = kStore;
    return Call("AWSIdentityStore." + op, body);
  }
  Answer Test(const std::string& method, const std::string& path, const json& body) {
    RawResponse r = emulator_->HandleRaw(
        {method, path, {{"Content-Type", "application/json"}}, body.is_null() ? "" : body.dump()});
    return {r.status, json::parse(r.body, nullptr, /*allow_exceptions=*/false)};
  }

  // CreateGroupMembership; the new id ("" on failure).
  std::string Add(const std::string& group, const std::string& user) {
    Answer a = Ids("CreateGroupMembership", {{"GroupId", group}, {"MemberId", Member(user)}});
    EXPECT_EQ(a.status, 200) << a.body;
    return a.body.value("MembershipId", "");
  }
  // The user ids ListGroupMemberships lists for the group, every page, `max` at a time.
  std::vector<std::string> Members(const std::string& group, int max = 100, int* pages = nullptr) {
    std::vector<std::string> out;
    json q = {{"GroupId", group}, {"MaxResults", max}};
    for (int page = 1; page < 100; ++page) {
      Answer a = Ids("ListGroupMemberships", q);
      EXPECT_EQ(a.status, 200) << a.body;
      if (a.status != 200) break;
      for (const json& m : a.body["GroupMemberships"]) out.push_back(m["MemberId"]["UserId"]);
      if (pages != nullptr) *pages = page;
      if (!a.body.contains("NextToken")) break;
      q["NextToken"] = a.body["NextToken"];
    }
    return out;
  }
  bool IsMember(const std::string& group, const std::string& user) {
    Answer a = Ids("IsMemberInGroups", {{"MemberId", Member(user)}, {"GroupIds", {group}}});
    EXPECT_EQ(a.status, 200) << a.body;
    return a.body["Results"][0]["MembershipExists"].get<bool>();
  }
  std::set<std::string> GroupsOf(const std::string& user) {
    Answer a = Ids("ListGroupMembershipsForMember", {{"MemberId", Member(user)}});
    EXPECT_EQ(a.status, 200) << a.body;
    std::set<std::string> out;
    for (const json& m : a.body["GroupMemberships"]) out.insert(m["GroupId"]);
    return out;
  }
  // Assigns Admin in 222222222222 to the group and lets the operation finish.
  void AssignAdminToGroup(const std::string& group) {
    Answer a = Call("SWBExternalService.CreateAccountAssignment", {{"InstanceArn", kInstance},
                                                                   {"TargetId", "222222222222"},
                                                                   {"TargetType", "AWS_ACCOUNT"},
                                                                   {"PermissionSetArn", kAdmin},
                                                                   {"PrincipalType", "GROUP"},
                                                                   {"PrincipalId", group}});
    ASSERT_EQ(a.status, 200) << a.body;
    clock_.Advance(std::chrono::seconds(1));
  }
  // POST /_emulator/sessions for Admin in 222222222222 at `at`: its HTTP status.
  int OpenAdmin(const std::string& user_id, Time at) {
    return Test("POST", "/_emulator/sessions",
                {{"user_id", user_id},
                 {"account_id", "222222222222"},
                 {"permission_set_arn", kAdmin},
                 {"at", FormatRfc3339(at)}})
        .status;
  }

  FakeClock clock_;
  std::unique_ptr<Emulator> emulator_;
};

TEST_F(EmulatorGroupsTest, CreateDescribeListAndDeleteAMembership) {
  Answer created =
      Ids("CreateGroupMembership", {{"GroupId", kEngineers}, {"MemberId", Member(kBob)}});
  ASSERT_EQ(created.status, 200) << created.body;
  std::string id = created.body["MembershipId"];
  EXPECT_TRUE(std::regex_match(id, kUuid)) << id;
  EXPECT_EQ(created.body, json({{"IdentityStoreId", kStore}, {"MembershipId", id}}));

  json expected = {{"IdentityStoreId", kStore},
                   {"MembershipId", id},
                   {"GroupId", kEngineers},
                   {"MemberId", {{"UserId", kBob}}}};
  EXPECT_EQ(Ids("DescribeGroupMembership", {{"MembershipId", id}}).body, expected);
  EXPECT_EQ(Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kBob)}}).body,
            json({{"IdentityStoreId", kStore}, {"MembershipId", id}}));
  Answer listed = Ids("ListGroupMemberships", {{"GroupId", kEngineers}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_THAT(listed.body["GroupMemberships"], SizeIs(2));
  EXPECT_EQ(listed.body["GroupMemberships"][0]["MemberId"]["UserId"], kAlice);  // the seed's
  EXPECT_EQ(listed.body["GroupMemberships"][1], expected);
  EXPECT_FALSE(listed.body.contains("NextToken"));
  // The older calls agree.
  EXPECT_TRUE(IsMember(kEngineers, kBob));
  EXPECT_EQ(GroupsOf(kBob), (std::set<std::string>{kApprovers, kEngineers}));

  Answer deleted = Ids("DeleteGroupMembership", {{"MembershipId", id}});
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, json::object());
  Answer gone = Ids("DescribeGroupMembership", {{"MembershipId", id}});
  EXPECT_EQ(gone.Type(), "ResourceNotFoundException");
  EXPECT_EQ(gone.body["ResourceType"], "GROUP_MEMBERSHIP");
  EXPECT_EQ(gone.body["ResourceId"], id);
  EXPECT_EQ(Ids("DeleteGroupMembership", {{"MembershipId", id}}).Type(),
            "ResourceNotFoundException");
  Answer no_id = Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kBob)}});
  EXPECT_EQ(no_id.Type(), "ResourceNotFoundException");
  EXPECT_EQ(no_id.body["ResourceType"], "GROUP_MEMBERSHIP");
  EXPECT_FALSE(IsMember(kEngineers, kBob));
  EXPECT_EQ(GroupsOf(kBob), (std::set<std::string>{kApprovers}));
  EXPECT_THAT(Members(kEngineers), ElementsAre(kAlice));

  // A new membership of the same pair gets a new id.
  std::string again = Add(kEngineers, kBob);
  EXPECT_NE(again, id);
  EXPECT_TRUE(IsMember(kEngineers, kBob));
}

TEST_F(EmulatorGroupsTest, SeedMembershipsHaveIdsAndCanBeRemoved) {
  Answer got = Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kAlice)}});
  ASSERT_EQ(got.status, 200) << got.body;
  std::string id = got.body["MembershipId"];
  // The id ListGroupMembershipsForMember has always shown for it.
  Answer for_member = Ids("ListGroupMembershipsForMember", {{"MemberId", Member(kAlice)}});
  ASSERT_THAT(for_member.body["GroupMemberships"], SizeIs(1));
  EXPECT_EQ(for_member.body["GroupMemberships"][0]["MembershipId"], id);
  ASSERT_EQ(Ids("DeleteGroupMembership", {{"MembershipId", id}}).status, 200);
  EXPECT_THAT(Members(kEngineers), SizeIs(0));
  EXPECT_EQ(GroupsOf(kAlice), std::set<std::string>{});
  EXPECT_THAT(emulator_->State()["group_memberships"], SizeIs(4));  // bob once, carol thrice

  // Reset brings the seed's back, with the same id.
  ASSERT_EQ(Test("POST", "/_emulator/reset", json()).status, 200);
  EXPECT_EQ(
      Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kAlice)}}).body,
      json({{"IdentityStoreId", kStore}, {"MembershipId", id}}));
  EXPECT_THAT(emulator_->State()["group_memberships"], SizeIs(5));
}

TEST_F(EmulatorGroupsTest, ADuplicateMembershipIsAConflictAndChangesNothing) {
  json seed_pair = {{"GroupId", kEngineers}, {"MemberId", Member(kAlice)}};
  Answer dup = Ids("CreateGroupMembership", seed_pair);
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.Type(), "ConflictException");
  EXPECT_EQ(dup.body["Reason"], "UNIQUENESS_CONSTRAINT_VIOLATION");
  std::string id = Add(kEngineers, kCarol);
  Answer dup2 =
      Ids("CreateGroupMembership", {{"GroupId", kEngineers}, {"MemberId", Member(kCarol)}});
  EXPECT_EQ(dup2.Type(), "ConflictException");
  EXPECT_THAT(Members(kEngineers), ElementsAre(kAlice, kCarol));
  EXPECT_EQ(Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kCarol)}})
                .body["MembershipId"],
            id);
}

TEST_F(EmulatorGroupsTest, UnknownThingsAreNotFoundAndBadInputIsAValidationError) {
  json state_before = emulator_->State()["group_memberships"];
  auto create = [&](json body) { return Ids("CreateGroupMembership", std::move(body)); };

  Answer group = create({{"GroupId", kNobody}, {"MemberId", Member(kBob)}});
  EXPECT_EQ(group.Type(), "ResourceNotFoundException");
  EXPECT_EQ(group.body["ResourceType"], "GROUP");
  EXPECT_EQ(group.body["ResourceId"], kNobody);
  Answer user = create({{"GroupId", kEngineers}, {"MemberId", Member(kNobody)}});
  EXPECT_EQ(user.Type(), "ResourceNotFoundException");
  EXPECT_EQ(user.body["ResourceType"], "USER");
  Answer store = create(
      {{"IdentityStoreId", "d-2222222222"}, {"GroupId", kEngineers}, {"MemberId", Member(kBob)}});
  EXPECT_EQ(store.Type(), "ResourceNotFoundException");
  EXPECT_EQ(store.body["ResourceType"], "IDENTITY_STORE");

  Answer no_member = create({{"GroupId", kEngineers}});
  EXPECT_EQ(no_member.Type(), "ValidationException");
  EXPECT_THAT(no_member.body["message"].get<std::string>(), HasSubstr("MemberId"));
  Answer no_user = create({{"GroupId", kEngineers}, {"MemberId", json::object()}});
  EXPECT_EQ(no_user.Type(), "ValidationException");
  EXPECT_THAT(no_user.body["message"].get<std::string>(), HasSubstr("UserId"));
  Answer bad_group = create({{"GroupId", "engineers"}, {"MemberId", Member(kBob)}});
  EXPECT_EQ(bad_group.Type(), "ValidationException");
  EXPECT_THAT(bad_group.body["message"].get<std::string>(), HasSubstr("GroupId"));
  EXPECT_EQ(create({{"GroupId", kEngineers}, {"MemberId", "bob"}}).Type(), "ValidationException");
  EXPECT_EQ(create({{"GroupId", kEngineers}, {"MemberId", Member("bob")}}).Type(),
            "ValidationException");

  EXPECT_EQ(Ids("DeleteGroupMembership", json::object()).Type(), "ValidationException");
  EXPECT_EQ(Ids("DeleteGroupMembership", {{"MembershipId", "x"}}).Type(), "ValidationException");
  EXPECT_EQ(Ids("DescribeGroupMembership", {{"MembershipId", kNobody}}).Type(),
            "ResourceNotFoundException");
  Answer list_unknown = Ids("ListGroupMemberships", {{"GroupId", kNobody}});
  EXPECT_EQ(list_unknown.Type(), "ResourceNotFoundException");
  EXPECT_EQ(list_unknown.body["ResourceType"], "GROUP");
  EXPECT_EQ(Ids("GetGroupMembershipId", {{"GroupId", kNobody}, {"MemberId", Member(kBob)}})
                .body["ResourceType"],
            "GROUP");
  for (int bad : {0, 101}) {
    Answer a = Ids("ListGroupMemberships", {{"GroupId", kEngineers}, {"MaxResults", bad}});
    EXPECT_EQ(a.Type(), "ValidationException") << bad;
    EXPECT_THAT(a.body["message"].get<std::string>(), HasSubstr("MaxResults"));
  }
  EXPECT_EQ(emulator_->State()["group_memberships"], state_before);
}

TEST_F(EmulatorGroupsTest, ListGroupMembershipsPagesWithATokenBoundToTheGroup) {
  Add(kEngineers, kBob);
  Add(kEngineers, kCarol);
  int pages = 0;
  EXPECT_THAT(Members(kEngineers, 2, &pages), ElementsAre(kAlice, kBob, kCarol));
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(Members(kEngineers, 1, &pages), ElementsAre(kAlice, kBob, kCarol));
  EXPECT_EQ(pages, 3);

  Answer first = Ids("ListGroupMemberships", {{"GroupId", kEngineers}, {"MaxResults", 1}});
  ASSERT_TRUE(first.body.contains("NextToken"));
  Answer other = Ids("ListGroupMemberships",
                     {{"GroupId", kApprovers}, {"NextToken", first.body["NextToken"]}});
  EXPECT_EQ(other.Type(), "ValidationException");
  EXPECT_THAT(other.body["message"].get<std::string>(), HasSubstr("NextToken"));
}

TEST_F(EmulatorGroupsTest, AMembershipYieldsTheGroupsAssignmentsFromTheMomentOfTheCall) {
  AssignAdminToGroup(kEngineers);
  Time before = clock_.Now();
  EXPECT_EQ(OpenAdmin(kBob, before), 403);

  clock_.Advance(std::chrono::seconds(10));
  std::string id = Add(kEngineers, kBob);
  Time added = clock_.Now();
  EXPECT_EQ(OpenAdmin(kBob, added), 201);
  EXPECT_EQ(OpenAdmin(kBob, added - std::chrono::milliseconds(1)), 403);
  EXPECT_EQ(OpenAdmin(kBob, before), 403);

  clock_.Advance(std::chrono::seconds(10));
  ASSERT_EQ(Ids("DeleteGroupMembership", {{"MembershipId", id}}).status, 200);
  Time removed = clock_.Now();
  EXPECT_EQ(OpenAdmin(kBob, removed), 403);
  EXPECT_EQ(OpenAdmin(kBob, removed + std::chrono::hours(1)), 403);
  // The past stays as it was: bob was a member in between.
  EXPECT_EQ(OpenAdmin(kBob, added + std::chrono::seconds(5)), 201);
  EXPECT_EQ(OpenAdmin(kBob, removed - std::chrono::milliseconds(1)), 201);
  // alice's standing (seed) membership is untouched.
  EXPECT_EQ(OpenAdmin(kAlice, removed), 201);

  // Removing a seed membership ends the seed member's access from then on only.
  clock_.Advance(std::chrono::seconds(10));
  std::string alice_id =
      Ids("GetGroupMembershipId", {{"GroupId", kEngineers}, {"MemberId", Member(kAlice)}})
          .body["MembershipId"];
  ASSERT_EQ(Ids("DeleteGroupMembership", {{"MembershipId", alice_id}}).status, 200);
  EXPECT_EQ(OpenAdmin(kAlice, clock_.Now()), 403);
  EXPECT_EQ(OpenAdmin(kAlice, removed), 201);
}

TEST_F(EmulatorGroupsTest, FaultsAnswerBeforeTheCallChangesAnything) {
  ASSERT_EQ(Test("POST", "/_emulator/faults", {{"throttle_rate", 1.0}}).status, 200);
  Answer t = Ids("CreateGroupMembership", {{"GroupId", kEngineers}, {"MemberId", Member(kBob)}});
  EXPECT_EQ(t.Type(), "ThrottlingException");
  EXPECT_EQ(t.body["RetryAfterSeconds"], 1);
  ASSERT_EQ(Test("POST", "/_emulator/faults", {{"throttle_rate", 0.0}}).status, 200);
  EXPECT_FALSE(IsMember(kEngineers, kBob));
  EXPECT_EQ(emulator_->State()["calls"]["CreateGroupMembership"], 1);
}

}  // namespace
}  // namespace jit::emulator::groups_test
