// One suite for every Store engine, so that the fake cannot drift from the real ones.
// To add an engine, write an Engine struct like MemoryEngine (kName; Open returns a fresh,
// empty store) and list it in `Engines`. An engine that cannot open fails every test: none is
// ever skipped (for PostgreSQL the message says to run scripts/setup.sh).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/retry.h"
#include "core/testing.h"
#include "model/audit_event.h"
#include "model/chain.h"
#include "model/job.h"
#include "model/ledger.h"
#include "model/request.h"
#include "store/memory_store.h"
#include "store/postgres_store.h"
#include "store/postgres_test_server.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace jit::store {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct MemoryEngine {
  static constexpr const char* kName = "Memory";
  static Result<std::unique_ptr<Store>> Open(Clock& clock, const std::filesystem::path&) {
    return NewMemoryStore(clock);
  }
};

struct SqliteEngine {
  static constexpr const char* kName = "Sqlite";
  static Result<std::unique_ptr<Store>> Open(Clock& clock, const std::filesystem::path& dir) {
    SqliteOptions options;
    options.path = (dir / "jit.db").string();
    return OpenSqliteStore(options, clock);
  }
};

// A fresh database on the binary's one PostgreSQL server (started by the first test).
struct PostgresEngine {
  static constexpr const char* kName = "Postgres";
  static Result<std::unique_ptr<Store>> Open(Clock& clock, const std::filesystem::path&) {
    JIT_ASSIGN_OR_RETURN(testing::PostgresTestServer * server, testing::SharedPostgresTestServer());
    JIT_ASSIGN_OR_RETURN(std::string db, server->CreateDatabase());
    PostgresOptions options;
    options.url = server->UrlFor(db);
    return OpenPostgresStore(options, clock);
  }
};

using Engines = ::testing::Types<MemoryEngine, SqliteEngine, PostgresEngine>;

class EngineNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// Records what the store reports as committed.
class RecordingListener final : public JobListener {
 public:
  void OnJobsCommitted(const std::vector<model::Job>& jobs) override {
    MutexLock lock(&mu_);
    ++calls_;
    for (const model::Job& j : jobs) ids_.push_back(j.id);
  }
  std::vector<std::string> ids() const {
    MutexLock lock(&mu_);
    return ids_;
  }
  int calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }

 private:
  mutable Mutex mu_;
  std::vector<std::string> ids_ GUARDED_BY(mu_);
  int calls_ GUARDED_BY(mu_) = 0;
};

template <typename Engine>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Store>> opened = Engine::Open(clock_, dir_.path());
    ASSERT_OK(opened) << Engine::kName << " engine";
    store_ = std::move(opened).value();
  }

  void TearDown() override {
    if (store_ != nullptr) store_->SetJobListener(nullptr);
  }

  Store& store() { return *store_; }

  // A request with every field set; ids are fresh and sort by creation time.
  model::Request MakeRequest(std::string requester = "alice",
                             model::RequestState state = model::RequestState::kPending) {
    clock_.Advance(Duration(1));
    model::Request r;
    r.id = NewId("req_", clock_.Now());
    r.requester = std::move(requester);
    r.principal_id = "user-" + r.requester;
    r.account_id = "111111111111";
    r.account_name = "prod";
    r.permission_set_name = "Admin";
    r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1/ps-1";
    r.duration_seconds = 3600;
    r.reason = "incident \"42\" \xc3\xa9";
    r.ticket = "INC-42";
    r.rule = "prod-admin";
    r.break_glass = false;
    r.approvals_required = 2;
    r.approver_users = {"bob", "carol"};
    r.approver_groups = {"sre"};
    r.approvals = {{"bob", "ok", clock_.Now()}};
    r.state = state;
    r.created_at = clock_.Now();
    r.approval_deadline = clock_.Now() + Duration(60000);
    r.decided_by = "";
    r.review_state = "closed";
    r.reviewed_by = "carol";
    r.review_comment = "post-incident review \xc3\xa9";
    r.reviewed_at = clock_.Now() + Duration(5000);
    r.start_at = clock_.Now() + Duration(3'600'123);
    r.revoke_overdue_at = clock_.Now() + Duration(61'001);
    r.extension = model::PendingExtension{900,
                                          clock_.Now() + Duration(7),
                                          clock_.Now() + Duration(900'007),
                                          {{"carol", "fine \xc3\xa9", clock_.Now() + Duration(8)}}};
    return r;
  }

  model::Job MakeJob(model::JobKind kind, Time due, std::string request_id = "") {
    model::Job j;
    j.id = NewId("job_", clock_.Now());
    j.kind = kind;
    j.request_id = std::move(request_id);
    j.due_at = due;
    j.first_due_at = due;
    j.payload = "{\"k\":1}";
    j.created_at = clock_.Now();
    return j;
  }

  model::AuditEvent MakeEvent(std::string action, std::string request_id = "") {
    model::AuditEvent e;
    e.at = clock_.Now();
    e.actor = "alice";
    e.action = std::move(action);
    e.request_id = std::move(request_id);
    e.severity = "info";
    e.details = "{}";
    return e;
  }

  Status Insert(const model::Request& r) {
    return store().Transact([&](Tx& tx) { return tx.InsertRequest(r); });
  }

  std::vector<model::AuditEvent> AllAudit() {
    std::vector<model::AuditEvent> all;
    std::int64_t after = 0;
    for (;;) {
      Result<std::vector<model::AuditEvent>> page = store().ListAudit(after, 1000);
      EXPECT_OK(page);
      if (!page.ok() || page->empty()) break;
      after = page->back().seq;
      all.insert(all.end(), page->begin(), page->end());
    }
    return all;
  }

  FakeClock clock_;
  ::jit::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE(StoreConformance, Engines, EngineNames);

void ExpectSameRequest(const model::Request& a, const model::Request& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.requester, b.requester);
  EXPECT_EQ(a.principal_id, b.principal_id);
  EXPECT_EQ(a.account_id, b.account_id);
  EXPECT_EQ(a.account_name, b.account_name);
  EXPECT_EQ(a.permission_set_name, b.permission_set_name);
  EXPECT_EQ(a.permission_set_arn, b.permission_set_arn);
  EXPECT_EQ(a.duration_seconds, b.duration_seconds);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.ticket, b.ticket);
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.break_glass, b.break_glass);
  EXPECT_EQ(a.approvals_required, b.approvals_required);
  EXPECT_EQ(a.approver_users, b.approver_users);
  EXPECT_EQ(a.approver_groups, b.approver_groups);
  ASSERT_EQ(a.approvals.size(), b.approvals.size());
  for (std::size_t i = 0; i < a.approvals.size(); ++i) {
    EXPECT_EQ(a.approvals[i].approver, b.approvals[i].approver);
    EXPECT_EQ(a.approvals[i].comment, b.approvals[i].comment);
    EXPECT_EQ(a.approvals[i].at, b.approvals[i].at);
  }
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.approval_deadline, b.approval_deadline);
  EXPECT_EQ(a.decided_at, b.decided_at);
  EXPECT_EQ(a.activated_at, b.activated_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.ended_at, b.ended_at);
  EXPECT_EQ(a.decided_by, b.decided_by);
  EXPECT_EQ(a.end_reason, b.end_reason);
  EXPECT_EQ(a.failure_reason, b.failure_reason);
  EXPECT_EQ(a.grant_operation_id, b.grant_operation_id);
  EXPECT_EQ(a.revoke_operation_id, b.revoke_operation_id);
  EXPECT_EQ(a.review_state, b.review_state);
  EXPECT_EQ(a.reviewed_by, b.reviewed_by);
  EXPECT_EQ(a.review_comment, b.review_comment);
  EXPECT_EQ(a.reviewed_at, b.reviewed_at);
  EXPECT_EQ(a.start_at, b.start_at);
  EXPECT_EQ(a.revoke_overdue_at, b.revoke_overdue_at);
  ASSERT_EQ(a.extension.has_value(), b.extension.has_value());
  if (a.extension.has_value()) {
    EXPECT_EQ(a.extension->seconds, b.extension->seconds);
    EXPECT_EQ(a.extension->requested_at, b.extension->requested_at);
    EXPECT_EQ(a.extension->deadline, b.extension->deadline);
    ASSERT_EQ(a.extension->approvals.size(), b.extension->approvals.size());
    for (std::size_t i = 0; i < a.extension->approvals.size(); ++i) {
      EXPECT_EQ(a.extension->approvals[i].approver, b.extension->approvals[i].approver);
      EXPECT_EQ(a.extension->approvals[i].comment, b.extension->approvals[i].comment);
      EXPECT_EQ(a.extension->approvals[i].at, b.extension->approvals[i].at);
    }
  }
  EXPECT_EQ(a.version, b.version);
}

