#include "cutoff/statements.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace jit::cutoff {
namespace {

Time At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

TEST(CutoffStatementsTest, RoundTripsItsOwnStatementsAndKeepsOthersAsTheyAre) {
  const char* doc = R"({"Version":"2012-10-17","Statement":[
    {"Sid":"OperatorDeny","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},
    {"Sid":"JitCutoffLookalike","Effect":"Deny","Action":"*","Resource":"*"}]})";
  Result<InlinePolicy> p = ParseInlinePolicy(doc);
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_EQ(p->others.size(), 2u);  // a Jit-prefixed statement of another shape is not ours
  EXPECT_TRUE(p->cutoffs.empty());

  p->cutoffs.push_back({"222222222222", At("2026-12-05T00:15:00Z"), false, {"u-2", "u-1"}});
  p->cutoffs.push_back({"111111111111", At("2026-12-05T00:16:00Z"), true, {}});
  std::string text = ComposeInlinePolicy(*p);
  EXPECT_NE(text.find("\"Sid\":\"JitCutoff222222222222T20261205001500\""), std::string::npos);
  EXPECT_NE(text.find("\"Sid\":\"JitCutoff111111111111T20261205001600X\""), std::string::npos);
  EXPECT_NE(text.find("\"aws:TokenIssueTime\":\"2026-12-05T00:15:00Z\""), std::string::npos);

  Result<InlinePolicy> back = ParseInlinePolicy(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->others.size(), 2u);
  ASSERT_EQ(back->cutoffs.size(), 2u);
  EXPECT_EQ(ComposeInlinePolicy(*back), text);
}

TEST(CutoffStatementsTest, CoversOnlyListedUsersOrEveryoneElseAndOnlyBeforeItsTime) {
  CutoffStatement s{"222222222222", At("2026-12-05T00:15:00Z"), false, {"alice"}};
  EXPECT_TRUE(s.Covers("alice", At("2026-12-05T00:14:59Z")));
  EXPECT_FALSE(s.Covers("alice", At("2026-12-05T00:15:00Z")));
  EXPECT_FALSE(s.Covers("bob", At("2026-12-05T00:14:00Z")));
  s.everyone_except = true;
  EXPECT_FALSE(s.Covers("alice", At("2026-12-05T00:14:00Z")));
  EXPECT_TRUE(s.Covers("bob", At("2026-12-05T00:14:00Z")));
}

TEST(CutoffStatementsTest, AStatementEditedByHandIsNoLongerOurs) {
  CutoffStatement s{"222222222222", At("2026-12-05T00:15:00Z"), false, {"alice"}};
  nlohmann::json st = StatementJson(s);
  st["Sid"] = "JitCutoff222222222222T20261205001600";  // the time no longer matches
  nlohmann::json doc = {{"Version", "2012-10-17"}, {"Statement", nlohmann::json::array({st})}};
  Result<InlinePolicy> p = ParseInlinePolicy(doc.dump());
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->cutoffs.empty());
  EXPECT_EQ(p->others.size(), 1u);
}

TEST(CutoffStatementsTest, RefusesWhatIsNotAPolicyAndReadsNoneAsEmpty) {
  EXPECT_FALSE(ParseInlinePolicy("[1]").has_value());
  EXPECT_FALSE(ParseInlinePolicy("{\"Statement\": 3}").has_value());
  EXPECT_FALSE(ParseInlinePolicy("{\"Statement\": [3]}").has_value());
  Result<InlinePolicy> none = ParseInlinePolicy("");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(ComposeInlinePolicy(*none), "");
  Result<InlinePolicy> one = ParseInlinePolicy(R"({"Statement": {"Effect": "Allow"}})");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->others.size(), 1u);
}

TEST(CutoffStatementsTest, CeilsToWholeSeconds) {
  Time t = At("2026-12-05T00:15:00.001Z");
  EXPECT_EQ(CeilToSecond(t), At("2026-12-05T00:15:01Z"));
  EXPECT_EQ(CeilToSecond(At("2026-12-05T00:15:00Z")), At("2026-12-05T00:15:00Z"));
}

}  // namespace
}  // namespace jit::cutoff
