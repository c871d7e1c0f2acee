#include "store/memory_store.h"

#include <algorithm>
#include <utility>

#include "core/check.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "model/chain.h"
#include "store/codec.h"

namespace jit::store {
namespace {

// The store this thread is running a transaction on, to catch re-entry (which would
// otherwise deadlock on the one mutex).
thread_local const void* tl_in_transaction = nullptr;

// SQLite keeps times as unix milliseconds; the fake does the same so tests cannot come to
// rely on sub-millisecond precision that the real engines drop.
Time Ms(Time t) { return FromUnixMillis(ToUnixMillis(t)); }
std::optional<Time> Ms(const std::optional<Time>& t) {
  return t.has_value() ? std::optional<Time>(Ms(*t)) : std::nullopt;
}

model::Request Normalized(model::Request r) {
  r.created_at = Ms(r.created_at);
  for (model::Approval& a : r.approvals) a.at = Ms(a.at);
  r.approval_deadline = Ms(r.approval_deadline);
  r.start_at = Ms(r.start_at);
  r.decided_at = Ms(r.decided_at);
  r.activated_at = Ms(r.activated_at);
  r.expires_at = Ms(r.expires_at);
  r.ended_at = Ms(r.ended_at);
  r.reviewed_at = Ms(r.reviewed_at);
  r.revoke_overdue_at = Ms(r.revoke_overdue_at);
  if (r.extension.has_value()) {
    r.extension->requested_at = Ms(r.extension->requested_at);
    r.extension->deadline = Ms(r.extension->deadline);
    for (model::Approval& a : r.extension->approvals) a.at = Ms(a.at);
  }
  return r;
}

model::Job Normalized(model::Job j) {
  j.due_at = Ms(j.due_at);
  j.first_due_at = Ms(j.first_due_at);
  j.lease_until = Ms(j.lease_until);
  j.created_at = Ms(j.created_at);
  return j;
}

model::LedgerEntry Normalized(model::LedgerEntry e) {
  e.updated_at = Ms(e.updated_at);
  return e;
}

bool DueOrder(const model::Job& a, const model::Job& b) {
  if (a.due_at != b.due_at) return a.due_at < b.due_at;
  return a.id < b.id;
}

}  // namespace

// The Tx of one MemoryStore transaction; works on the store's data under its mutex.
class MemoryStore::MemoryTx final : public Tx {
 public:
  MemoryTx(Data& data, Clock& clock, Status audit_failure)
      : data_(data),
        clock_(clock),
        audit_failure_(std::move(audit_failure)),
        audit_size_at_start_(data.audit.size()) {}

  // Puts back what this transaction changed. The audit trail only grows, so cutting it back
  // is enough; for the maps, the value each changed key had before its first change was kept
  // (copy-on-write per key).
  void Undo() {
    data_.audit.resize(audit_size_at_start_);
    Restore(data_.requests, requests_before_);
    Restore(data_.jobs, jobs_before_);
    Restore(data_.ledger, ledger_before_);
    Restore(data_.holders, holders_before_);
    Restore(data_.records, records_before_);
  }

  Result<model::Request> GetRequest(std::string_view id) override {
    auto it = data_.requests.find(std::string(id));
    if (it == data_.requests.end()) return NotFoundError("no request " + std::string(id));
    return it->second;
  }

  Status InsertRequest(const model::Request& r) override {
    if (r.id.empty()) return InvalidArgumentError("request id is empty");
    if (data_.requests.count(r.id) != 0) return AlreadyExistsError("request " + r.id);
    // What the real engines cannot encode, the fake refuses too.
    JIT_RETURN_IF_ERROR(EncodeRequestData(r).error());
    Save(data_.requests, r.id, requests_before_);
    model::Request stored = Normalized(r);
    stored.version = 1;
    data_.requests.emplace(r.id, std::move(stored));
    return OkStatus();
  }

