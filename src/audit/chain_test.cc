#include "audit/chain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/model.h"

namespace jit::audit {
namespace {

using ::testing::HasSubstr;

store::AuditEvent MakeEvent(std::int64_t seq, std::string action) {
  store::AuditEvent e;
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
std::vector<store::AuditEvent> MakeChain(int n) {
  std::vector<store::AuditEvent> events;
  std::string prev(kGenesisHash);
  for (int i = 1; i <= n; ++i) {
    store::AuditEvent e = MakeEvent(i, "request.step" + std::to_string(i));
    e.prev_hash = prev;
    e.hash = ChainHash(e);
    prev = e.hash;
    events.push_back(std::move(e));
  }
  return events;
}

TEST(Sha256Hex, MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(GenesisHash, IsSixtyFourZeros) { EXPECT_EQ(kGenesisHash, std::string(64, '0')); }

TEST(CanonicalEncoding, CoversEveryFieldButTheHash) {
  store::AuditEvent base = MakeEvent(3, "request.approved");
  base.prev_hash = std::string(kGenesisHash);
  const std::string enc = CanonicalEncoding(base);

  auto differs = [&](auto mutate) {
    store::AuditEvent e = base;
    mutate(e);
    return CanonicalEncoding(e) != enc;
  };
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.seq = 4; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.at += Duration(1); }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.actor = "bob"; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.action = "request.denied"; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.request_id = ""; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.severity = "high"; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.details = "{\"a\":1}"; }));
  EXPECT_TRUE(differs([](store::AuditEvent& e) { e.prev_hash = std::string(64, '1'); }));
  EXPECT_FALSE(differs([](store::AuditEvent& e) { e.hash = "anything"; }));
}

TEST(CanonicalEncoding, IsUnambiguousWhenTextMovesBetweenFields) {
  store::AuditEvent a = MakeEvent(1, "x");
  a.actor = "ab";
  a.action = "c";
  store::AuditEvent b = a;
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(CanonicalEncoding(a), CanonicalEncoding(b));
  EXPECT_NE(ChainHash(a), ChainHash(b));

  // A separator inside a field cannot forge a field boundary.
  store::AuditEvent c = MakeEvent(1, "x");
  c.actor = "a;1:b";
  c.action = "";
  store::AuditEvent d = MakeEvent(1, "x");
  d.actor = "a";
  d.action = "b";
  EXPECT_NE(CanonicalEncoding(c), CanonicalEncoding(d));
}

TEST(ChainHash, IsSha256OfTheEncoding) {
  store::AuditEvent e = MakeEvent(1, "request.created");
  e.prev_hash = std::string(kGenesisHash);
  EXPECT_EQ(ChainHash(e), Sha256Hex(CanonicalEncoding(e)));
  EXPECT_EQ(ChainHash(e).size(), 64u);
}

TEST(VerifyChain, AcceptsAnIntactChainAndAnEmptyOne) {
  EXPECT_TRUE(VerifyChain({}).ok);
  ChainCheck c = VerifyChain(MakeChain(5));
  EXPECT_TRUE(c.ok) << c.why;
  EXPECT_EQ(c.first_bad_seq, 0);
  EXPECT_EQ(c.why, "");
}

TEST(VerifyChain, AcceptsATailGivenTheHashAndSeqBeforeIt) {
  std::vector<store::AuditEvent> all = MakeChain(6);
  std::vector<store::AuditEvent> tail(all.begin() + 3, all.end());
  EXPECT_TRUE(VerifyChain(tail, all[2].hash, 4).ok);
  // Without the right anchor the tail does not verify.
  EXPECT_FALSE(VerifyChain(tail).ok);
  EXPECT_FALSE(VerifyChain(tail, kGenesisHash, 4).ok);
}

TEST(VerifyChain, ReportsAnEditedEvent) {
  std::vector<store::AuditEvent> events = MakeChain(5);
  events[2].details = "{\"reason\":\"rewritten\"}";
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("edited"));
}

TEST(VerifyChain, ReportsAnEditWhoseHashWasRecomputedAtTheNextEvent) {
  std::vector<store::AuditEvent> events = MakeChain(5);
  events[1].actor = "mallory";
  events[1].hash = ChainHash(events[1]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("prev_hash"));
}

TEST(VerifyChain, ReportsARemovedEvent) {
  std::vector<store::AuditEvent> events = MakeChain(5);
  events.erase(events.begin() + 2);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 4);
  EXPECT_THAT(c.why, HasSubstr("seq 4 where 3"));
}

TEST(VerifyChain, ReportsARemovalHiddenByRenumbering) {
  std::vector<store::AuditEvent> events = MakeChain(5);
  events.erase(events.begin() + 2);
  // Renumber and rehash the later events but leave their prev_hash alone.
  for (std::size_t i = 2; i < events.size(); ++i) {
    events[i].seq = static_cast<std::int64_t>(i) + 1;
    events[i].hash = ChainHash(events[i]);
  }
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
  EXPECT_THAT(c.why, HasSubstr("prev_hash"));
}

TEST(VerifyChain, ReportsReorderedEvents) {
  std::vector<store::AuditEvent> events = MakeChain(4);
  std::swap(events[1], events[2]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 3);
}

TEST(VerifyChain, ReportsAWrongFirstSeq) {
  std::vector<store::AuditEvent> events = MakeChain(2);
  ChainCheck c = VerifyChain(events, kGenesisHash, 0);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 1);
}

TEST(VerifyChain, ReportsAFirstEventThatDoesNotStartAtGenesis) {
  std::vector<store::AuditEvent> events = MakeChain(2);
  events[0].prev_hash = std::string(64, 'f');
  events[0].hash = ChainHash(events[0]);
  ChainCheck c = VerifyChain(events);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.first_bad_seq, 1);
}

}  // namespace
}  // namespace jit::audit
