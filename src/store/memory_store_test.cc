// What only the fake has: the fail switches and counters that other modules' tests use.

#include "store/memory_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/testing.h"

namespace jit::store {
namespace {

using ::jit::testing::StatusIs;

TEST(MemoryStore, FailTransactionsWithFailsWritesWithoutRunningThem) {
  FakeClock clock;
  MemoryStore store(clock);
  store.FailTransactionsWith(UnavailableError("disk full"));
  bool ran = false;
  EXPECT_THAT(store.Transact([&](Tx&) {
    ran = true;
    return OkStatus();
  }),
              StatusIs(StatusCode::kUnavailable, "disk full"));
  EXPECT_FALSE(ran);
  EXPECT_THAT(store.Ping(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ClaimDueJobs(clock.Now(), "w", clock.Now(), 1),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ReleaseAllLeases(), StatusIs(StatusCode::kUnavailable));
  EXPECT_OK(store.ListJobs());  // reads still work
  EXPECT_EQ(store.failed_transactions(), 1);

  store.FailTransactionsWith(OkStatus());
  EXPECT_OK(store.Transact([&](Tx&) {
    ran = true;
    return OkStatus();
  }));
  EXPECT_TRUE(ran);
  EXPECT_OK(store.Ping());
  EXPECT_EQ(store.committed_transactions(), 1);
}

TEST(MemoryStore, FailReadsWithFailsReads) {
  FakeClock clock;
  MemoryStore store(clock);
  store.FailReadsWith(UnavailableError("gone"));
  EXPECT_THAT(store.GetRequest("req_x"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ListRequests({}), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ListAudit(0, 10), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ListJobs(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(store.ListLedger(), StatusIs(StatusCode::kUnavailable));
  EXPECT_OK(store.Transact([](Tx&) { return OkStatus(); }));
  store.FailReadsWith(OkStatus());
  EXPECT_OK(store.ListJobs());
}

TEST(MemoryStore, CountsCommittedAndFailedTransactions) {
  FakeClock clock;
  MemoryStore store(clock);
  EXPECT_OK(store.Transact([](Tx&) { return OkStatus(); }));
  EXPECT_THAT(store.Transact([](Tx&) { return AbortedError("x"); }),
              StatusIs(StatusCode::kAborted));
  EXPECT_EQ(store.committed_transactions(), 1);
  EXPECT_EQ(store.failed_transactions(), 1);
}

TEST(MemoryStoreDeathTest, CallingTheStoreInsideATransactionAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FakeClock clock;
  MemoryStore store(clock);
  EXPECT_DEATH((void)store.Transact([&](Tx&) { return store.ListJobs().error(); }),
               "JIT_CHECK failed");
}

}  // namespace
}  // namespace jit::store
