// CloudTrailReader against the emulator over loopback: it assumes the role, pages through
// LookupEvents, retries throttled calls with back-off, and says so when the role cannot be
// assumed.

#include "activity/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "core/testing.h"
#include "core/time_format.h"
#include "emulator/emulator.h"

namespace jit::activity {
namespace reader_test {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::HasSubstr;

Time At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator_ = std::make_unique<emulator::Emulator>(emulator::EmulatorOptions(), clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    base_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
  }

  std::unique_ptr<CloudTrailReader> Reader(double rate = 0) {
    CloudTrailReaderOptions o;
    o.role_name = "jit-activity-reader";
    o.region = "us-east-1";
    o.sts_endpoint = emulator_->url();
    o.cloudtrail_endpoint = emulator_->url();
    o.calls_per_second = rate;
    o.retry.sleep = [this](Duration d) { waits_.push_back(d); };
    return std::make_unique<CloudTrailReader>(o, *http_, *base_, clock_);
  }

  void AddEvents(int n, const std::string& user, const std::string& account) {
    json events = json::array();
    for (int i = 0; i < n; ++i) {
      char time[32];
      std::snprintf(time, sizeof(time), "2026-12-05T10:%02d:%02dZ", i / 60, i % 60);
      events.push_back({{"account_id", account},
                        {"user_name", user},
                        {"permission_set", "Admin"},
                        {"event_name", "Call" + std::to_string(i)},
                        {"event_source", "ec2.amazonaws.com"},
                        {"event_time", time}});
    }
    emulator::RawResponse r = emulator_->HandleRaw({"POST",
                                                    "/_emulator/cloudtrail/events",
                                                    {{"Content-Type", "application/json"}},
                                                    json{{"events", events}}.dump()});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  FakeClock clock_{At("2026-12-05T12:00:00Z")};
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> base_;
  std::vector<Duration> waits_;
};

TEST_F(ReaderTest, PagesThroughEveryEventOfTheUserInTheAccountNewestFirst) {
  AddEvents(120, "alice", "222222222222");
  AddEvents(5, "bob", "222222222222");
  AddEvents(5, "alice", "111111111111");
  auto reader = Reader();
  Result<Lookup> got = reader->Read("222222222222", "alice", At("2026-12-05T10:00:00Z"),
                                    At("2026-12-05T11:00:00Z"), 5000);
  ASSERT_OK(got);
  EXPECT_EQ(got->calls, 3);  // 50 + 50 + 20
  ASSERT_EQ(got->events.size(), 120u);
  EXPECT_EQ(got->events.front()["EventName"], "Call119");
  EXPECT_EQ(got->events.back()["EventName"], "Call0");
  EXPECT_FALSE(got->truncated);
  // One role session for the account, reused.
  EXPECT_EQ(emulator_->State()["assumed_roles"].size(), 1u);
  ASSERT_OK(reader->Read("222222222222", "alice", At("2026-12-05T10:00:00Z"),
                         At("2026-12-05T11:00:00Z"), 5000));
  EXPECT_EQ(emulator_->State()["assumed_roles"].size(), 1u);
}

TEST_F(ReaderTest, StopsAtTheLimitAndSaysSo) {
  AddEvents(120, "alice", "222222222222");
  Result<Lookup> got = Reader()->Read("222222222222", "alice", At("2026-12-05T10:00:00Z"),
                                      At("2026-12-05T11:00:00Z"), 60);
  ASSERT_OK(got);
  EXPECT_EQ(got->events.size(), 60u);
  EXPECT_TRUE(got->truncated);
  EXPECT_EQ(got->calls, 2);
}

TEST_F(ReaderTest, RetriesThrottledLookupsWithBackOff) {
  AddEvents(120, "alice", "222222222222");
  emulator::Faults faults;
  faults.throttle_rate = 0.5;
  faults.seed = 7;
  emulator_->SetFaults(faults);
  Result<Lookup> got = Reader()->Read("222222222222", "alice", At("2026-12-05T10:00:00Z"),
                                      At("2026-12-05T11:00:00Z"), 5000);
  ASSERT_OK(got);
  EXPECT_EQ(got->events.size(), 120u);
  EXPECT_FALSE(waits_.empty());  // some calls were throttled and waited before the retry
  for (Duration d : waits_) EXPECT_LE(d, Duration(10000));
}

TEST_F(ReaderTest, ARoleThatCannotBeAssumedIsPermissionDenied) {
  Result<Lookup> got = Reader()->Read("333333333333", "alice", At("2026-12-05T10:00:00Z"),
                                      At("2026-12-05T11:00:00Z"), 5000);
  EXPECT_THAT(got, StatusIs(StatusCode::kPermissionDenied, HasSubstr("assume role")));
}

TEST_F(ReaderTest, PacesLookupsPerAccount) {
  AddEvents(120, "alice", "222222222222");
  auto reader = Reader(/*rate=*/1);
  // One call a second: the first page goes at once, each of the next two waits for the clock
  // to give a token.
  std::future<Result<Lookup>> got = std::async(std::launch::async, [&] {
    return reader->Read("222222222222", "alice", At("2026-12-05T10:00:00Z"),
                        At("2026-12-05T11:00:00Z"), 5000);
  });
  EXPECT_EQ(got.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  clock_.Advance(Duration(1000));
  EXPECT_EQ(got.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  clock_.Advance(Duration(1000));
  ASSERT_EQ(got.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Result<Lookup> lookup = got.get();
  ASSERT_OK(lookup);
  EXPECT_EQ(lookup->calls, 3);
}

}  // namespace
}  // namespace reader_test
}  // namespace jit::activity
