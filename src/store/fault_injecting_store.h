#pragma once
// A Store decorator for fault tests (in the spirit of LevelDB's fault_injection_test): every call
// goes to a real engine underneath, except those the test chooses to fail. A failed Transact
// has run its function against the real engine first and is then undone, exactly as when the
// engine's COMMIT fails (a full disk, a lost connection): whatever the function set outside the
// transaction is stale, and nothing of it is stored. Used by src/workflow/workflow_fault_test.cc
// over SQLite.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "store/store.h"

namespace jit::store {

// Which calls fail. Each function gets the 1-based number of the call of its kind (counted from
// the last SetFaults) and returns OK to let it through, or the error to answer. Empty: none fail.
struct StoreFaults {
  // Transact: the function runs, then the transaction is undone and this error returned.
  std::function<Status(std::int64_t)> commit;
  // ClaimDueJobs (a write outside Transact): fails before touching anything.
  std::function<Status(std::int64_t)> claim;
  // RenewLeases and ReleaseAllLeases: likewise.
  std::function<Status(std::int64_t)> renew;
  // GetRequest, ListRequests, ListAudit, ListJobs, ListJobsDueBefore, ListLedger and Ping.
  std::function<Status(std::int64_t)> read;
};

// Thread-safe when the inner store is. The inner store must outlive this one.
class FaultInjectingStore final : public Store {
 public:
  explicit FaultInjectingStore(Store& inner) : inner_(inner) {}

  // Replaces the faults and restarts the call numbering.
  void SetFaults(StoreFaults faults);
  // Convenience: every call of every kind fails with `s` until SetFaults({}) (a store that is
  // gone: a full disk that refuses even the lease updates, a database that is down).
  void FailEverythingWith(const Status& s);

  // Calls that reached this store, and how many of them were failed, since construction.
  std::int64_t transactions() const;
  std::int64_t failed() const;

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
  void SetJobListener(JobListener* listener) override { inner_.SetJobListener(listener); }

 private:
  enum class Kind { kCommit, kClaim, kRenew, kRead };
  // The fault for the next call of `kind` (OK: let it through).
  Status Next(Kind kind);

  Store& inner_;
  mutable Mutex mu_;
  StoreFaults faults_ GUARDED_BY(mu_);
  std::int64_t commits_ GUARDED_BY(mu_) = 0;  // since SetFaults
  std::int64_t claims_ GUARDED_BY(mu_) = 0;
  std::int64_t renews_ GUARDED_BY(mu_) = 0;
  std::int64_t reads_ GUARDED_BY(mu_) = 0;
  std::int64_t transactions_ GUARDED_BY(mu_) = 0;  // since construction
  std::int64_t failed_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::store
