#include "aws/call_health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"

namespace jit::aws {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CallHealth, TripsAfterFailuresInARowAndMendsOnAnAnswer) {
  FakeClock clock;
  CallHealth h(clock, 3, std::chrono::minutes(5));
  EXPECT_OK(h.Check());
  h.Record("ListInstances", "network_error");
  h.Record("ListInstances", "server_error");
  EXPECT_OK(h.Check());  // two blips are not an outage
  h.Record("CreateAccountAssignment", "network_error");
  EXPECT_THAT(h.Check(), StatusIs(StatusCode::kUnavailable,
                                  HasSubstr("3 calls in a row failed, the last "
                                            "(CreateAccountAssignment: network_error)")));
  h.Record("ListInstances", "throttled");  // an answer: it is there
  EXPECT_OK(h.Check());
}

TEST(CallHealth, AnOldOutageIsForgotten) {
  FakeClock clock;
  CallHealth h(clock, 1, std::chrono::minutes(5));
  h.Record("ListInstances", "server_error");
  EXPECT_FALSE(h.Check().ok());
  clock.Advance(std::chrono::minutes(5));
  EXPECT_OK(h.Check());
}

TEST(CallHealth, ClientErrorsAreNotOutages) {
  FakeClock clock;
  CallHealth h(clock, 1);
  h.Record("CreateAccountAssignment", "client_error");
  EXPECT_OK(h.Check());
}

}  // namespace
}  // namespace jit::aws