  Status UpdateRequest(model::Request& r) override {
    auto it = data_.requests.find(r.id);
    if (it == data_.requests.end()) return NotFoundError("no request " + r.id);
    if (it->second.version != r.version) {
      return AbortedError("request " + r.id + " changed (version " +
                          std::to_string(it->second.version) + ", not " +
                          std::to_string(r.version) + ")");
    }
    JIT_RETURN_IF_ERROR(EncodeRequestData(r).error());
    Save(data_.requests, r.id, requests_before_);
    ++r.version;
    data_.requests[r.id] = Normalized(r);
    return OkStatus();
  }

  Result<std::vector<model::Request>> OpenRequestsOf(std::string_view requester) override {
    std::vector<model::Request> out;
    for (const auto& [id, r] : data_.requests) {  // ids sort by creation time
      if (r.requester == requester && IsOpen(r.state)) out.push_back(r);
    }
    return out;
  }

  Result<model::AuditEvent> AppendAudit(model::AuditEvent e) override {
    if (!audit_failure_.ok()) return audit_failure_;
    if (e.at == Time()) e.at = clock_.Now();
    e.at = Ms(e.at);
    e.seq = static_cast<std::int64_t>(data_.audit.size()) + 1;
    e.prev_hash = data_.audit.empty() ? std::string(model::kGenesisHash) : data_.audit.back().hash;
    e.hash = model::ChainHash(e);
    data_.audit.push_back(e);
    return e;
  }

  Status PutJob(const model::Job& j) override {
    if (j.id.empty()) return InvalidArgumentError("job id is empty");
    Save(data_.jobs, j.id, jobs_before_);
    model::Job stored = Normalized(j);
    data_.jobs[j.id] = stored;
    auto it = std::find_if(put_jobs_.begin(), put_jobs_.end(),
                           [&](const model::Job& p) { return p.id == j.id; });
    if (it != put_jobs_.end()) {
      *it = std::move(stored);
    } else {
      put_jobs_.push_back(std::move(stored));
    }
    return OkStatus();
  }

  Status DeleteJob(std::string_view id) override {
    Save(data_.jobs, std::string(id), jobs_before_);
    data_.jobs.erase(std::string(id));
    // A job put and deleted in the same transaction never existed as far as others know.
    std::erase_if(put_jobs_, [&](const model::Job& p) { return p.id == id; });
    return OkStatus();
  }

  Result<std::vector<model::Job>> JobsForRequest(std::string_view request_id) override {
    std::vector<model::Job> out;
    for (const auto& [id, job] : data_.jobs) {
      if (job.request_id == request_id) out.push_back(job);
    }
    std::sort(out.begin(), out.end(), DueOrder);
    return out;
  }

  Result<std::optional<model::LedgerEntry>> GetLedger(
      std::string_view principal_id, std::string_view account_id,
      std::string_view permission_set_arn) override {
    auto it = data_.ledger.find(Key(principal_id, account_id, permission_set_arn));
    if (it == data_.ledger.end()) return std::optional<model::LedgerEntry>();
    return std::optional<model::LedgerEntry>(WithHolders(data_, it->second.entry));
  }

  Status PutLedger(const model::LedgerEntry& e) override {
    JIT_RETURN_IF_ERROR(PutLedgerHead(e));
    for (const std::string& id : HolderIds(data_, Key(e))) {
      JIT_RETURN_IF_ERROR(
          RemoveLedgerHolder(e.principal_id, e.account_id, e.permission_set_arn, id));
    }
    for (const std::string& id : e.holders) {
      JIT_RETURN_IF_ERROR(AddLedgerHolder(e.principal_id, e.account_id, e.permission_set_arn, id));
    }
    return OkStatus();
  }

