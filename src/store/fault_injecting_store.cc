#include "store/fault_injecting_store.h"

#include <utility>

#include "core/mutex.h"

namespace jit::store {

void FaultInjectingStore::SetFaults(StoreFaults faults) {
  MutexLock lock(&mu_);
  faults_ = std::move(faults);
  commits_ = 0;
  claims_ = 0;
  renews_ = 0;
  reads_ = 0;
}

void FaultInjectingStore::FailEverythingWith(const Status& s) {
  auto fail = [s](std::int64_t) { return s; };
  SetFaults({fail, fail, fail, fail});
}

std::int64_t FaultInjectingStore::transactions() const {
  MutexLock lock(&mu_);
  return transactions_;
}

std::int64_t FaultInjectingStore::failed() const {
  MutexLock lock(&mu_);
  return failed_;
}

Status FaultInjectingStore::Next(Kind kind) {
  std::function<Status(std::int64_t)> fault;
  std::int64_t n = 0;
  {
    MutexLock lock(&mu_);
    switch (kind) {
      case Kind::kCommit:
        ++transactions_;
        n = ++commits_;
        fault = faults_.commit;
        break;
      case Kind::kClaim:
        n = ++claims_;
        fault = faults_.claim;
        break;
      case Kind::kRenew:
        n = ++renews_;
        fault = faults_.renew;
        break;
      case Kind::kRead:
        n = ++reads_;
        fault = faults_.read;
        break;
    }
  }
  if (!fault) return OkStatus();
  Status s = fault(n);
  if (!s.ok()) {
    MutexLock lock(&mu_);
    ++failed_;
  }
  return s;
}

Status FaultInjectingStore::Transact(const std::function<Status(Tx&)>& fn) {
  Status fault = Next(Kind::kCommit);
  if (fault.ok()) return inner_.Transact(fn);
  // The function runs against the real engine; returning an error from inside undoes all it
  // did there, as a failed COMMIT would. The function's own error, if any, wins.
  Status ran;
  Status s = inner_.Transact([&](Tx& tx) -> Status {
    ran = fn(tx);
    if (!ran.ok()) return ran;
    return fault;
  });
  return ran.ok() ? fault : s;
}

Result<model::Request> FaultInjectingStore::GetRequest(std::string_view id) {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.GetRequest(id);
}

Result<RequestPage> FaultInjectingStore::ListRequests(const RequestFilter& filter) {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.ListRequests(filter);
}

Result<std::vector<model::AuditEvent>> FaultInjectingStore::ListAudit(std::int64_t after_seq,
                                                                      int limit,
                                                                      std::string_view request_id) {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.ListAudit(after_seq, limit, request_id);
}

Result<std::vector<model::Job>> FaultInjectingStore::ListJobs() {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.ListJobs();
}

Result<std::vector<model::Job>> FaultInjectingStore::ClaimDueJobs(Time now, std::string_view owner,
                                                                  Time lease_until, int limit) {
  if (Status s = Next(Kind::kClaim); !s.ok()) return s;
  return inner_.ClaimDueJobs(now, owner, lease_until, limit);
}

Result<std::vector<model::Job>> FaultInjectingStore::ListJobsDueBefore(Time before, int limit) {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.ListJobsDueBefore(before, limit);
}

Result<std::vector<std::string>> FaultInjectingStore::RenewLeases(
    std::string_view owner, const std::vector<std::string>& ids, Time lease_until) {
  if (Status s = Next(Kind::kRenew); !s.ok()) return s;
  return inner_.RenewLeases(owner, ids, lease_until);
}

Status FaultInjectingStore::ReleaseAllLeases() {
  if (Status s = Next(Kind::kRenew); !s.ok()) return s;
  return inner_.ReleaseAllLeases();
}

Result<std::vector<model::LedgerEntry>> FaultInjectingStore::ListLedger() {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.ListLedger();
}

Status FaultInjectingStore::Ping() {
  if (Status s = Next(Kind::kRead); !s.ok()) return s;
  return inner_.Ping();
}

}  // namespace jit::store
