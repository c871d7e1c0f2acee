#include "policy/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/duration.h"
#include "core/testing.h"
#include "model/identity.h"
#include "policy/policy_test_config.h"

namespace jit::policy {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

using test::At;
using test::kCarol;
using test::kDave;
using test::kErin;
using test::kMallory;
using test::kRules;
using test::Req;

const Time kMondayMorning = At("2026-03-30T08:00:00Z");  // 10:00 in Berlin
const Time kSaturday = At("2026-01-10T10:00:00Z");
const Time kFridayNightNy = At("2026-01-10T03:00:00Z");  // 22:00 in New York

// Explain and Evaluate must say the same thing about every request.
void ExpectAgreement(const Config& config, const model::Identity& who, const AccessRequest& req,
                     Time now) {
  SCOPED_TRACE(who.username + " " + req.account + "/" + req.permission_set + " " +
               FormatDuration(req.duration) + " reason='" + req.reason + "' ticket='" + req.ticket +
               "' at " + FormatRfc3339(now));
  Result<Decision> d = Evaluate(config, who, req, now);
  Explanation e = Explain(config, who, req, now);
  if (!d.ok()) {
    EXPECT_EQ(e.outcome, Outcome::kRefused);
    EXPECT_EQ(e.refusal.code(), d.error().code());
    EXPECT_EQ(e.refusal.message(), d.error().message());
    EXPECT_EQ(e.deciding_rule, nullptr);
    EXPECT_THAT(e.ToText(), HasSubstr(d.error().message()));
    return;
  }
  EXPECT_TRUE(e.refusal.ok()) << e.refusal;
  EXPECT_EQ(e.deciding_rule, d->rule);
  EXPECT_EQ(e.account, d->account);
  EXPECT_EQ(e.permission_set, d->permission_set);
  EXPECT_EQ(e.outcome == Outcome::kBreakGlass, d->break_glass);
  EXPECT_EQ(e.outcome == Outcome::kAutoApproved, d->auto_approve);
  EXPECT_EQ(e.outcome == Outcome::kNeedsApproval, d->approvals_required > 0);
  EXPECT_EQ(e.approvals_required, d->approvals_required);
  EXPECT_EQ(e.approvers.users, d->approvers.users);
  EXPECT_EQ(e.approvers.groups, d->approvers.groups);
  EXPECT_EQ(e.approval_timeout, d->approval_timeout);
  EXPECT_THAT(e.ToText(), HasSubstr("'" + d->rule->name + "'"));
}

TEST(Explain, AgreesWithEvaluateOnATableOfRequests) {
  Config config = test::MustParse(kRules);
  const std::vector<model::Identity> people = {kCarol, kDave, kErin, kMallory, model::Identity{}};
  const std::vector<AccessRequest> requests = {
      Req("prod", "Admin", hours(1), "deploy the hotfix", "INC-1"),
      Req("prod", "Admin", hours(3), "deploy the hotfix", "INC-1"),  // over the set's 2h
      Req("prod", "Admin", hours(1), "short", "INC-1"),
      Req("prod", "Admin", hours(1), "deploy the hotfix", ""),
      Req("prod", "Admin", hours(1), "deploy the hotfix", "CHG-1"),
      Req("sandbox", "Admin", minutes(30), "outage now!", ""),
      Req("222222222222", "ReadOnly", hours(8), "look around"),
      Req("sandbox", "ReadOnly", hours(9), "look around"),
      Req("sandbox", "ReadOnly", hours(1), "  "),
      Req("sandbox", "Ops", minutes(30)),
      Req("sandbox", "Ops", minutes(5)),
      Req("prod", "Ops", hours(2)),
      Req("nowhere", "Admin", hours(1)),
      Req("prod", "Nothing", hours(1)),
      Req("prod", "Admin", Duration(0), "deploy the hotfix", "INC-1"),
      Req("prod", "Admin", -minutes(1), "deploy the hotfix", "INC-1"),
      Req("prod", "Admin", hours(1), std::string(1001, 'r'), "INC-1"),
      Req("prod", "Admin", hours(1), "deploy the hotfix", std::string(129, '1')),
  };
  const std::vector<Time> times = {kMondayMorning, kSaturday, kFridayNightNy,
                                   At("2026-10-25T00:30:00Z"), At("2026-03-29T01:30:00Z")};
  int compared = 0;
  for (const model::Identity& who : people) {
    for (const AccessRequest& req : requests) {
      for (Time t : times) {
        ExpectAgreement(config, who, req, t);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 5 * 18 * 5);

  // Scheduled starts: ahead, too far ahead, just past (means now), long past.
  for (const model::Identity& who : people) {
    for (AccessRequest req : {Req("prod", "Admin", hours(1), "deploy the hotfix", "INC-1"),
                              Req("sandbox", "ReadOnly", hours(1), "look around"),
                              Req("sandbox", "Admin", minutes(30), "outage now!"),
                              Req("sandbox", "Ops", minutes(30))}) {
      for (Time t : times) {
        for (Duration ahead : {Duration(hours(1)), Duration(hours(24 * 8)), -Duration(seconds(30)),
                               -Duration(minutes(5)), Duration(hours(64))}) {
          req.start_at = t + ahead;
          ExpectAgreement(config, who, req, t);
        }
      }
    }
  }

  Result<Config> dev = ParseConfig(DevPolicyYaml(), "dev");
  ASSERT_OK(dev);
  for (const model::Identity& who :
       {model::Identity{"alice", {"engineers"}, ""}, kCarol, model::Identity{"sam", {"sre"}, ""}}) {
    for (const AccessRequest& req :
         {Req("sandbox", "ReadOnly", hours(2)), Req("prod", "Admin", minutes(30), "hotfix"),
          Req("prod", "Admin", minutes(30)), Req("prod", "BreakGlass", hours(1), "outage"),
          Req("prod", "BreakGlass", hours(2), "outage"), Req("sandbox", "Admin", hours(1))}) {
      ExpectAgreement(*dev, who, req, kSaturday);
    }
  }
}

TEST(Explain, ScheduledStartShowsItsConditionAndTime) {
  Config config = test::MustParse(kRules);
  AccessRequest req = Req("sandbox", "ReadOnly", hours(1), "look around");
  req.start_at = kSaturday + hours(24 * 9);
  Explanation e = Explain(config, kErin, req, kSaturday);
  ASSERT_EQ(e.outcome, Outcome::kRefused);
  EXPECT_THAT(e.ToText(), HasSubstr("to start at 2026-01-19T10:00:00.000Z"));
  EXPECT_THAT(e.ToText(), HasSubstr("UNMET  within 7d from now: start_at"));
  nlohmann::json j = e.ToJson();
  EXPECT_EQ(j["request"]["start_at"], "2026-01-19T10:00:00.000Z");
  req.start_at = kSaturday + hours(24);
  e = Explain(config, kErin, req, kSaturday);
  EXPECT_EQ(e.outcome, Outcome::kAutoApproved);
}

TEST(Explain, NeedsApprovalListsEveryConditionOfTheDecidingRule) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(
      config, kErin, Req("prod", "Admin", hours(1), "deploy the hotfix", "INC-7"), kMondayMorning);
  ASSERT_EQ(e.outcome, Outcome::kNeedsApproval);
  ASSERT_NE(e.deciding_rule, nullptr);
  EXPECT_EQ(e.deciding_rule->name, "office");
  EXPECT_EQ(e.approvals_required, 2);
  ASSERT_EQ(e.rules.size(), 4u);
  const RuleExplanation& office = e.rules[0];
  EXPECT_TRUE(office.Covers());
  EXPECT_TRUE(office.Allows());
  std::vector<std::string> names;
  for (const ConditionCheck& c : office.conditions) {
    names.push_back(c.name);
    EXPECT_TRUE(c.met) << c.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"max_duration", "min_duration", "reason", "ticket",
                                             "hours"}));
  EXPECT_EQ(office.conditions[0].limit, "2h (permission set 'Admin')");
  EXPECT_EQ(office.conditions[2].limit, "required, at least 10 characters");
  EXPECT_EQ(office.conditions[3].limit, "^INC-[0-9]+$");
  EXPECT_EQ(office.conditions[4].limit, "mon-fri 08:00-18:00 Europe/Berlin");
  // `night` is for oncall and Ops; it does not apply, and lists no conditions.
  EXPECT_FALSE(e.rules[1].requester_matches);
  EXPECT_TRUE(e.rules[1].account_matches);
  EXPECT_FALSE(e.rules[1].permission_set_matches);
  EXPECT_TRUE(e.rules[1].conditions.empty());