  Status DeleteLedger(std::string_view principal_id, std::string_view account_id,
                      std::string_view permission_set_arn) override {
    LedgerKey key = Key(principal_id, account_id, permission_set_arn);
    for (const std::string& id : HolderIds(data_, key)) {
      JIT_RETURN_IF_ERROR(RemoveLedgerHolder(principal_id, account_id, permission_set_arn, id));
    }
    Save(data_.ledger, key, ledger_before_);
    data_.ledger.erase(key);
    return OkStatus();
  }

  Result<std::optional<LedgerHead>> GetLedgerHead(std::string_view principal_id,
                                                  std::string_view account_id,
                                                  std::string_view permission_set_arn) override {
    auto it = data_.ledger.find(Key(principal_id, account_id, permission_set_arn));
    if (it == data_.ledger.end()) return std::optional<LedgerHead>();
    return std::optional<LedgerHead>(it->second);
  }

  Status PutLedgerHead(const model::LedgerEntry& e) override {
    LedgerKey key = Key(e);
    Save(data_.ledger, key, ledger_before_);
    LedgerHead& head = data_.ledger[key];
    head.entry = Normalized(e);
    head.entry.holders.clear();
    return OkStatus();
  }

  Result<bool> IsLedgerHolder(std::string_view principal_id, std::string_view account_id,
                              std::string_view permission_set_arn,
                              std::string_view request_id) override {
    return data_.holders.count(HolderKey{std::string(principal_id), std::string(account_id),
                                         std::string(permission_set_arn),
                                         std::string(request_id)}) != 0;
  }

  Status AddLedgerHolder(std::string_view principal_id, std::string_view account_id,
                         std::string_view permission_set_arn,
                         std::string_view request_id) override {
    if (request_id.empty()) return InvalidArgumentError("ledger holder id is empty");
    LedgerKey key = Key(principal_id, account_id, permission_set_arn);
    auto entry = data_.ledger.find(key);
    if (entry == data_.ledger.end()) {
      return NotFoundError("no ledger entry for " + std::string(principal_id));
    }
    HolderKey holder{std::string(principal_id), std::string(account_id),
                     std::string(permission_set_arn), std::string(request_id)};
    if (data_.holders.count(holder) != 0) return OkStatus();
    Save(data_.holders, holder, holders_before_);
    data_.holders.emplace(holder, data_.next_holder_order++);
    Save(data_.ledger, key, ledger_before_);
    ++entry->second.holder_count;
    return OkStatus();
  }

  Status RemoveLedgerHolder(std::string_view principal_id, std::string_view account_id,
                            std::string_view permission_set_arn,
                            std::string_view request_id) override {
    HolderKey holder{std::string(principal_id), std::string(account_id),
                     std::string(permission_set_arn), std::string(request_id)};
    if (data_.holders.count(holder) == 0) return OkStatus();
    Save(data_.holders, holder, holders_before_);
    data_.holders.erase(holder);
    LedgerKey key = Key(principal_id, account_id, permission_set_arn);
    auto entry = data_.ledger.find(key);
    if (entry != data_.ledger.end()) {
      Save(data_.ledger, key, ledger_before_);
      --entry->second.holder_count;
    }
    return OkStatus();
  }

