#include "core/secret_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/testing.h"

namespace jit {
namespace {

using ::jit::testing::StatusIs;

class SecretFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_.path() / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  ::jit::testing::TempDir dir_;
};

TEST_F(SecretFileTest, ReadsTheContentLessSurroundingWhiteSpace) {
  EXPECT_EQ(*ReadSecretFile(Write("s", "  s3cr3t with space\r\n\n"), "webhook w"),
            "s3cr3t with space");
  EXPECT_EQ(*ReadSecretFile(Write("t", "tok"), "slack s"), "tok");
}

TEST_F(SecretFileTest, RefusesAMissingOrEmptyFile) {
  std::string missing = (dir_.path() / "missing").string();
  EXPECT_THAT(ReadSecretFile(missing, "webhook w").error(),
              StatusIs(StatusCode::kInvalidArgument, "webhook w: cannot read " + missing));
  std::string blank = Write("blank", " \r\n\t");
  EXPECT_THAT(ReadSecretFile(blank, "email e").error(),
              StatusIs(StatusCode::kInvalidArgument, "email e: " + blank + " is empty"));
}

}  // namespace
}  // namespace jit
