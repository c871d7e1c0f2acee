// activity::Service on the memory store and a fake reader: live answers are kept briefly, a
// closed window is read once and then served from the store, and the summary job waits for the
// window, audits once, and retries while CloudTrail cannot be read.

#include "activity/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"
#include "core/time_format.h"
#include "store/memory_store.h"

namespace jit::activity {
namespace service_test {
namespace {

using ::jit::testing::StatusIs;
using nlohmann::json;
using scheduler::JobOutcome;
using ::testing::HasSubstr;

Time At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";

// Answers what it holds, counting calls; `fail` makes it answer that error instead.
class FakeReader final : public EventReader {
 public:
  Result<Lookup> Read(const std::string& account_id, const std::string& user_name, Time start,
                      Time end, int max_events) override {
    MutexLock lock(&mu_);
    ++calls;
    last_start = start;
    last_end = end;
    if (!fail.ok()) return fail;
    Lookup out;
    for (const json& e : events) {
      if (static_cast<int>(out.events.size()) == max_events) {
        out.truncated = true;
        break;
      }
      out.events.push_back(e);
    }
    (void)account_id;
    (void)user_name;
    return out;
  }

  Mutex mu_;
  int calls = 0;
  Status fail;
  std::vector<json> events;
  Time last_start;
  Time last_end;
};

json Lookup(const std::string& id, const std::string& user, const char* time,
            bool read_only = true) {
  json record = {{"userIdentity",
                  {{"type", "AssumedRole"},
                   {"arn",
                    "arn:aws:sts::222222222222:assumed-role/"
                    "AWSReservedSSO_Admin_0123456789abcdef/" +
                        user}}},
                 {"readOnly", read_only}};
  return {{"EventId", id},
          {"EventName", "Call-" + id},
          {"EventSource", "ec2.amazonaws.com"},
          {"EventTime", static_cast<double>(ToUnixMillis(At(time))) / 1000.0},
          {"CloudTrailEvent", record.dump()}};
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::NewMemoryStore(clock_);
    ServiceOptions o;
    o.session_duration = [this](const std::string& ps) -> Result<Duration> {
      ++duration_calls_;
      if (ps != kPs) return NotFoundError("no such permission set");
      return Duration(std::chrono::minutes(30));
    };
    o.live_cache = std::chrono::seconds(30);
    service_ = std::make_unique<Service>(*store_, reader_, clock_, o);
    reader_.events = {Lookup("e1", "alice", "2026-12-05T10:10:00Z", false),
                      Lookup("e2", "bob", "2026-12-05T10:20:00Z"),
                      Lookup("e3", "alice", "2026-12-05T10:30:00Z")};
  }

  model::Request Put(model::RequestState state) {
    model::Request r;
    r.id = "req_activity0000000000000001";
    r.requester = "alice";
    r.principal_id = "a11ce";
    r.account_id = "222222222222";
    r.account_name = "prod";
    r.permission_set_name = "Admin";
    r.permission_set_arn = kPs;
    r.duration_seconds = 3600;
    r.reason = "deploy";
    r.rule = "r";
    r.state = state;
    r.created_at = At("2026-12-05T09:59:00Z");
    r.activated_at = At("2026-12-05T10:00:00Z");
    if (state == model::RequestState::kEnded) r.ended_at = At("2026-12-05T11:00:00Z");
    EXPECT_OK(store_->Transact([&](store::Tx& tx) { return tx.InsertRequest(r); }));
    return r;
  }

  std::vector<model::AuditEvent> Audit(const std::string& id) {
    return store_->ListAudit(0, 1000, id).value();
  }