  Result<std::optional<std::string>> GetRecord(std::string_view kind,
                                               std::string_view key) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key));
    auto it = data_.records.find(RecordKey(kind, key));
    if (it == data_.records.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key, value));
    std::pair<std::string, std::string> k = RecordKey(kind, key);
    Save(data_.records, k, records_before_);
    data_.records[k] = std::string(value);
    return OkStatus();
  }

  Result<bool> InsertRecord(std::string_view kind, std::string_view key,
                            std::string_view value) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key, value));
    std::pair<std::string, std::string> k = RecordKey(kind, key);
    if (data_.records.count(k) != 0) return false;
    Save(data_.records, k, records_before_);
    data_.records.emplace(k, std::string(value));
    return true;
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListRecords(
      std::string_view kind, std::string_view key_prefix) override {
    JIT_RETURN_IF_ERROR(CheckRecordPrefix(kind, key_prefix));
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = data_.records.lower_bound(RecordKey(kind, key_prefix));
         it != data_.records.end() && it->first.first == kind &&
         it->first.second.compare(0, key_prefix.size(), key_prefix) == 0;
         ++it) {
      out.emplace_back(it->first.second, it->second);
    }
    return out;
  }

  Status DeleteRecord(std::string_view kind, std::string_view key) override {
    JIT_RETURN_IF_ERROR(CheckRecord(kind, key));
    std::pair<std::string, std::string> k = RecordKey(kind, key);
    Save(data_.records, k, records_before_);
    data_.records.erase(k);
    return OkStatus();
  }

  std::vector<model::Job> TakePutJobs() { return std::move(put_jobs_); }

  static std::pair<std::string, std::string> RecordKey(std::string_view kind,
                                                       std::string_view key) {
    return {std::string(kind), std::string(key)};
  }

  static LedgerKey Key(std::string_view principal_id, std::string_view account_id,
                       std::string_view permission_set_arn) {
    return {std::string(principal_id), std::string(account_id), std::string(permission_set_arn)};
  }
  static LedgerKey Key(const model::LedgerEntry& e) {
    return {e.principal_id, e.account_id, e.permission_set_arn};
  }
  // The ids of the holders of `key`, oldest first. O(k log k) for k holders.
  static std::vector<std::string> HolderIds(const Data& data, const LedgerKey& key) {
    const auto& [principal_id, account_id, permission_set_arn] = key;
    std::vector<std::pair<std::int64_t, std::string>> found;
    for (auto it = data.holders.lower_bound(
             HolderKey{principal_id, account_id, permission_set_arn, std::string()});
         it != data.holders.end(); ++it) {
      const auto& [p, a, ps, id] = it->first;
      if (p != principal_id || a != account_id || ps != permission_set_arn) break;
      found.emplace_back(it->second, id);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> ids;
    ids.reserve(found.size());
    for (auto& [order, id] : found) ids.push_back(std::move(id));
    return ids;
  }
  // `head` with its holders filled in.
  static model::LedgerEntry WithHolders(const Data& data, const model::LedgerEntry& head) {
    model::LedgerEntry e = head;
    e.holders = HolderIds(data, Key(head));
    return e;
  }

 private:
  // Keeps the value `key` has now in `before`, unless it was kept already.
  template <typename K, typename V>
  static void Save(const std::map<K, V>& map, const K& key, std::map<K, std::optional<V>>& before) {
    if (before.count(key) != 0) return;
    auto it = map.find(key);
    before.emplace(key, it == map.end() ? std::nullopt : std::optional<V>(it->second));
  }
  template <typename K, typename V>
  static void Restore(std::map<K, V>& map, std::map<K, std::optional<V>>& before) {
    for (auto& [key, value] : before) {
      if (value.has_value()) {
        map[key] = std::move(*value);
      } else {
        map.erase(key);
      }
    }
  }

  Data& data_;
  Clock& clock_;
  const Status audit_failure_;
  const std::size_t audit_size_at_start_;
  std::map<std::string, std::optional<model::Request>> requests_before_;
  std::map<std::string, std::optional<model::Job>> jobs_before_;
  std::map<LedgerKey, std::optional<LedgerHead>> ledger_before_;
  std::map<HolderKey, std::optional<std::int64_t>> holders_before_;
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> records_before_;
  std::vector<model::Job> put_jobs_;  // in order of first put; last put of each id wins
};

MemoryStore::MemoryStore(Clock& clock) : clock_(clock) {}
MemoryStore::~MemoryStore() = default;

