#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"
#include "model/audit_event.h"
#include "model/job.h"
#include "model/ledger.h"
#include "model/request.h"

namespace jit::store {

// An open request (Tx::OpenRequestsOf) waits for a decision (pending), for its grant (approved)
// or holds access (active).
inline bool IsOpen(model::RequestState s) {
  return s == model::RequestState::kPending || s == model::RequestState::kApproved ||
         s == model::RequestState::kActive;
}

// A ledger entry without its holders (entry.holders is empty), and how many holders it has
// (Tx::GetLedgerHead).
struct LedgerHead {
  model::LedgerEntry entry;
  std::int64_t holder_count = 0;
};

// The operations of one transaction. A Tx is only valid inside the function given to
// Store::Transact, on that thread. Nothing written is visible to others, or durable, until
// the function returns OK and the commit completes.
class Tx {
 public:
  virtual ~Tx() = default;

  // NotFound when there is no request with this id.
  virtual Result<model::Request> GetRequest(std::string_view id) = 0;
  // AlreadyExists when the id is taken. Stores r with version 1.
  virtual Status InsertRequest(const model::Request& r) = 0;
  // Replaces the stored request when its version equals r.version, and bumps r.version.
  // Aborted when the stored version differs (someone else changed it); NotFound when absent.
  virtual Status UpdateRequest(model::Request& r) = 0;
  // The requests of `requester` that are open (pending, approved or active), oldest first. The
  // workflow's per-user limits read them here, so that a check and the insert it admits are one
  // transaction: two racing submissions cannot both pass a cap of one.
  virtual Result<std::vector<model::Request>> OpenRequestsOf(std::string_view requester) = 0;

  // Appends an event: assigns seq, prev_hash and hash (model/chain.h) and returns the event
  // as stored.
  virtual Result<model::AuditEvent> AppendAudit(model::AuditEvent e) = 0;

  // Inserts the job, or replaces the one with the same id. Jobs put in a transaction are
  // reported to the JobListener after the commit.
  virtual Status PutJob(const model::Job& j) = 0;
  // Deletes the job; deleting an absent job is OK (replays do no harm).
  virtual Status DeleteJob(std::string_view id) = 0;
  virtual Result<std::vector<model::Job>> JobsForRequest(std::string_view request_id) = 0;

  // The ledger. Engines keep an entry's head (origin, state, operation_id, updated_at and the
  // number of holders) apart from its holders, one row per holder, so that the operations
  // marked O(1) below (an index lookup or two) cost the same whether an assignment has one holder
  // or 10,000 (one principal holding many grants of one account and permission set). GetLedger,
  // PutLedger and ListLedger read or write the whole holder list: for readers that need it
  // (reconciler, restore, backup), not for the grant and revoke jobs. An entry's holders are a set
  // kept in the order they were added; adding one twice keeps the first.

  // The ledger entry of one assignment with all its holders (oldest first), or nullopt.
  virtual Result<std::optional<model::LedgerEntry>> GetLedger(
      std::string_view principal_id, std::string_view account_id,
      std::string_view permission_set_arn) = 0;
  // Inserts or replaces the entry for its (principal, account, permission set), holders
  // included: afterwards its holders are exactly e.holders in that order (a repeated id counts
  // once). O(number of holders, old and new).
  virtual Status PutLedger(const model::LedgerEntry& e) = 0;
  // Deletes the entry and all its holders. Deleting an absent entry is OK.
  virtual Status DeleteLedger(std::string_view principal_id, std::string_view account_id,
                              std::string_view permission_set_arn) = 0;

  // The entry of one assignment without its holders (head.entry.holders is empty) and how
  // many it has, or nullopt. O(1) in the number of holders: no holder is read.
  virtual Result<std::optional<LedgerHead>> GetLedgerHead(std::string_view principal_id,
                                                          std::string_view account_id,
                                                          std::string_view permission_set_arn) = 0;
  // Inserts the entry with no holders, or updates an existing entry's origin, state,
  // operation_id and updated_at; its holders stay as they are (e.holders is ignored). O(1).
  virtual Status PutLedgerHead(const model::LedgerEntry& e) = 0;
  // Whether request_id is one of the entry's holders (false when there is no entry). O(1).
  virtual Result<bool> IsLedgerHolder(std::string_view principal_id, std::string_view account_id,
                                      std::string_view permission_set_arn,
                                      std::string_view request_id) = 0;
  // Adds request_id as the entry's newest holder; adding a holder it has already is OK and
  // changes nothing. NotFound when there is no entry (PutLedgerHead it first);
  // InvalidArgument for an empty request_id. O(1).
  virtual Status AddLedgerHolder(std::string_view principal_id, std::string_view account_id,
                                 std::string_view permission_set_arn,
                                 std::string_view request_id) = 0;
  // Removes request_id from the entry's holders; removing one it does not have (or from an
  // absent entry) is OK. The entry stays, even with no holder left: DeleteLedger it. O(1).
  virtual Status RemoveLedgerHolder(std::string_view principal_id, std::string_view account_id,
                                    std::string_view permission_set_arn,
                                    std::string_view request_id) = 0;

  // Keyed records: a small document a module keeps under (kind, key) beside the requests (a
  // posted Slack message's ts, a closed activity window's events, a finding already acted on).
  // The store does not read values. Every operation refuses, with InvalidArgument, a kind that
  // is not 1..40 of [a-z0-9_.], an empty key or one over kMaxRecordKeyBytes, a value over
  // kMaxRecordValueBytes, and a key or value that is not UTF-8 or holds a NUL (what every engine
  // can keep as text). Reads and writes of one record are O(log n) (an index lookup).