  FakeClock clock_{At("2026-12-05T10:45:00Z")};
  std::unique_ptr<store::Store> store_;
  FakeReader reader_;
  int duration_calls_ = 0;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, AnOpenWindowIsReadLiveAndKeptBriefly) {
  model::Request r = Put(model::RequestState::kActive);
  auto got = service_->ForRequest(r, {});
  ASSERT_OK(got);
  EXPECT_EQ(got->second, "cloudtrail");
  ASSERT_EQ(got->first.events.size(), 2u);         // bob's is not hers
  EXPECT_EQ(got->first.events[0].event_id, "e3");  // newest first
  EXPECT_FALSE(got->first.window.closed);
  EXPECT_EQ(reader_.last_end, clock_.Now());
  ASSERT_OK(service_->ForRequest(r, {}));
  EXPECT_EQ(reader_.calls, 1);
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_OK(service_->ForRequest(r, {}));
  EXPECT_EQ(reader_.calls, 2);
  // Nothing is stored while the window is open.
  std::optional<std::string> stored;
  ASSERT_OK(store_->Transact([&](store::Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(stored, tx.GetRecord(kRecordKind, r.id));
    return OkStatus();
  }));
  EXPECT_FALSE(stored.has_value());
}

TEST_F(ServiceTest, AClosedWindowIsReadOnceThenServedFromTheStore) {
  model::Request r = Put(model::RequestState::kEnded);
  clock_.SetTime(At("2026-12-05T11:30:00Z"));  // ended 11:00 + 30m session duration
  auto first = service_->ForRequest(r, {});
  ASSERT_OK(first);
  EXPECT_EQ(first->second, "cloudtrail");
  EXPECT_TRUE(first->first.window.closed);
  EXPECT_EQ(reader_.last_end, At("2026-12-05T11:30:00Z"));
  EXPECT_EQ(first->first.events.size(), 2u);

  // CloudTrail is never asked again, even when it would answer something else now, and even by
  // another service on the same store (a restarted broker).
  reader_.events.clear();
  reader_.fail = UnavailableError("CloudTrail is down");
  ServiceOptions o;
  o.session_duration = [](const std::string&) -> Result<Duration> {
    return Duration(std::chrono::minutes(30));
  };
  Service restarted(*store_, reader_, clock_, o);
  clock_.Advance(std::chrono::hours(24));
  auto again = restarted.ForRequest(r, {});
  ASSERT_OK(again);
  EXPECT_EQ(again->second, "cache");
  EXPECT_EQ(reader_.calls, 1);
  EXPECT_EQ(ActivityJson(again->first, "x")["events"], ActivityJson(first->first, "x")["events"]);
}

TEST_F(ServiceTest, ErrorsOfTheReaderAndOfTheRequestComeBack) {
  model::Request r = Put(model::RequestState::kActive);
  reader_.fail = PermissionDeniedError("AccessDenied: not authorized to perform sts:AssumeRole");
  EXPECT_THAT(service_->ForRequest(r, {}), StatusIs(StatusCode::kPermissionDenied));
  model::Request never = r;
  never.activated_at.reset();
  EXPECT_THAT(service_->ForRequest(never, {}), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ServiceTest, TheSummaryJobWaitsForTheWindowThenAuditsOnce) {
  model::Request r = Put(model::RequestState::kEnded);
  model::Job job = Service::SummaryJob(r.id, clock_.Now());
  ASSERT_OK(store_->Transact([&](store::Tx& tx) { return tx.PutJob(job); }));
  clock_.SetTime(At("2026-12-05T11:10:00Z"));
  JobOutcome early = service_->Run(job);
  EXPECT_EQ(early.kind, JobOutcome::Kind::kCheckAgain);
  EXPECT_EQ(early.delay, Duration(std::chrono::minutes(20)));
  EXPECT_EQ(reader_.calls, 0);

  clock_.SetTime(At("2026-12-05T11:30:00Z"));
  JobOutcome done = service_->Run(job);
  EXPECT_EQ(done.kind, JobOutcome::Kind::kDone);
  EXPECT_TRUE(done.deleted);
  std::vector<model::AuditEvent> audit = Audit(r.id);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "activity.summary");
  EXPECT_EQ(audit[0].actor, "jit");
  json d = json::parse(audit[0].details);
  EXPECT_EQ(d["available"], true);
  EXPECT_EQ(d["events"], 2);
  EXPECT_EQ(d["write_calls"], 1);
  EXPECT_EQ(d["errors"], 0);
  EXPECT_EQ(d["services"], json::array({"ec2.amazonaws.com"}));
  EXPECT_EQ(d["window_end"], "2026-12-05T11:30:00.000Z");
  EXPECT_TRUE(store_->ListJobs().value().empty());

  // A second run (a lease that ran out) audits nothing more.
  EXPECT_EQ(service_->Run(job).kind, JobOutcome::Kind::kDone);
  EXPECT_EQ(Audit(r.id).size(), 1u);
}

TEST_F(ServiceTest, AnEndedWindowIsReadForGoodOnlyAfterTheSettleTime) {
  ServiceOptions o;
  o.session_duration = [](const std::string&) -> Result<Duration> {
    return Duration(std::chrono::minutes(30));
  };
  o.settle = std::chrono::minutes(15);
  Service settling(*store_, reader_, clock_, o);
  model::Request r = Put(model::RequestState::kEnded);
  model::Job job = Service::SummaryJob(r.id, clock_.Now());
  clock_.SetTime(At("2026-12-05T11:40:00Z"));  // ended 11:00 + 30m: ended, not settled
  auto got = settling.ForRequest(r, {});
  ASSERT_OK(got);
  EXPECT_FALSE(got->first.window.closed);
  EXPECT_EQ(got->first.window.end, At("2026-12-05T11:30:00Z"));
  EXPECT_EQ(reader_.last_end, At("2026-12-05T11:30:00Z"));
  JobOutcome early = settling.Run(job);
  EXPECT_EQ(early.kind, JobOutcome::Kind::kCheckAgain);
  EXPECT_EQ(early.delay, Duration(std::chrono::minutes(5)));
  EXPECT_TRUE(Audit(r.id).empty());
  clock_.SetTime(At("2026-12-05T11:45:00Z"));
  EXPECT_EQ(settling.Run(job).kind, JobOutcome::Kind::kDone);
  EXPECT_EQ(Audit(r.id).size(), 1u);
  auto cached = settling.ForRequest(r, {});
  ASSERT_OK(cached);
  EXPECT_EQ(cached->second, "cache");
}

TEST_F(ServiceTest, TheSummarySaysWhenTheRoleCannotBeAssumedAndRetries) {
  model::Request r = Put(model::RequestState::kEnded);
  model::Job job = Service::SummaryJob(r.id, clock_.Now());
  ASSERT_OK(store_->Transact([&](store::Tx& tx) { return tx.PutJob(job); }));
  clock_.SetTime(At("2026-12-05T12:00:00Z"));
  reader_.fail = PermissionDeniedError("AccessDenied: not authorized to perform sts:AssumeRole");
  EXPECT_EQ(service_->Run(job).kind, JobOutcome::Kind::kRetry);
  EXPECT_EQ(service_->Run(job).kind, JobOutcome::Kind::kRetry);
  std::vector<model::AuditEvent> audit = Audit(r.id);
  ASSERT_EQ(audit.size(), 1u);  // said once, not at every retry
  EXPECT_EQ(audit[0].severity, "warning");
  json d = json::parse(audit[0].details);
  EXPECT_EQ(d["available"], false);
  EXPECT_THAT(d["error"].get<std::string>(), HasSubstr("sts:AssumeRole"));

  reader_.fail = OkStatus();
  JobOutcome done = service_->Run(job);
  EXPECT_EQ(done.kind, JobOutcome::Kind::kDone);
  audit = Audit(r.id);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(json::parse(audit[1].details)["available"], true);
}

}  // namespace
}  // namespace service_test
}  // namespace jit::activity
