#include "core/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace jit::logging {
namespace {

using ::testing::HasSubstr;

// A logger that writes to a string with the given formatter.
struct Captured {
  explicit Captured(std::unique_ptr<spdlog::formatter> f)
      : sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(out)), logger("jit", sink) {
    logger.set_formatter(std::move(f));
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink;
  spdlog::logger logger;
};

TEST(Log, JsonLinesCarryTheScopesFields) {
  Captured c(NewJsonFormatter());
  {
    ScopedFields http{{"http_request_id", "http_1"}};
    ScopedFields req{{"request_id", "req_2"}, {"user", "alice \"a\""}};
    c.logger.info("approved by {}", "bob");
  }
  c.logger.warn("outside\nsecond line \xff");
  std::istringstream lines(c.out.str());
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["logger"], "jit");
  EXPECT_EQ(j["msg"], "approved by bob");
  EXPECT_EQ(j["http_request_id"], "http_1");
  EXPECT_EQ(j["request_id"], "req_2");
  EXPECT_EQ(j["user"], "alice \"a\"");
  EXPECT_THAT(j["ts"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z"));
  ASSERT_TRUE(std::getline(lines, line));  // one line, though the message had a newline
  j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], "outside\nsecond line \xEF\xBF\xBD");
  EXPECT_FALSE(j.contains("request_id"));
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(Log, InnerScopesShadowAndFieldsStayOnTheirThread) {
  ScopedFields outer{{"request_id", "req_outer"}};
  {
    ScopedFields inner{{"request_id", "req_inner"}};
    std::vector<Field> now = CurrentFields();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now[0].value, "req_inner");
  }
  EXPECT_EQ(CurrentFields().at(0).value, "req_outer");
  std::thread([] { EXPECT_TRUE(CurrentFields().empty()); }).join();
}

TEST(Log, TextLinesAppendKeyValuePairs) {
  Captured c(NewTextFormatter());
  ScopedFields f{{"status", "200"}, {"path", "/v1/requests"}, {"user", "two words"}};
  c.logger.info("http");
  EXPECT_THAT(c.out.str(),
              HasSubstr("[info] http status=200 path=/v1/requests user=\"two words\"\n"));
}

}  // namespace
}  // namespace jit::logging
