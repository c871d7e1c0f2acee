#include "core/form.h"

#include <gtest/gtest.h>

namespace jit {
namespace {

TEST(FormDecode, PlusIsASpaceAndEscapesAreBytes) {
  EXPECT_EQ(FormDecode("a+b%2Bc%2fd"), "a b+c/d");
  EXPECT_EQ(FormDecode(""), "");
  EXPECT_EQ(FormDecode("%e2%9c%93"), "\xe2\x9c\x93");
  for (const char* bad : {"%", "%4", "%zz", "a%g0", "%%41"}) {
    EXPECT_FALSE(FormDecode(bad).has_value()) << bad;
  }
}

TEST(ParseForm, KeysValuesDuplicatesAndEmptyParts) {
  auto f = ParseForm("a=1&&b=x+y&c&a=2&payload=%7B%22k%22%3A1%7D");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->at("a"), "2");
  EXPECT_EQ(f->at("b"), "x y");
  EXPECT_EQ(f->at("c"), "");
  EXPECT_EQ(f->at("payload"), "{\"k\":1}");
  EXPECT_EQ(f->size(), 4u);
  EXPECT_TRUE(ParseForm("")->empty());
  EXPECT_FALSE(ParseForm("a=%zz").has_value());
  EXPECT_FALSE(ParseForm("%=1").has_value());
}

}  // namespace
}  // namespace jit
