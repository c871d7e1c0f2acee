#include "audit/trail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/testing.h"
#include "model/chain.h"

namespace jit::audit {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;

// A trail in memory, appended like the store does. Thread-safe.
class Trail {
 public:
  void Append(const std::string& action) {
    MutexLock lock(&mu_);
    model::AuditEvent e;
    e.seq = static_cast<std::int64_t>(events_.size()) + 1;
    e.at = FromUnixMillis(1767225600000 + e.seq * 1000);
    e.actor = "alice";
    e.action = action;
    e.severity = "info";
    e.details = "{}";
    e.prev_hash = events_.empty() ? std::string(model::kGenesisHash) : events_.back().hash;
    e.hash = model::ChainHash(e);
    events_.push_back(std::move(e));
  }
  void AppendMany(int n) {
    for (int i = 0; i < n; ++i) Append("step");
  }
  EventReader Reader() {
    return [this](std::int64_t after, int limit) -> Result<std::vector<model::AuditEvent>> {
      MutexLock lock(&mu_);
      if (!fail_.ok()) return fail_;
      ++reads_;
      std::vector<model::AuditEvent> out;
      for (const model::AuditEvent& e : events_) {
        if (e.seq > after && static_cast<int>(out.size()) < limit) out.push_back(e);
      }
      return out;
    };
  }
  std::vector<model::AuditEvent>& events() { return events_; }
  void Fail(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  // Reads answered so far.
  int reads() {
    MutexLock lock(&mu_);
    return reads_;
  }

 private:
  Mutex mu_;
  std::vector<model::AuditEvent> events_;
  Status fail_ GUARDED_BY(mu_);
  int reads_ GUARDED_BY(mu_) = 0;
};

class TrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = CheckpointKey::Generate((dir_.path() / "key.pem").string());
    ASSERT_OK(k);
    key_ = std::move(k).value();
  }
  Checkpoint Sign(std::int64_t seq) {
    return *key_->Sign(seq, trail_.events()[static_cast<std::size_t>(seq - 1)].hash, clock_.Now());
  }
  TrailReport Verify(const std::vector<Checkpoint>& cps) {
    Result<TrailReport> r = VerifyTrail(trail_.Reader(), cps, key_.get());
    EXPECT_OK(r);
    return r.value_or(TrailReport{});
  }

  jit::testing::TempDir dir_;
  FakeClock clock_;
  Trail trail_;
  std::unique_ptr<CheckpointKey> key_;
};

TEST_F(TrailTest, IntactTrailOverSeveralPagesIsOk) {
  trail_.AppendMany(2500);
  TrailReport r = Verify({Sign(1000), Sign(2500), Sign(1)});
  EXPECT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.events, 2500);
  EXPECT_EQ(r.last_seq, 2500);
  EXPECT_EQ(r.checkpoints, 3);
  ASSERT_TRUE(r.latest_checkpoint.has_value());
  EXPECT_EQ(r.latest_checkpoint->seq, 2500);
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(TrailTest, WithoutCheckpointsItSaysWhatItCannotSee) {
  trail_.AppendMany(3);
  TrailReport r = Verify({});
  EXPECT_TRUE(r.ok);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("no checkpoint has been signed yet"));
  Result<TrailReport> keyless = VerifyTrail(trail_.Reader(), {}, nullptr);
  ASSERT_OK(keyless);
  ASSERT_EQ(keyless->warnings.size(), 1u);
  EXPECT_THAT(keyless->warnings[0], HasSubstr("no signed checkpoints"));
  EXPECT_THAT(keyless->warnings[0], HasSubstr("audit.checkpoint_key_file"));
}

TEST_F(TrailTest, EditedEventIsReportedAtItsSeq) {
  trail_.AppendMany(1500);
  trail_.events()[1233].details = R"({"reason":"nothing to see"})";
  TrailReport r = Verify({Sign(10)});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 1234);
  EXPECT_EQ(r.problem, "edited");
  EXPECT_EQ(r.events, 1233);
  EXPECT_THAT(r.why, HasSubstr("event 1234: hash does not match"));
}

TEST_F(TrailTest, MissingEventIsReported) {
  trail_.AppendMany(20);
  trail_.events().erase(trail_.events().begin() + 9);  // seq 10
  TrailReport r = Verify({});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 11);
  EXPECT_EQ(r.problem, "missing");
}