  // The value kept under (kind, key), or nullopt.
  virtual Result<std::optional<std::string>> GetRecord(std::string_view kind,
                                                       std::string_view key) = 0;
  // Inserts or replaces the value under (kind, key).
  virtual Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) = 0;
  // Inserts the value when (kind, key) has none: true. false when a record is there already,
  // which is left as it was (the check and the insert are one step: of two transactions
  // inserting one key, one gets true).
  virtual Result<bool> InsertRecord(std::string_view kind, std::string_view key,
                                    std::string_view value) = 0;
  // The (key, value) of every record of `kind` whose key starts with `key_prefix` (an empty
  // prefix: all of them), in ascending byte order of the keys.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListRecords(
      std::string_view kind, std::string_view key_prefix) = 0;
  // Deletes the record; deleting an absent one is OK.
  virtual Status DeleteRecord(std::string_view kind, std::string_view key) = 0;
};

inline constexpr std::size_t kMaxRecordKeyBytes = 400;
inline constexpr std::size_t kMaxRecordValueBytes = 4 << 20;
// InvalidArgument naming what is wrong with a record's kind, key or value (the limits of the
// keyed records above); OK otherwise. Every engine checks with this.
Status CheckRecord(std::string_view kind, std::string_view key, std::string_view value = {});
// The same for ListRecords's kind and key prefix (which may be empty).
Status CheckRecordPrefix(std::string_view kind, std::string_view key_prefix);

// Told about jobs after the transaction that put them has committed durably.
class JobListener {
 public:
  virtual ~JobListener() = default;
  // Called on the committing thread; must not block and must not call Transact.
  virtual void OnJobsCommitted(const std::vector<model::Job>& jobs) = 0;
};

struct RequestFilter {
  std::optional<model::RequestState> state;
  std::string requester;  // empty: anyone
  int limit = 50;         // 1..500
  std::string cursor;     // from RequestPage::next_cursor; empty: from the newest
};

struct RequestPage {
  std::vector<model::Request> items;  // newest first
  std::string next_cursor;            // empty when there is nothing more
};

// Durable state of the broker. Engines: SQLite (sqlite_store.h, one process) and PostgreSQL
// (postgres_store.h, any number of processes on one database); MemoryStore is the fake. Every
// method is thread-safe. Transactions are serializable: they behave as if they ran one at a
// time, in every engine, so that a read-check-write inside one Transact is never raced.
class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in one transaction. When `fn` returns an error, all it did is undone and that
  // error is returned. Engines may commit several callers' transactions together (group
  // commit); Transact returns only once this one's commit is durable. Errors besides fn's:
  // Unavailable (database busy, disk full, I/O error: retry later), Internal.
  virtual Status Transact(const std::function<Status(Tx&)>& fn) = 0;

  // Reads outside a transaction (each sees one committed state).
  virtual Result<model::Request> GetRequest(std::string_view id) = 0;  // NotFound
  // InvalidArgument for a malformed cursor or a limit out of range.
  virtual Result<RequestPage> ListRequests(const RequestFilter& filter) = 0;
  // Events with seq > after_seq, oldest first, at most `limit` (1..1000). With a request id,
  // only that request's events.
  virtual Result<std::vector<model::AuditEvent>> ListAudit(std::int64_t after_seq, int limit,
                                                           std::string_view request_id = {}) = 0;
  // Every job, earliest due first.
  virtual Result<std::vector<model::Job>> ListJobs() = 0;
  // Leases up to `limit` (at least 1) jobs due at `now` (due_at <= now) whose lease is free
  // or has run out (lease_until <= now): sets lease_owner and lease_until and returns them in
  // claim order: every due revocation before any other job, each group by due time, then by
  // id. Returns fewer than `limit` only when no other job is due and free (with PostgreSQL,
  // also when another claimer is taking them at that moment), so a caller may claim a batch
  // (the scheduler claims one job per free worker) and claim again while batches come back
  // full. The SQL engines read through an index in claim order: a claim costs about
  // `limit` rows (plus the due jobs leased by others ahead of them), not the number of due
  // jobs. InvalidArgument for an empty owner or a limit below 1.
  virtual Result<std::vector<model::Job>> ClaimDueJobs(Time now, std::string_view owner,
                                                       Time lease_until, int limit) = 0;
  // Jobs due at or before `before`, earliest due first (then by id), at most `limit` (1..10000),
  // whatever their lease. An indexed query: the scheduler calls it every second or so to learn
  // of jobs that other processes put or moved. InvalidArgument for a limit out of range.
  virtual Result<std::vector<model::Job>> ListJobsDueBefore(Time before, int limit) = 0;
  // Sets lease_until to `lease_until` on each of `ids` whose lease_owner is still `owner`, and
  // returns the ids it renewed; the others were deleted, rescheduled (lease cleared) or taken
  // over by another owner. A long run keeps its job this way. InvalidArgument for an empty
  // owner.
  virtual Result<std::vector<std::string>> RenewLeases(std::string_view owner,
                                                       const std::vector<std::string>& ids,
                                                       Time lease_until) = 0;
  // Clears every lease. Only for a single-process engine at start (the old owner is dead);
  // never with several processes on one database, whose leases belong to live peers.
  virtual Status ReleaseAllLeases() = 0;
  virtual Result<std::vector<model::LedgerEntry>> ListLedger() = 0;
  // OK when the store can be read and written now; Unavailable otherwise.
  virtual Status Ping() = 0;

  // The listener must outlive the store, or be reset to nullptr first.
  virtual void SetJobListener(JobListener* listener) = 0;
};

}  // namespace jit::store
