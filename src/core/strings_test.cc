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

TEST(IsDigits, IsExactlyThatManyAsciiDigits) {
  EXPECT_TRUE(IsDigits("111111111111", 12));
  EXPECT_FALSE(IsDigits("11111111111", 12));
  EXPECT_FALSE(IsDigits("11111111111a", 12));
  EXPECT_FALSE(IsDigits("\xd9\xa1", 2));
  EXPECT_TRUE(IsDigits("", 0));
}

TEST(EscapeForTerminal, KeepsPlainTextAndOtherScripts) {
  EXPECT_EQ(EscapeForTerminal("deploy the hotfix (INC-42)"), "deploy the hotfix (INC-42)");
  EXPECT_EQ(EscapeForTerminal("Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91"),
            "Jos\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
  EXPECT_EQ(EscapeForTerminal(""), "");
}

TEST(EscapeForTerminal, EscapesControlsSoNothingReachesTheTerminalRaw) {
  // Clear the screen and draw a fake state: every escape byte is shown, not obeyed.
  EXPECT_EQ(EscapeForTerminal("\x1b[2J\x1b[1;1HAPPROVED"), "\\x1b[2J\\x1b[1;1HAPPROVED");
  EXPECT_EQ(EscapeForTerminal("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(EscapeForTerminal(std::string("\0\x07\x7f", 3)), "\\x00\\x07\\x7f");
  // C1 CSI (U+009B) and a right-to-left override (U+202E), as UTF-8.
  EXPECT_EQ(EscapeForTerminal("\xc2\x9b"
                              "2J"),
            "\\u009b2J");
  EXPECT_EQ(EscapeForTerminal("ok\xe2\x80\xaetxt.exe"), "ok\\u202etxt.exe");
  EXPECT_EQ(EscapeForTerminal("\xe2\x81\xa6x\xe2\x80\xa8"), "\\u2066x\\u2028");
}

TEST(EscapeForTerminal, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(EscapeForTerminal("\x9b"), "\\x9b");                    // a lone C1 byte
  EXPECT_EQ(EscapeForTerminal("\xc3"), "\\xc3");                    // truncated
  EXPECT_EQ(EscapeForTerminal("\xc0\x9b"), "\\xc0\\x9b");           // overlong
  EXPECT_EQ(EscapeForTerminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(PrintableExcerpt, KeepsPrintableAsciiAndReplacesTheRest) {
  EXPECT_EQ(PrintableExcerpt("kid-1", 64), "kid-1");
  EXPECT_EQ(PrintableExcerpt("a\x1b[2Jb\n\x7f\xc3\xa9", 64), "a?[2Jb????");
}

TEST(PrintableExcerpt, CutsAtTheLimit) {
  EXPECT_EQ(PrintableExcerpt("abcdef", 3), "abc");
  EXPECT_EQ(PrintableExcerpt("", 3), "");
  EXPECT_EQ(PrintableExcerpt("abc", 0), "");
}

}  // namespace
}  // namespace jit