std::vector<std::string> Ids(const std::vector<model::Job>& jobs) {
  std::vector<std::string> ids;
  for (const model::Job& j : jobs) ids.push_back(j.id);
  return ids;
}

std::vector<std::string> Ids(const std::vector<model::Request>& requests) {
  std::vector<std::string> ids;
  for (const model::Request& r : requests) ids.push_back(r.id);
  return ids;
}

TYPED_TEST(StoreConformance, InsertedRequestReadsBackWithVersionOne) {
  model::Request r = this->MakeRequest();
  r.version = 17;  // ignored: a new request is version 1
  ASSERT_OK(this->Insert(r));
  Result<model::Request> got = this->store().GetRequest(r.id);
  ASSERT_OK(got);
  r.version = 1;
  ExpectSameRequest(*got, r);

  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(model::Request in_tx, tx.GetRequest(r.id));
    ExpectSameRequest(in_tx, r);
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, MissingRequestIsNotFound) {
  EXPECT_THAT(this->store().GetRequest("req_01JD3Q8W5C2M7X9K4T6B1N0R8P"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(this->store().Transact([](Tx& tx) { return tx.GetRequest("req_nope").error(); }),
              StatusIs(StatusCode::kNotFound));
}

TYPED_TEST(StoreConformance, InsertingATakenIdIsAlreadyExists) {
  model::Request r = this->MakeRequest();
  ASSERT_OK(this->Insert(r));
  EXPECT_THAT(this->Insert(r), StatusIs(StatusCode::kAlreadyExists));
}

TYPED_TEST(StoreConformance, UpdateBumpsVersionAndStaleUpdateIsAborted) {
  model::Request r = this->MakeRequest();
  ASSERT_OK(this->Insert(r));
  model::Request first = *this->store().GetRequest(r.id);
  model::Request second = first;

  first.state = model::RequestState::kApproved;
  first.decided_at = this->clock_.Now();
  first.decided_by = "bob";
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.UpdateRequest(first); }));
  EXPECT_EQ(first.version, 2);

  Result<model::Request> got = this->store().GetRequest(r.id);
  ASSERT_OK(got);
  ExpectSameRequest(*got, first);

  // `second` still carries version 1: someone else changed the request meanwhile.
  second.state = model::RequestState::kDenied;
  EXPECT_THAT(this->store().Transact([&](Tx& tx) { return tx.UpdateRequest(second); }),
              StatusIs(StatusCode::kAborted));
  EXPECT_EQ(this->store().GetRequest(r.id)->state, model::RequestState::kApproved);
  EXPECT_EQ(this->store().GetRequest(r.id)->version, 2);
}

TYPED_TEST(StoreConformance, UpdateClearsAPendingExtensionAndTheStart) {
  model::Request r = this->MakeRequest();
  ASSERT_OK(this->Insert(r));
  model::Request got = *this->store().GetRequest(r.id);
  ASSERT_TRUE(got.extension.has_value());
  got.extension.reset();
  got.start_at.reset();
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.UpdateRequest(got); }));
  Result<model::Request> again = this->store().GetRequest(r.id);
  ASSERT_OK(again);
  EXPECT_FALSE(again->extension.has_value());
  EXPECT_FALSE(again->start_at.has_value());
  ExpectSameRequest(*again, got);
}

TYPED_TEST(StoreConformance, UpdatingAMissingRequestIsNotFound) {
  model::Request r = this->MakeRequest();
  r.version = 1;
  EXPECT_THAT(this->store().Transact([&](Tx& tx) { return tx.UpdateRequest(r); }),
              StatusIs(StatusCode::kNotFound));
}

TYPED_TEST(StoreConformance, TimesAreKeptToTheMillisecond) {
  model::Request r = this->MakeRequest();
  r.created_at = FromUnixMillis(1767225600123) + std::chrono::microseconds(456);
  ASSERT_OK(this->Insert(r));
  EXPECT_EQ(this->store().GetRequest(r.id)->created_at, FromUnixMillis(1767225600123));
}

TYPED_TEST(StoreConformance, FailedTransactionLeavesNothingBehind) {
  model::Request existing = this->MakeRequest();
  ASSERT_OK(this->Insert(existing));
  existing = *this->store().GetRequest(existing.id);

  RecordingListener listener;
  this->store().SetJobListener(&listener);

  model::Request r = this->MakeRequest();
  model::Job job = this->MakeJob(model::JobKind::kGrant, this->clock_.Now(), r.id);
  model::LedgerEntry entry{"user-alice",
                           "111111111111",
                           "arn:ps",
                           model::LedgerOrigin::kJit,
                           model::LedgerState::kGranting,
                           {r.id},
                           "op-1",
                           this->clock_.Now()};
  Status s = this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
    model::Request changed = existing;
    changed.state = model::RequestState::kCancelled;
    JIT_RETURN_IF_ERROR(tx.UpdateRequest(changed));
    JIT_RETURN_IF_ERROR(tx.AppendAudit(this->MakeEvent("request.created", r.id)).error());
    JIT_RETURN_IF_ERROR(tx.PutJob(job));
    JIT_RETURN_IF_ERROR(tx.PutLedger(entry));
    return FailedPreconditionError("changed my mind");
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition, "changed my mind"));

  EXPECT_THAT(this->store().GetRequest(r.id), StatusIs(StatusCode::kNotFound));
  Result<model::Request> still = this->store().GetRequest(existing.id);
  ASSERT_OK(still);
  EXPECT_EQ(still->state, model::RequestState::kPending);
  EXPECT_EQ(still->version, 1);
  EXPECT_THAT(this->AllAudit(), IsEmpty());
  EXPECT_THAT(*this->store().ListJobs(), IsEmpty());
  EXPECT_THAT(*this->store().ListLedger(), IsEmpty());
  EXPECT_THAT(listener.ids(), IsEmpty());

  // The audit trail goes on from where it was: the undone event left no gap.
  ASSERT_OK(this->store().Transact(
      [&](Tx& tx) { return tx.AppendAudit(this->MakeEvent("request.created")).error(); }));
  std::vector<model::AuditEvent> all = this->AllAudit();
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].seq, 1);
  EXPECT_EQ(all[0].prev_hash, model::kGenesisHash);
}

