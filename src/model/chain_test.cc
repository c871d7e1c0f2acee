#include "model/chain.h"

#include "core/crypto.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "core/clock.h"
#include "model/audit_event.h"

namespace jit::model {
namespace {

AuditEvent MakeEvent(std::int64_t seq, std::string action) {
  AuditEvent e;
  e.seq = seq;
  e.at = FromUnixMillis(1767225600000 + seq * 1000);
  e.actor = "alice";
  e.action = std::move(action);
  e.request_id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  e.severity = "info";
  e.details = "{}";
  return e;
}

TEST(GenesisHash, IsSixtyFourZeros) { EXPECT_EQ(kGenesisHash, std::string(64, '0')); }

TEST(CanonicalEncoding, CoversEveryFieldButTheHash) {
  AuditEvent base = MakeEvent(3, "request.approved");
  base.prev_hash = std::string(kGenesisHash);
  const std::string enc = CanonicalEncoding(base);

  auto differs = [&](auto mutate) {
    AuditEvent e = base;
    mutate(e);
    return CanonicalEncoding(e) != enc;
  };
  EXPECT_TRUE(differs([](AuditEvent& e) { e.seq = 4; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.at += Duration(1); }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.actor = "bob"; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.action = "request.denied"; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.request_id = ""; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.severity = "high"; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.details = "{\"a\":1}"; }));
  EXPECT_TRUE(differs([](AuditEvent& e) { e.prev_hash = std::string(64, '1'); }));
  EXPECT_FALSE(differs([](AuditEvent& e) { e.hash = "anything"; }));
}

TEST(CanonicalEncoding, IsUnambiguousWhenTextMovesBetweenFields) {
  AuditEvent a = MakeEvent(1, "x");
  a.actor = "ab";
  a.action = "c";
  AuditEvent b = a;
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(CanonicalEncoding(a), CanonicalEncoding(b));
  EXPECT_NE(ChainHash(a), ChainHash(b));

  // A separator inside a field cannot forge a field boundary.
  AuditEvent c = MakeEvent(1, "x");
  c.actor = "a;1:b";
  c.action = "";
  AuditEvent d = MakeEvent(1, "x");
  d.actor = "a";
  d.action = "b";
  EXPECT_NE(CanonicalEncoding(c), CanonicalEncoding(d));
}

TEST(ChainHash, IsSha256OfTheEncoding) {
  AuditEvent e = MakeEvent(1, "request.created");
  e.prev_hash = std::string(kGenesisHash);
  EXPECT_EQ(ChainHash(e), jit::Sha256Hex(CanonicalEncoding(e)));
  EXPECT_EQ(ChainHash(e).size(), 64u);
}

}  // namespace
}  // namespace jit::model
