#include "audit/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace jit::audit {
namespace {

model::AuditEvent Event(std::string action, std::string severity, std::string details) {
  model::AuditEvent e;
  e.seq = 7;
  e.at = FromUnixMillis(1767225600123);
  e.actor = "alice";
  e.action = std::move(action);
  e.request_id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  e.severity = std::move(severity);
  e.details = std::move(details);
  e.prev_hash = std::string(64, '0');
  e.hash = std::string(64, 'f');
  return e;
}

TEST(Ocsf, ActivationIsAssignPrivilegesWithTheAccountAndPermissionSet) {
  nlohmann::json o =
      ToOcsf(Event("request.activated", "info",
                   R"({"account":"222222222222","account_name":"prod","permission_set":"Admin"})"));
  EXPECT_EQ(o["class_uid"], 3005);
  EXPECT_EQ(o["category_uid"], 3);
  EXPECT_EQ(o["activity_id"], 1);
  EXPECT_EQ(o["activity_name"], "Assign Privileges");
  EXPECT_EQ(o["type_uid"], 300501);
  EXPECT_EQ(o["time"], 1767225600123);
  EXPECT_EQ(o["time_dt"], "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(o["severity_id"], 1);
  EXPECT_EQ(o["status_id"], 1);
  EXPECT_EQ(o["metadata"]["uid"], "7");
  EXPECT_EQ(o["metadata"]["version"], "1.1.0");
  EXPECT_EQ(o["actor"]["user"]["name"], "alice");
  EXPECT_EQ(o["resources"][0]["uid"], "222222222222");
  EXPECT_EQ(o["resources"][0]["name"], "prod");
  EXPECT_EQ(o["privileges"][0], "Admin");
  EXPECT_EQ(o["unmapped"]["request_id"], "req_01JD3Q8W5C2M7X9K4T6B1N0R8P");
  EXPECT_EQ(o["unmapped"]["hash"], std::string(64, 'f'));
}

TEST(Ocsf, EndIsRevokePrivilegesAndTheBrokerIsAnApp) {
  model::AuditEvent e = Event("request.ended", "info", "{}");
  e.actor = "jit";
  nlohmann::json o = ToOcsf(e);
  EXPECT_EQ(o["activity_id"], 2);
  EXPECT_EQ(o["actor"]["app_name"], "jit");
  EXPECT_FALSE(o.contains("resources"));
}

TEST(Ocsf, SeverityAndFailureMap) {
  EXPECT_EQ(ToOcsf(Event("breakglass.activated", "high", "{}"))["severity_id"], 4);
  nlohmann::json failed = ToOcsf(Event("request.failed", "warning", "{}"));
  EXPECT_EQ(failed["severity_id"], 3);
  EXPECT_EQ(failed["status_id"], 2);
  EXPECT_EQ(failed["activity_id"], 99);
}

TEST(Ocsf, BadTextNeverThrows) {
  model::AuditEvent e = Event("x\xff", "info", "not json \xfe");
  e.actor = "\xc0\xaf";
  nlohmann::json o = ToOcsf(e);
  EXPECT_NO_THROW((void)o.dump());
  EXPECT_EQ(o["unmapped"]["details"], "not json \xEF\xBF\xBD");
}

}  // namespace
}  // namespace jit::audit