TYPED_TEST(StoreConformance, AuditEventsAreChainedAndVerify) {
  model::Request r = this->MakeRequest();
  std::vector<model::AuditEvent> returned;
  for (int i = 0; i < 5; ++i) {
    this->clock_.Advance(Duration(10));
    ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(model::AuditEvent a,
                           tx.AppendAudit(this->MakeEvent("step" + std::to_string(i), r.id)));
      returned.push_back(a);
      JIT_ASSIGN_OR_RETURN(model::AuditEvent b, tx.AppendAudit(this->MakeEvent("other")));
      returned.push_back(b);
      return OkStatus();
    }));
    // Rolled-back appends in between must not break the chain.
    EXPECT_THAT(this->store().Transact([&](Tx& tx) -> Status {
      JIT_RETURN_IF_ERROR(tx.AppendAudit(this->MakeEvent("undone")).error());
      return AbortedError("lost a race");
    }),
                StatusIs(StatusCode::kAborted));
  }

  std::vector<model::AuditEvent> all = this->AllAudit();
  ASSERT_THAT(all, SizeIs(10));
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(all[i].hash, returned[i].hash);
    EXPECT_EQ(all[i].prev_hash, returned[i].prev_hash);
    EXPECT_EQ(all[i].at, returned[i].at);
    EXPECT_EQ(all[i].action, returned[i].action);
    EXPECT_EQ(all[i].details, "{}");
  }
  audit::ChainCheck check = audit::VerifyChain(all);
  EXPECT_TRUE(check.ok) << check.why;

  // A page from the middle verifies against the event before it.
  Result<std::vector<model::AuditEvent>> tail = this->store().ListAudit(4, 3);
  ASSERT_OK(tail);
  ASSERT_THAT(*tail, SizeIs(3));
  EXPECT_EQ((*tail)[0].seq, 5);
  EXPECT_TRUE(audit::VerifyChain(*tail, all[3].hash, 5).ok);

  // Only one request's events.
  Result<std::vector<model::AuditEvent>> mine = this->store().ListAudit(0, 1000, r.id);
  ASSERT_OK(mine);
  ASSERT_THAT(*mine, SizeIs(5));
  for (const model::AuditEvent& e : *mine) EXPECT_EQ(e.request_id, r.id);
  EXPECT_THAT(*this->store().ListAudit(6, 2, r.id), SizeIs(2));
  EXPECT_EQ((*this->store().ListAudit(6, 2, r.id))[0].seq, 7);
}

TYPED_TEST(StoreConformance, AuditEventWithoutATimeIsStampedWithTheClock) {
  model::AuditEvent e = this->MakeEvent("x");
  e.at = Time();
  Result<model::AuditEvent> stored = model::AuditEvent();
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    stored = tx.AppendAudit(e);
    return stored.error();
  }));
  EXPECT_EQ(stored->at, this->clock_.Now());
  EXPECT_EQ(this->AllAudit().at(0).at, this->clock_.Now());
}

TYPED_TEST(StoreConformance, ListAuditRejectsALimitOutOfRange) {
  EXPECT_THAT(this->store().ListAudit(0, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(this->store().ListAudit(0, 1001), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(this->store().ListAudit(0, 1000));
}

TYPED_TEST(StoreConformance, ListRequestsPagesNewestFirstWithFilters) {
  std::vector<model::Request> made;
  const model::RequestState states[] = {model::RequestState::kPending, model::RequestState::kActive,
                                        model::RequestState::kEnded};
  for (int i = 0; i < 7; ++i) {
    made.push_back(this->MakeRequest(i % 2 == 0 ? "alice" : "bob", states[i % 3]));
    ASSERT_OK(this->Insert(made.back()));
  }
  std::vector<std::string> newest_first;
  for (auto it = made.rbegin(); it != made.rend(); ++it) newest_first.push_back(it->id);

  // Pages of 3: 3 + 3 + 1.
  std::vector<std::string> seen;
  RequestFilter f;
  f.limit = 3;
  Result<RequestPage> page = this->store().ListRequests(f);
  ASSERT_OK(page);
  EXPECT_THAT(page->items, SizeIs(3));
  EXPECT_FALSE(page->next_cursor.empty());
  for (const std::string& id : Ids(page->items)) seen.push_back(id);
  f.cursor = page->next_cursor;
  page = this->store().ListRequests(f);
  ASSERT_OK(page);
  EXPECT_THAT(page->items, SizeIs(3));
  for (const std::string& id : Ids(page->items)) seen.push_back(id);
  f.cursor = page->next_cursor;
  page = this->store().ListRequests(f);
  ASSERT_OK(page);
  EXPECT_THAT(page->items, SizeIs(1));
  EXPECT_EQ(page->next_cursor, "");
  for (const std::string& id : Ids(page->items)) seen.push_back(id);
  EXPECT_EQ(seen, newest_first);

  // A page that ends exactly at the last item says there is nothing more.
  RequestFilter all;
  all.limit = 7;
  page = this->store().ListRequests(all);
  ASSERT_OK(page);
  EXPECT_EQ(Ids(page->items), newest_first);
  EXPECT_EQ(page->next_cursor, "");

  // State filter: items 1 and 4 are active.
  RequestFilter active;
  active.state = model::RequestState::kActive;
  page = this->store().ListRequests(active);
  ASSERT_OK(page);
  EXPECT_THAT(Ids(page->items), ElementsAre(made[4].id, made[1].id));

  // Requester filter with paging: bob made 1, 3, 5.
  RequestFilter bob;
  bob.requester = "bob";
  bob.limit = 2;
  page = this->store().ListRequests(bob);
  ASSERT_OK(page);
  EXPECT_THAT(Ids(page->items), ElementsAre(made[5].id, made[3].id));
  bob.cursor = page->next_cursor;
  page = this->store().ListRequests(bob);
  ASSERT_OK(page);
  EXPECT_THAT(Ids(page->items), ElementsAre(made[1].id));
  EXPECT_EQ(page->next_cursor, "");

  // Both: alice's pending requests are 0 and 6.
  RequestFilter both;
  both.requester = "alice";
  both.state = model::RequestState::kPending;
  page = this->store().ListRequests(both);
  ASSERT_OK(page);
  EXPECT_THAT(Ids(page->items), ElementsAre(made[6].id, made[0].id));

  // Nobody's requests: an empty page.
  RequestFilter nobody;
  nobody.requester = "mallory";
  page = this->store().ListRequests(nobody);
  ASSERT_OK(page);
  EXPECT_THAT(page->items, IsEmpty());
  EXPECT_EQ(page->next_cursor, "");
}

TYPED_TEST(StoreConformance, OpenRequestsOfReadsOneRequestersOpenRequestsOldestFirst) {
  using model::RequestState;
  std::vector<model::Request> made;
  for (RequestState state :
       {RequestState::kPending, RequestState::kApproved, RequestState::kActive,
        RequestState::kRevoking, RequestState::kEnded, RequestState::kDenied,
        RequestState::kCancelled, RequestState::kTimedOut, RequestState::kFailed}) {
    made.push_back(this->MakeRequest("alice", state));
    ASSERT_OK(this->Insert(made.back()));
  }
  model::Request bobs = this->MakeRequest("bob", RequestState::kPending);
  ASSERT_OK(this->Insert(bobs));

  std::vector<model::Request> open;
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(open, tx.OpenRequestsOf("alice"));
    return OkStatus();
  }));
  EXPECT_THAT(Ids(open), ElementsAre(made[0].id, made[1].id, made[2].id));
  ASSERT_THAT(open, SizeIs(3));
  EXPECT_EQ(open[2].state, RequestState::kActive);
  EXPECT_EQ(open[2].account_id, made[2].account_id);
  EXPECT_EQ(open[2].permission_set_arn, made[2].permission_set_arn);

  // What the transaction itself wrote counts: the workflow checks, then inserts.
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.InsertRequest(this->MakeRequest("mallory", RequestState::kPending)));
    JIT_ASSIGN_OR_RETURN(open, tx.OpenRequestsOf("mallory"));
    return OkStatus();
  }));
  EXPECT_THAT(open, SizeIs(1));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(open, tx.OpenRequestsOf("nobody"));
    return OkStatus();
  }));
  EXPECT_THAT(open, IsEmpty());
}

