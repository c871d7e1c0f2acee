// The API when its SQLite store fails (issue 6, "Fault suite"): a full disk and a write lock held
// by another connection answer 503 with the usual JSON error, nothing half-done is visible, and
// reads go on. ApiHandler is driven in-process over the workflow and the real SQLite engine.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/handlers.h"
#include "auth/auth.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/testing.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "store/sqlite_store.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::int64_t kMaxPages = 64;

// The tests fill the disk with alice's requests for one target: no per-user limits
// (policy::Limits) in their way.
policy::Config WithoutLimits(policy::Config c) {
  c.limits = {0, 0, false};
  return c;
}

class ApiStoreFaultTest : public ::testing::Test {
 protected:
  ApiStoreFaultTest()
      : config_(WithoutLimits(*policy::ParseConfig(policy::DevPolicyYaml(), "dev"))),
        auth_(auth::NewStaticAuthenticator(auth::DevUsers(), {})) {
    store::SqliteOptions o;
    o.path = Path();
    o.max_pages = kMaxPages;
    o.busy_timeout = Duration(300);
    auto s = store::OpenSqliteStore(o, clock_);
    JIT_CHECK(s.has_value());
    store_ = std::move(s).value();
    workflow_ = std::make_unique<workflow::Workflow>(*store_, config_, provider_, clock_);
    handler_ = std::make_unique<ApiHandler>(*workflow_, *auth_, config_,
                                            [this] { return store_->Ping(); });
    JIT_CHECK(sqlite3_open_v2(Path().c_str(), &other_, SQLITE_OPEN_READWRITE, nullptr) ==
              SQLITE_OK);
    (void)sqlite3_busy_timeout(other_, 5000);
  }
  ~ApiStoreFaultTest() override { sqlite3_close_v2(other_); }

  std::string Path() const { return (dir_.path() / "jit.db").string(); }
  bool Exec(const std::string& sql) {
    return sqlite3_exec(other_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  ApiResponse Call(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return handler_->Handle({method, target, "Bearer dev-alice", body});
  }
  ApiResponse Submit(std::size_t reason_bytes = 20) {
    json body = {{"account", "sandbox"},
                 {"permission_set", "ReadOnly"},
                 {"duration", "30m"},
                 {"reason", std::string(reason_bytes, 'r')}};
    return Call("POST", "/v1/requests", body.dump());
  }

  static void ExpectCleanUnavailable(const ApiResponse& r) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body.size(), 1u) << r.body;
    EXPECT_EQ(body["error"]["code"], "unavailable") << r.body;
    EXPECT_TRUE(body["error"]["message"].is_string()) << r.body;
  }

  FakeClock clock_;
  ::jit::testing::TempDir dir_;
  policy::ConfigHolder config_;
  provider::FakeProvider provider_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<workflow::Workflow> workflow_;
  std::unique_ptr<ApiHandler> handler_;
  sqlite3* other_ = nullptr;
};

TEST_F(ApiStoreFaultTest, AFullDiskAnswers503AndKeepsWhatWasAcknowledged) {
  ApiResponse first = Submit();
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = json::parse(first.body)["id"];
  // Fill the disk from beside the broker, then let the API fill what is left.
  ASSERT_TRUE(Exec("PRAGMA max_page_count = " + std::to_string(kMaxPages)));
  ASSERT_TRUE(Exec("CREATE TABLE junk (b BLOB)"));
  for (int size : {16384, 1024, 64}) {
    while (Exec("INSERT INTO junk VALUES (zeroblob(" + std::to_string(size) + "))")) {
    }
  }
  int accepted = 0;
  ApiResponse refused;
  for (int i = 0; i < 200; ++i) {
    refused = Submit(900);
    if (refused.status != 201) break;
    ++accepted;
  }
  ExpectCleanUnavailable(refused);
  EXPECT_LT(accepted, 200);
  // What was acknowledged reads back, with its whole history.
  ApiResponse shown = Call("GET", "/v1/requests/" + id);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(json::parse(shown.body)["history"].size(), 2u);
  ApiResponse listed = Call("GET", "/v1/requests?limit=500");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(json::parse(listed.body)["items"].size(), static_cast<std::size_t>(accepted + 1));
  // A full disk still takes an empty write transaction: /readyz stays green (docs/RELIABILITY.md).
  EXPECT_EQ(handler_->Handle({"GET", "/readyz", "", ""}).status, 200);

  ASSERT_TRUE(Exec("DELETE FROM junk"));
  EXPECT_EQ(Submit(900).status, 201);
}

TEST_F(ApiStoreFaultTest, AWriteLockHeldElsewhereAnswers503AfterTheBusyTimeout) {
  ApiResponse first = Submit();
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id = json::parse(first.body)["id"];
  ASSERT_TRUE(Exec("BEGIN IMMEDIATE"));
  ExpectCleanUnavailable(Submit());
  ExpectCleanUnavailable(Call("POST", "/v1/requests/" + id + "/revoke", "{}"));
  ApiResponse ready = handler_->Handle({"GET", "/readyz", "", ""});
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("unavailable"));
  EXPECT_EQ(Call("GET", "/v1/requests/" + id).status, 200);  // WAL readers do not wait
  ASSERT_TRUE(Exec("ROLLBACK"));
  EXPECT_EQ(Call("POST", "/v1/requests/" + id + "/revoke", "{}").status, 200);
  EXPECT_EQ(handler_->Handle({"GET", "/readyz", "", ""}).status, 200);
}

}  // namespace
}  // namespace jit::api
