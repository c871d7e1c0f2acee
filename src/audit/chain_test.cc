#include "audit/chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "model/audit_event.h"
#include "model/chain.h"

namespace jit::audit {
namespace {

using ::testing::HasSubstr;

model::AuditEvent MakeEvent(std::int64_t seq, std::string action) {
  model::AuditEvent e;
  e.seq = seq;
  e.at = FromUnixMillis(1767225600000 + seq * 1000);
  e.actor = "alice";
  e.action = std::move(action);
  e.request_id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  e.severity = "info";
  e.details = "{}";
  return e;
}

// Builds a valid chain of n events, the way the store does.
std::vector<model::AuditEvent> MakeChain(int n) {
  std::vector<model::AuditEvent> events;
  std::string prev(model::kGenesisHash);
  for (int i = 1; i <= n; ++i) {
    model::AuditEvent e = MakeEvent(i, "request.step" + std::to_string(i));
    e.prev_hash = prev;
    e.hash = model::ChainHash(e);
    prev = e.hash;
    events.push_back(std::move(e));
  }
  return events;
}

TEST(VerifyChain, AcceptsAnIntactChainAndAnEmptyOne) {
  EXPECT_TRUE(VerifyChain({}).ok);
  ChainCheck c = VerifyChain(MakeChain(5));
  EXPECT_TRUE(c.ok) << c.why;
  EXPECT_EQ(c.first_bad_seq, 0);
  EXPECT_EQ(c.why, "");
}

TEST(VerifyChain, AcceptsATailGivenTheHashAndSeqBeforeIt) {
  std::vector<model::AuditEvent> all = MakeChain(6);
  std::vector<model::AuditEvent> tail(all.begin() + 3, all.end());
  EXPECT_TRUE(VerifyChain(tail, all[2].hash, 4).ok);
  // Without the right anchor the tail does not verify.
  EXPECT_FALSE(VerifyChain(tail).ok);
  EXPECT_FALSE(VerifyChain(tail, model::kGenesisHash, 4).ok);
}

TEST(VerifyChain, ReportsAnEditedEvent) {
  std::vector<model::AuditEvent> events = MakeChain(5);
  events[2].details = "{\"reason\":\"rewritten\"}";
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("edited"));
}

TEST(VerifyChain, ReportsAnEditWhoseHashWasRecomputedAtTheNextEvent) {
  std::vector<model::AuditEvent> events = MakeChain(5);
  events[1].actor = "mallory";
  events[1].hash = model::ChainHash(events[1]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("prev_hash"));
}

TEST(VerifyChain, ReportsARemovedEvent) {
  std::vector<model::AuditEvent> events = MakeChain(5);
  events.erase(events.begin() + 2);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 4);
  EXPECT_THAT(c.why, HasSubstr("seq 4 where 3"));
}

TEST(VerifyChain, ReportsARemovalHiddenByRenumbering) {
  std::vector<model::AuditEvent> events = MakeChain(5);
  events.erase(events.begin() + 2);
  // Renumber and rehash the later events but leave their prev_hash alone.
  for (std::size_t i = 2; i < events.size(); ++i) {
    events[i].seq = static_cast<std::int64_t>(i) + 1;
    events[i].hash = model::ChainHash(events[i]);
  }
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("prev_hash"));
}

TEST(VerifyChain, ReportsReorderedEvents) {
  std::vector<model::AuditEvent> events = MakeChain(4);
  std::swap(events[1], events[2]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
}

TEST(VerifyChain, ReportsAWrongFirstSeq) {
  std::vector<model::AuditEvent> events = MakeChain(2);
  ChainCheck c = VerifyChain(events, model::kGenesisHash, 0);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 1);
}

TEST(VerifyChain, ReportsAFirstEventThatDoesNotStartAtGenesis) {
  std::vector<model::AuditEvent> events = MakeChain(2);
  events[0].prev_hash = std::string(64, 'f');
  events[0].hash = model::ChainHash(events[0]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 1);
}

}  // namespace
}  // namespace jit::audit