TYPED_TEST(StoreConformance, ListRequestsRejectsABadCursorOrLimit) {
  RequestFilter f;
  f.cursor = "req_' OR 1=1 --";
  EXPECT_THAT(this->store().ListRequests(f), StatusIs(StatusCode::kInvalidArgument));
  f.cursor = "job_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  EXPECT_THAT(this->store().ListRequests(f), StatusIs(StatusCode::kInvalidArgument));
  f.cursor = "";
  f.limit = 0;
  EXPECT_THAT(this->store().ListRequests(f), StatusIs(StatusCode::kInvalidArgument));
  f.limit = 501;
  EXPECT_THAT(this->store().ListRequests(f), StatusIs(StatusCode::kInvalidArgument));
  f.limit = 500;
  EXPECT_OK(this->store().ListRequests(f));
  f.limit = 1;
  EXPECT_OK(this->store().ListRequests(f));
}

TYPED_TEST(StoreConformance, JobsPutReplaceDeleteAndList) {
  Time now = this->clock_.Now();
  model::Job a = this->MakeJob(model::JobKind::kGrant, now + Duration(2000), "req_a");
  model::Job b = this->MakeJob(model::JobKind::kRevoke, now + Duration(1000), "req_a");
  model::Job c = this->MakeJob(model::JobKind::kNotify, now + Duration(3000), "req_b");
  c.attempts = 3;
  c.last_error = "throttled";
  c.lease_owner = "someone";
  c.lease_until = now + Duration(500);
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutJob(a));
    JIT_RETURN_IF_ERROR(tx.PutJob(b));
    return tx.PutJob(c);
  }));
  Result<std::vector<model::Job>> jobs = this->store().ListJobs();
  ASSERT_OK(jobs);
  EXPECT_THAT(Ids(*jobs), ElementsAre(b.id, a.id, c.id));
  const model::Job& got = (*jobs)[2];
  EXPECT_EQ(got.kind, model::JobKind::kNotify);
  EXPECT_EQ(got.request_id, "req_b");
  EXPECT_EQ(got.due_at, c.due_at);
  EXPECT_EQ(got.first_due_at, c.first_due_at);
  EXPECT_EQ(got.attempts, 3);
  EXPECT_EQ(got.lease_owner, "someone");
  EXPECT_EQ(got.lease_until, c.lease_until);
  EXPECT_EQ(got.last_error, "throttled");
  EXPECT_EQ(got.payload, "{\"k\":1}");
  EXPECT_EQ(got.created_at, c.created_at);
  EXPECT_EQ((*jobs)[0].lease_until, std::nullopt);

  // Replace (same id) moves the job; delete twice is fine.
  a.due_at = now + Duration(5000);
  a.attempts = 1;
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutJob(a));
    JIT_RETURN_IF_ERROR(tx.DeleteJob(b.id));
    JIT_RETURN_IF_ERROR(tx.DeleteJob(b.id));
    return tx.DeleteJob("job_never_was");
  }));
  jobs = this->store().ListJobs();
  ASSERT_OK(jobs);
  EXPECT_THAT(Ids(*jobs), ElementsAre(c.id, a.id));
  EXPECT_EQ((*jobs)[1].attempts, 1);

  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::vector<model::Job> for_a, tx.JobsForRequest("req_a"));
    EXPECT_THAT(Ids(for_a), ElementsAre(a.id));
    JIT_ASSIGN_OR_RETURN(std::vector<model::Job> for_none, tx.JobsForRequest("req_none"));
    EXPECT_THAT(for_none, IsEmpty());
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, ClaimDueJobsTakesRevocationsFirstThenByDueTime) {
  Time now = this->clock_.Now();
  model::Job grant = this->MakeJob(model::JobKind::kGrant, now - Duration(3000));
  model::Job revoke_late = this->MakeJob(model::JobKind::kRevoke, now - Duration(1000));
  model::Job revoke_early = this->MakeJob(model::JobKind::kRevoke, now - Duration(2000));
  model::Job timeout = this->MakeJob(model::JobKind::kApprovalTimeout, now - Duration(5000));
  model::Job future_revoke = this->MakeJob(model::JobKind::kRevoke, now + Duration(10000));
  model::Job due_now = this->MakeJob(model::JobKind::kNotify, now);
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (const model::Job* j :
         {&grant, &revoke_late, &revoke_early, &timeout, &future_revoke, &due_now}) {
      JIT_RETURN_IF_ERROR(tx.PutJob(*j));
    }
    return OkStatus();
  }));

  Result<std::vector<model::Job>> two =
      this->store().ClaimDueJobs(now, "w1", now + Duration(30000), 2);
  ASSERT_OK(two);
  EXPECT_THAT(Ids(*two), ElementsAre(revoke_early.id, revoke_late.id));
  for (const model::Job& j : *two) {
    EXPECT_EQ(j.lease_owner, "w1");
    EXPECT_EQ(j.lease_until, now + Duration(30000));
  }
  Result<std::vector<model::Job>> rest =
      this->store().ClaimDueJobs(now, "w1", now + Duration(30000), 10);
  ASSERT_OK(rest);
  EXPECT_THAT(Ids(*rest), ElementsAre(timeout.id, grant.id, due_now.id));

  EXPECT_THAT(this->store().ClaimDueJobs(now, "", now, 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(this->store().ClaimDueJobs(now, "w1", now, 0),
              StatusIs(StatusCode::kInvalidArgument));
}

TYPED_TEST(StoreConformance, ClaimsOfManyJobsComeInClaimOrderAndNeverPastTheLimit) {
  // 400 jobs of every kind: due ones (many sharing a due time, so that the id decides), ones
  // due later, ones another owner leases (until later, or until a time already past). Claimed
  // 7 at a time, they come exactly as the contract orders them, every batch full but the last.
  Time now = this->clock_.Now();
  const model::JobKind kinds[] = {model::JobKind::kGrant,     model::JobKind::kRevoke,
                                  model::JobKind::kNotify,    model::JobKind::kApprovalTimeout,
                                  model::JobKind::kRevoke,    model::JobKind::kCutoff,
                                  model::JobKind::kCutoffLift};
  std::vector<model::Job> jobs;
  for (int i = 0; i < 400; ++i) {
    this->clock_.Advance(Duration(1));  // fresh ids
    // Due times from 60 s ago to 20 s ahead, in steps of 1 s, so that about 4 jobs share each.
    Time due = now + Duration(1000 * ((i * 37) % 80) - 60000);
    model::Job j = this->MakeJob(kinds[i % std::size(kinds)], due, "req_" + std::to_string(i));
    if (i % 11 == 0) {
      j.lease_owner = "other";
      j.lease_until = i % 22 == 0 ? now + Duration(60000) : now - Duration(1);
    }
    jobs.push_back(j);
  }
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (const model::Job& j : jobs) JIT_RETURN_IF_ERROR(tx.PutJob(j));
    return OkStatus();
  }));
  std::vector<model::Job> want;
  for (const model::Job& j : jobs) {
    bool leased = !j.lease_owner.empty() && j.lease_until.has_value() && *j.lease_until > now;
    if (j.due_at <= now && !leased) want.push_back(j);
  }
  std::sort(want.begin(), want.end(), [](const model::Job& a, const model::Job& b) {
    bool ar = a.kind == model::JobKind::kRevoke;
    bool br = b.kind == model::JobKind::kRevoke;
    if (ar != br) return ar;
    if (a.due_at != b.due_at) return a.due_at < b.due_at;
    return a.id < b.id;
  });
  ASSERT_GT(want.size(), 250u);

  std::vector<std::string> got;
  for (int round = 0; round < 100; ++round) {
    Result<std::vector<model::Job>> batch =
        this->store().ClaimDueJobs(now, "w1", now + Duration(30000), 7);
    ASSERT_OK(batch);
    ASSERT_LE(batch->size(), 7u);
    for (const model::Job& j : *batch) {
      got.push_back(j.id);
      EXPECT_EQ(j.lease_owner, "w1");
    }
    if (batch->size() < 7) {
      EXPECT_EQ(got.size(), want.size()) << "only the last batch may be short";
      break;
    }
  }
  EXPECT_EQ(got, Ids(want));
  EXPECT_THAT(*this->store().ClaimDueJobs(now, "w1", now + Duration(30000), 7), IsEmpty());

  // One claim larger than what is due takes all of it; one of exactly the limit stops there.
  ASSERT_OK(this->store().ReleaseAllLeases());
  Result<std::vector<model::Job>> all =
      this->store().ClaimDueJobs(now, "w2", now + Duration(30000), 1000);
  ASSERT_OK(all);
  std::vector<model::Job> due_all;
  for (const model::Job& j : jobs) {
    if (j.due_at <= now) due_all.push_back(j);
  }
  EXPECT_EQ(all->size(), due_all.size());
  ASSERT_OK(this->store().ReleaseAllLeases());
  Result<std::vector<model::Job>> exact =
      this->store().ClaimDueJobs(now, "w3", now + Duration(30000), 5);
  ASSERT_OK(exact);
  EXPECT_THAT(*exact, SizeIs(5));
  for (const model::Job& j : *exact) EXPECT_EQ(j.kind, model::JobKind::kRevoke);
}

