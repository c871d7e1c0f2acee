#include "api/router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jit::api {
namespace {

TEST(MatchPattern, LiteralSegmentsMatchExactly) {
  EXPECT_TRUE(MatchPattern("/v1/requests", "/v1/requests", nullptr));
  EXPECT_FALSE(MatchPattern("/v1/requests", "/v1/requests/", nullptr));
  EXPECT_FALSE(MatchPattern("/v1/requests", "/v1/request", nullptr));
  EXPECT_FALSE(MatchPattern("/v1/requests", "/v1", nullptr));
  EXPECT_FALSE(MatchPattern("/v1/requests", "v1/requests", nullptr));
  EXPECT_FALSE(MatchPattern("/healthz", "//healthz", nullptr));
  EXPECT_FALSE(MatchPattern("/healthz", "", nullptr));
}

TEST(MatchPattern, IdMatchesOneNonEmptySegmentAndIsHandedOut) {
  std::string id;
  EXPECT_TRUE(MatchPattern("/v1/requests/{id}/approve", "/v1/requests/req_1/approve", &id));
  EXPECT_EQ(id, "req_1");
  EXPECT_FALSE(MatchPattern("/v1/requests/{id}", "/v1/requests/", &id));
  EXPECT_FALSE(MatchPattern("/v1/requests/{id}", "/v1/requests/a/b", &id));
  EXPECT_FALSE(MatchPattern("/v1/requests/{id}/approve", "/v1/requests//approve", &id));
  id = "left over";
  EXPECT_TRUE(MatchPattern("/v1/me", "/v1/me", &id));
  EXPECT_EQ(id, "");
}

const std::vector<RoutePattern> kTable = {
    {"GET", "/v1/requests"},
    {"POST", "/v1/requests"},
    {"GET", "/v1/requests/{id}"},
    {"POST", "/v1/requests/{id}/approve"},
};

TEST(MatchRoute, FindsTheRouteOfThePathAndMethod) {
  RouteMatch m = MatchRoute(kTable, "POST", "/v1/requests");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(m.index, 1U);
  EXPECT_EQ(m.id, "");
  m = MatchRoute(kTable, "POST", "/v1/requests/req_9/approve");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kFound);
  EXPECT_EQ(m.index, 3U);
  EXPECT_EQ(m.id, "req_9");
}

TEST(MatchRoute, UnknownPathIsNoSuchPath) {
  EXPECT_EQ(MatchRoute(kTable, "GET", "/v1/nope").outcome, RouteMatch::Outcome::kNoSuchPath);
  EXPECT_EQ(MatchRoute(kTable, "POST", "/v1/requests/req_9/frobnicate").outcome,
            RouteMatch::Outcome::kNoSuchPath);
}

TEST(MatchRoute, KnownPathWithAnotherMethodListsTheMethodsInTableOrder) {
  RouteMatch m = MatchRoute(kTable, "DELETE", "/v1/requests");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, POST");
  m = MatchRoute(kTable, "GET", "/v1/requests/req_9/approve");
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
}

}  // namespace
}  // namespace jit::api
