// StoreSentMessages: the Slack messages of a request kept in the store's keyed records, on the
// memory store and on SQLite (a restart keeps them).

#include "workflow/sent_messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace jit::workflow {
namespace sent_messages_test {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kRequest[] = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
constexpr char kOther[] = "req_01JD3Q8W5C2M7X9K4T6B1N0R8Q";

void KeepsAndListsPerRequest(store::Store& store) {
  StoreSentMessages sent(store);
  notify::SentMessage dm{"DBOB", "1700000000.000001", "UBOB", "evt_1"};
  notify::SentMessage channel{"C0123", "1700000000.000002", "C0123", "evt_1"};
  notify::SentMessage other{"C0123", "1700000000.000003", "C0123", "evt_2"};
  ASSERT_THAT(sent.Keep(kRequest, dm), IsOk());
  ASSERT_THAT(sent.Keep(kRequest, channel), IsOk());
  ASSERT_THAT(sent.Keep(kOther, other), IsOk());
  ASSERT_THAT(sent.Keep(kRequest, dm), IsOk());  // again: one record
  Result<std::vector<notify::SentMessage>> kept = sent.Kept(kRequest);
  ASSERT_THAT(kept.error(), IsOk());
  EXPECT_THAT(*kept, ElementsAre(channel, dm));  // key order
  EXPECT_THAT(*sent.Kept(kOther), ElementsAre(other));
  EXPECT_THAT(*sent.Kept("req_01JD3Q8W5C2M7X9K4T6B1N0R8Z"), IsEmpty());
  EXPECT_THAT(sent.Keep(kRequest, notify::SentMessage{"", "1.2", "U", "e"}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(StoreSentMessages, KeepsAndListsPerRequestInTheMemoryStore) {
  FakeClock clock;
  std::unique_ptr<store::Store> store = store::NewMemoryStore(clock);
  KeepsAndListsPerRequest(*store);
}

TEST(StoreSentMessages, KeepsAndListsPerRequestInSqliteAcrossARestart) {
  ::jit::testing::TempDir dir;
  FakeClock clock;
  store::SqliteOptions options;
  options.path = (dir.path() / "jit.db").string();
  {
    Result<std::unique_ptr<store::Store>> store = store::OpenSqliteStore(options, clock);
    ASSERT_THAT(store.error(), IsOk());
    KeepsAndListsPerRequest(**store);
  }
  Result<std::unique_ptr<store::Store>> again = store::OpenSqliteStore(options, clock);
  ASSERT_THAT(again.error(), IsOk());
  StoreSentMessages sent(**again);
  EXPECT_EQ(sent.Kept(kRequest)->size(), 2u);
}

}  // namespace sent_messages_test
}  // namespace jit::workflow