TYPED_TEST(StoreConformance, LeasedJobIsNotClaimedAgainUntilTheLeaseRunsOut) {
  Time now = this->clock_.Now();
  model::Job job = this->MakeJob(model::JobKind::kGrant, now);
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.PutJob(job); }));

  ASSERT_THAT(*this->store().ClaimDueJobs(now, "w1", now + Duration(30000), 10), SizeIs(1));
  EXPECT_THAT(*this->store().ClaimDueJobs(now, "w2", now + Duration(30000), 10), IsEmpty());
  EXPECT_THAT(*this->store().ClaimDueJobs(now + Duration(29999), "w2", now + Duration(60000), 10),
              IsEmpty());

  Result<std::vector<model::Job>> again =
      this->store().ClaimDueJobs(now + Duration(30000), "w2", now + Duration(60000), 10);
  ASSERT_OK(again);
  ASSERT_THAT(*again, SizeIs(1));
  EXPECT_EQ((*again)[0].lease_owner, "w2");
  EXPECT_EQ(this->store().ListJobs()->at(0).lease_owner, "w2");

  // After a restart every lease is free at once.
  ASSERT_OK(this->store().ReleaseAllLeases());
  Result<std::vector<model::Job>> listed = this->store().ListJobs();
  ASSERT_OK(listed);
  EXPECT_EQ(listed->at(0).lease_owner, "");
  EXPECT_EQ(listed->at(0).lease_until, std::nullopt);
  Result<std::vector<model::Job>> third =
      this->store().ClaimDueJobs(now + Duration(30000), "w3", now + Duration(90000), 10);
  ASSERT_OK(third);
  ASSERT_THAT(*third, SizeIs(1));
  EXPECT_EQ((*third)[0].lease_owner, "w3");
}

TYPED_TEST(StoreConformance, JobListenerSeesCommittedJobsOnly) {
  RecordingListener listener;
  this->store().SetJobListener(&listener);
  Time now = this->clock_.Now();
  model::Job kept1 = this->MakeJob(model::JobKind::kGrant, now);
  model::Job kept2 = this->MakeJob(model::JobKind::kRevoke, now);
  model::Job undone = this->MakeJob(model::JobKind::kNotify, now);
  model::Job put_then_deleted = this->MakeJob(model::JobKind::kNotify, now);

  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutJob(kept1));
    JIT_RETURN_IF_ERROR(tx.PutJob(put_then_deleted));
    JIT_RETURN_IF_ERROR(tx.DeleteJob(put_then_deleted.id));
    return tx.PutJob(kept2);
  }));
  EXPECT_THAT(listener.ids(), ElementsAre(kept1.id, kept2.id));

  EXPECT_THAT(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutJob(undone));
    return UnavailableError("provider down");
  }),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(listener.ids(), ElementsAre(kept1.id, kept2.id));

  // A transaction that puts no job reports nothing.
  int calls = listener.calls();
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.DeleteJob(kept1.id); }));
  EXPECT_EQ(listener.calls(), calls);

  // Without a listener commits still work.
  this->store().SetJobListener(nullptr);
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.PutJob(undone); }));
  EXPECT_THAT(listener.ids(), ElementsAre(kept1.id, kept2.id));
}

TYPED_TEST(StoreConformance, LedgerPutGetReplaceDelete) {
  model::LedgerEntry e{"user-1",
                       "111111111111",
                       "arn:ps/1",
                       model::LedgerOrigin::kStanding,
                       model::LedgerState::kPresent,
                       {"req_a", "req_b"},
                       "",
                       this->clock_.Now()};
  model::LedgerEntry other{"user-2",
                           "111111111111",
                           "arn:ps/1",
                           model::LedgerOrigin::kJit,
                           model::LedgerState::kGranting,
                           {},
                           "op-7",
                           this->clock_.Now()};
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutLedger(e));
    return tx.PutLedger(other);
  }));

  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> got,
                         tx.GetLedger("user-1", "111111111111", "arn:ps/1"));
    EXPECT_TRUE(got.has_value());
    if (!got.has_value()) return OkStatus();
    EXPECT_EQ(got->origin, model::LedgerOrigin::kStanding);
    EXPECT_EQ(got->state, model::LedgerState::kPresent);
    EXPECT_THAT(got->holders, ElementsAre("req_a", "req_b"));
    EXPECT_EQ(got->operation_id, "");
    EXPECT_EQ(got->updated_at, e.updated_at);
    JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> none,
                         tx.GetLedger("user-1", "111111111111", "arn:ps/2"));
    EXPECT_FALSE(none.has_value());
    return OkStatus();
  }));

  e.state = model::LedgerState::kRevoking;
  e.holders = {"req_b"};
  e.operation_id = "op-9";
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutLedger(e));
    JIT_RETURN_IF_ERROR(tx.DeleteLedger("user-2", "111111111111", "arn:ps/1"));
    return tx.DeleteLedger("user-9", "111111111111", "arn:ps/1");  // absent: fine
  }));
  Result<std::vector<model::LedgerEntry>> all = this->store().ListLedger();
  ASSERT_OK(all);
  ASSERT_THAT(*all, SizeIs(1));
  EXPECT_EQ((*all)[0].principal_id, "user-1");
  EXPECT_EQ((*all)[0].state, model::LedgerState::kRevoking);
  EXPECT_THAT((*all)[0].holders, ElementsAre("req_b"));
  EXPECT_EQ((*all)[0].operation_id, "op-9");
}

