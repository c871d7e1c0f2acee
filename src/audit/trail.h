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

// Signs the head of the trail into a CheckpointLog now and then: at start, every `interval`,
// and at Stop; only when the head moved since the last checkpoint. Thread-safe.
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

  // Takes a checkpoint now if the head moved: the new checkpoint, nullopt when nothing moved.
  // Unavailable when the trail cannot be read or the log cannot be written.
  Result<std::optional<Checkpoint>> CheckpointNow();

 private:
  void Run();

  const EventReader read_;
  const CheckpointKey& key_;
  CheckpointLog& log_;
  Clock& clock_;
  Mutex mu_;                                   // one checkpoint at a time
  std::int64_t last_seq_ GUARDED_BY(mu_) = 0;  // the head last signed
  std::string last_hash_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace jit::audit
