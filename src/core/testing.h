#pragma once
// Test helpers shared by every module's tests (linked as jit_testing; never into the binary).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/result.h"
#include "core/status.h"

namespace jit::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
Status GetStatus(const Result<T>& r) {
  return r.error();
}

// EXPECT_THAT(DoIt(), IsOk());
MATCHER(IsOk, "is OK") {
  Status s = ::jit::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

// EXPECT_THAT(DoIt(), StatusIs(StatusCode::kNotFound));
MATCHER_P(StatusIs, code, "has status code " + std::string(::jit::StatusCodeName(code))) {
  Status s = ::jit::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

// EXPECT_THAT(DoIt(), StatusIs(code, HasSubstr("line 3")));
MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + std::string(::jit::StatusCodeName(code))) {
  Status s = ::jit::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::Matches(::testing::Matcher<std::string>(message_matcher))(s.message());
}

// A fresh folder under the system's temporary folder, removed with everything in it when the
// object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace jit::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::jit::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::jit::testing::IsOk())