// The head-and-holder operations (what the grant and revoke jobs use) and the whole-entry
// ones see the same ledger.
TYPED_TEST(StoreConformance, LedgerHeadAndHolderOperations) {
  const std::string p = "user-1", a = "111111111111", ps = "arn:ps/1";
  model::LedgerEntry e{p,
                       a,
                       ps,
                       model::LedgerOrigin::kJit,
                       model::LedgerState::kGranting,
                       {},
                       "",
                       this->clock_.Now()};
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> none, tx.GetLedgerHead(p, a, ps));
    EXPECT_FALSE(none.has_value());
    EXPECT_THAT(tx.AddLedgerHolder(p, a, ps, "req_a"), StatusIs(StatusCode::kNotFound));
    JIT_ASSIGN_OR_RETURN(bool held, tx.IsLedgerHolder(p, a, ps, "req_a"));
    EXPECT_FALSE(held);
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, "req_a"));  // absent entry: fine
    e.holders = {"ignored"};  // PutLedgerHead never writes holders
    JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
    EXPECT_THAT(tx.AddLedgerHolder(p, a, ps, ""), StatusIs(StatusCode::kInvalidArgument));
    for (const char* id : {"req_c", "req_a", "req_b", "req_a"}) {  // the repeat changes nothing
      JIT_RETURN_IF_ERROR(tx.AddLedgerHolder(p, a, ps, id));
    }
    return OkStatus();
  }));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> head, tx.GetLedgerHead(p, a, ps));
    EXPECT_TRUE(head.has_value());
    if (!head.has_value()) return OkStatus();
    EXPECT_EQ(head->holder_count, 3);
    EXPECT_THAT(head->entry.holders, IsEmpty());
    EXPECT_EQ(head->entry.state, model::LedgerState::kGranting);
    EXPECT_EQ(head->entry.updated_at, e.updated_at);
    JIT_ASSIGN_OR_RETURN(bool held, tx.IsLedgerHolder(p, a, ps, "req_b"));
    EXPECT_TRUE(held);
    JIT_ASSIGN_OR_RETURN(held, tx.IsLedgerHolder(p, a, ps, "req_z"));
    EXPECT_FALSE(held);
    JIT_ASSIGN_OR_RETURN(held, tx.IsLedgerHolder(p, a, "arn:ps/2", "req_b"));
    EXPECT_FALSE(held);
    JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> full, tx.GetLedger(p, a, ps));
    EXPECT_TRUE(full.has_value());
    if (full.has_value()) {
      EXPECT_THAT(full->holders, ElementsAre("req_c", "req_a", "req_b"));
    }
    // The head changes; the holders stay.
    head->entry.state = model::LedgerState::kPresent;
    head->entry.operation_id = "op-1";
    JIT_RETURN_IF_ERROR(tx.PutLedgerHead(head->entry));
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, "req_a"));
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, "req_a"));  // twice: fine
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, "req_z"));  // never held: fine
    return tx.AddLedgerHolder(p, a, ps, "req_d");
  }));
  Result<std::vector<model::LedgerEntry>> all = this->store().ListLedger();
  ASSERT_OK(all);
  ASSERT_THAT(*all, SizeIs(1));
  EXPECT_EQ((*all)[0].state, model::LedgerState::kPresent);
  EXPECT_EQ((*all)[0].operation_id, "op-1");
  EXPECT_THAT((*all)[0].holders, ElementsAre("req_c", "req_b", "req_d"));

  // Removing the last holder keeps the entry; deleting it deletes its holders too.
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (const char* id : {"req_c", "req_b", "req_d"}) {
      JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, id));
    }
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> head, tx.GetLedgerHead(p, a, ps));
    EXPECT_TRUE(head.has_value());
    if (head.has_value()) {
      EXPECT_EQ(head->holder_count, 0);
    }
    JIT_RETURN_IF_ERROR(tx.AddLedgerHolder(p, a, ps, "req_e"));
    JIT_RETURN_IF_ERROR(tx.DeleteLedger(p, a, ps));
    JIT_ASSIGN_OR_RETURN(head, tx.GetLedgerHead(p, a, ps));
    EXPECT_FALSE(head.has_value());
    JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
    JIT_ASSIGN_OR_RETURN(head, tx.GetLedgerHead(p, a, ps));
    EXPECT_TRUE(head.has_value());
    if (head.has_value()) {
      EXPECT_EQ(head->holder_count, 0);
    }
    JIT_ASSIGN_OR_RETURN(bool held, tx.IsLedgerHolder(p, a, ps, "req_e"));
    EXPECT_FALSE(held);
    return OkStatus();
  }));
}

// PutLedger replaces the holders (order as given, a repeat once) and the count follows; an
// undone transaction leaves holders and count as they were.
TYPED_TEST(StoreConformance, LedgerPutReplacesHoldersAndUndoRestoresThem) {
  const std::string p = "user-1", a = "111111111111", ps = "arn:ps/1";
  model::LedgerEntry e{p,
                       a,
                       ps,
                       model::LedgerOrigin::kStanding,
                       model::LedgerState::kPresent,
                       {"req_b", "req_a", "req_b"},
                       "",
                       this->clock_.Now()};
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.PutLedger(e); }));
  e.holders = {"req_c", "req_a"};
  ASSERT_OK(this->store().Transact([&](Tx& tx) { return tx.PutLedger(e); }));
  Status undone = this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.AddLedgerHolder(p, a, ps, "req_x"));
    JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, "req_c"));
    e.state = model::LedgerState::kRevoking;
    JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
    return AbortedError("changed my mind");
  });
  EXPECT_THAT(undone, StatusIs(StatusCode::kAborted));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> head, tx.GetLedgerHead(p, a, ps));
    EXPECT_TRUE(head.has_value());
    if (!head.has_value()) return OkStatus();
    EXPECT_EQ(head->holder_count, 2);
    EXPECT_EQ(head->entry.state, model::LedgerState::kPresent);
    EXPECT_EQ(head->entry.origin, model::LedgerOrigin::kStanding);
    JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> full, tx.GetLedger(p, a, ps));
    EXPECT_TRUE(full.has_value());
    if (full.has_value()) {
      EXPECT_THAT(full->holders, ElementsAre("req_c", "req_a"));
    }
    return OkStatus();
  }));
}

