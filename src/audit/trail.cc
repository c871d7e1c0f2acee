#include "audit/trail.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "audit/chain.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "model/chain.h"

namespace jit::audit {
namespace {

constexpr int kPage = 1000;

}  // namespace

Result<TrailReport> VerifyTrail(const EventReader& read, const std::vector<Checkpoint>& checkpoints,
                                const CheckpointKey* key) {
  TrailReport report;
  std::vector<Checkpoint> sorted = checkpoints;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Checkpoint& a, const Checkpoint& b) { return a.seq < b.seq; });
  std::set<std::int64_t> wanted;
  for (const Checkpoint& c : sorted) wanted.insert(c.seq);
  std::map<std::int64_t, std::string> hash_at;  // the trail's hash at each checkpoint's seq

  // The chain, page by page, each page continuing from the last.
  std::string prev_hash(model::kGenesisHash);
  std::int64_t expected = 1;
  std::int64_t after = 0;
  for (;;) {
    JIT_ASSIGN_OR_RETURN(std::vector<model::AuditEvent> page, read(after, kPage));
    if (page.empty()) break;
    ChainCheck check = VerifyChain(page, prev_hash, expected);
    if (!check.ok) {
      report.events += static_cast<std::int64_t>(check.bad_index);  // the good ones before it
      report.ok = false;
      report.problem = check.problem;
      report.first_bad_seq = check.first_bad_seq;
      report.why = "event " + std::to_string(check.first_bad_seq) + ": " + check.why;
      return report;
    }
    for (const model::AuditEvent& e : page) {
      if (wanted.count(e.seq)) hash_at[e.seq] = e.hash;
    }
    report.events += static_cast<std::int64_t>(page.size());
    report.last_seq = page.back().seq;
    report.last_hash = page.back().hash;
    prev_hash = page.back().hash;
    expected = page.back().seq + 1;
    after = page.back().seq;
    if (static_cast<int>(page.size()) < kPage) break;
  }

  if (sorted.empty()) {
    report.warnings.emplace_back(
        key == nullptr
            ? "no signed checkpoints: a trail whose newest events were cut off, or an older copy "
              "of the database, cannot be told from the real one (set audit.checkpoint_key_file)"
            : "no checkpoint has been signed yet (the first comes within the checkpoint "
              "interval): until then a cut-off tail cannot be told from the real one");
    return report;
  }
  if (key == nullptr) {
    report.warnings.emplace_back("checkpoints exist but no key to check them was configured");
    return report;
  }
  std::int64_t covered = 0;  // the highest checkpoint seq the trail still matches
  for (const Checkpoint& c : sorted) {
    ++report.checkpoints;
    if (Status s = key->Verify(c); !s.ok()) {
      report.ok = false;
      report.problem = "bad_checkpoint";
      report.first_bad_seq = c.seq;
      report.why = s.message();
      return report;
    }
    report.latest_checkpoint = c;
    if (c.seq > report.last_seq) {
      report.ok = false;
      report.problem = "truncated";
      report.first_bad_seq = report.last_seq + 1;
      report.why = "the trail ends at seq " + std::to_string(report.last_seq) +
                   ", but a checkpoint signed at " + FormatRfc3339(c.at) + " covers seq " +
                   std::to_string(c.seq) + ": the events after seq " +
                   std::to_string(report.last_seq) + " are gone (truncated after " +
                   (covered > 0 ? "checkpoint " + std::to_string(covered) : "the start") + ")";
      return report;
    }
    if (hash_at[c.seq] != c.hash) {
      report.ok = false;
      report.problem = "replaced";
      report.first_bad_seq = c.seq;
      report.why = "event " + std::to_string(c.seq) + " is not the one the checkpoint signed at " +
                   FormatRfc3339(c.at) +
                   " covered: the trail was replaced (an older copy of the database?) or "
                   "rewritten from there";
      return report;
    }
    covered = c.seq;
  }
  return report;
}

Checkpointer::Checkpointer(EventReader read, const CheckpointKey& key, CheckpointLog& log,
                           Clock& clock, Duration interval)
    : read_(std::move(read)),
      key_(key),
      log_(log),
      clock_(clock),
      task_(std::make_unique<PeriodicTask>(clock, interval, [this] { Run(); })) {}

