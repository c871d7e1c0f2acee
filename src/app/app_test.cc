#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "app/broker.h"
#include "app/health_metrics.h"
#include "aws/http.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/testing.h"
#include "net/connection_limits.h"

namespace jit::app {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

config::Config DevConfig() {
  Result<config::Config> config = config::ParseConfig(config::DevConfigYaml(), "dev-config");
  EXPECT_TRUE(config.has_value());
  return *std::move(config);
}

class BrokerTest : public ::testing::Test {
 protected:
  BrokerOptions DevOptions() const {
    BrokerOptions options;
    options.dev = true;
    options.listen = "127.0.0.1:0";
    options.data_dir = data_.path() / "data";
    return options;
  }

  // GET `url` on loopback; the HTTP status, or the transport's error.
  Result<long> Get(const std::string& url) {
    aws::HttpCall call;
    call.method = "GET";
    call.url = url;
    call.total_timeout = Duration(5000);
    JIT_ASSIGN_OR_RETURN(aws::HttpResponse r, http_->Send(call));
    return r.status;
  }

  // GET `url`'s body ("" on any error).
  std::string GetBody(const std::string& url) {
    aws::HttpCall call;
    call.method = "GET";
    call.url = url;
    call.total_timeout = Duration(5000);
    Result<aws::HttpResponse> r = http_->Send(call);
    return r.has_value() ? r->body : "";
  }