// Many holders of one assignment (one principal, many grants): each added and removed on its
// own; the list keeps the order they came in.
TYPED_TEST(StoreConformance, LedgerManyHoldersKeepTheirOrder) {
  const std::string p = "user-1", a = "111111111111", ps = "arn:ps/1";
  model::LedgerEntry e{p,
                       a,
                       ps,
                       model::LedgerOrigin::kJit,
                       model::LedgerState::kPresent,
                       {},
                       "",
                       this->clock_.Now()};
  constexpr int kHolders = 300;
  std::vector<std::string> ids;
  for (int i = 0; i < kHolders; ++i) ids.push_back("req_" + std::to_string((i * 7919) % 1000));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutLedgerHead(e));
    for (const std::string& id : ids) JIT_RETURN_IF_ERROR(tx.AddLedgerHolder(p, a, ps, id));
    return OkStatus();
  }));
  std::vector<std::string> kept;
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (int i = 0; i < kHolders; ++i) {
      if (i % 3 == 0) {
        JIT_RETURN_IF_ERROR(tx.RemoveLedgerHolder(p, a, ps, ids[i]));
      } else {
        kept.push_back(ids[i]);
      }
    }
    return OkStatus();
  }));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<LedgerHead> head, tx.GetLedgerHead(p, a, ps));
    EXPECT_TRUE(head.has_value());
    if (head.has_value()) {
      EXPECT_EQ(head->holder_count, static_cast<std::int64_t>(kept.size()));
    }
    JIT_ASSIGN_OR_RETURN(std::optional<model::LedgerEntry> full, tx.GetLedger(p, a, ps));
    EXPECT_TRUE(full.has_value());
    if (full.has_value()) {
      EXPECT_EQ(full->holders, kept);
    }
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, ListJobsDueBeforeReturnsDueJobsEarliestFirstWhateverTheirLease) {
  Time now = this->clock_.Now();
  model::Job late = this->MakeJob(model::JobKind::kGrant, now + Duration(2000));
  model::Job early = this->MakeJob(model::JobKind::kRevoke, now - Duration(1000));
  model::Job leased = this->MakeJob(model::JobKind::kNotify, now);
  leased.lease_owner = "someone";
  leased.lease_until = now + Duration(60000);
  model::Job future = this->MakeJob(model::JobKind::kRevoke, now + Duration(2001));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (const model::Job* j : {&late, &early, &leased, &future})
      JIT_RETURN_IF_ERROR(tx.PutJob(*j));
    return OkStatus();
  }));
  Result<std::vector<model::Job>> due = this->store().ListJobsDueBefore(now + Duration(2000), 100);
  ASSERT_OK(due);
  EXPECT_THAT(Ids(*due), ElementsAre(early.id, leased.id, late.id));
  EXPECT_EQ((*due)[1].lease_owner, "someone");
  EXPECT_EQ((*due)[1].lease_until, leased.lease_until);
  // Limited: the earliest first.
  due = this->store().ListJobsDueBefore(now + Duration(10000), 2);
  ASSERT_OK(due);
  EXPECT_THAT(Ids(*due), ElementsAre(early.id, leased.id));
  EXPECT_THAT(*this->store().ListJobsDueBefore(now - Duration(1001), 100), IsEmpty());
  EXPECT_THAT(this->store().ListJobsDueBefore(now, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(this->store().ListJobsDueBefore(now, 10001), StatusIs(StatusCode::kInvalidArgument));
}

TYPED_TEST(StoreConformance, RenewLeasesExtendsOnlyTheOwnersLeases) {
  Time now = this->clock_.Now();
  model::Job mine = this->MakeJob(model::JobKind::kRevoke, now);
  model::Job theirs = this->MakeJob(model::JobKind::kGrant, now);
  model::Job gone = this->MakeJob(model::JobKind::kGrant, now);
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    for (const model::Job* j : {&mine, &theirs, &gone}) JIT_RETURN_IF_ERROR(tx.PutJob(*j));
    return OkStatus();
  }));
  ASSERT_THAT(*this->store().ClaimDueJobs(now, "w1", now + Duration(5000), 10), SizeIs(3));
  // theirs: w1's lease ran out and w2 took it; gone: finished and deleted.
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    model::Job t = theirs;
    t.lease_owner = "w2";
    t.lease_until = now + Duration(9000);
    JIT_RETURN_IF_ERROR(tx.PutJob(t));
    return tx.DeleteJob(gone.id);
  }));
  Result<std::vector<std::string>> renewed =
      this->store().RenewLeases("w1", {mine.id, theirs.id, gone.id}, now + Duration(20000));
  ASSERT_OK(renewed);
  EXPECT_THAT(*renewed, ElementsAre(mine.id));
  std::vector<model::Job> jobs = *this->store().ListJobs();
  for (const model::Job& j : jobs) {
    if (j.id == mine.id) {
      EXPECT_EQ(j.lease_owner, "w1");
      EXPECT_EQ(j.lease_until, now + Duration(20000));
    } else {
      EXPECT_EQ(j.lease_owner, "w2");
      EXPECT_EQ(j.lease_until, now + Duration(9000));
    }
  }
  // The renewed lease holds off other claimers until it runs out.
  EXPECT_THAT(*this->store().ClaimDueJobs(now + Duration(8999), "w3", now + Duration(30000), 10),
              IsEmpty());
  EXPECT_THAT(*this->store().RenewLeases("w1", {}, now), IsEmpty());
  EXPECT_THAT(this->store().RenewLeases("", {mine.id}, now),
              StatusIs(StatusCode::kInvalidArgument));
}

TYPED_TEST(StoreConformance, TextThatCannotBeStoredIsRefusedAndTheTransactionGoesOn) {
  model::Request r = this->MakeRequest();
  r.reason = std::string("bad \xff\xfe utf-8");
  model::AuditEvent nul = this->MakeEvent("x");
  nul.details = "{\"a\":\"b";
  nul.details += '\0';
  nul.details += "c\"}";
  model::Request ok = this->MakeRequest();
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    EXPECT_THAT(tx.InsertRequest(r), StatusIs(StatusCode::kInvalidArgument));
    // Engines differ on a NUL in a column (SQLite keeps it); none may lose the rest.
    (void)tx.AppendAudit(nul);
    return tx.InsertRequest(ok);
  }));
  EXPECT_OK(this->store().GetRequest(ok.id));
  EXPECT_THAT(this->store().GetRequest(r.id), StatusIs(StatusCode::kNotFound));
}