Checkpointer::~Checkpointer() { task_->Stop(); }

Status Checkpointer::Start() {
  JIT_ASSIGN_OR_RETURN(std::vector<Checkpoint> written, log_.ReadAll());
  {
    MutexLock lock(&mu_);
    std::optional<Time> last_at;
    for (const Checkpoint& c : written) {
      if (c.seq > last_seq_) {
        last_seq_ = c.seq;
        last_hash_ = c.hash;
        last_at = c.at;
      }
    }
    MutexLock stats(&stats_mu_);
    if (last_at) stats_.last_checkpoint_at = last_at;
  }
  return task_->Start();
}

void Checkpointer::Stop() {
  task_->Stop();
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  Run();
}

void Checkpointer::Run() { (void)CheckpointNow(); }

Result<std::optional<Checkpoint>> Checkpointer::CheckpointNow() {
  MutexLock lock(&mu_);
  bool verification_failed = false;
  Result<std::optional<Checkpoint>> c = CheckAndSign(verification_failed);
  {
    MutexLock stats(&stats_mu_);
    if (c.has_value()) {
      if (c->has_value()) stats_.last_checkpoint_at = (*c)->at;
    } else if (verification_failed) {
      ++stats_.verification_failures;
    } else {
      ++stats_.checkpoint_failures;
    }
  }
  if (!c.has_value()) {
    if (verification_failed) {
      spdlog::error(
          "audit: the trail does not verify since the last checkpoint (seq {}): {}; nothing is "
          "signed until it does (see `jit audit verify`)",
          last_seq_, c.error().message());
    } else {
      spdlog::warn("audit: cannot take a checkpoint: {}", c.error().ToString());
    }
  }
  return c;
}

Result<std::optional<Checkpoint>> Checkpointer::CheckAndSign(bool& verification_failed) {
  // The event the last checkpoint covers must still be the one signed: one read, however long
  // the trail.
  if (last_seq_ > 0) {
    JIT_ASSIGN_OR_RETURN(std::vector<model::AuditEvent> at, read_(last_seq_ - 1, 1));
    std::string covered = "seq " + std::to_string(last_seq_) + ", which the last checkpoint covers";
    if (at.empty() || at.front().seq != last_seq_) {
      verification_failed = true;
      return FailedPreconditionError(
          (at.empty() ? "the trail no longer reaches " + covered
                      : "the trail has no event at " + covered) +
          ": events were cut off (truncated), or an older copy of the database was put back");
    }
    if (at.front().hash != last_hash_) {
      verification_failed = true;
      return FailedPreconditionError("the event at " + covered +
                                     " is not the one signed: the trail was replaced (an older "
                                     "copy of the database?) or rewritten from there");
    }
  }
  // The events since then, chained from it; the last one read is the head to sign.
  std::int64_t seq = last_seq_;
  std::string hash = last_seq_ > 0 ? last_hash_ : std::string(model::kGenesisHash);
  for (;;) {
    JIT_ASSIGN_OR_RETURN(std::vector<model::AuditEvent> page, read_(seq, kPage));
    if (page.empty()) break;
    ChainCheck check = VerifyChain(page, hash, seq + 1);
    if (!check.ok) {
      verification_failed = true;
      return FailedPreconditionError("event " + std::to_string(check.first_bad_seq) + " (" +
                                     check.problem + "): " + check.why);
    }
    seq = page.back().seq;
    hash = page.back().hash;
    if (static_cast<int>(page.size()) < kPage) break;
  }
  if (seq == last_seq_) return std::optional<Checkpoint>();  // nothing moved (or nothing yet)
  JIT_ASSIGN_OR_RETURN(Checkpoint c, key_.Sign(seq, hash, clock_.Now()));
  JIT_RETURN_IF_ERROR(log_.Append(c));
  last_seq_ = seq;
  last_hash_ = hash;
  return std::optional<Checkpoint>(std::move(c));
}

CheckpointerStats Checkpointer::Stats() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace jit::audit
