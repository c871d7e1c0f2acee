#include "tickets/jira.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/test_fakes.h"
#include "config/reader.h"
#include "core/testing.h"

namespace jit::tickets {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

const model::Identity kAlice{"alice", {"engineers"}, "u-alice"};

// An issue as Jira's REST API answers it (fields trimmed to those asked for).
std::string Issue(const std::string& key, const std::string& status, const std::string& category,
                  const json& assignee) {
  return json{{"id", "10001"},
              {"key", key},
              {"fields",
               {{"status", {{"name", status}, {"statusCategory", {{"key", category}}}}},
                {"assignee", assignee}}}}
      .dump();
}

aws::HttpResponse Answer(long status, std::string body) {
  aws::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class JiraTest : public ::testing::Test {
 protected:
  std::unique_ptr<TicketChecker> Checker(const std::string& user = "") {
    std::string file = (dir_.path() / "token").string();
    std::ofstream(file) << "s3cret-token\n";
    JiraSettings s;
    s.url = "https://jira.example.com";
    s.token_file = file;
    s.user = user;
    Result<std::unique_ptr<TicketChecker>> c = NewJiraChecker(s, http_);
    EXPECT_OK(c);
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // Jira answers every call so from now on (the calls made are kept).
  void AnswerWith(long status, std::string body) {
    status_ = status;
    body_ = std::move(body);
  }

  jit::testing::TempDir dir_;
  long status_ = 200;
  std::string body_;
  bool down_ = false;  // every call fails as a network error would
  aws::testing::FakeTransport http_{[this](const aws::HttpCall&) -> Result<aws::HttpResponse> {
    if (down_) return UnavailableError("connection refused");
    return Answer(status_, body_);
  }};
};

TEST(IssueKey, ProjectDashNumber) {
  for (const char* ok : {"OPS-1", "OPS-123", "A1_B-9", "X-123456789012"}) {
    EXPECT_TRUE(IsIssueKey(ok)) << ok;
  }
  for (const char* bad : {"", "OPS", "OPS-", "-1", "ops-1", "1OPS-2", "OPS-1a", "OPS-1/../x",
                          "OPS 1", "OPS-1234567890123", "OPS-1?x=1", "O-PS-1"}) {
    EXPECT_FALSE(IsIssueKey(bad)) << bad;
  }
}

TEST_F(JiraTest, AnOpenTicketPassesAndTheCallCarriesTheBearerToken) {
  AnswerWith(200, Issue("OPS-7", "In Progress", "indeterminate",
                        {{"name", "alice"}, {"displayName", "Alice A"}}));
  auto checker = Checker();
  Result<TicketStatus> s = checker->Check("OPS-7", kAlice, Requirement::kOpen);
  ASSERT_OK(s);
  EXPECT_EQ(s->key, "OPS-7");
  EXPECT_EQ(s->status, "In Progress");
  EXPECT_EQ(s->assignee, "alice");
  EXPECT_TRUE(s->assigned_to_requester);
  std::vector<aws::HttpCall> calls = http_.calls();
  ASSERT_EQ(calls.size(), 1u);
  const aws::HttpCall& call = calls[0];
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url, "https://jira.example.com/rest/api/2/issue/OPS-7?fields=status,assignee");
  EXPECT_THAT(call.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                "Authorization", "Bearer s3cret-token")));
}

TEST_F(JiraTest, WithAUserTheTokenGoesAsBasicAuth) {
  AnswerWith(200, Issue("OPS-7", "To Do", "new", nullptr));
  auto checker = Checker("jit@example.com");
  ASSERT_OK(checker->Check("OPS-7", kAlice, Requirement::kOpen));
  // base64("jit@example.com:s3cret-token")
  EXPECT_THAT(http_.calls()[0].headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "Authorization", "Basic aml0QGV4YW1wbGUuY29tOnMzY3JldC10b2tlbg==")));
}

TEST_F(JiraTest, ADoneTicketIsRefusedNamingItsStatus) {
  AnswerWith(200, Issue("OPS-7", "Closed", "done", {{"name", "alice"}}));
  EXPECT_THAT(
      Checker()->Check("OPS-7", kAlice, Requirement::kOpen),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("OPS-7 is closed in Jira (Closed)")));
}

