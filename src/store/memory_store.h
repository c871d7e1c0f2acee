#pragma once
// An in-memory Store: the fake other modules' unit tests run against. It keeps the same
// contract as the SQLite engine (store_conformance_test.cc runs both), including times kept
// to the millisecond, and adds a fail switch and counters for tests.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/status.h"
#include "model/audit_event.h"
#include "model/job.h"
#include "model/ledger.h"
#include "model/request.h"
#include "store/store.h"

namespace jit::store {

// Every method is thread-safe. Transactions run one at a time under one mutex; a transaction
// that fails is undone from copies of the entries it changed, taken before their first change
// (copy-on-write), and by cutting the audit trail back.
// REQUIRES: the function given to Transact does not call this store (Tx only) and does not
// start another transaction; doing so is a bug and aborts rather than deadlocks.
class MemoryStore final : public Store {
 public:
  // `clock` must outlive the store; it stamps audit events whose `at` is unset.
  explicit MemoryStore(Clock& clock);
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Store (see store.h for each method's contract).
  Status Transact(const std::function<Status(Tx&)>& fn) override;
  Result<model::Request> GetRequest(std::string_view id) override;
  Result<RequestPage> ListRequests(const RequestFilter& filter) override;
  Result<std::vector<model::AuditEvent>> ListAudit(std::int64_t after_seq, int limit,
                                                   std::string_view request_id = {}) override;
  Result<std::vector<model::Job>> ListJobs() override;
  Result<std::vector<model::Job>> ClaimDueJobs(Time now, std::string_view owner, Time lease_until,
                                               int limit) override;
  Result<std::vector<model::Job>> ListJobsDueBefore(Time before, int limit) override;
  Result<std::vector<std::string>> RenewLeases(std::string_view owner,
                                               const std::vector<std::string>& ids,
                                               Time lease_until) override;
  Status ReleaseAllLeases() override;
  Result<std::vector<model::LedgerEntry>> ListLedger() override;
  Status Ping() override;
  void SetJobListener(JobListener* listener) override;

  // Fail switch for tests of store outages. While `s` is not OK, every write (Transact,
  // ClaimDueJobs, ReleaseAllLeases) and Ping returns `s` without touching the data (the
  // function given to Transact is not called). OkStatus() turns it off. Typically
  // UnavailableError("disk full").
  void FailTransactionsWith(Status s);
  // Likewise for the reads (GetRequest, ListRequests, ListAudit, ListJobs, ListJobsDueBefore,
  // ListLedger). RenewLeases counts as a write.
  void FailReadsWith(Status s);
  // While `s` is not OK, Tx::AppendAudit returns it (so that the transaction fails): an audit
  // trail that cannot be written.
  void FailAuditAppendsWith(Status s);

  // Number of Transact calls that committed (returned OK).
  std::int64_t committed_transactions() const;
  // Number of Transact calls that were undone (fn's error or the fail switch).
  std::int64_t failed_transactions() const;

 private:
  using LedgerKey = std::tuple<std::string, std::string, std::string>;
  // (principal, account, permission set, request id): one holder of one entry.
  using HolderKey = std::tuple<std::string, std::string, std::string, std::string>;
  // Everything the store holds.
  struct Data {
    std::map<std::string, model::Request> requests;  // by id: ids sort by creation time
    std::vector<model::AuditEvent> audit;            // audit[i].seq == i + 1
    std::map<std::string, model::Job> jobs;
    std::map<LedgerKey, LedgerHead> ledger;  // entry.holders is always empty
    // Each entry's holders, by key, each with the order in which it was added (like the SQL
    // engines' holder rows): a holder is added or removed in O(log n).
    std::map<HolderKey, std::int64_t> holders;
    // Keyed records (Tx::GetRecord ...), by (kind, key).
    std::map<std::pair<std::string, std::string>, std::string> records;
    std::int64_t next_holder_order = 0;  // only grows (an undone add leaves a gap)
  };
  class MemoryTx;

  Clock& clock_;

  mutable Mutex mu_;
  Data data_ GUARDED_BY(mu_);
  Status write_failure_ GUARDED_BY(mu_);
  Status read_failure_ GUARDED_BY(mu_);
  Status audit_failure_ GUARDED_BY(mu_);
  std::int64_t committed_ GUARDED_BY(mu_) = 0;
  std::int64_t failed_ GUARDED_BY(mu_) = 0;

  // Held while the listener is called, so that SetJobListener(nullptr) returning means no
  // call is under way. Never held together with mu_.
  Mutex listener_mu_;
  JobListener* listener_ GUARDED_BY(listener_mu_) = nullptr;
};

// A new, empty MemoryStore as a Store. `clock` must outlive it.
std::unique_ptr<Store> NewMemoryStore(Clock& clock);

}  // namespace jit::store
