#include "api/refusal_audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/clock.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;

TEST(IsAuditedRefusal, CoversTokensPermissionsLimitsAndOthersRequests) {
  EXPECT_TRUE(IsAuditedRefusal("GET", "/v1/me", 401));
  EXPECT_TRUE(IsAuditedRefusal("GET", "/v1/slack/interactions", 401));
  EXPECT_TRUE(IsAuditedRefusal("GET", "/ui/session", 403));  // a CSRF failure of the web UI
  EXPECT_TRUE(IsAuditedRefusal("GET", "/v1/requests", 429));
  EXPECT_TRUE(IsAuditedRefusal("GET", "/v1/requests/req_1/approve", 404));
  EXPECT_FALSE(IsAuditedRefusal("GET", "/v1/requests/", 404));
  EXPECT_FALSE(IsAuditedRefusal("GET", "/v1/nothing", 404));
  EXPECT_FALSE(IsAuditedRefusal("GET", "/v1/requests", 422));
  EXPECT_FALSE(IsAuditedRefusal("GET", "/v1/requests", 201));
  // A duplicate request (refuse_duplicates) is a refusal; a decision in the wrong state is not.
  EXPECT_TRUE(IsAuditedRefusal("POST", "/v1/requests", 409));
  EXPECT_FALSE(IsAuditedRefusal("POST", "/v1/requests/req_1/approve", 409));
  EXPECT_FALSE(IsAuditedRefusal("GET", "/v1/requests", 409));
}

class RefusalAuditTest : public ::testing::Test {
 protected:
  RefusalAuditTest()
      : config_(*policy::ParseConfig(policy::DevPolicyYaml(), "dev")),
        workflow_(store_, config_, provider_, clock_) {}

  static ApiResponse Refused(int status, const std::string& user, const std::string& code) {
    ApiResponse r;
    r.status = status;
    r.user = user;
    r.body = json{{"error", {{"code", code}, {"message", "no \x1b[2J"}}}}.dump();
    return r;
  }

  std::vector<model::AuditEvent> Events() {
    std::vector<model::AuditEvent> out;
    auto all = store_.ListAudit(0, 1000, "");
    EXPECT_TRUE(all.has_value());
    if (!all.has_value()) return out;
    for (model::AuditEvent& e : *all) {
      if (e.action == "access.refused") out.push_back(std::move(e));
    }
    return out;
  }

  FakeClock clock_;
  store::MemoryStore store_{clock_};
  provider::FakeProvider provider_;
  policy::ConfigHolder config_;
  workflow::Workflow workflow_;
};

TEST_F(RefusalAuditTest, WritesTheRefusalWithItsSourceAndEscapedMessage) {
  RefusalAudit audit(workflow_, clock_, {});
  audit.Observe("POST", "/ui/session?x=1", "127.0.0.1", Refused(403, "alice", "csrf_failed"));
  std::vector<model::AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "alice");
  EXPECT_EQ(events[0].severity, "warning");
  json details = json::parse(events[0].details);
  EXPECT_EQ(details["path"], "/ui/session");
  EXPECT_EQ(details["code"], "csrf_failed");
  EXPECT_EQ(details["message"], "no \\x1b[2J");
  EXPECT_EQ(details["source"], "127.0.0.1");
  EXPECT_FALSE(details.contains("suppressed"));
}

// Issue 16 "Limits": a duplicate request refused with 409 is audited like the other limits; a
// decision refused for the request's state is not a refusal of access.
TEST_F(RefusalAuditTest, ADuplicateRequestIsAuditedAndAWrongStateIsNot) {
  RefusalAudit audit(workflow_, clock_, {});
  audit.Observe("POST", "/v1/requests/req_1/approve", "127.0.0.1",
                Refused(409, "bob", "failed_precondition"));
  EXPECT_TRUE(Events().empty());
  audit.Observe("POST", "/v1/requests", "127.0.0.1", Refused(409, "alice", "failed_precondition"));
  std::vector<model::AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "alice");
  json details = json::parse(events[0].details);
  EXPECT_EQ(details["status"], 409);
  EXPECT_EQ(details["path"], "/v1/requests");
}

TEST_F(RefusalAuditTest, LimitsEachSourceAndAllSourcesPerMinute) {
  RefusalAudit::Options options;
  options.per_source_per_minute = 2;
  options.total_per_minute = 5;
  RefusalAudit audit(workflow_, clock_, options);
  for (int i = 0; i < 4; ++i) audit.Observe("GET", "/v1/me", "10.0.0.1", Refused(401, "", "x"));
  EXPECT_EQ(Events().size(), 2u);
  // Other sources share the total of 5.
  for (int i = 0; i < 4; ++i) {
    audit.Observe("GET", "/v1/me", "10.0.0." + std::to_string(2 + i), Refused(401, "", "x"));
  }
  EXPECT_EQ(Events().size(), 5u);
  EXPECT_EQ(audit.written(), 5);
  EXPECT_EQ(audit.suppressed(), 3);
  // A known user is its own source, whatever the address.
  clock_.Advance(std::chrono::minutes(1));
  audit.Observe("GET", "/v1/me", "10.0.0.1", Refused(401, "", "x"));
  std::vector<model::AuditEvent> events = Events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(json::parse(events.back().details)["suppressed"], 2);
}

TEST_F(RefusalAuditTest, RemembersABoundedNumberOfSources) {
  RefusalAudit::Options options;
  options.max_sources = 3;
  options.total_per_minute = 1000;
  RefusalAudit audit(workflow_, clock_, options);
  for (int i = 0; i < 50; ++i) {
    audit.Observe("GET", "/v1/me", "10.0.1." + std::to_string(i), Refused(401, "", "x"));
  }
  EXPECT_EQ(audit.written(), 50);
}

}  // namespace
}  // namespace jit::api