Status MemoryStore::Transact(const std::function<Status(Tx&)>& fn) {
  JIT_CHECK(tl_in_transaction != this);  // Transact or a Store read inside fn: a bug
  std::vector<model::Job> committed_jobs;
  {
    MutexLock lock(&mu_);
    if (!write_failure_.ok()) {
      ++failed_;
      return write_failure_;
    }
    MemoryTx tx(data_, clock_, audit_failure_);
    tl_in_transaction = this;
    Status s = fn(tx);
    tl_in_transaction = nullptr;
    if (!s.ok()) {
      tx.Undo();
      ++failed_;
      return s;
    }
    ++committed_;
    committed_jobs = tx.TakePutJobs();
  }
  if (!committed_jobs.empty()) {
    MutexLock lock(&listener_mu_);
    if (listener_ != nullptr) listener_->OnJobsCommitted(committed_jobs);
  }
  return OkStatus();
}

Result<model::Request> MemoryStore::GetRequest(std::string_view id) {
  JIT_CHECK(tl_in_transaction != this);
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  auto it = data_.requests.find(std::string(id));
  if (it == data_.requests.end()) return NotFoundError("no request " + std::string(id));
  return it->second;
}

Result<RequestPage> MemoryStore::ListRequests(const RequestFilter& filter) {
  JIT_CHECK(tl_in_transaction != this);
  if (filter.limit < 1 || filter.limit > 500) {
    return InvalidArgumentError("limit must be 1..500, not " + std::to_string(filter.limit));
  }
  if (!filter.cursor.empty() && !IsWellFormedId(filter.cursor, "req_")) {
    return InvalidArgumentError("malformed cursor");
  }
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  RequestPage page;
  auto it =
      filter.cursor.empty() ? data_.requests.end() : data_.requests.lower_bound(filter.cursor);
  // Walk ids downwards from just below the cursor (newest first).
  while (it != data_.requests.begin()) {
    --it;
    const model::Request& r = it->second;
    if (filter.state.has_value() && r.state != *filter.state) continue;
    if (!filter.requester.empty() && r.requester != filter.requester) continue;
    if (static_cast<int>(page.items.size()) == filter.limit) {
      page.next_cursor = page.items.back().id;
      break;
    }
    page.items.push_back(r);
  }
  return page;
}

Result<std::vector<model::AuditEvent>> MemoryStore::ListAudit(std::int64_t after_seq, int limit,
                                                              std::string_view request_id) {
  JIT_CHECK(tl_in_transaction != this);
  if (limit < 1 || limit > 1000) {
    return InvalidArgumentError("limit must be 1..1000, not " + std::to_string(limit));
  }
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  std::vector<model::AuditEvent> out;
  std::size_t start = after_seq < 0 ? 0 : static_cast<std::size_t>(after_seq);
  for (std::size_t i = start; i < data_.audit.size(); ++i) {
    if (!request_id.empty() && data_.audit[i].request_id != request_id) continue;
    out.push_back(data_.audit[i]);
    if (static_cast<int>(out.size()) == limit) break;
  }
  return out;
}

Result<std::vector<model::Job>> MemoryStore::ListJobs() {
  JIT_CHECK(tl_in_transaction != this);
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  std::vector<model::Job> out;
  out.reserve(data_.jobs.size());
  for (const auto& [id, job] : data_.jobs) out.push_back(job);
  std::sort(out.begin(), out.end(), DueOrder);
  return out;
}

Result<std::vector<model::Job>> MemoryStore::ClaimDueJobs(Time now, std::string_view owner,
                                                          Time lease_until, int limit) {
  JIT_CHECK(tl_in_transaction != this);
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  if (limit < 1) return InvalidArgumentError("limit must be at least 1");
  now = Ms(now);
  lease_until = Ms(lease_until);
  MutexLock lock(&mu_);
  if (!write_failure_.ok()) return write_failure_;
  std::vector<model::Job*> due;
  for (auto& [id, job] : data_.jobs) {
    if (job.due_at > now) continue;
    if (!job.lease_owner.empty() && job.lease_until.has_value() && *job.lease_until > now) {
      continue;
    }
    due.push_back(&job);
  }
  std::sort(due.begin(), due.end(), [](const model::Job* a, const model::Job* b) {
    bool a_revoke = a->kind == model::JobKind::kRevoke;
    bool b_revoke = b->kind == model::JobKind::kRevoke;
    if (a_revoke != b_revoke) return a_revoke;
    return DueOrder(*a, *b);
  });
  if (static_cast<int>(due.size()) > limit) due.resize(static_cast<std::size_t>(limit));
  std::vector<model::Job> out;
  out.reserve(due.size());
  for (model::Job* job : due) {
    job->lease_owner = std::string(owner);
    job->lease_until = lease_until;
    out.push_back(*job);
  }
  return out;
}

