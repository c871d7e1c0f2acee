#pragma once

// Test-only: the dev-mode people and policy that the workflow tests share (one copy, so that the
// tests agree on who alice is and so that the unity build sees one definition).

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/clock.h"
#include "core/testing.h"
#include "findings/settings.h"
#include "model/identity.h"
#include "notify/fake_channel.h"
#include "notify/notify.h"
#include "policy/config.h"
#include "provider/fake_group_memberships.h"
#include "provider/fake_provider.h"
#include "provider/group_target.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/notifications.h"
#include "workflow/workflow.h"

namespace jit::workflow::fixtures {

inline const model::Identity kAlice{"alice", {"engineers"}, "a11ce000-0000-4000-8000-000000000001"};
inline const model::Identity kBob{"bob", {"approvers"}, "b0b00000-0000-4000-8000-000000000002"};
inline const model::Identity kCarol{
    "carol", {"approvers", "sre", "admins"}, "ca401000-0000-4000-8000-000000000003"};
inline const model::Identity kDave{"dave", {"engineers"}, "da7e0000-0000-4000-8000-000000000004"};

// The dev catalog's ReadOnly and Admin permission sets.
inline constexpr char kReadOnly[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
inline constexpr char kAdmin[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";

// The policy of `jit serve --dev`.
inline policy::Config DevConfig() {
  auto c = policy::ParseConfig(policy::DevPolicyYaml(), "dev");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

// `c` with the per-user limits off (policy::Limits), for tests that pile up one user's requests
// on purpose: to fill a disk, or to overlap grants of one assignment.
inline policy::Config WithoutLimits(policy::Config c) {
  c.limits.open_requests_per_user = 0;
  c.limits.requests_per_minute_per_user = 0;
  c.limits.refuse_duplicates = false;
  return c;
}

// The messages of kind `what` a channel sent.
inline int Count(const notify::FakeChannel& c, notify::Event what) {
  const std::vector<notify::Message> sent = c.sent();
  return static_cast<int>(std::count_if(
      sent.begin(), sent.end(), [what](const notify::Message& m) { return m.event == what; }));
}

// The workflow over the memory store and the fake provider (account assignments in `provider_`,
// group memberships in `groups_`, both through one GroupTargetProvider), its notifications going to
// one channel that hears every audience (`webhook_`, a FakeChannel), and the scheduler running jobs
// inline as the fake clock moves (no workers). For tests that drive a request step by step.
class InlineWorkflowTest : public ::testing::Test {
 protected:
  explicit InlineWorkflowTest(policy::Config config)
      : config_(std::move(config)),
        store_(clock_),
        notifier_(Channels()),
        notifications_(notifier_, clock_),
        workflow_(store_, config_, targets_, clock_, Options()),
        scheduler_(store_, workflow_, clock_, SchedulerOptions()) {}

  void SetUp() override { ASSERT_OK(scheduler_.Start()); }
  void TearDown() override { scheduler_.Stop(); }
  // Runs what is due now.
  void Settle() { clock_.Advance(Duration(0)); }

  FakeClock clock_;
  policy::ConfigHolder config_;
  provider::FakeProvider provider_;
  provider::FakeGroupMemberships groups_;
  provider::GroupTargetProvider targets_{provider_, groups_};
  store::MemoryStore store_;
  // The `findings:` rules in force (WorkflowOptions::finding_rules): off until a test gives the
  // section a line. Read on the test's thread only (the scheduler runs jobs inline).
  findings::Settings finding_rules_;
  notify::FakeChannel* webhook_ = nullptr;
  notify::Notifier notifier_;
  Notifications notifications_;
  Workflow workflow_;
  scheduler::Scheduler scheduler_;

 private:
  std::vector<std::unique_ptr<notify::Channel>> Channels() {
    auto all = std::make_unique<notify::FakeChannel>("webhook");
    webhook_ = all.get();
    std::vector<std::unique_ptr<notify::Channel>> out;
    out.push_back(std::move(all));
    return out;
  }
  WorkflowOptions Options() {
    WorkflowOptions o;
    o.notifications = &notifications_;
    o.finding_rules = [this] { return std::make_shared<const findings::Settings>(finding_rules_); };
    return o;
  }
  static scheduler::SchedulerOptions SchedulerOptions() {
    scheduler::SchedulerOptions o;
    o.workers = 0;
    return o;
  }
};

}  // namespace jit::workflow::fixtures
