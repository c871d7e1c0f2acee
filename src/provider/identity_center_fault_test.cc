// The Identity Center provider against the real emulator over loopback, with throttling,
// server errors and latency injected: grants and revocations driven through the Workflow and
// the Scheduler all complete, none is made twice, the create limit holds, and the ledger rules
// (standing access, shared assignments) hold on the wire.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/identity_center.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;
using model::RequestState;

// Wraps the real limiter and records how many creates were in flight at most.
class CountingLimiter final : public aws::Limiter {
 public:
  explicit CountingLimiter(aws::Limiter& inner) : inner_(inner) {}
  void AcquireCall() override { inner_.AcquireCall(); }
  void AcquireCreate() override {
    inner_.AcquireCreate();
    MutexLock lock(&mu_);
    ++in_flight_;
    max_ = std::max(max_, in_flight_);
  }
  void ReleaseCreate() override {
    {
      MutexLock lock(&mu_);
      --in_flight_;
    }
    inner_.ReleaseCreate();
  }
  int in_flight() const {
    MutexLock lock(&mu_);
    return in_flight_;
  }
  int max() const {
    MutexLock lock(&mu_);
    return max_;
  }

 private:
  aws::Limiter& inner_;
  mutable Mutex mu_;
  int in_flight_ = 0;
  int max_ = 0;
};

constexpr int kMaxCreates = 4;
constexpr int kUsers = 12;
constexpr int kRequests = 40;

std::string UserId(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "0000%04d-0000-4000-8000-%012d", i, i);
  return buf;
}
std::string UserName(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "user%02d", i);
  return buf;
}