TEST_F(JiraTest, AssignedMeansTheRequesterByNameOrEmail) {
  auto checker = Checker();
  for (const json& mine : {json{{"name", "ALICE"}}, json{{"emailAddress", "alice@example.com"}},
                           json{{"emailAddress", "alice"}, {"accountId", "5b10a"}}}) {
    AnswerWith(200, Issue("OPS-7", "In Progress", "indeterminate", mine));
    Result<TicketStatus> s = checker->Check("OPS-7", kAlice, Requirement::kAssigned);
    EXPECT_OK(s) << mine.dump();
  }
  AnswerWith(200, Issue("OPS-7", "In Progress", "indeterminate",
                        {{"name", "bob"}, {"emailAddress", "alice.smith@example.com"}}));
  EXPECT_THAT(checker->Check("OPS-7", kAlice, Requirement::kAssigned),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("assigned to bob in Jira")));
  // Open is enough for kOpen, whoever holds it.
  Result<TicketStatus> open = checker->Check("OPS-7", kAlice, Requirement::kOpen);
  ASSERT_OK(open);
  EXPECT_FALSE(open->assigned_to_requester);
  AnswerWith(200, Issue("OPS-7", "In Progress", "indeterminate", nullptr));
  EXPECT_THAT(checker->Check("OPS-7", kAlice, Requirement::kAssigned),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not assigned to anyone")));
}

TEST_F(JiraTest, AnAssigneeNameCannotWriteControlCharactersIntoTheMessage) {
  AnswerWith(200,
             Issue("OPS-7", "In\x1b[31mProgress", "indeterminate", {{"name", "mallory\n\x1b[2J"}}));
  Result<TicketStatus> s = Checker()->Check("OPS-7", kAlice, Requirement::kAssigned);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message().find('\x1b'), std::string::npos) << s.error().message();
  EXPECT_EQ(s.error().message().find('\n'), std::string::npos) << s.error().message();
}

TEST_F(JiraTest, AMissingTicketIsRefusedAndNothingIsAskedForABadKey) {
  AnswerWith(404, R"({"errorMessages":["Issue does not exist"]})");
  auto checker = Checker();
  EXPECT_THAT(checker->Check("OPS-404", kAlice, Requirement::kOpen),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("OPS-404 does not exist in Jira")));
  EXPECT_THAT(checker->Check("../../admin", kAlice, Requirement::kOpen),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a Jira issue key")));
  EXPECT_EQ(http_.calls().size(), 1u);
}

TEST_F(JiraTest, ACheckThatCannotRunFailsClosedAsUnavailable) {
  auto checker = Checker();
  for (long status : {401L, 403L, 429L, 500L, 503L}) {
    AnswerWith(status, "{}");
    EXPECT_THAT(checker->Check("OPS-1", kAlice, Requirement::kOpen),
                StatusIs(StatusCode::kUnavailable))
        << status;
  }
  AnswerWith(200, "<html>login</html>");
  EXPECT_THAT(checker->Check("OPS-1", kAlice, Requirement::kOpen),
              StatusIs(StatusCode::kUnavailable, HasSubstr("not an issue")));
  down_ = true;
  EXPECT_THAT(checker->Check("OPS-1", kAlice, Requirement::kOpen),
              StatusIs(StatusCode::kUnavailable, HasSubstr("could not be checked")));
}

TEST(JiraSettings, ParsedWithTheirLimits) {
  auto parse = [](const std::string& yaml, JiraSettings* out) {
    return config::ReadDocument(yaml, "jit.yaml", {"jira"},
                                [&](const config::Fields& top, config::Reader& r) {
                                  if (const config::Field* f = top.Get("jira")) {
                                    *out = ParseJiraSettings(*f, r);
                                  }
                                });
  };
  JiraSettings s;
  ASSERT_OK(
      parse("jira: {url: 'https://jira.example.com/', token_file: /etc/jit/jira, "
            "user: jit@example.com, timeout: 3s}\n",
            &s));
  EXPECT_EQ(s.url, "https://jira.example.com");
  EXPECT_EQ(s.token_file, "/etc/jit/jira");
  EXPECT_EQ(s.user, "jit@example.com");
  EXPECT_EQ(s.timeout, Duration(3000));
  EXPECT_EQ(s.line, 1);
  EXPECT_THAT(parse("jira: {url: 'http://jira.example.com', token_file: x}\n", &s),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("https URL")));
  EXPECT_THAT(parse("jira: {url: 'https://jira.example.com'}\n", &s),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no 'token_file'")));
  EXPECT_THAT(parse("jira: {url: 'https://j.example.com', token_file: x, timeout: 1m}\n", &s),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("from 1s to 30s")));
  EXPECT_THAT(parse("jira: {url: 'https://j.example.com', token_file: x, user: 'a:b'}\n", &s),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("without ':'")));
  EXPECT_THAT(parse("jira: {url: 'https://j.example.com', token_file: x, tokn: y}\n", &s),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(parse("jira: {url: 'http://127.0.0.1:9999', token_file: x}\n", &s));
}

}  // namespace
}  // namespace jit::tickets
