#include "api/json.h"

#include "core/testing.h"
#include "core/time_format.h"

namespace jit::api {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;

model::Request SampleRequest() {
  model::Request r;
  r.id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  r.requester = "alice";
  r.account_id = "222222222222";
  r.account_name = "prod";
  r.permission_set_name = "Admin";
  r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-2";
  r.duration_seconds = 5400;
  r.reason = "deploy";
  r.rule = "prod-admin";
  r.approvals_required = 1;
  r.state = model::RequestState::kPending;
  r.created_at = FromUnixMillis(1767225600000);  // 2026-01-01T00:00:00Z
  r.approval_deadline = FromUnixMillis(1767226500000);
  return r;
}

TEST(RequestToJson, HasEveryFieldWithNullsForWhatIsUnset) {
  json j = RequestToJson(SampleRequest());
  EXPECT_EQ(j["id"], "req_01JD3Q8W5C2M7X9K4T6B1N0R8P");
  EXPECT_EQ(j["requester"], "alice");
  EXPECT_EQ(j["account"], (json{{"id", "222222222222"}, {"name", "prod"}}));
  EXPECT_EQ(j["permission_set"]["name"], "Admin");
  EXPECT_EQ(j["permission_set"]["arn"], "arn:aws:sso:::permissionSet/ssoins-1/ps-2");
  EXPECT_EQ(j["duration_seconds"], 5400);
  EXPECT_EQ(j["duration"], "1h30m");
  EXPECT_EQ(j["reason"], "deploy");
  EXPECT_TRUE(j["ticket"].is_null());
  EXPECT_EQ(j["rule"], "prod-admin");
  EXPECT_EQ(j["break_glass"], false);
  EXPECT_EQ(j["state"], "pending");
  EXPECT_EQ(j["approvals_required"], 1);
  EXPECT_EQ(j["approvals"], json::array());
  EXPECT_EQ(j["created_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j["approval_deadline"], "2026-01-01T00:15:00.000Z");
  for (const char* unset : {"decided_at", "activated_at", "expires_at", "ended_at", "decided_by",
                            "end_reason", "failure_reason"}) {
    EXPECT_TRUE(j[unset].is_null()) << unset;
  }
  EXPECT_FALSE(j.contains("history"));
  EXPECT_FALSE(j.contains("principal_id"));
}

TEST(RequestToJson, ShowsApprovalsAndTimes) {
  model::Request r = SampleRequest();
  r.ticket = "INC-1";
  r.approvals.push_back({"bob", "ok", FromUnixMillis(1767225660000)});
  r.decided_at = FromUnixMillis(1767225660000);
  json j = RequestToJson(r);
  EXPECT_EQ(j["ticket"], "INC-1");
  ASSERT_EQ(j["approvals"].size(), 1u);
  EXPECT_EQ(j["approvals"][0],
            (json{{"approver", "bob"}, {"comment", "ok"}, {"at", "2026-01-01T00:01:00.000Z"}}));
  EXPECT_EQ(j["decided_at"], "2026-01-01T00:01:00.000Z");
}

TEST(RequestViewToJson, AddsHistoryWithParsedDetails) {
  model::AuditEvent e;
  e.seq = 7;
  e.at = FromUnixMillis(1767225600000);
  e.actor = "alice";
  e.action = "request.created";
  e.request_id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  e.severity = "info";
  e.details = R"({"rule":"prod-admin"})";
  json j = RequestViewToJson({SampleRequest(), {e}});
  ASSERT_EQ(j["history"].size(), 1u);
  EXPECT_EQ(j["history"][0], (json{{"seq", 7},
                                   {"at", "2026-01-01T00:00:00.000Z"},
                                   {"actor", "alice"},
                                   {"action", "request.created"},
                                   {"severity", "info"},
                                   {"details", {{"rule", "prod-admin"}}}}));
}

TEST(AuditEventToJson, HasChainFieldsAndNullRequestIdWhenNone) {
  model::AuditEvent e;
  e.seq = 1;
  e.at = FromUnixMillis(0);
  e.actor = "jit";
  e.action = "broker.started";
  e.severity = "info";
  e.details = "{}";
  e.prev_hash = std::string(64, '0');
  e.hash = std::string(64, 'a');
  json j = AuditEventToJson(e);
  EXPECT_TRUE(j["request_id"].is_null());
  EXPECT_EQ(j["details"], json::object());
  EXPECT_EQ(j["prev_hash"], std::string(64, '0'));
  EXPECT_EQ(j["hash"], std::string(64, 'a'));
  EXPECT_EQ(j["at"], "1970-01-01T00:00:00.000Z");
}

TEST(CatalogEntryToJson, NamesTheApprovalKind) {
  policy::Account account{"111111111111", "sandbox", {"dev"}};
  policy::PermissionSet ps{"ReadOnly", "arn:ps", std::chrono::hours(8)};
  policy::Rule rule;
  rule.name = "readonly";
  policy::CatalogEntry e;
  e.account = &account;
  e.permission_set = &ps;
  e.rule = &rule;
  e.max_duration = std::chrono::hours(8);
  e.min_duration = std::chrono::seconds(5);
  e.auto_approve = true;
  json j = CatalogEntryToJson(e);
  EXPECT_EQ(
      j["account"],
      (json{{"id", "111111111111"}, {"name", "sandbox"}, {"tags", {"dev"}}, {"ou", nullptr}}));
  EXPECT_EQ(j["permission_set"], (json{{"name", "ReadOnly"}, {"arn", "arn:ps"}}));
  EXPECT_EQ(j["rule"], "readonly");
  EXPECT_EQ(j["max_duration"], "8h");
  EXPECT_EQ(j["max_duration_seconds"], 28800);
  EXPECT_EQ(j["min_duration_seconds"], 5);
  EXPECT_EQ(j["approval"], "auto");
  EXPECT_EQ(j["approvals_required"], 0);
  EXPECT_EQ(j["reason_required"], false);
  EXPECT_TRUE(j["ticket_pattern"].is_null());
  EXPECT_TRUE(j["ticket_check"].is_null());

  e.auto_approve = false;
  e.approvals_required = 2;
  e.ticket_pattern = "^INC-[0-9]+$";
  j = CatalogEntryToJson(e);
  EXPECT_EQ(j["approval"], "approvers");
  EXPECT_EQ(j["approvals_required"], 2);
  EXPECT_EQ(j["ticket_pattern"], "^INC-[0-9]+$");
  e.ticket_check = "assigned";
  EXPECT_EQ(CatalogEntryToJson(e)["ticket_check"], "assigned");
  EXPECT_EQ(json::parse(CatalogJsonText({e}))["items"][0], CatalogEntryToJson(e));

  e.break_glass = true;
  EXPECT_EQ(CatalogEntryToJson(e)["approval"], "break_glass");
}

TEST(CatalogEntryToJson, SaysHowLongAReasonMustBeAndWhenTheRuleApplies) {
  policy::CatalogEntry e;
  json j = CatalogEntryToJson(e);
  EXPECT_EQ(j["reason_min_length"], 0);
  EXPECT_TRUE(j["hours"].is_null());
  e.reason_required = true;
  e.reason_min_length = 12;
  e.hours = "mon-fri 08:00-18:00 Europe/Berlin";
  j = CatalogEntryToJson(e);
  EXPECT_EQ(j["reason_min_length"], 12);
  EXPECT_EQ(j["hours"], "mon-fri 08:00-18:00 Europe/Berlin");
}

// GET /v1/catalog writes its text without building JSON values; it must be byte for byte what
// dumping the values gives, odd bytes and missing parts included.
TEST(CatalogJsonText, IsTheDumpOfTheEntries) {
  policy::Account a1{"111111111111", "sandbox", {"dev", "team \"a\""}};
  policy::Account a2{"222222222222", "prod\x01\xff\xc3\xa9", {}};
  policy::PermissionSet p1{"ReadOnly", "arn:ps1", std::chrono::hours(8)};
  policy::PermissionSet p2{"Adm\\in\n", "arn:ps2", Duration(0)};
  policy::Rule r1;
  r1.name = "readonly";
  policy::Rule r2;
  r2.name = "prod \xe2\x80\x94 admin\t";
  std::vector<policy::CatalogEntry> entries;
  for (const policy::Account* a : {&a1, &a2, static_cast<policy::Account*>(nullptr)}) {
    for (const policy::PermissionSet* p :
         {&p1, &p2, static_cast<policy::PermissionSet*>(nullptr)}) {
      for (const policy::Rule* r : {&r1, &r2, static_cast<policy::Rule*>(nullptr)}) {
        policy::CatalogEntry e;
        e.account = a;
        e.permission_set = p;
        e.rule = r;
        std::size_t n = entries.size();
        e.max_duration = Duration(static_cast<std::int64_t>(n) * 3600500);
        e.min_duration = Duration(static_cast<std::int64_t>(n) * 1999);
        e.auto_approve = n % 3 == 0;
        e.break_glass = n % 5 == 0;
        e.approvals_required = static_cast<int>(n % 4);
        e.reason_required = n % 2 == 0;
        e.reason_min_length = static_cast<int>(n % 7) * 5;
        if (n % 4 == 1) e.ticket_pattern = "^(INC|CHG)-[0-9]+$\\\"";
        if (n % 3 == 2) e.hours = "mon-fri 08:00-18:00 Europe/Berlin\x7f\xfe";
        e.schedule_window = Duration(static_cast<std::int64_t>(n) * 86400000);
        entries.push_back(e);
      }
    }
  }
  auto dumped = [](const std::vector<policy::CatalogEntry>& list) {
    json items = json::array();
    for (const policy::CatalogEntry& e : list) items.push_back(CatalogEntryToJson(e));
    return Dump(json{{"items", std::move(items)}});
  };
  EXPECT_EQ(CatalogJsonText(entries), dumped(entries));
  EXPECT_EQ(CatalogJsonText({}), dumped({}));
  // The compact view, expanded, is the same list: every item's account, permission set and
  // terms put back together.
  auto expanded = [](const std::string& text) {
    json c = json::parse(text);
    json items = json::array();
    for (const json& i : c["items"]) {
      json e = c["terms"][i[2].get<std::size_t>()];
      e["account"] = c["accounts"][i[0].get<std::size_t>()];
      e["permission_set"] = c["permission_sets"][i[1].get<std::size_t>()];
      items.push_back(std::move(e));
    }
    return Dump(json{{"items", std::move(items)}});
  };
  EXPECT_EQ(expanded(CatalogCompactJsonText(entries)), dumped(entries));
  EXPECT_EQ(CatalogCompactJsonText({}),
            R"({"accounts":[],"items":[],"permission_sets":[],"terms":[]})");
  // Repeated accounts, permission sets and terms are written once.
  std::vector<policy::CatalogEntry> same(50, entries[1]);
  json c = json::parse(CatalogCompactJsonText(same));
  EXPECT_EQ(c["accounts"].size(), 1u);
  EXPECT_EQ(c["permission_sets"].size(), 1u);
  EXPECT_EQ(c["terms"].size(), 1u);
  EXPECT_EQ(c["items"].size(), 50u);
  EXPECT_EQ(CatalogJsonText({}), R"({"items":[]})");
}

TEST(ParseJsonObject, AcceptsObjectsAndEmptyBodies) {
  auto empty = ParseJsonObject("  \n");
  ASSERT_OK(empty);
  EXPECT_EQ(*empty, json::object());
  auto obj = ParseJsonObject(R"({"a": 1})");
  ASSERT_OK(obj);
  EXPECT_EQ((*obj)["a"], 1);
}

TEST(ParseJsonObject, RefusesMalformedJsonAndNonObjects) {
  EXPECT_THAT(ParseJsonObject("{"),
              StatusIs(StatusCode::kInvalidArgument, "request body is not valid JSON"));
  EXPECT_THAT(ParseJsonObject("[1]"),
              StatusIs(StatusCode::kInvalidArgument, "request body must be a JSON object"));
  EXPECT_THAT(ParseJsonObject("\"x\""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseJsonObject("{\"a\": \"\xff\"}"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ErrorJson, HasCodeAndMessage) {
  EXPECT_EQ(ErrorJson("not_found", "no request x"),
            (json{{"error", {{"code", "not_found"}, {"message", "no request x"}}}}));
}

TEST(Dump, ReplacesInvalidUtf8InsteadOfThrowing) {
  EXPECT_EQ(Dump(json{{"a", std::string("b\xff")}}), "{\"a\":\"b\xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace jit::api
