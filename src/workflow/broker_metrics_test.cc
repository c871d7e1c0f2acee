#include "workflow/broker_metrics.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/testing.h"
#include "store/memory_store.h"

namespace jit::workflow {
namespace {

// Puts `n` requests in `state` into `store`.
void AddRequests(store::Store& store, FakeClock& clock, int n, model::RequestState state) {
  for (int i = 0; i < n; ++i) {
    clock.Advance(Duration(1));
    model::Request r;
    r.id = NewId("req_", clock.Now());
    r.requester = "alice";
    r.principal_id = "user-alice";
    r.account_id = "111111111111";
    r.account_name = "prod";
    r.permission_set_name = "Admin";
    r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1";
    r.duration_seconds = 3600;
    r.rule = "prod-admin";
    r.state = state;
    r.created_at = clock.Now();
    ASSERT_OK(store.Transact([&](store::Tx& tx) { return tx.InsertRequest(r); }));
  }
}

TEST(CountActiveGrants, CountsTheActiveRequestsOfEveryPage) {
  FakeClock clock;
  store::MemoryStore store(clock);
  EXPECT_EQ(CountActiveGrants(store), 0);
  // More than one page of 500.
  AddRequests(store, clock, 501, model::RequestState::kActive);
  AddRequests(store, clock, 3, model::RequestState::kPending);
  EXPECT_EQ(CountActiveGrants(store), 501);
}

}  // namespace
}  // namespace jit::workflow
