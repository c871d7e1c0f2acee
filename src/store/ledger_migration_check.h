#pragma once
// Test support, shared by the engines' migration tests (sqlite_store_test.cc,
// postgres_store_test.cc): the version-2 ledger both write, and what a store must hold after
// schema step 3 turned it (user-1 with holders req_c, req_a, req_b; user-2 standing with none;
// user-3 with req_d) into holder rows.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "core/testing.h"
#include "core/time_format.h"
#include "store/store.h"

namespace jit::store::testing {

// The version-2 ledger both tests write (SQL both engines take; the holder lists in JSON, one
// with a repeated id), to be run once the schema is back at version 2.
inline constexpr const char* kVersionTwoLedgerRows =
    "INSERT INTO ledger (principal_id, account_id, permission_set_arn, origin, state, holders, "
    "operation_id, updated_at_ms) VALUES "
    "('user-1', '111111111111', 'arn:ps/1', 'jit', 'present', "
    "'[\"req_c\",\"req_a\",\"req_b\",\"req_a\"]', '', 1000), "
    "('user-2', '111111111111', 'arn:ps/1', 'standing', 'revoking', '[]', 'op-1', 2000), "
    "('user-3', '111111111111', 'arn:ps/1', 'jit', 'granting', '[\"req_d\"]', '', 3000); ";

inline void ExpectLedgerHoldersMigrated(Store& store) {
  using ::testing::ElementsAre;
  Result<std::vector<model::LedgerEntry>> all = store.ListLedger();
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_THAT(*all, ::testing::SizeIs(3));
  EXPECT_THAT((*all)[0].holders, ElementsAre("req_c", "req_a", "req_b"));
  EXPECT_EQ((*all)[0].state, model::LedgerState::kPresent);
  EXPECT_EQ((*all)[0].updated_at, FromUnixMillis(1000));
  EXPECT_THAT((*all)[1].holders, ::testing::IsEmpty());
  EXPECT_EQ((*all)[1].origin, model::LedgerOrigin::kStanding);
  EXPECT_EQ((*all)[1].operation_id, "op-1");
  EXPECT_THAT((*all)[2].holders, ElementsAre("req_d"));
  Status s = store.Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> head,
                         tx.GetLedgerHead("user-1", "111111111111", "arn:ps/1"));
    EXPECT_TRUE(head.has_value());
    if (head.has_value()) {
      EXPECT_EQ(head->holder_count, 3);
    }
    JIT_ASSIGN_OR_RETURN(bool held,
                         tx.IsLedgerHolder("user-1", "111111111111", "arn:ps/1", "req_b"));
    EXPECT_TRUE(held);
    JIT_ASSIGN_OR_RETURN(head, tx.GetLedgerHead("user-2", "111111111111", "arn:ps/1"));
    EXPECT_TRUE(head.has_value());
    if (head.has_value()) {
      EXPECT_EQ(head->holder_count, 0);
    }
    // Added after the migration: last.
    return tx.AddLedgerHolder("user-1", "111111111111", "arn:ps/1", "req_0");
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  all = store.ListLedger();
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_THAT((*all)[0].holders, ElementsAre("req_c", "req_a", "req_b", "req_0"));
}

}  // namespace jit::store::testing