Result<std::vector<model::Job>> MemoryStore::ListJobsDueBefore(Time before, int limit) {
  JIT_CHECK(tl_in_transaction != this);
  if (limit < 1 || limit > 10000) {
    return InvalidArgumentError("limit must be 1..10000, not " + std::to_string(limit));
  }
  before = Ms(before);
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  std::vector<model::Job> out;
  for (const auto& [id, job] : data_.jobs) {
    if (job.due_at <= before) out.push_back(job);
  }
  std::sort(out.begin(), out.end(), DueOrder);
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<std::size_t>(limit));
  return out;
}

Result<std::vector<std::string>> MemoryStore::RenewLeases(std::string_view owner,
                                                          const std::vector<std::string>& ids,
                                                          Time lease_until) {
  JIT_CHECK(tl_in_transaction != this);
  if (owner.empty()) return InvalidArgumentError("lease owner is empty");
  MutexLock lock(&mu_);
  if (!write_failure_.ok()) return write_failure_;
  std::vector<std::string> renewed;
  for (const std::string& id : ids) {
    auto it = data_.jobs.find(id);
    if (it == data_.jobs.end() || it->second.lease_owner != owner) continue;
    it->second.lease_until = Ms(lease_until);
    renewed.push_back(id);
  }
  return renewed;
}

Status MemoryStore::ReleaseAllLeases() {
  JIT_CHECK(tl_in_transaction != this);
  MutexLock lock(&mu_);
  if (!write_failure_.ok()) return write_failure_;
  for (auto& [id, job] : data_.jobs) {
    job.lease_owner.clear();
    job.lease_until.reset();
  }
  return OkStatus();
}

Result<std::vector<model::LedgerEntry>> MemoryStore::ListLedger() {
  JIT_CHECK(tl_in_transaction != this);
  MutexLock lock(&mu_);
  if (!read_failure_.ok()) return read_failure_;
  std::vector<model::LedgerEntry> out;
  out.reserve(data_.ledger.size());
  for (const auto& [key, head] : data_.ledger) {
    out.push_back(MemoryTx::WithHolders(data_, head.entry));
  }
  return out;
}

Status MemoryStore::Ping() {
  MutexLock lock(&mu_);
  return write_failure_;
}

void MemoryStore::SetJobListener(JobListener* listener) {
  MutexLock lock(&listener_mu_);
  listener_ = listener;
}

void MemoryStore::FailTransactionsWith(Status s) {
  MutexLock lock(&mu_);
  write_failure_ = std::move(s);
}

void MemoryStore::FailReadsWith(Status s) {
  MutexLock lock(&mu_);
  read_failure_ = std::move(s);
}

void MemoryStore::FailAuditAppendsWith(Status s) {
  MutexLock lock(&mu_);
  audit_failure_ = std::move(s);
}

std::int64_t MemoryStore::committed_transactions() const {
  MutexLock lock(&mu_);
  return committed_;
}

std::int64_t MemoryStore::failed_transactions() const {
  MutexLock lock(&mu_);
  return failed_;
}

std::unique_ptr<Store> NewMemoryStore(Clock& clock) { return std::make_unique<MemoryStore>(clock); }

}  // namespace jit::store