  std::string text = e.ToText();
  EXPECT_THAT(text, HasSubstr("account: prod (222222222222)\n"));
  EXPECT_THAT(text, HasSubstr("  office (line 9): requester yes, account yes, permission set yes"
                              " - every condition met\n"));
  EXPECT_THAT(text, HasSubstr("    hours        met    mon-fri 08:00-18:00 Europe/Berlin\n"));
  EXPECT_THAT(text, HasSubstr("  night (line 18): requester no, account yes, permission set no"
                              " - does not apply\n"));
  EXPECT_THAT(text, HasSubstr("outcome: needs 2 approvals from groups approvers within 30m "
                              "(rule 'office')\n"));
}

TEST(Explain, UnmetConditionsSayWhyAndTheNextRuleDecides) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(config, kCarol, Req("prod", "Admin", hours(1), "fix", ""), kSaturday);
  ASSERT_EQ(e.outcome, Outcome::kBreakGlass);
  EXPECT_EQ(e.deciding_rule->name, "break-glass");
  const RuleExplanation& office = e.rules[0];
  EXPECT_TRUE(office.Covers());
  EXPECT_FALSE(office.Allows());
  std::vector<bool> met;
  for (const ConditionCheck& c : office.conditions) met.push_back(c.met);
  EXPECT_EQ(met, (std::vector<bool>{true, true, false, false, false}));
  EXPECT_EQ(office.conditions[4].error.message(),
            "rule 'office' allows requests mon-fri 08:00-18:00 Europe/Berlin only");
  std::string text = e.ToText();
  EXPECT_THAT(text, HasSubstr("    reason       UNMET  required, at least 10 characters: a reason "
                              "of at least 10 characters is required (rule 'office')\n"));
  EXPECT_THAT(text, HasSubstr("outcome: break-glass"));
}

