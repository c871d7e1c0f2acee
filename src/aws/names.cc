#include "aws/names.h"

#include <regex>

namespace jit::aws {

bool IsAwsRegion(std::string_view s) {
  // partition prefix, optional qualifier (gov, iso, isob, ...), direction, number.
  static const std::regex kRegion("[a-z]{2}(-[a-z]{3,4})?-[a-z]+-[0-9]{1,2}");
  return s.size() <= 32 && std::regex_match(s.begin(), s.end(), kRegion);
}

bool IsInstanceArn(std::string_view s) {
  static const std::regex kArn(
      "arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9.-]{16}");
  return s.size() <= 1224 && std::regex_match(s.begin(), s.end(), kArn);
}

bool IsIdentityStoreId(std::string_view s) {
  static const std::regex kId(
      "d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  return s.size() <= 36 && std::regex_match(s.begin(), s.end(), kId);
}

}  // namespace jit::aws