TEST_F(TrailTest, ReorderedEventsAreReported) {
  trail_.AppendMany(20);
  // Two events trade places, each renumbered into the other's slot.
  std::swap(trail_.events()[4], trail_.events()[5]);
  std::swap(trail_.events()[4].seq, trail_.events()[5].seq);
  TrailReport r = Verify({});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 5);
  EXPECT_EQ(r.problem, "reordered");
}

TEST_F(TrailTest, CutOffTailIsCaughtOnlyByACheckpoint) {
  trail_.AppendMany(30);
  std::vector<Checkpoint> cps = {Sign(10), Sign(25)};
  trail_.events().resize(20);  // the last ten are gone: the chain itself is still whole
  EXPECT_TRUE(Verify({}).ok);
  TrailReport r = Verify(cps);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "truncated");
  EXPECT_EQ(r.first_bad_seq, 21);
  EXPECT_THAT(r.why, HasSubstr("the trail ends at seq 20"));
  EXPECT_THAT(r.why, HasSubstr("truncated after checkpoint 10"));
}

TEST_F(TrailTest, OlderCopyOfTheDatabaseIsCaught) {
  trail_.AppendMany(10);
  std::vector<model::AuditEvent> old_copy = trail_.events();
  trail_.AppendMany(10);
  std::vector<Checkpoint> cps = {Sign(5), Sign(20)};
  // The old copy is swapped in and the broker goes on writing on top of it.
  trail_.events() = old_copy;
  trail_.Append("after.swap");
  trail_.AppendMany(15);
  TrailReport r = Verify(cps);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "replaced");
  EXPECT_EQ(r.first_bad_seq, 20);
}

TEST_F(TrailTest, ForgedCheckpointIsReported) {
  trail_.AppendMany(10);
  Checkpoint c = Sign(10);
  c.seq = 9;
  TrailReport r = Verify({Sign(5), c});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, "bad_checkpoint");
  EXPECT_EQ(r.first_bad_seq, 9);
}

TEST_F(TrailTest, UnreadableTrailIsAnError) {
  trail_.AppendMany(3);
  trail_.Fail(UnavailableError("database is locked"));
  EXPECT_THAT(VerifyTrail(trail_.Reader(), {}, key_.get()), StatusIs(StatusCode::kUnavailable));
}

TEST_F(TrailTest, CheckpointerSignsTheHeadOnlyWhenItMoves) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  {
    Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
    EXPECT_OK(cp.CheckpointNow());  // empty trail: nothing to sign
    EXPECT_TRUE(log.ReadAll()->empty());
    trail_.AppendMany(3);
    Result<std::optional<Checkpoint>> first = cp.CheckpointNow();
    ASSERT_OK(first);
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ((*first)->seq, 3);
    EXPECT_FALSE(cp.CheckpointNow()->has_value());  // nothing moved
    trail_.AppendMany(1200);
    Result<std::optional<Checkpoint>> second = cp.CheckpointNow();
    ASSERT_OK(second);
    EXPECT_EQ((*second)->seq, 1203);
  }
  Result<std::vector<Checkpoint>> all = log.ReadAll();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_TRUE(Verify(*all).ok);
}

