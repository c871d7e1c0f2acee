#include "core/encoding.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace jit {
namespace {

using Text = std::optional<std::string>;

// RFC 4648 §10.
TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foob"), "Zm9vYg==");
  EXPECT_EQ(EncodeBase64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(EncodeBase64("\xfb\xff"), "+/8=");
}

TEST(Base64, DecodesTheRfc4648Vectors) {
  EXPECT_EQ(DecodeBase64(""), Text(""));
  EXPECT_EQ(DecodeBase64("Zg=="), Text("f"));
  EXPECT_EQ(DecodeBase64("Zm8="), Text("fo"));
  EXPECT_EQ(DecodeBase64("Zm9v"), Text("foo"));
  EXPECT_EQ(DecodeBase64("Zm9vYg=="), Text("foob"));
  EXPECT_EQ(DecodeBase64("Zm9vYmE="), Text("fooba"));
  EXPECT_EQ(DecodeBase64("Zm9vYmFy"), Text("foobar"));
  EXPECT_EQ(DecodeBase64("+/8="), Text("\xfb\xff"));
}

TEST(Base64, IsStrict) {
  EXPECT_FALSE(DecodeBase64("Zg").has_value());         // padding missing
  EXPECT_FALSE(DecodeBase64("Zg=").has_value());        // length
  EXPECT_FALSE(DecodeBase64("Z===").has_value());       // too much padding
  EXPECT_FALSE(DecodeBase64("Zg=A").has_value());       // '=' inside
  EXPECT_FALSE(DecodeBase64("Zh==").has_value());       // non-zero trailing bits
  EXPECT_FALSE(DecodeBase64("-_8=").has_value());       // URL alphabet
  EXPECT_FALSE(DecodeBase64("Zm9v Yg==").has_value());  // white space
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 260; ++i) {
    EXPECT_EQ(DecodeBase64(EncodeBase64(bytes)), Text(bytes));
    EXPECT_EQ(DecodeBase64Url(EncodeBase64Url(bytes)), Text(bytes));
    bytes.push_back(static_cast<char>(i * 7));
  }
}

TEST(Base64Url, EncodesWithoutPadding) {
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
  EXPECT_EQ(EncodeBase64Url("foob"), "Zm9vYg");
  EXPECT_EQ(EncodeBase64Url("{\"alg\":\"none\"}"), "eyJhbGciOiJub25lIn0");
}

TEST(Base64Url, IsStrict) {
  EXPECT_EQ(DecodeBase64Url("-_8"), Text("\xfb\xff"));
  EXPECT_EQ(DecodeBase64Url(""), Text(""));
  EXPECT_FALSE(DecodeBase64Url("+/8").has_value());   // standard alphabet
  EXPECT_FALSE(DecodeBase64Url("-_8=").has_value());  // padding
  EXPECT_FALSE(DecodeBase64Url("-_9").has_value());   // non-zero trailing bits
  EXPECT_FALSE(DecodeBase64Url("A").has_value());     // impossible length
  EXPECT_FALSE(DecodeBase64Url("QUF\n").has_value());
}

TEST(Hex, EncodesLowercase) {
  EXPECT_EQ(Hex(""), "");
  EXPECT_EQ(Hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST(Hex, DecodesEitherCase) {
  EXPECT_EQ(DecodeHex("0001abff"), Text(std::string("\x00\x01\xab\xff", 4)));
  EXPECT_EQ(DecodeHex("ABff"), Text("\xab\xff"));
  EXPECT_EQ(DecodeHex(""), Text(""));
  EXPECT_FALSE(DecodeHex("abc").has_value());
  EXPECT_FALSE(DecodeHex("zz").has_value());
  EXPECT_EQ(HexDigitValue('7'), 7);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(Hex, TellsLowercaseHex) {
  EXPECT_TRUE(IsLowerHex("0123456789abcdef"));
  EXPECT_TRUE(IsLowerHex(""));
  EXPECT_FALSE(IsLowerHex("AB"));
  EXPECT_FALSE(IsLowerHex("0x"));
}

}  // namespace
}  // namespace jit
