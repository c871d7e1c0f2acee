#pragma once
// Verifying the whole audit trail against its signed checkpoints, and taking checkpoints.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/periodic.h"
#include "core/result.h"
#include "model/audit_event.h"

namespace jit::audit {

// Reads the audit events with seq > `after`, oldest first, at most `limit` (1..1000); fewer
// than `limit` (or none) means the end. Store::ListAudit has this shape.
using EventReader =
    std::function<Result<std::vector<model::AuditEvent>>(std::int64_t after, int limit)>;

// What VerifyTrail found.
struct TrailReport {
  bool ok = true;
  std::int64_t events = 0;                      // events checked
  std::int64_t last_seq = 0;                    // the last event's seq (0: the trail is empty)
  std::string last_hash;                        // its hash
  std::int64_t checkpoints = 0;                 // checkpoints checked
  std::optional<Checkpoint> latest_checkpoint;  // the one with the highest seq
  // When not ok: the first bad seq, what kind of damage ("edited", "missing", "reordered",
  // "truncated", "replaced" or "bad_checkpoint") and why, for people.
  std::int64_t first_bad_seq = 0;
  std::string problem;
  std::string why;
  // Said even when ok: what the check could not cover (no checkpoints configured, ...).
  std::vector<std::string> warnings;
};

// Walks the whole trail from seq 1 and checks the hash chain (chain.h VerifyChain), then each
// checkpoint: its signature under `key`, and that the trail still reaches its seq with the
// same hash there. A trail that ends before a checkpoint's seq was truncated; one whose event
// at a checkpoint's seq has another hash was replaced (an older copy swapped in, or rewritten).
// `key` null: checkpoints cannot be checked (a warning when there are some). Errors: only a
// failure to read the trail.
Result<TrailReport> VerifyTrail(const EventReader& read, const std::vector<Checkpoint>& checkpoints,
                                const CheckpointKey* key);

// What a Checkpointer met since it was built (docs/OPERATIONS.md "Metrics").
struct CheckpointerStats {
  // Runs that could not make or write a checkpoint: the trail could not be read, the signature
  // could not be made or the log could not be appended to.
  std::int64_t checkpoint_failures = 0;
  // Runs whose check of the trail since the last checkpoint failed (nothing was signed).
  std::int64_t verification_failures = 0;
  // When the newest checkpoint of the log was signed: read from the log at Start, then each
  // one written; nullopt while the log has none.
  std::optional<Time> last_checkpoint_at;
};

// Signs the head of the trail into a CheckpointLog now and then: at start, every `interval`,
// and at Stop; only when the head moved since the last checkpoint. Before it signs, each run
// checks the trail from the last checkpoint on, incrementally (never the whole trail): the event
// at the last checkpoint's seq must still carry the hash that was signed (else the tail was cut
// off, or the trail replaced), and the events after it must chain from it (chain.h VerifyChain).
// A run whose check fails signs nothing, logs an error and counts a verification failure; the
// next run checks again. Thread-safe.
class Checkpointer {
 public:
  // Every reference must outlive the checkpointer. REQUIRES: interval > 0.
  Checkpointer(EventReader read, const CheckpointKey& key, CheckpointLog& log, Clock& clock,
               Duration interval);
  ~Checkpointer();

  // Reads the log to learn the last checkpoint, then runs in the background. Errors: a log
  // that cannot be read (InvalidArgument / Unavailable), FailedPrecondition when started.
  Status Start();
  // Stops the background runs, then takes a last checkpoint. Idempotent.
  void Stop();

  // Checks the trail since the last checkpoint, then takes a checkpoint if the head moved: the
  // new checkpoint, nullopt when nothing moved. Errors: Unavailable when the trail cannot be
  // read or the log cannot be written, Internal when the signature cannot be made (each counts
  // a checkpoint failure); FailedPrecondition, saying what is wrong, when the check fails (a
  // verification failure).
  Result<std::optional<Checkpoint>> CheckpointNow();

  // The counts so far. Safe from any thread; does not wait for a run in progress.
  CheckpointerStats Stats() const;

 private:
  void Run();
  // CheckpointNow without the counting and the logging; sets `verification_failed` when the
  // error is the check's.
  Result<std::optional<Checkpoint>> CheckAndSign(bool& verification_failed) REQUIRES(mu_);

  const EventReader read_;
  const CheckpointKey& key_;
  CheckpointLog& log_;
  Clock& clock_;
  Mutex mu_;                                   // one checkpoint at a time
  std::int64_t last_seq_ GUARDED_BY(mu_) = 0;  // the head last signed
  std::string last_hash_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
  // Apart from mu_, so that Stats() does not wait for a run that reads the trail.
  mutable Mutex stats_mu_;
  CheckpointerStats stats_ GUARDED_BY(stats_mu_);
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace jit::audit
