#include "emulator/patterns.h"

#include <regex>
#include <string>

namespace jit::emulator {
namespace {

// Every pattern here matches at most about 90 characters; longer input is refused before it
// reaches std::regex, whose matcher recurses per character.
constexpr std::size_t kMaxMatchLength = 128;

bool Match(std::string_view s, const std::regex& re) {
  if (s.size() > kMaxMatchLength) return false;
  return std::regex_match(s.begin(), s.end(), re);
}

bool MatchInstanceArn(std::string_view s) {
  static const std::regex re(
      R"(arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9.\-]{16})");
  return Match(s, re);
}

bool MatchPermissionSetArn(std::string_view s) {
  static const std::regex re(
      R"(arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9.\-]{16}/ps-[a-zA-Z0-9.\-/]{16})");
  return Match(s, re);
}

bool MatchAccountId(std::string_view s) {
  static const std::regex re(R"([0-9]{12})");
  return Match(s, re);
}

bool MatchPrincipalId(std::string_view s) {
  static const std::regex re(
      R"(([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12})");
  return Match(s, re);
}

bool MatchIdentityStoreId(std::string_view s) {
  static const std::regex re(
      R"(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  return Match(s, re);
}

bool MatchRequestId(std::string_view s) {
  static const std::regex re(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  return Match(s, re);
}

bool MatchOrganizationId(std::string_view s) {
  static const std::regex re(R"(o-[a-z0-9]{10,32})");
  return Match(s, re);
}

bool MatchRootId(std::string_view s) {
  static const std::regex re(R"(r-[0-9a-z]{4,32})");
  return Match(s, re);
}

bool MatchOrganizationalUnitId(std::string_view s) {
  static const std::regex re(R"(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})");
  return Match(s, re);
}

bool MatchParentId(std::string_view s) { return MatchRootId(s) || MatchOrganizationalUnitId(s); }

bool MatchTaggableResourceId(std::string_view s) {
  return MatchRootId(s) || MatchOrganizationalUnitId(s) || MatchAccountId(s);
}

}  // namespace

const Pattern kOrganizationId{"^o-[a-z0-9]{10,32}$", MatchOrganizationId};
const Pattern kRootId{"^r-[0-9a-z]{4,32}$", MatchRootId};
const Pattern kOrganizationalUnitId{"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$",
                                    MatchOrganizationalUnitId};
const Pattern kParentId{"^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$", MatchParentId};
const Pattern kTaggableResourceId{
    "^(r-[0-9a-z]{4,32})|(\\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$", MatchTaggableResourceId};

const Pattern kInstanceArn{
    "arn:(aws|aws-[a-z]{1,5}(-[a-z]{1,5}){0,2}):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}",
    MatchInstanceArn};
const Pattern kPermissionSetArn{
    "arn:(aws|aws-[a-z]{1,5}(-[a-z]{1,5}){0,2}):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/"
    "ps-[a-zA-Z0-9-./]{16}",
    MatchPermissionSetArn};
const Pattern kAccountId{"\\d{12}", MatchAccountId};
const Pattern kPrincipalId{
    "^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$",
    MatchPrincipalId};
const Pattern kIdentityStoreId{
    "^d-[0-9a-f]{10}$|^[0-9a-f]{8}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{12}$",
    MatchIdentityStoreId};
const Pattern kRequestId{
    "\\b[0-9a-f]{8}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{4}\\b-[0-9a-f]{12}\\b",
    MatchRequestId};

std::string_view InstanceIdOf(std::string_view arn) {
  std::size_t slash = arn.find('/');
  if (slash == std::string_view::npos) return {};
  std::string_view rest = arn.substr(slash + 1);
  std::size_t end = rest.find('/');
  return end == std::string_view::npos ? rest : rest.substr(0, end);
}

}  // namespace jit::emulator
