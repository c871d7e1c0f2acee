#include "workflow/observer.h"

#include <utility>

#include "core/retry.h"

namespace jit::workflow {
namespace {

// A Tx that keeps what AppendAudit stored, and forwards everything.
class RecordingTx final : public store::Tx {
 public:
  explicit RecordingTx(store::Tx& tx) : tx_(tx) {}

  Result<model::Request> GetRequest(std::string_view id) override { return tx_.GetRequest(id); }
  Status InsertRequest(const model::Request& r) override { return tx_.InsertRequest(r); }
  Status UpdateRequest(model::Request& r) override { return tx_.UpdateRequest(r); }
  Result<std::vector<model::Request>> OpenRequestsOf(std::string_view requester) override {
    return tx_.OpenRequestsOf(requester);
  }
  Result<model::AuditEvent> AppendAudit(model::AuditEvent e) override {
    Result<model::AuditEvent> stored = tx_.AppendAudit(std::move(e));
    if (stored.has_value()) events_.push_back(*stored);
    return stored;
  }
  Status PutJob(const model::Job& j) override { return tx_.PutJob(j); }
  Status DeleteJob(std::string_view id) override { return tx_.DeleteJob(id); }
  Result<std::vector<model::Job>> JobsForRequest(std::string_view request_id) override {
    return tx_.JobsForRequest(request_id);
  }
  Result<std::optional<model::LedgerEntry>> GetLedger(std::string_view principal_id,
                                                      std::string_view account_id,
                                                      std::string_view arn) override {
    return tx_.GetLedger(principal_id, account_id, arn);
  }
  Status PutLedger(const model::LedgerEntry& e) override { return tx_.PutLedger(e); }
  Status DeleteLedger(std::string_view principal_id, std::string_view account_id,
                      std::string_view arn) override {
    return tx_.DeleteLedger(principal_id, account_id, arn);
  }
  Result<std::optional<store::LedgerHead>> GetLedgerHead(std::string_view principal_id,
                                                         std::string_view account_id,
                                                         std::string_view arn) override {
    return tx_.GetLedgerHead(principal_id, account_id, arn);
  }
  Status PutLedgerHead(const model::LedgerEntry& e) override { return tx_.PutLedgerHead(e); }
  Result<bool> IsLedgerHolder(std::string_view principal_id, std::string_view account_id,
                              std::string_view arn, std::string_view request_id) override {
    return tx_.IsLedgerHolder(principal_id, account_id, arn, request_id);
  }
  Status AddLedgerHolder(std::string_view principal_id, std::string_view account_id,
                         std::string_view arn, std::string_view request_id) override {
    return tx_.AddLedgerHolder(principal_id, account_id, arn, request_id);
  }
  Status RemoveLedgerHolder(std::string_view principal_id, std::string_view account_id,
                            std::string_view arn, std::string_view request_id) override {
    return tx_.RemoveLedgerHolder(principal_id, account_id, arn, request_id);
  }
  Result<std::optional<std::string>> GetRecord(std::string_view kind,
                                               std::string_view key) override {
    return tx_.GetRecord(kind, key);
  }
  Status PutRecord(std::string_view kind, std::string_view key, std::string_view value) override {
    return tx_.PutRecord(kind, key, value);
  }
  Result<bool> InsertRecord(std::string_view kind, std::string_view key,
                            std::string_view value) override {
    return tx_.InsertRecord(kind, key, value);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListRecords(
      std::string_view kind, std::string_view key_prefix) override {
    return tx_.ListRecords(kind, key_prefix);
  }
  Status DeleteRecord(std::string_view kind, std::string_view key) override {
    return tx_.DeleteRecord(kind, key);
  }

  std::vector<model::AuditEvent> Take() { return std::move(events_); }

 private:
  store::Tx& tx_;
  std::vector<model::AuditEvent> events_;
};

}  // namespace

Status TransactAndTell(store::Store& store, WorkflowObserver* observer,
                       const std::function<Status(store::Tx&)>& fn,
                       const BeforeCommit& before_commit,
                       std::vector<model::AuditEvent>* committed) {
  return RetryAborted([&]() -> Status {
    std::vector<model::AuditEvent> events;
    Status s = store.Transact([&](store::Tx& tx) -> Status {
      RecordingTx recording(tx);
      Status inner = fn(recording);
      if (inner.ok() && before_commit) {
        std::vector<model::AuditEvent> so_far = recording.Take();
        inner = before_commit(recording, so_far);
        std::vector<model::AuditEvent> more = recording.Take();
        so_far.insert(so_far.end(), more.begin(), more.end());
        events = std::move(so_far);
        return inner;
      }
      events = recording.Take();
      return inner;
    });
    if (s.ok() && observer != nullptr && !events.empty()) observer->OnCommitted(events);
    if (s.ok() && committed != nullptr) *committed = std::move(events);
    return s;
  });
}

}  // namespace jit::workflow
