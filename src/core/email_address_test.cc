#include "core/email_address.h"

#include <gtest/gtest.h>

#include <string>

namespace jit {
namespace {

TEST(IsMailAddress, TakesPlainAddresses) {
  EXPECT_TRUE(IsMailAddress("ops@example.com"));
  EXPECT_TRUE(IsMailAddress("ops+jit@example.com"));
  EXPECT_TRUE(IsMailAddress("a@b"));
  EXPECT_TRUE(IsMailAddress(std::string(64, 'a') + "@" + std::string(189, 'b')));  // 254
}

TEST(IsMailAddress, RefusesWhatCouldBreakAMail) {
  EXPECT_FALSE(IsMailAddress(""));
  EXPECT_FALSE(IsMailAddress("ops"));
  EXPECT_FALSE(IsMailAddress("@example.com"));
  EXPECT_FALSE(IsMailAddress("ops@"));
  EXPECT_FALSE(IsMailAddress("a@@b"));
  EXPECT_FALSE(IsMailAddress("a@b@c"));
  EXPECT_FALSE(IsMailAddress("a@b\r\nBcc: c@d"));
  EXPECT_FALSE(IsMailAddress("<a@b>"));
  EXPECT_FALSE(IsMailAddress("Ops <ops@example.com>"));
  EXPECT_FALSE(IsMailAddress("\"o p\"@example.com"));
  EXPECT_FALSE(IsMailAddress("ops@[127.0.0.1]"));
  EXPECT_FALSE(IsMailAddress("j\xc3\xbcrgen@example.com"));
  EXPECT_FALSE(IsMailAddress("ops@.example.com"));
  EXPECT_FALSE(IsMailAddress("ops@example.com."));
  EXPECT_FALSE(IsMailAddress("ops@example..com"));
  EXPECT_FALSE(IsMailAddress(std::string(64, 'a') + "@" + std::string(190, 'b')));  // 255
}

}  // namespace
}  // namespace jit
