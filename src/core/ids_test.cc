#include "core/ids.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace jit {
namespace {

TEST(NewId, HasPrefixAnd26Base32Characters) {
  std::string id = NewId("req_", FromUnixMillis(1767225600000));
  EXPECT_EQ(id.size(), 4u + 26u);
  EXPECT_EQ(id.substr(0, 4), "req_");
  EXPECT_TRUE(IsWellFormedId(id, "req_")) << id;
}

TEST(NewId, EncodesTimeInTheFirstTenCharacters) {
  EXPECT_EQ(NewId("", FromUnixMillis(0)).substr(0, 10), "0000000000");
  EXPECT_EQ(NewId("", FromUnixMillis(1)).substr(0, 10), "0000000001");
  EXPECT_EQ(NewId("", FromUnixMillis(32)).substr(0, 10), "0000000010");
  // Same millisecond, same time part.
  Time t = FromUnixMillis(1767225600000);
  EXPECT_EQ(NewId("", t).substr(0, 10), NewId("", t).substr(0, 10));
}

TEST(NewId, IsUnique) {
  Time t = FromUnixMillis(1767225600000);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(seen.insert(NewId("req_", t)).second);
  }
}

TEST(NewId, SortsByCreationTime) {
  Time t = FromUnixMillis(1767225600000);
  std::vector<std::chrono::milliseconds> steps = {
      std::chrono::milliseconds(1), std::chrono::milliseconds(31), std::chrono::milliseconds(32),
      std::chrono::seconds(1), std::chrono::hours(24 * 365 * 10)};
  std::string previous = NewId("req_", t);
  for (auto step : steps) {
    t += step;
    for (int i = 0; i < 20; ++i) {  // randomness never outweighs time
      std::string next = NewId("req_", t);
      EXPECT_LT(previous, next) << "step " << step.count() << "ms";
      if (i == 19) previous = next;
    }
  }
}

TEST(IsWellFormedId, RejectsOtherShapes) {
  std::string good = NewId("req_", FromUnixMillis(1767225600000));
  ASSERT_TRUE(IsWellFormedId(good, "req_"));
  EXPECT_FALSE(IsWellFormedId(good, "evt_"));
  EXPECT_FALSE(IsWellFormedId("", "req_"));
  EXPECT_FALSE(IsWellFormedId("req_", "req_"));
  EXPECT_FALSE(IsWellFormedId(good.substr(0, good.size() - 1), "req_"));
  EXPECT_FALSE(IsWellFormedId(good + "0", "req_"));
  EXPECT_TRUE(IsWellFormedId("req_01JD3Q8W5C2M7X9K4T6B1N0R8P", "req_"));
  EXPECT_FALSE(IsWellFormedId("req_01jd3q8w5c2m7x9k4t6b1n0r8p", "req_"));  // lowercase
  EXPECT_FALSE(IsWellFormedId("req_01JD3Q8W5C2M7X9K4T6B1N0R8I", "req_"));  // I not in base32
  EXPECT_FALSE(IsWellFormedId("req_01JD3Q8W5C2M7X9K4T6B1N0R8U", "req_"));  // U not in base32
  EXPECT_FALSE(IsWellFormedId("req_01JD3Q8W5C2M7X9K4T6B1N0R8/", "req_"));
  EXPECT_FALSE(IsWellFormedId(std::string("req_01JD3Q8W5C2M7X9K4T6B1N0R8") + '\0', "req_"));
  EXPECT_FALSE(IsWellFormedId("xyz_01JD3Q8W5C2M7X9K4T6B1N0R8P", "req_"));
}

}  // namespace
}  // namespace jit
