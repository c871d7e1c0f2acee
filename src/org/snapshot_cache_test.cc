#include "org/snapshot_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/testing.h"

namespace jit::org {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;

TEST(SnapshotCache, KeepsEveryFieldAcrossSaveAndLoad) {
  testing::TempDir dir;
  provider::OrganizationSnapshot s;
  s.roots.push_back({"r-ab12", "arn:root", "Root"});
  s.organizational_units.push_back({"ou-ab12-prod0000", "arn:ou", "prod", "r-ab12"});
  provider::OrgAccount a;
  a.id = "333333333301";
  a.name = "payments \"eu\"";
  a.status = "ACTIVE";
  a.parent_id = "ou-ab12-prod0000";
  a.tags = {{"env", "prod"}, {"team", "pay"}};
  s.accounts.push_back(a);
  auto path = dir.path() / "organization.json";
  ASSERT_OK(SaveSnapshot(path, s));
  auto back = LoadSnapshot(path);
  ASSERT_OK(back);
  ASSERT_EQ(back->accounts.size(), 1u);
  EXPECT_EQ(back->accounts[0].name, a.name);
  EXPECT_EQ(back->accounts[0].tags, a.tags);
  EXPECT_EQ(back->accounts[0].parent_id, "ou-ab12-prod0000");
  ASSERT_EQ(back->organizational_units.size(), 1u);
  EXPECT_EQ(back->organizational_units[0].parent_id, "r-ab12");
  EXPECT_EQ(back->roots[0].id, "r-ab12");
}

TEST(SnapshotCache, MissingOrDamagedFilesAreRefused) {
  testing::TempDir dir;
  EXPECT_THAT(LoadSnapshot(dir.path() / "none.json"), StatusIs(StatusCode::kNotFound));
  std::ofstream(dir.path() / "bad.json") << "{\"version\": 1, \"roots\": [";
  EXPECT_THAT(LoadSnapshot(dir.path() / "bad.json"), StatusIs(StatusCode::kInvalidArgument));
  std::ofstream(dir.path() / "old.json") << "{\"version\": 0, \"roots\": [], \"ous\": [], "
                                            "\"accounts\": []}";
  EXPECT_THAT(LoadSnapshot(dir.path() / "old.json"), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace jit::org
