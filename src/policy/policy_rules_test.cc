// Allowed hours, reason minimum length and extensions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/testing.h"
#include "core/time_format.h"
#include "model/identity.h"
#include "policy/policy.h"
#include "policy/policy_test_config.h"

namespace jit::policy {
namespace {

using ::jit::testing::StatusIs;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

using test::At;
using test::kCarol;
using test::kDave;
using test::kErin;
using test::kRules;
using test::Req;

class Rules : public ::testing::Test {
 protected:
  Config config_ = test::MustParse(kRules);
};

// --- hours ------------------------------------------------------------------------------------

AccessRequest Office() { return Req("prod", "Admin", hours(1), "deploy the hotfix", "INC-1"); }

TEST_F(Rules, InsideOfficeHoursInBerlinSummerTime) {
  // Monday 30 March 2026; Berlin is UTC+2.
  Result<Decision> d = Evaluate(config_, kErin, Office(), At("2026-03-30T06:00:00Z"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "office");
  EXPECT_EQ(d->approvals_required, 2);
  EXPECT_OK(Evaluate(config_, kErin, Office(), At("2026-03-30T15:59:59Z")));
}

TEST_F(Rules, OutsideOfficeHoursNamesTheWindow) {
  const std::string kMessage =
      "rule 'office' allows requests mon-fri 08:00-18:00 Europe/Berlin only";
  // 07:59:59 and 18:00:00 in Berlin: the start is inclusive, the end is not.
  EXPECT_THAT(Evaluate(config_, kErin, Office(), At("2026-03-30T05:59:59Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(Evaluate(config_, kErin, Office(), At("2026-03-30T16:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  // Saturday.
  EXPECT_THAT(Evaluate(config_, kErin, Office(), At("2026-01-10T10:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
}

TEST_F(Rules, OfficeHoursFollowBerlinWinterTime) {
  // Friday 9 January 2026; Berlin is UTC+1, so 18:00 there is 17:00Z.
  EXPECT_OK(Evaluate(config_, kErin, Office(), At("2026-01-09T16:59:59Z")));
  EXPECT_THAT(Evaluate(config_, kErin, Office(), At("2026-01-09T17:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument));
  // Monday 26 October 2026, the day after summer time ended: 08:00 is 07:00Z, not 06:00Z.
  EXPECT_THAT(Evaluate(config_, kErin, Office(), At("2026-10-26T06:30:00Z")),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(Evaluate(config_, kErin, Office(), At("2026-10-26T07:00:00Z")));
}

TEST_F(Rules, OvernightWindowBelongsToTheDayItStarts) {
  // `night`: fri 22:00-06:00 America/New_York (UTC-5 in January).
  AccessRequest r = Req("sandbox", "Ops", minutes(30));
  // Friday 9 January 22:00 EST .. Saturday 05:59:59 EST.
  EXPECT_OK(Evaluate(config_, kDave, r, At("2026-01-10T03:00:00Z")));
  EXPECT_OK(Evaluate(config_, kDave, r, At("2026-01-10T05:00:00Z")));  // midnight
  EXPECT_OK(Evaluate(config_, kDave, r, At("2026-01-10T10:59:59Z")));
  const std::string kMessage = "rule 'night' allows requests fri 22:00-06:00 America/New_York only";
  // Friday 21:59:59, Saturday 06:00.
  EXPECT_THAT(Evaluate(config_, kDave, r, At("2026-01-10T02:59:59Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(Evaluate(config_, kDave, r, At("2026-01-10T11:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  // Thursday night and Saturday night are not Friday's window; nor is Friday early morning
  // (that belongs to Thursday's).
  EXPECT_THAT(Evaluate(config_, kDave, r, At("2026-01-09T03:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(Evaluate(config_, kDave, r, At("2026-01-11T03:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(Evaluate(config_, kDave, r, At("2026-01-09T10:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
}

TEST_F(Rules, OutsideTheHoursTheNextRuleMayStillAllow) {
  // carol is an engineer and sre: outside office hours, break-glass decides.
  Result<Decision> d = Evaluate(config_, kCarol, Office(), At("2026-01-10T10:00:00Z"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "break-glass");
  EXPECT_TRUE(d->break_glass);
  d = Evaluate(config_, kCarol, Office(), At("2026-01-09T10:00:00Z"));
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "office");
}

// --- scheduled starts (start_at) -----------------------------------------------------------------

AccessRequest StartingAt(AccessRequest r, Time start) {
  r.start_at = start;
  return r;
}

TEST_F(Rules, ScheduledStartIsCheckedAgainstTheHoursAtItsStart) {
  // Asked on Sunday 29 March 2026 (outside the office window) for Monday 09:00 in Berlin.
  Time sunday = At("2026-03-29T10:00:00Z");
  Time monday_nine = At("2026-03-30T07:00:00Z");
  EXPECT_THAT(Evaluate(config_, kErin, Office(), sunday), StatusIs(StatusCode::kInvalidArgument));
  Result<Decision> d = Evaluate(config_, kErin, StartingAt(Office(), monday_nine), sunday);
  ASSERT_OK(d);
  EXPECT_EQ(d->rule->name, "office");
  EXPECT_EQ(d->start_at, monday_nine);
  // Monday 07:00 in Berlin is still outside the window.
  EXPECT_THAT(Evaluate(config_, kErin, StartingAt(Office(), At("2026-03-30T05:00:00Z")), sunday),
              StatusIs(StatusCode::kInvalidArgument,
                       "rule 'office' allows requests mon-fri 08:00-18:00 Europe/Berlin only"));
}

TEST_F(Rules, ScheduledStartMayBeAtMostTheWindowAhead) {
  Time now = At("2026-03-30T10:00:00Z");
  AccessRequest ro = Req("sandbox", "ReadOnly", hours(1), "look");
  Result<Decision> d = Evaluate(config_, kErin, StartingAt(ro, now + hours(7 * 24)), now);
  ASSERT_OK(d);
  EXPECT_EQ(d->start_at, now + hours(7 * 24));
  EXPECT_THAT(Evaluate(config_, kErin, StartingAt(ro, now + hours(7 * 24) + seconds(1)), now),
              StatusIs(StatusCode::kInvalidArgument,
                       "start_at 2026-04-06T10:00:01.000Z is more than the 7d ahead that rule "
                       "'readonly' allows"));
}

TEST_F(Rules, StartAtInThePastMeansNowWithinTheSkewAndIsRefusedBeyond) {
  Time now = At("2026-03-30T10:00:00Z");
  AccessRequest ro = Req("sandbox", "ReadOnly", hours(1), "look");
  Result<Decision> d = Evaluate(config_, kErin, StartingAt(ro, now - seconds(60)), now);
  ASSERT_OK(d);
  EXPECT_FALSE(d->start_at.has_value());  // at once
  d = Evaluate(config_, kErin, StartingAt(ro, now), now);
  ASSERT_OK(d);
  EXPECT_FALSE(d->start_at.has_value());
  EXPECT_THAT(
      Evaluate(config_, kErin, StartingAt(ro, now - seconds(61)), now),
      StatusIs(StatusCode::kInvalidArgument, "start_at 2026-03-30T09:58:59.000Z is in the past"));
}

TEST_F(Rules, BreakGlassCannotBeScheduled) {
  Time now = At("2026-03-30T10:00:00Z");
  AccessRequest bg = Req("sandbox", "Admin", minutes(30));
  EXPECT_OK(Evaluate(config_, kCarol, bg, now));
  EXPECT_THAT(Evaluate(config_, kCarol, StartingAt(bg, now + hours(1)), now),
              StatusIs(StatusCode::kInvalidArgument,
                       "break-glass access starts at once; rule 'break-glass' cannot be "
                       "scheduled"));
}

TEST_F(Rules, RuleWithoutAScheduleWindowTakesOnlyImmediateStarts) {
  Time friday_night = At("2026-01-10T03:00:00Z");
  AccessRequest ops = Req("sandbox", "Ops", minutes(30));
  EXPECT_OK(Evaluate(config_, kDave, StartingAt(ops, friday_night), friday_night));
  EXPECT_THAT(
      Evaluate(config_, kDave, StartingAt(ops, friday_night + minutes(5)), friday_night),
      StatusIs(StatusCode::kInvalidArgument, "rule 'night' does not allow scheduled starts"));
}

TEST_F(Rules, CatalogCarriesTheScheduleWindow) {
  std::vector<CatalogEntry> erin = Catalog(config_, kErin);
  ASSERT_FALSE(erin.empty());
  for (const CatalogEntry& e : erin) EXPECT_EQ(e.schedule_window, hours(7 * 24)) << e.rule->name;
  std::vector<CatalogEntry> dave = Catalog(config_, kDave);
  ASSERT_FALSE(dave.empty());
  EXPECT_EQ(dave[0].schedule_window, Duration(0));
}

TEST(AllowedHours, Describe) {
  AllowedHours h;
  h.from_minute = 9 * 60 + 30;
  h.to_minute = 24 * 60;
  EXPECT_EQ(h.Describe(), "daily 09:30-24:00 UTC");
  h.days = {true, false, true, false, true, true, true};
  EXPECT_EQ(h.Describe(), "mon,wed,fri-sun 09:30-24:00 UTC");
  h.days = {false, false, false, false, false, true, false};
  EXPECT_EQ(h.Describe(), "sat 09:30-24:00 UTC");
}

TEST(AllowedHours, WindowToMidnight) {
  AllowedHours h;
  h.from_minute = 20 * 60;
  h.to_minute = 24 * 60;
  EXPECT_TRUE(h.Allows(At("2026-05-05T23:59:59Z")));
  EXPECT_FALSE(h.Allows(At("2026-05-06T00:00:00Z")));
  EXPECT_FALSE(h.Allows(At("2026-05-05T19:59:59Z")));
}

TEST(AllowedHours, KolkataHalfHourOffset) {
  AllowedHours h;
  Result<std::shared_ptr<const TimeZone>> z = LoadTimeZone("Asia/Kolkata", JIT_ZONEINFO_TESTDATA);
  ASSERT_OK(z);
  h.zone = *z;
  h.from_minute = 9 * 60;
  h.to_minute = 17 * 60;
  EXPECT_FALSE(h.Allows(At("2026-05-05T03:29:59Z")));  // 08:59:59 IST
  EXPECT_TRUE(h.Allows(At("2026-05-05T03:30:00Z")));   // 09:00 IST
  EXPECT_FALSE(h.Allows(At("2026-05-05T11:30:00Z")));  // 17:00 IST
}

// --- reason minimum length --------------------------------------------------------------------

TEST_F(Rules, ReasonMinLengthCountsCharactersWithoutSurroundingBlanks) {
  Time t = At("2026-03-30T08:00:00Z");
  const std::string kMessage = "a reason of at least 10 characters is required (rule 'office')";
  EXPECT_THAT(Evaluate(config_, kErin, Req("prod", "Admin", hours(1), "", "INC-1"), t),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(Evaluate(config_, kErin, Req("prod", "Admin", hours(1), "fix it", "INC-1"), t),
              StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_THAT(
      Evaluate(config_, kErin, Req("prod", "Admin", hours(1), "   fix it      ", "INC-1"), t),
      StatusIs(StatusCode::kInvalidArgument, kMessage));
  EXPECT_OK(Evaluate(config_, kErin, Req("prod", "Admin", hours(1), "fix it now", "INC-1"), t));
  // Ten two-byte characters are ten characters.
  std::string umlauts;
  for (int i = 0; i < 10; ++i) umlauts += "\xC3\xA4";
  EXPECT_OK(Evaluate(config_, kErin, Req("prod", "Admin", hours(1), umlauts, "INC-1"), t));
}

TEST_F(Rules, CatalogCarriesTheNewLimits) {
  std::vector<CatalogEntry> c = Catalog(config_, kErin);
  auto office = std::find_if(c.begin(), c.end(),
                             [](const CatalogEntry& e) { return e.rule->name == "office"; });
  ASSERT_NE(office, c.end());
  EXPECT_EQ(office->reason_min_length, 10);
  EXPECT_TRUE(office->reason_required);
  EXPECT_EQ(office->hours, "mon-fri 08:00-18:00 Europe/Berlin");
  EXPECT_EQ(office->max_duration, hours(2));
}

// --- extension --------------------------------------------------------------------------------

GrantTerms OfficeGrant(Duration total) { return {"222222222222", "Admin", "office", total}; }

TEST_F(Rules, ExtensionWithinTheMaximumReturnsTheNewTotal) {
  Time t = At("2026-03-30T08:00:00Z");
  Result<Duration> total = CheckExtension(config_, kErin, OfficeGrant(hours(1)), minutes(30), t);
  ASSERT_OK(total);
  EXPECT_EQ(*total, minutes(90));
  // Up to the permission set's 2h exactly.
  total = CheckExtension(config_, kErin, OfficeGrant(hours(1)), hours(1), t);
  ASSERT_OK(total);
  EXPECT_EQ(*total, hours(2));
}

TEST_F(Rules, ExtensionPastTheMaximumNamesTheLimit) {
  Time t = At("2026-03-30T08:00:00Z");
  EXPECT_THAT(CheckExtension(config_, kErin, OfficeGrant(hours(1)), minutes(61), t),
              StatusIs(StatusCode::kInvalidArgument,
                       "extending by 1h1m would make 2h1m, longer than the 2h in all that "
                       "permission set 'Admin' allows"));
  EXPECT_THAT(CheckExtension(config_, kDave, {"111111111111", "Ops", "night", minutes(50)},
                             minutes(11), At("2026-01-10T03:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument,
                       "extending by 11m would make 1h1m, longer than the 1h in all that rule "
                       "'night' allows"));
  // A huge extension must not overflow into a small total.
  EXPECT_THAT(CheckExtension(config_, kErin, OfficeGrant(hours(1)), Duration::max(), t),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(Rules, ExtensionMustBePositive) {
  EXPECT_THAT(
      CheckExtension(config_, kErin, OfficeGrant(hours(1)), Duration(0),
                     At("2026-03-30T08:00:00Z")),
      StatusIs(StatusCode::kInvalidArgument, "an extension must be longer than 0s, not 0s"));
}

TEST_F(Rules, ExtensionOutsideTheHoursIsRefused) {
  EXPECT_THAT(CheckExtension(config_, kErin, OfficeGrant(hours(1)), minutes(30),
                             At("2026-03-30T16:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument,
                       "rule 'office' allows requests mon-fri 08:00-18:00 Europe/Berlin only"));
}

TEST_F(Rules, ExtensionLimitAtApprovalChecksTheConfigNotTheRequesterOrTheHours) {
  // No identity and no time: an approver completes the approval, perhaps out of hours.
  Result<Duration> total = CheckExtensionLimit(config_, OfficeGrant(hours(1)), minutes(30));
  ASSERT_OK(total);
  EXPECT_EQ(*total, minutes(90));
  EXPECT_THAT(CheckExtensionLimit(config_, OfficeGrant(hours(1)), minutes(61)),
              StatusIs(StatusCode::kInvalidArgument,
                       "extending by 1h1m would make 2h1m, longer than the 2h in all that "
                       "permission set 'Admin' allows"));
  EXPECT_THAT(CheckExtensionLimit(config_, OfficeGrant(hours(1)), Duration::max()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckExtensionLimit(config_, OfficeGrant(hours(1)), Duration(0)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      CheckExtensionLimit(config_, {"222222222222", "Admin", "gone", hours(1)}, minutes(30)),
      StatusIs(StatusCode::kPermissionDenied,
               "rule 'gone' is no longer in the config; the grant cannot be extended"));
  EXPECT_THAT(
      CheckExtensionLimit(config_, {"999999999999", "Admin", "office", hours(1)}, minutes(1)),
      StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(
      CheckExtensionLimit(config_, {"222222222222", "Gone", "office", hours(1)}, minutes(1)),
      StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(Rules, ExtensionNeedsTheSameRuleToStillCoverTheRequester) {
  Time t = At("2026-03-30T08:00:00Z");
  model::Identity left{"erin", {"marketing"}, "u-erin"};
  EXPECT_THAT(CheckExtension(config_, left, OfficeGrant(hours(1)), minutes(30), t),
              StatusIs(StatusCode::kPermissionDenied,
                       "rule 'office' no longer lets erin request Admin on prod (222222222222)"));
  EXPECT_THAT(
      CheckExtension(config_, kErin, {"222222222222", "Admin", "gone", hours(1)}, minutes(30), t),
      StatusIs(StatusCode::kPermissionDenied,
               "rule 'gone' is no longer in the config; the grant cannot be extended"));
  EXPECT_THAT(
      CheckExtension(config_, kErin, {"999999999999", "Admin", "office", hours(1)}, minutes(30), t),
      StatusIs(StatusCode::kPermissionDenied,
               "account 999999999999 is no longer in the config; the grant cannot be "
               "extended"));
  EXPECT_THAT(
      CheckExtension(config_, kErin, {"222222222222", "Gone", "office", hours(1)}, minutes(30), t),
      StatusIs(StatusCode::kPermissionDenied,
               "permission set 'Gone' is no longer in the config; the grant cannot be "
               "extended"));
  // The same account and permission set under another rule is not the same rule.
  EXPECT_THAT(CheckExtension(config_, kErin, {"222222222222", "Admin", "break-glass", hours(1)},
                             minutes(30), t),
              StatusIs(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace jit::policy
