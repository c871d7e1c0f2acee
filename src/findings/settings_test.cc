// The `findings:` section of the config and the decision it makes (docs/FINDINGS.md).

#include "findings/settings.h"

#include "core/testing.h"

namespace jit::findings {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<Settings> Parse(const std::string& yaml) {
  Settings out;
  JIT_RETURN_IF_ERROR(config::ReadDocument(yaml, "jit.yaml", {"findings"},
                                           [&](const config::Fields& top, config::Reader& r) {
                                             if (const config::Field* f = top.Get("findings"))
                                               out = ParseSettings(*f, r);
                                           }));
  return out;
}

Finding Of(Severity s, std::vector<std::string> types) {
  Finding f;
  f.id = "f1";
  f.severity = s;
  f.types = std::move(types);
  return f;
}

TEST(FindingsSettings, AnEmptySectionTurnsItOnWithHighAndAnyType) {
  Result<Settings> s = Parse("findings:\n");
  ASSERT_THAT(s, IsOk());
  EXPECT_FALSE(s->Empty());
  EXPECT_EQ(s->min_severity, Severity::kHigh);
  EXPECT_TRUE(s->types.empty());
  Result<Settings> none = Parse("other: 1\n");
  EXPECT_THAT(none, StatusIs(StatusCode::kInvalidArgument));  // unknown top-level key
  EXPECT_TRUE(Settings{}.Empty());
}

TEST(FindingsSettings, ReadsSeverityAndTypes) {
  Result<Settings> s = Parse(
      "findings:\n  min_severity: medium\n  types: [\"UnauthorizedAccess:*\", "
      "\"CredentialAccess:*\"]\n");
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->min_severity, Severity::kMedium);
  EXPECT_THAT(s->types, ElementsAre("UnauthorizedAccess:*", "CredentialAccess:*"));
}

TEST(FindingsSettings, ReportsBadValuesOnTheirLines) {
  EXPECT_THAT(Parse("findings:\n  min_severity: SEVERE\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("jit.yaml:2: 'min_severity' must be LOW, MEDIUM, HIGH or "
                                 "CRITICAL")));
  EXPECT_THAT(Parse("findings:\n  min_severity: INFORMATIONAL\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("jit.yaml:2:")));
  EXPECT_THAT(Parse("findings:\n  types: []\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("jit.yaml:2: 'types' lists no")));
  EXPECT_THAT(Parse("findings:\n  severity: HIGH\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("severity")));
}

TEST(FindingsDecide, SeverityBarAndTypeGlobs) {
  Settings s;
  s.line = 1;
  EXPECT_TRUE(Decide(s, Of(Severity::kHigh, {"Recon:IAMUser/X"})).act);
  EXPECT_TRUE(Decide(s, Of(Severity::kCritical, {"Recon:IAMUser/X"})).act);
  Decision low = Decide(s, Of(Severity::kMedium, {"Recon:IAMUser/X"}));
  EXPECT_FALSE(low.act);
  EXPECT_EQ(low.why_not, "severity MEDIUM is below HIGH");

  s.types = {"UnauthorizedAccess:*", "*CredentialAccess*"};
  EXPECT_TRUE(Decide(s, Of(Severity::kHigh, {"UnauthorizedAccess:IAMUser/TorIPCaller"})).act);
  // One of several ASFF types is enough.
  EXPECT_TRUE(Decide(s, Of(Severity::kHigh, {"Effects/X", "TTPs/CredentialAccess:IAMUser-Y"})).act);
  Decision other = Decide(s, Of(Severity::kCritical, {"Recon:IAMUser/X"}));
  EXPECT_FALSE(other.act);
  EXPECT_THAT(other.why_not, HasSubstr("matches none of findings.types"));
}

}  // namespace
}  // namespace jit::findings