TEST_F(TrailTest, CheckpointerRunsAtStartEveryIntervalAndAtStop) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  trail_.AppendMany(2);
  Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  ASSERT_OK(cp.Start());
  auto count = [&] { return log.ReadAll().value_or(std::vector<Checkpoint>{}).size(); };
  auto wait_for = [&](std::size_t n) {
    for (int i = 0; i < 2000 && count() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return count();
  };
  EXPECT_EQ(wait_for(1), 1u);
  trail_.AppendMany(2);
  // The first run arms the timer once it is done; advancing before that would be lost.
  for (int i = 0; i < 2000 && clock_.PendingTimers() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(wait_for(2), 2u);
  trail_.AppendMany(1);
  cp.Stop();
  EXPECT_EQ(count(), 3u);
  EXPECT_EQ(log.ReadAll()->back().seq, 5);
  // A new checkpointer starts where the log stands: nothing new to sign.
  Checkpointer again(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  ASSERT_OK(again.Start());
  again.Stop();
  EXPECT_EQ(count(), 3u);
}

// Issue 13: each run checks the trail since the last checkpoint; a broken chain is counted,
// logged and not signed, and the run after the repair signs again.
TEST_F(TrailTest, CheckpointerCountsAVerificationFailureAndSignsNothingOverAnEditedEvent) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  trail_.AppendMany(3);
  ASSERT_OK(cp.CheckpointNow());
  trail_.AppendMany(2);
  std::string original = trail_.events()[3].details;
  trail_.events()[3].details = R"({"forged":true})";
  EXPECT_THAT(cp.CheckpointNow(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("event 4 (edited)")));
  EXPECT_EQ(cp.Stats().verification_failures, 1);
  EXPECT_EQ(cp.Stats().checkpoint_failures, 0);
  EXPECT_EQ(log.ReadAll()->size(), 1u);  // nothing signed over the edit
  EXPECT_THAT(cp.CheckpointNow(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(cp.Stats().verification_failures, 2);  // every run checks again

  trail_.events()[3].details = original;
  Result<std::optional<Checkpoint>> c = cp.CheckpointNow();
  ASSERT_OK(c);
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->seq, 5);
  EXPECT_EQ(cp.Stats().verification_failures, 2);
}

TEST_F(TrailTest, CheckpointerCatchesACutOffTailEvenWhenNothingNewWasWritten) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  trail_.AppendMany(5);
  ASSERT_OK(cp.CheckpointNow());
  trail_.events().resize(3);
  EXPECT_THAT(cp.CheckpointNow(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("the trail no longer reaches seq 5, which the last checkpoint")));
  EXPECT_EQ(cp.Stats().verification_failures, 1);
  // Written again up to past the checkpoint, as a trail restored from an older copy would be:
  // a valid chain, but not the one that was signed.
  for (int i = 0; i < 4; ++i) trail_.Append("written after the copy");
  EXPECT_THAT(cp.CheckpointNow(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is not the one signed")));
  EXPECT_EQ(cp.Stats().verification_failures, 2);
  EXPECT_EQ(cp.Stats().checkpoint_failures, 0);
  EXPECT_EQ(log.ReadAll()->size(), 1u);
}

TEST_F(TrailTest, CheckpointerChecksOnlyTheEventsSinceTheLastCheckpoint) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  trail_.AppendMany(2500);
  ASSERT_OK(cp.CheckpointNow());
  // An edit before the checkpoint is `jit audit verify`'s to find, not the checkpointer's.
  trail_.events()[10].details = R"({"forged":true})";
  trail_.AppendMany(1);
  int before = trail_.reads();
  Result<std::optional<Checkpoint>> c = cp.CheckpointNow();
  ASSERT_OK(c);
  EXPECT_EQ((*c)->seq, 2501);
  // The event at the checkpoint, then one page: not the 2501 events again.
  EXPECT_EQ(trail_.reads() - before, 2);
  EXPECT_EQ(cp.Stats().verification_failures, 0);
}

TEST_F(TrailTest, CheckpointerCountsCheckpointsThatCannotBeMadeOrWritten) {
  CheckpointLog unwritable((dir_.path() / "no-such-folder" / "cp.jsonl").string());
  Checkpointer cp(trail_.Reader(), *key_, unwritable, clock_, std::chrono::seconds(60));
  trail_.AppendMany(2);
  EXPECT_THAT(cp.CheckpointNow(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(cp.Stats().checkpoint_failures, 1);
  trail_.Fail(UnavailableError("database is locked"));
  EXPECT_THAT(cp.CheckpointNow(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(cp.Stats().checkpoint_failures, 2);
  EXPECT_EQ(cp.Stats().verification_failures, 0);
  EXPECT_FALSE(cp.Stats().last_checkpoint_at.has_value());
}

TEST_F(TrailTest, CheckpointerKnowsWhenTheLastCheckpointWasSignedAcrossARestart) {
  CheckpointLog log((dir_.path() / "cp.jsonl").string());
  trail_.AppendMany(2);
  Time signed_at;
  {
    Checkpointer cp(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
    EXPECT_FALSE(cp.Stats().last_checkpoint_at.has_value());
    clock_.Advance(std::chrono::seconds(5));
    Result<std::optional<Checkpoint>> c = cp.CheckpointNow();
    ASSERT_OK(c);
    signed_at = (*c)->at;
    EXPECT_EQ(cp.Stats().last_checkpoint_at, signed_at);
    clock_.Advance(std::chrono::seconds(5));
    EXPECT_FALSE(cp.CheckpointNow()->has_value());  // nothing moved: no newer checkpoint
    EXPECT_EQ(cp.Stats().last_checkpoint_at, signed_at);
  }
  Checkpointer again(trail_.Reader(), *key_, log, clock_, std::chrono::seconds(60));
  ASSERT_OK(again.Start());
  EXPECT_EQ(again.Stats().last_checkpoint_at, signed_at);
  again.Stop();
}

}  // namespace
}  // namespace jit::audit
