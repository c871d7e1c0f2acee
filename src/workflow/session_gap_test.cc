#include "workflow/session_gap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"
#include "workflow/test_fixtures.h"

namespace jit::workflow {
namespace {

using fixtures::kAdmin;
using fixtures::kReadOnly;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kUnused[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333";

policy::Config GapConfig() {
  auto c = policy::ParseConfig(R"(
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 4h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"}
  - {name: Unused, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333"}
rules:
  - {name: ro, requesters: {groups: [e]}, accounts: {all: true}, permission_sets: [ReadOnly], max_duration: 8h, approval: auto}
  - {name: admin-short, requesters: {groups: [e]}, accounts: {all: true}, permission_sets: [Admin], max_duration: 30m, approval: auto}
  - {name: admin-long, requesters: {groups: [sre]}, accounts: {all: true}, permission_sets: [Admin], max_duration: 2h, break_glass: true}
)",
                               "test");
  JIT_CHECK(c.has_value());
  return *c;
}

TEST(LongestGrant, IsTheLongestRuleCappedByThePermissionSet) {
  policy::Config c = GapConfig();
  EXPECT_EQ(LongestGrant(c, "ReadOnly"), std::chrono::hours(4));  // rule 8h, set 4h
  EXPECT_EQ(LongestGrant(c, "Admin"), std::chrono::hours(2));
  EXPECT_EQ(LongestGrant(c, "Unused"), Duration(0));
}

TEST(SessionGapWarnings, WarnsWhereSessionsOutliveTheLongestGrant) {
  policy::Config c = GapConfig();
  std::vector<provider::PermissionSetInfo> sets = {
      {"ReadOnly", kReadOnly, std::chrono::hours(8)},
      {"Admin", kAdmin, std::chrono::hours(2)},
      {"Unused", kUnused, std::chrono::hours(12)},
  };
  auto w = SessionGapWarnings(sets, c);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_THAT(w[0], HasSubstr("permission set ReadOnly"));
  EXPECT_THAT(w[0], HasSubstr("SessionDuration is 8h"));
  EXPECT_THAT(w[0], HasSubstr("longest grant is 4h"));
  EXPECT_THAT(w[0], HasSubstr("AWS sessions outlive a deleted assignment"));

  sets[1].session_duration = std::chrono::hours(2) + std::chrono::seconds(1);
  w = SessionGapWarnings(sets, c);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_THAT(w[1], HasSubstr("permission set Admin"));
}

TEST(SessionGapWarnings, SessionCutoffOnEveryGrantClosesTheGap) {
  policy::Config c = GapConfig();
  std::vector<provider::PermissionSetInfo> sets = {{"Admin", kAdmin, std::chrono::hours(8)}};
  ASSERT_EQ(SessionGapWarnings(sets, c).size(), 1u);
  EXPECT_THAT(SessionGapWarnings(sets, c)[0], HasSubstr("or turn session_cutoff on"));
  c.permission_sets[1].session_cutoff = true;
  EXPECT_THAT(SessionGapWarnings(sets, c), IsEmpty());
  c.rules[2].session_cutoff = false;  // the break-glass rule's grants keep their sessions
  EXPECT_EQ(SessionGapWarnings(sets, c).size(), 1u);
}

TEST(SessionGapWarnings, NoneWhenSessionsAreShortOrTheSetIsNotListed) {
  policy::Config c = GapConfig();
  EXPECT_THAT(SessionGapWarnings({{"ReadOnly", kReadOnly, std::chrono::hours(1)}}, c), IsEmpty());
  EXPECT_THAT(SessionGapWarnings({}, c), IsEmpty());
}

}  // namespace
}  // namespace jit::workflow
