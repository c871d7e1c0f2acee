#include "core/strings.h"

#include <gtest/gtest.h>

namespace jit {
namespace {

TEST(ToLower, LowersAsciiOnly) {
  EXPECT_EQ(ToLower("X-Amz-Date"), "x-amz-date");
  EXPECT_EQ(ToLower(""), "");
  EXPECT_EQ(ToLower("\xc3\x9c@1"), "\xc3\x9c@1");
}

TEST(EqualsIgnoreCase, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(EqualsIgnoreCase("Authorization", "authorization"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("host", "hosts"));
  EXPECT_FALSE(EqualsIgnoreCase("a-b", "a_b"));
}

TEST(Trim, RemovesWhiteSpaceAtBothEnds) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim("\v\fx\f"), "x");
  EXPECT_EQ(Trim(" \t "), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("xx"), "xx");
}

TEST(Trim, TakesTheBlanksToRemove) {
  EXPECT_EQ(Trim("\vx\n", " \n"), "\vx");
  EXPECT_EQ(Trim("--x--", "-"), "x");
}

}  // namespace
}  // namespace jit