// Keyed records: what one module keeps under (kind, key), read back exactly, kinds apart.
TYPED_TEST(StoreConformance, RecordsReadBackReplaceAndDelete) {
  const std::string value = "{\"ts\":\"1700000000.000100\",\"name\":\"\xc3\xa9\"}";
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    Result<std::optional<std::string>> none = tx.GetRecord("slack_message", "req_1/C1");
    EXPECT_OK(none);
    if (none.ok()) {
      EXPECT_FALSE(none->has_value());
    }
    JIT_RETURN_IF_ERROR(tx.PutRecord("slack_message", "req_1/C1", value));
    JIT_RETURN_IF_ERROR(tx.PutRecord("activity", "req_1/C1", "other kind"));
    return OkStatus();
  }));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    Result<std::optional<std::string>> got = tx.GetRecord("slack_message", "req_1/C1");
    EXPECT_OK(got);
    if (got.ok()) {
      EXPECT_EQ(got->value_or("<none>"), value);
    }
    JIT_RETURN_IF_ERROR(tx.PutRecord("slack_message", "req_1/C1", "replaced"));
    got = tx.GetRecord("slack_message", "req_1/C1");
    EXPECT_OK(got);
    if (got.ok()) {
      EXPECT_EQ(got->value_or("<none>"), "replaced");
    }
    // An empty value is a value.
    JIT_RETURN_IF_ERROR(tx.PutRecord("slack_message", "req_2/C1", ""));
    got = tx.GetRecord("slack_message", "req_2/C1");
    EXPECT_OK(got);
    if (got.ok()) {
      EXPECT_EQ(got->value_or("<none>"), "");
    }
    return OkStatus();
  }));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.DeleteRecord("slack_message", "req_1/C1"));
    JIT_RETURN_IF_ERROR(tx.DeleteRecord("slack_message", "never-there"));
    Result<std::optional<std::string>> gone = tx.GetRecord("slack_message", "req_1/C1");
    EXPECT_OK(gone);
    if (gone.ok()) {
      EXPECT_FALSE(gone->has_value());
    }
    Result<std::optional<std::string>> other = tx.GetRecord("activity", "req_1/C1");
    EXPECT_OK(other);
    if (other.ok()) {
      EXPECT_EQ(other->value_or("<none>"), "other kind");
    }
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, InsertRecordActsOnceAndKeepsTheFirstValue) {
  std::vector<bool> inserted;
  for (const char* value : {"first", "second"}) {
    ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
      JIT_ASSIGN_OR_RETURN(bool fresh, tx.InsertRecord("finding", "gd/abc", value));
      inserted.push_back(fresh);
      return OkStatus();
    }));
  }
  EXPECT_EQ(inserted, (std::vector<bool>{true, false}));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    Result<std::optional<std::string>> got = tx.GetRecord("finding", "gd/abc");
    EXPECT_OK(got);
    if (got.ok()) {
      EXPECT_EQ(got->value_or("<none>"), "first");
    }
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, ConcurrentInsertRecordsOfOneKeyInsertOnce) {
  constexpr int kThreads = 6;
  std::atomic<int> fresh{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Status s = RetryAborted(
          [&] {
            return this->store().Transact([&](Tx& tx) -> Status {
              JIT_ASSIGN_OR_RETURN(bool inserted,
                                   tx.InsertRecord("finding", "one-key", std::to_string(i)));
              if (inserted) fresh.fetch_add(1);
              return OkStatus();
            });
          },
          /*attempts=*/20);
      EXPECT_OK(s);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(fresh.load(), 1);
}

TYPED_TEST(StoreConformance, ListRecordsGivesThePrefixsKeysInByteOrder) {
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    // Put out of order; "req_1" must not match "req_10/..." only by accident of order.
    for (const char* key : {"req_1/Cb", "req_10/C1", "req_1/CA", "req_1/C\xc3\xa9", "req_0/C1",
                            "req_1/Ca", "req_2"}) {
      JIT_RETURN_IF_ERROR(tx.PutRecord("slack_message", key, std::string("v:") + key));
    }
    JIT_RETURN_IF_ERROR(tx.PutRecord("slack_messages", "req_1/Cz", "another kind"));
    return OkStatus();
  }));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(auto listed, tx.ListRecords("slack_message", "req_1/"));
    std::vector<std::string> keys;
    for (const auto& [key, value] : listed) {
      keys.push_back(key);
      EXPECT_EQ(value, "v:" + key);
    }
    EXPECT_EQ(keys,
              (std::vector<std::string>{"req_1/CA", "req_1/Ca", "req_1/Cb", "req_1/C\xc3\xa9"}));
    JIT_ASSIGN_OR_RETURN(auto all, tx.ListRecords("slack_message", ""));
    EXPECT_EQ(all.size(), 7u);
    JIT_ASSIGN_OR_RETURN(auto none, tx.ListRecords("slack_message", "req_3"));
    EXPECT_TRUE(none.empty());
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, RecordsAreUndoneWithTheirTransaction) {
  Status failed = this->store().Transact([&](Tx& tx) -> Status {
    JIT_RETURN_IF_ERROR(tx.PutRecord("activity", "req_9", "cached"));
    return InternalError("give up");
  });
  EXPECT_THAT(failed, StatusIs(StatusCode::kInternal));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(bool fresh, tx.InsertRecord("activity", "req_9", "again"));
    EXPECT_TRUE(fresh);
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, RecordsOutsideTheLimitsAreRefusedAndTheTransactionGoesOn) {
  model::Request ok = this->MakeRequest();
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    auto refused = [](const Status& s) {
      EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument)) << s.message();
    };
    refused(tx.PutRecord("", "k", "v"));
    refused(tx.PutRecord("Upper", "k", "v"));
    refused(tx.PutRecord(std::string(41, 'a'), "k", "v"));
    refused(tx.PutRecord("kind", "", "v"));
    refused(tx.PutRecord("kind", std::string(kMaxRecordKeyBytes + 1, 'k'), "v"));
    refused(tx.PutRecord("kind", "k", std::string(kMaxRecordValueBytes + 1, 'v')));
    refused(tx.PutRecord("kind", "k", "bad \xff utf-8"));
    refused(tx.PutRecord("kind", std::string("nul\0key", 7), "v"));
    refused(tx.PutRecord("kind", "k", std::string("nul\0value", 9)));
    refused(tx.InsertRecord("kind", "", "v").error());
    refused(tx.GetRecord("kind", "").error());
    refused(tx.DeleteRecord("KIND", "k"));
    refused(tx.ListRecords("kind", std::string(kMaxRecordKeyBytes + 1, 'k')).error());
    // The largest of each is kept.
    JIT_RETURN_IF_ERROR(tx.PutRecord(std::string(40, 'z'), std::string(kMaxRecordKeyBytes, 'k'),
                                     std::string(kMaxRecordValueBytes, 'v')));
    return tx.InsertRequest(ok);
  }));
  EXPECT_OK(this->store().GetRequest(ok.id));
  ASSERT_OK(this->store().Transact([&](Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(std::optional<std::string> big,
                         tx.GetRecord(std::string(40, 'z'), std::string(kMaxRecordKeyBytes, 'k')));
    EXPECT_EQ(big.value_or("").size(), kMaxRecordValueBytes);
    return OkStatus();
  }));
}

TYPED_TEST(StoreConformance, PingIsOk) { EXPECT_OK(this->store().Ping()); }

TYPED_TEST(StoreConformance, ConcurrentTransactionsAllLandAndTheChainHolds) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  RecordingListener listener;
  this->store().SetJobListener(&listener);
  // Ids are made up front: NewId takes the time, and the fake clock is not ours to move from
  // many threads.
  std::vector<std::vector<model::Request>> requests(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      requests[t].push_back(this->MakeRequest("user" + std::to_string(t)));
    }
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const model::Request& r = requests[t][i];
        Status s = this->store().Transact([&](Tx& tx) -> Status {
          JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
          JIT_RETURN_IF_ERROR(tx.AppendAudit(this->MakeEvent("request.created", r.id)).error());
          model::Job j;
          j.id = "job_" + r.id.substr(4);
          j.kind = model::JobKind::kApprovalTimeout;
          j.request_id = r.id;
          j.due_at = r.created_at;
          j.first_due_at = r.created_at;
          j.payload = "{}";
          j.created_at = r.created_at;
          return tx.PutJob(j);
        });
        if (!s.ok()) {
          ++failures;
          ADD_FAILURE() << s;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  std::vector<model::AuditEvent> all = this->AllAudit();
  EXPECT_THAT(all, SizeIs(kThreads * kPerThread));
  audit::ChainCheck check = audit::VerifyChain(all);
  EXPECT_TRUE(check.ok) << check.why << " at " << check.first_bad_seq;
  EXPECT_THAT(*this->store().ListJobs(), SizeIs(kThreads * kPerThread));
  EXPECT_THAT(listener.ids(), SizeIs(kThreads * kPerThread));

  int listed = 0;
  RequestFilter f;
  f.limit = 500;
  for (;;) {
    Result<RequestPage> page = this->store().ListRequests(f);
    ASSERT_OK(page);
    listed += static_cast<int>(page->items.size());
    if (page->next_cursor.empty()) break;
    f.cursor = page->next_cursor;
  }
  EXPECT_EQ(listed, kThreads * kPerThread);
}

}  // namespace
}  // namespace jit::store