policy::Config TestConfig(const emulator::Seed& seed) {
  std::string yaml = "accounts:\n";
  for (const auto& a : seed.accounts) {
    yaml += "  - {id: \"" + a.id + "\", name: " + a.name + "}\n";
  }
  yaml += "permission_sets:\n";
  std::string names;
  for (const auto& ps : seed.permission_sets) {
    yaml += "  - {name: " + ps.name + ", arn: \"" + ps.arn + "\"}\n";
    names += (names.empty() ? "" : ", ") + ps.name;
  }
  yaml +=
      "rules:\n  - {name: all, requesters: {groups: [engineers]}, accounts: {all: true}, "
      "permission_sets: [" +
      names + "], max_duration: 1h, approval: auto}\n";
  // The test overlaps grants of one assignment on purpose: no per-user limits.
  yaml +=
      "limits: {open_requests_per_user: 0, requests_per_minute_per_user: 0, "
      "refuse_duplicates: false}\n";
  auto c = policy::ParseConfig(yaml, "fault-test");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

TEST(IdentityCenterAgainstEmulator, EveryGrantAndRevokeCompletesOnceUnderFaults) {
  RealClock clock;

  // The emulator: the dev catalog plus more users, one of them with standing access.
  emulator::EmulatorOptions eo;
  eo.completion_delay = Duration(60);
  for (int i = 0; i < kUsers; ++i) {
    eo.seed.users.push_back({UserName(i), UserId(i), UserName(i), {UserName(i) + "@example.com"}});
  }
  const auto& accounts = eo.seed.accounts;
  const auto& sets = eo.seed.permission_sets;
  ASSERT_GE(accounts.size(), 2u);
  ASSERT_GE(sets.size(), 3u);
  const Assignment standing{UserId(0), accounts[0].id, sets[0].arn};
  eo.seed.assignments.push_back(
      {standing.account_id, standing.permission_set_arn, "USER", standing.principal_id});
  emulator::Emulator emu(eo, clock);
  ASSERT_OK(emu.Start());
  emulator::Faults faults;
  faults.throttle_rate = 0.3;
  faults.server_error_rate = 0.1;
  faults.latency = Duration(3);
  faults.seed = 42;
  emu.SetFaults(faults);

  // The provider over the wire, as serve wires it.
  auto http = aws::NewCurlTransport();
  auto creds = aws::NewStaticCredentials({eo.access_key_id, eo.secret_access_key, "", {}});
  auto real_limiter = aws::NewLimiter(clock, 500, kMaxCreates);
  CountingLimiter limiter(*real_limiter);
  aws::RetryPolicy retry;
  retry.base = Duration(5);
  retry.max = Duration(100);
  aws::JsonClient sso(SsoAdminSpec(emu.url(), "us-east-1"), *http, *creds, limiter, clock, retry);
  aws::JsonClient ids(IdentityStoreSpec(emu.url(), "us-east-1"), *http, *creds, limiter, clock,
                      retry);
  IdentityCenterOptions po;
  po.instance_arn = eo.seed.instance.arn;
  po.identity_store_id = eo.seed.instance.identity_store_id;
  po.max_creates_in_flight = kMaxCreates;
  po.create_wait = Duration(50);
  IdentityCenterProvider provider(po, sso, ids, limiter, clock);

  // The broker's state machine on the in-memory store, jobs on worker threads.
  policy::ConfigHolder config(TestConfig(eo.seed));
  auto store = store::NewMemoryStore(clock);
  workflow::WorkflowOptions wo;
  wo.poll_interval = Duration(30);
  wo.directory = &provider;
  workflow::Workflow flow(*store, config, provider, clock, wo);
  scheduler::SchedulerOptions so;
  so.workers = 8;  // more workers than create slots: grants must wait for slots
  so.base_backoff = Duration(20);
  so.max_backoff = Duration(300);
  scheduler::Scheduler scheduler(*store, flow, clock, so);
  ASSERT_OK(scheduler.Start());

  // 40 requests over fewer triples: some share an assignment, some hit standing access.
  std::vector<std::pair<model::Identity, std::string>> requests;
  std::set<std::tuple<std::string, std::string, std::string>> triples;
  for (int i = 0; i < kRequests; ++i) {
    int u = i % kUsers;
    const auto& account = accounts[(i / kUsers) % 2];
    const auto& ps = sets[(i / 2) % 3];
    model::Identity who{UserName(u), {"engineers"}, ""};  // resolved through the Directory
    auto r = flow.Submit(who, {account.name, ps.name, std::chrono::minutes(30), "load", ""});
    ASSERT_OK(r);
    requests.emplace_back(who, r->id);
    triples.emplace(UserId(u), account.id, ps.arn);
  }
  const bool standing_requested =
      triples.count({standing.principal_id, standing.account_id, standing.permission_set_arn}) > 0;
  ASSERT_TRUE(standing_requested);
  ASSERT_LT(triples.size(), static_cast<std::size_t>(kRequests));     // overlapping grants exist
  const int created_expected = static_cast<int>(triples.size()) - 1;  // all but the standing one

  auto wait_until_all = [&](RequestState want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    for (;;) {
      int done = 0;
      for (const auto& [who, id] : requests) {
        auto r = store->GetRequest(id);
        if (r.has_value() && r->state == want) ++done;
        if (r.has_value() && r->state == RequestState::kFailed) {
          ADD_FAILURE() << id << " failed: " << r->failure_reason;
          return false;
        }
      }
      if (done == kRequests) return true;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << done << " of " << kRequests << " reached the state in time";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };

  ASSERT_TRUE(wait_until_all(RequestState::kActive));
  json state = emu.State();
  std::set<std::tuple<std::string, std::string, std::string>> present;
  for (const json& a : state["assignments"]) {
    present.emplace(a["PrincipalId"], a["AccountId"], a["PermissionSetArn"]);
  }
  EXPECT_EQ(present, triples);
  EXPECT_EQ(state["operations"]["create"]["succeeded"], created_expected);
  EXPECT_EQ(state["operations"]["create"]["failed"], 0);
  EXPECT_EQ(state["operations"]["create"]["in_progress"], 0);

  for (const auto& [who, id] : requests) {
    auto r = flow.Revoke(who, id, "done");
    ASSERT_OK(r);
  }
  ASSERT_TRUE(wait_until_all(RequestState::kEnded));
  scheduler.Stop();

  state = emu.State();
  // Only the standing assignment is left; each created assignment was deleted exactly once.
  ASSERT_EQ(state["assignments"].size(), 1u);
  EXPECT_EQ(state["assignments"][0]["PrincipalId"], standing.principal_id);
  EXPECT_EQ(state["operations"]["create"]["succeeded"], created_expected);
  EXPECT_EQ(state["operations"]["delete"]["succeeded"], created_expected);
  EXPECT_EQ(state["operations"]["delete"]["failed"], 0);
  // The faults did happen: more calls arrived than operations were made.
  EXPECT_GT(state["calls"]["CreateAccountAssignment"].get<int>(), created_expected);

  EXPECT_LE(limiter.max(), kMaxCreates);
  EXPECT_GE(limiter.max(), 2);  // creates did overlap
  EXPECT_EQ(limiter.in_flight(), 0);
  EXPECT_EQ(provider.CreatesInFlight(), 0);
  auto ledger = store->ListLedger();
  ASSERT_OK(ledger);
  EXPECT_TRUE(ledger->empty());
  emu.Stop();
}

}  // namespace
}  // namespace jit::provider