TEST(Explain, UnknownAccountIsRefusedWithoutRules) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(config, kErin, Req("nowhere", "Admin", hours(1)), kSaturday);
  EXPECT_EQ(e.outcome, Outcome::kRefused);
  EXPECT_EQ(e.refusal.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.account, nullptr);
  EXPECT_TRUE(e.rules.empty());
  EXPECT_THAT(e.ToText(), HasSubstr("outcome: refused (InvalidArgument): unknown account "
                                    "'nowhere'\n"));
}

TEST(Explain, WithoutADurationTheRulesAreStillListed) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(config, kDave, Req("sandbox", "Ops", Duration(0)), kFridayNightNy);
  EXPECT_EQ(e.outcome, Outcome::kRefused);
  EXPECT_EQ(e.refusal.message(), "duration must be longer than 0s, not 0s");
  ASSERT_EQ(e.rules.size(), 4u);
  EXPECT_TRUE(e.rules[1].Covers());
  EXPECT_FALSE(e.rules[1].conditions.empty());
}

TEST(Explain, NobodyMatchesIsPermissionDenied) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(config, kMallory, Req("prod", "Admin", hours(1)), kMondayMorning);
  EXPECT_EQ(e.outcome, Outcome::kRefused);
  EXPECT_EQ(e.refusal.code(), StatusCode::kPermissionDenied);
  for (const RuleExplanation& r : e.rules) EXPECT_FALSE(r.Covers()) << r.name;
  EXPECT_THAT(e.ToText(), HasSubstr("no rule lets mallory request Admin on prod"));
}

TEST(Explain, Json) {
  Config config = test::MustParse(kRules);
  Explanation e = Explain(
      config, kErin, Req("prod", "Admin", hours(1), "deploy the hotfix", "INC-7"), kMondayMorning);
  nlohmann::json j = e.ToJson();
  EXPECT_EQ(j["outcome"], "approval");
  EXPECT_EQ(j["decided_by"], "office");
  EXPECT_EQ(j["at"], "2026-03-30T08:00:00.000Z");
  EXPECT_EQ(j["account"]["id"], "222222222222");
  EXPECT_EQ(j["permission_set"]["name"], "Admin");
  EXPECT_EQ(j["request"]["duration_seconds"], 3600);
  EXPECT_EQ(j["approvals"]["required"], 2);
  EXPECT_EQ(j["approvals"]["approvers"]["groups"], nlohmann::json::array({"approvers"}));
  EXPECT_EQ(j["approvals"]["timeout_seconds"], 1800);
  EXPECT_FALSE(j.contains("refusal"));
  ASSERT_EQ(j["rules"].size(), 4u);
  EXPECT_EQ(j["rules"][0]["name"], "office");
  EXPECT_EQ(j["rules"][0]["line"], 9);
  EXPECT_EQ(j["rules"][0]["applies"], true);
  EXPECT_EQ(j["rules"][0]["allows"], true);
  EXPECT_EQ(j["rules"][0]["conditions"][4]["name"], "hours");
  EXPECT_EQ(j["rules"][0]["conditions"][4]["met"], true);
  EXPECT_FALSE(j["rules"][0]["conditions"][4].contains("error"));
  EXPECT_EQ(j["rules"][1]["applies"], false);

  nlohmann::json refused =
      Explain(config, kErin, Req("prod", "Admin", hours(1)), kSaturday).ToJson();
  EXPECT_EQ(refused["outcome"], "refused");
  EXPECT_EQ(refused["decided_by"], nullptr);
  EXPECT_EQ(refused["refusal"]["code"], "InvalidArgument");
  EXPECT_EQ(refused["refusal"]["message"],
            "a reason of at least 10 characters is required (rule 'office')");
  EXPECT_FALSE(refused.contains("approvals"));
}

TEST(Explain, JsonOfHostileInputDumpsWithoutThrowing) {
  Config config = test::MustParse(kRules);
  // Invalid UTF-8 in what people type, echoed in the ticket error message too.
  Explanation e = Explain(config, model::Identity{"\xff\xfe", {"engineers", "\xc0\xaf"}, ""},
                          Req("prod", "Admin", hours(1), "reason \xed\xa0\x80 here", "INC-\xff"),
                          kMondayMorning);
  std::string dumped;
  EXPECT_NO_THROW(dumped = e.ToJson().dump());
  EXPECT_THAT(dumped, HasSubstr("INC-\xEF\xBF\xBD"));
  EXPECT_THAT(dumped, Not(HasSubstr("\xff")));
  // Oversized input is refused and not echoed.
  Explanation big = Explain(config, kErin, Req("prod", "Admin", hours(1), std::string(5000, 'r')),
                            kMondayMorning);
  EXPECT_EQ(big.refusal.message(), "the reason is too long (at most 1000 characters)");
  EXPECT_THAT(big.ToJson().dump(), Not(HasSubstr("rrrr")));
}

}  // namespace
}  // namespace jit::policy