  testing::TempDir data_;
  RealClock clock_;
  std::unique_ptr<aws::HttpTransport> http_ = aws::NewCurlTransport();
};

TEST_F(BrokerTest, DevBrokerServesAndIsReadyUntilStopped) {
  Result<std::unique_ptr<Broker>> broker = Broker::Build(DevConfig(), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  EXPECT_THAT((*broker)->emulator_url(), StartsWith("http://127.0.0.1:"));
  EXPECT_EQ((*broker)->url(), "");
  ASSERT_OK((*broker)->Start());
  EXPECT_GT((*broker)->port(), 0);
  EXPECT_EQ((*broker)->url(), "http://127.0.0.1:" + std::to_string((*broker)->port()));
  EXPECT_EQ((*broker)->ui_base_url(), (*broker)->url());

  Result<long> ready = Get((*broker)->url() + "/readyz");
  ASSERT_TRUE(ready.has_value()) << ready.error();
  EXPECT_EQ(*ready, 200);
  // The dev set-up made its audit key and the SQLite database in the data folder.
  EXPECT_TRUE(std::filesystem::exists(DevOptions().data_dir / "audit-key.pem"));
  EXPECT_TRUE(std::filesystem::exists(DevOptions().data_dir / "jit.db"));

  std::string url = (*broker)->url();
  (*broker)->Stop();
  (*broker)->Stop();  // idempotent
  EXPECT_THAT(Get(url + "/readyz"), StatusIs(StatusCode::kUnavailable));
}

TEST_F(BrokerTest, ReloadReportsTheSettingsThatNeedARestart) {
  Result<std::unique_ptr<Broker>> broker = Broker::Build(DevConfig(), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  ASSERT_OK((*broker)->Start());

  Result<std::vector<std::string>> same = (*broker)->Reload(DevConfig());
  ASSERT_TRUE(same.has_value()) << same.error();
  EXPECT_THAT(*same, IsEmpty());

  config::Config next = DevConfig();
  next.server.listen = "127.0.0.1:1";
  Result<std::vector<std::string>> pending = (*broker)->Reload(next);
  ASSERT_TRUE(pending.has_value()) << pending.error();
  EXPECT_THAT(*pending, ElementsAre("server.listen"));
  // The new config is in force; the API still serves where it was bound.
  EXPECT_EQ((*broker)->config()->server.listen, "127.0.0.1:1");
  Result<long> ready = Get((*broker)->url() + "/readyz");
  ASSERT_TRUE(ready.has_value()) << ready.error();
  EXPECT_EQ(*ready, 200);
  (*broker)->Stop();
}

// A SIGHUP may bring a Slack channel with a signing secret to a broker that started without
// one: its interactions endpoint is set up at start, so Reload says a restart is needed.
TEST_F(BrokerTest, ReloadSaysANewSlackInteractionsEndpointNeedsARestart) {
  Result<std::unique_ptr<Broker>> broker = Broker::Build(DevConfig(), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  ASSERT_OK((*broker)->Start());
  testing::TempDir files;
  const std::string url = (files.path() / "slack-url").string();
  const std::string secret = (files.path() / "slack-secret").string();
  const std::string token = (files.path() / "slack-token").string();
  std::ofstream(token) << "xoxb-test\n";
  std::ofstream(url) << "http://127.0.0.1:9/hook\n";
  std::ofstream(secret) << "a-signing-secret\n";
  std::string yaml(config::DevConfigYaml());
  yaml += "notify:\n  - {type: slack, webhook_url_file: " + url +
          ", signing_secret_file: " + secret + ", bot_token_file: " + token + "}\n";
  Result<config::Config> next = config::ParseConfig(yaml, "next.yaml");
  ASSERT_TRUE(next.has_value()) << next.error();
  Result<std::vector<std::string>> pending = (*broker)->Reload(*next);
  ASSERT_TRUE(pending.has_value()) << pending.error();
  EXPECT_THAT(*pending,
              ElementsAre("notify: a Slack channel's signing_secret_file (Slack interactions)"));
  (*broker)->Stop();
}

// Issue 15: server.max_connections caps the API's connections, a value the open-file limit cannot
// hold is lowered, and /metrics shows the cap and the connections.
TEST_F(BrokerTest, CapsTheApisConnectionsAndExportsTheirMetrics) {
  config::Config config = DevConfig();
  config.server.max_connections = 3;
  Result<std::unique_ptr<Broker>> broker = Broker::Build(std::move(config), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  ASSERT_OK((*broker)->Start());
  std::string metrics = GetBody((*broker)->url() + "/metrics");
  EXPECT_THAT(metrics, HasSubstr("\njit_http_connections_max 3\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_http_connections_open 1\n"));
  EXPECT_THAT(metrics, HasSubstr("# TYPE jit_http_connections_refused_total counter\n"
                                 "jit_http_connections_refused_total 0\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_http_connections_evicted_total 0\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_http_accept_failures_total 0\n"));
  (*broker)->Stop();
  broker->reset();

  Result<net::FileLimit> limit = net::CurrentFileLimit();
  ASSERT_OK(limit);
  config = DevConfig();
  config.server.max_connections = 1'000'000;
  broker = Broker::Build(std::move(config), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  ASSERT_OK((*broker)->Start());
  int lowered = net::ChooseMaxConnections(1'000'000, limit->soft).max_connections;
  ASSERT_LT(lowered, 1'000'000);
  EXPECT_THAT(GetBody((*broker)->url() + "/metrics"),
              HasSubstr("\njit_http_connections_max " + std::to_string(lowered) + "\n"));
  (*broker)->Stop();
}

TEST_F(BrokerTest, BadStoreUrlIsAnInvalidArgumentNamingIt) {
  config::Config config = DevConfig();
  config.store = "mysql://db.example/jit";
  Result<std::unique_ptr<Broker>> broker = Broker::Build(std::move(config), DevOptions(), clock_);
  EXPECT_THAT(broker, StatusIs(StatusCode::kInvalidArgument,
                               HasSubstr("store: 'mysql://db.example/jit' is neither "
                                         "sqlite:///PATH nor postgres://USER@HOST:PORT/DB")));
}

TEST_F(BrokerTest, SecondBrokerOnTheSameDataFolderIsRefused) {
  Result<std::unique_ptr<Broker>> first = Broker::Build(DevConfig(), DevOptions(), clock_);
  ASSERT_TRUE(first.has_value()) << first.error();
  Result<std::unique_ptr<Broker>> second = Broker::Build(DevConfig(), DevOptions(), clock_);
  EXPECT_THAT(second,
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("another jit server is using")));
}

TEST_F(BrokerTest, WithoutAwsSectionOutsideDevModeBuildFails) {
  BrokerOptions options = DevOptions();
  options.dev = false;
  config::Config config = DevConfig();
  config.aws = {};
  Result<std::unique_ptr<Broker>> broker = Broker::Build(std::move(config), options, clock_);
  EXPECT_THAT(broker, StatusIs(StatusCode::kInvalidArgument, HasSubstr("no aws section")));
  // Nothing was opened: the data folder was not even made.
  EXPECT_FALSE(std::filesystem::exists(options.data_dir));
}

// Issue 13: the dev broker serves its readiness, its store, its audit checkpoints and its build
// on /metrics.
TEST_F(BrokerTest, MetricsShowReadinessTheStoreTheCheckpointsAndTheBuild) {
  Result<std::unique_ptr<Broker>> broker = Broker::Build(DevConfig(), DevOptions(), clock_);
  ASSERT_TRUE(broker.has_value()) << broker.error();
  ASSERT_OK((*broker)->Start());
  std::string metrics = GetBody((*broker)->url() + "/metrics");
  EXPECT_THAT(metrics, HasSubstr("\njit_ready 1\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_store_available 1\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_audit_checkpoint_failures_total 0\n"));
  EXPECT_THAT(metrics, HasSubstr("\njit_audit_verification_failures_total 0\n"));
  // The dev trail is empty at start: no checkpoint yet.
  EXPECT_THAT(metrics, HasSubstr("# TYPE jit_audit_last_checkpoint_timestamp_seconds gauge\n#"));
  BuildInfo build = ThisBuild();
  EXPECT_THAT(metrics, HasSubstr("\njit_build_info{version=\"" + build.version + "\",commit=\"" +
                                 build.commit + "\"} 1\n"));
  (*broker)->Stop();
}

TEST(HealthMetrics, ReadinessAndTheStoreFollowTheirSourcesAtEachScrape) {
  MetricsRegistry registry;
  Status ready;  // read by the gauges during Render, on this thread
  bool store = true;
  DeclareHealthMetrics(
      registry, {.readiness = [&] { return ready; }, .store_available = [&] { return store; }});
  EXPECT_THAT(registry.Render(), HasSubstr("\njit_ready 1\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("\njit_store_available 1\n"));
  ready = UnavailableError("Identity Center: 3 calls failed in a row");
  EXPECT_THAT(registry.Render(), HasSubstr("\njit_ready 0\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("\njit_store_available 1\n"));
  store = false;
  EXPECT_THAT(registry.Render(), HasSubstr("\njit_store_available 0\n"));
}

TEST(HealthMetrics, ReadinessIsReadBeforeTheStoreInOneScrape) {
  MetricsRegistry registry;
  std::vector<std::string> order;
  DeclareHealthMetrics(registry, {.readiness =
                                      [&] {
                                        order.push_back("readiness");
                                        return OkStatus();
                                      },
                                  .store_available =
                                      [&] {
                                        order.push_back("store");
                                        return true;
                                      }});
  (void)registry.Render();
  EXPECT_THAT(order, ElementsAre("readiness", "store"));
}

TEST(HealthMetrics, AuditCountsAndTheLastCheckpointComeFromTheCheckpointer) {
  MetricsRegistry registry;
  audit::CheckpointerStats stats;
  stats.checkpoint_failures = 2;
  stats.verification_failures = 3;
  stats.last_checkpoint_at = FromUnixMillis(1767225605750);
  DeclareHealthMetrics(registry, {.readiness = [] { return OkStatus(); },
                                  .store_available = [] { return true; },
                                  .checkpoints = [&] { return stats; }});
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE jit_audit_checkpoint_failures_total counter\n"
                              "jit_audit_checkpoint_failures_total 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE jit_audit_verification_failures_total counter\n"
                              "jit_audit_verification_failures_total 3\n"));
  // Whole seconds, exactly.
  EXPECT_THAT(text, HasSubstr("\njit_audit_last_checkpoint_timestamp_seconds 1767225605\n"));
}

TEST(HealthMetrics, WithoutCheckpointsTheCountersReadZeroAndNoTimestampIsShown) {
  MetricsRegistry registry;
  DeclareHealthMetrics(
      registry, {.readiness = [] { return OkStatus(); }, .store_available = [] { return true; }});
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\njit_audit_checkpoint_failures_total 0\n"));
  EXPECT_THAT(text, HasSubstr("\njit_audit_verification_failures_total 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("\njit_audit_last_checkpoint_timestamp_seconds ")));
}

TEST(HealthMetrics, BuildInfoNamesTheProjectVersionAndTheCommit) {
  BuildInfo build = ThisBuild();
  // From CMake (not the fallbacks of a file compiled without the definitions).
  EXPECT_THAT(build.version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_NE(build.version, "0.0.0");
  EXPECT_THAT(build.commit, MatchesRegex("[0-9a-f]+|unknown"));
  MetricsRegistry registry;
  DeclareBuildInfo(registry);
  EXPECT_THAT(registry.Render(),
              HasSubstr("# TYPE jit_build_info gauge\njit_build_info{version=\"" + build.version +
                        "\",commit=\"" + build.commit + "\"} 1\n"));
}

}  // namespace
}  // namespace jit::app
