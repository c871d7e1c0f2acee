#include "app/restore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/trail.h"
#include "core/testing.h"
#include "store/memory_store.h"
#include "workflow/jobs.h"

namespace jit::app {
namespace {

using model::JobKind;
using model::LedgerEntry;
using model::LedgerOrigin;
using model::LedgerState;
using model::Request;
using model::RequestState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";

Request MakeRequest(const std::string& id, RequestState state, const std::string& principal) {
  Request r;
  r.id = id;
  r.requester = "alice";
  r.principal_id = principal;
  r.account_id = "111111111111";
  r.permission_set_arn = kPs;
  r.duration_seconds = 3600;
  r.state = state;
  r.created_at = FromUnixMillis(1'700'000'000'000);
  return r;
}

LedgerEntry Entry(const std::string& principal, LedgerOrigin origin, LedgerState state,
                  std::vector<std::string> holders, Time at) {
  LedgerEntry e;
  e.principal_id = principal;
  e.account_id = "111111111111";
  e.permission_set_arn = kPs;
  e.origin = origin;
  e.state = state;
  e.holders = std::move(holders);
  e.updated_at = at;
  return e;
}

class RestoreTest : public ::testing::Test {
 protected:
  // Puts `r` (and its `jobs`, and `entry` when given) into `store`, with an audit event.
  void Put(store::Store& store, const Request& r, const std::vector<JobKind>& jobs) {
    ASSERT_OK(store.Transact([&](store::Tx& tx) -> Status {
      JIT_RETURN_IF_ERROR(tx.InsertRequest(r));
      for (JobKind k : jobs) {
        JIT_RETURN_IF_ERROR(tx.PutJob(workflow::MakeJob(k, r.id, clock_.Now(), clock_.Now())));
      }
      model::AuditEvent e;
      e.actor = "alice";
      e.action = "request.created";
      e.request_id = r.id;
      e.severity = "info";
      e.details = "{}";
      return tx.AppendAudit(e).error();
    }));
  }
  void PutEntry(store::Store& store, const LedgerEntry& e) {
    ASSERT_OK(store.Transact([&](store::Tx& tx) { return tx.PutLedger(e); }));
  }
  void PutJobWithId(store::Store& store, const std::string& id, const std::string& request_id) {
    ASSERT_OK(store.Transact([&](store::Tx& tx) {
      return tx.PutJob(
          workflow::MakeJobWithId(id, JobKind::kNotify, request_id, clock_.Now(), clock_.Now()));
    }));
  }

  std::vector<model::AuditEvent> Events(store::Store& store) {
    auto events = store.ListAudit(0, 1000);
    EXPECT_OK(events);
    return events.value_or(std::vector<model::AuditEvent>{});
  }
  std::vector<std::string> Actions(store::Store& store) {
    std::vector<std::string> out;
    for (const auto& e : Events(store)) out.push_back(e.action);
    return out;
  }

  void ExpectTrailVerifies(store::Store& store) {
    auto report = audit::VerifyTrail(
        [&](std::int64_t after, int limit) { return store.ListAudit(after, limit); }, {}, nullptr);
    ASSERT_OK(report);
    EXPECT_TRUE(report->ok) << report->problem << ": " << report->why;
  }

  RestoreFacts Facts() {
    RestoreFacts f;
    f.backup_taken_at = clock_.Now() - std::chrono::minutes(10);
    f.backup_last_seq = 1;
    return f;
  }

  FakeClock clock_;
  store::MemoryStore backup_{clock_};    // the restored copy
  store::MemoryStore replaced_{clock_};  // what the backup replaces
};

TEST_F(RestoreTest, RequestThatEndedAfterTheBackupStaysEnded) {
  Request active = MakeRequest("req_01", RequestState::kActive, "p1");
  Put(backup_, active, {JobKind::kRevoke});
  PutEntry(backup_, Entry("p1", LedgerOrigin::kJit, LedgerState::kPresent, {"req_01"},
                          clock_.Now() - std::chrono::minutes(20)));
  Request ended = active;
  ended.state = RequestState::kEnded;
  ended.ended_at = clock_.Now() - std::chrono::minutes(5);
  ended.end_reason = "revoked by carol: done";
  Put(replaced_, ended, {});

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->requests_ended, 1);
  EXPECT_EQ(report->entries_released, 1);

  auto r = backup_.GetRequest("req_01");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kEnded);
  EXPECT_EQ(r->end_reason, "revoked by carol: done");
  EXPECT_EQ(r->ended_at, ended.ended_at);
  auto jobs = backup_.ListJobs();
  ASSERT_OK(jobs);
  EXPECT_THAT(*jobs, IsEmpty());  // nothing grants or revokes it again
  // Its assignment goes to the reconciler (which deletes it at its first run).
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].state, LedgerState::kRevoking);
  EXPECT_TRUE((*ledger)[0].operation_id.empty());
  EXPECT_LE((*ledger)[0].updated_at, clock_.Now() - std::chrono::minutes(59));
  EXPECT_THAT(Actions(backup_),
              ElementsAre("request.created", "restore.request_ended", "store.restored"));
  ExpectTrailVerifies(backup_);
}

TEST_F(RestoreTest, TheSessionCutOffOfAGrantEndedSinceIsCarriedOver) {
  Request active = MakeRequest("req_01", RequestState::kActive, "p1");
  Put(backup_, active, {JobKind::kRevoke});
  Request ended = active;
  ended.state = RequestState::kEnded;
  ended.ended_at = clock_.Now() - std::chrono::minutes(5);
  Put(replaced_, ended, {JobKind::kCutoff});

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->requests_ended, 1);
  auto jobs = backup_.ListJobs();
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 1u);  // the revoke is gone, the cut-off still to do
  EXPECT_EQ((*jobs)[0].kind, JobKind::kCutoff);
  EXPECT_EQ((*jobs)[0].request_id, "req_01");
}

TEST_F(RestoreTest, AssignmentMadeAfterTheBackupIsHandedToTheReconciler) {
  Put(replaced_, MakeRequest("req_02", RequestState::kActive, "p2"), {JobKind::kRevoke});
  PutEntry(replaced_,
           Entry("p2", LedgerOrigin::kJit, LedgerState::kPresent, {"req_02"}, clock_.Now()));
  // Standing access is never jit's to delete: not carried.
  PutEntry(replaced_,
           Entry("p3", LedgerOrigin::kStanding, LedgerState::kPresent, {"req_03"}, clock_.Now()));

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->ledger_carried, 1);
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  const LedgerEntry& e = (*ledger)[0];
  EXPECT_EQ(e.principal_id, "p2");
  EXPECT_EQ(e.origin, LedgerOrigin::kJit);
  EXPECT_EQ(e.state, LedgerState::kRevoking);
  EXPECT_THAT(e.holders, IsEmpty());
  EXPECT_LE(e.updated_at, clock_.Now() - std::chrono::minutes(59));
  auto events = Events(backup_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].action, "restore.ledger_carried");
  EXPECT_THAT(events[0].details, HasSubstr("req_02"));
  EXPECT_EQ(events[1].action, "store.restored");
  auto d = nlohmann::json::parse(events[1].details);
  EXPECT_EQ(d["ledger_carried"], 1);
  EXPECT_EQ(d["replaced_store"], "read");
  ExpectTrailVerifies(backup_);
}

TEST_F(RestoreTest, OpenRequestsTheReplacedStoreStillHasOpenAreLeftAlone) {
  Request active = MakeRequest("req_04", RequestState::kActive, "p4");
  Put(backup_, active, {JobKind::kRevoke});
  PutEntry(backup_,
           Entry("p4", LedgerOrigin::kJit, LedgerState::kPresent, {"req_04"}, clock_.Now()));
  Put(replaced_, active, {JobKind::kRevoke});
  PutEntry(replaced_, Entry("p4", LedgerOrigin::kJit, LedgerState::kPresent, {"req_04", "req_05"},
                            clock_.Now()));
  Request approved = MakeRequest("req_06", RequestState::kApproved, "p6");
  Put(backup_, approved, {JobKind::kGrant});
  Put(replaced_, approved, {JobKind::kGrant});

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->requests_ended, 0);
  EXPECT_EQ(report->ledger_carried, 0);
  EXPECT_EQ(report->entries_released, 0);
  EXPECT_EQ(report->grants_failed, 0);  // the replaced store says it is still to be granted
  EXPECT_EQ(backup_.GetRequest("req_04")->state, RequestState::kActive);
  EXPECT_EQ(backup_.GetRequest("req_06")->state, RequestState::kApproved);
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].state, LedgerState::kPresent);
  EXPECT_THAT((*ledger)[0].holders, ElementsAre("req_04"));
  EXPECT_EQ(backup_.ListJobs()->size(), 2u);
}

TEST_F(RestoreTest, GrantMadeAfterTheBackupKeepsItsExpiry) {
  Request approved = MakeRequest("req_12", RequestState::kApproved, "p12");
  Put(backup_, approved, {JobKind::kGrant});
  Request active = approved;
  active.state = RequestState::kActive;
  active.activated_at = clock_.Now() - std::chrono::minutes(5);
  active.expires_at = clock_.Now() + std::chrono::minutes(55);
  Put(replaced_, active, {JobKind::kRevoke});
  PutEntry(replaced_, Entry("p12", LedgerOrigin::kJit, LedgerState::kPresent, {"req_12"},
                            clock_.Now() - std::chrono::minutes(5)));

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->requests_granted, 1);
  EXPECT_EQ(report->ledger_carried, 1);
  auto r = backup_.GetRequest("req_12");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kActive);
  EXPECT_EQ(r->expires_at, active.expires_at);  // not a new grant of the full duration
  auto jobs = backup_.ListJobs();
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, "revoke:req_12");
  EXPECT_EQ((*jobs)[0].due_at, *active.expires_at);
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].state, LedgerState::kPresent);  // its revoke job deletes it
  EXPECT_THAT((*ledger)[0].holders, ElementsAre("req_12"));
  EXPECT_THAT(Actions(backup_), ElementsAre("request.created", "restore.request_granted",
                                            "restore.ledger_carried", "store.restored"));
  ExpectTrailVerifies(backup_);
}

TEST_F(RestoreTest, AGrantingEntryTheReplacedStoreFinishedBecomesPresent) {
  Request approved = MakeRequest("req_13", RequestState::kApproved, "p13");
  Put(backup_, approved, {JobKind::kGrant});
  PutEntry(backup_,
           Entry("p13", LedgerOrigin::kJit, LedgerState::kGranting, {"req_13"}, clock_.Now()));
  Request active = approved;
  active.state = RequestState::kActive;
  active.expires_at = clock_.Now() + std::chrono::minutes(30);
  Put(replaced_, active, {JobKind::kRevoke});
  PutEntry(replaced_,
           Entry("p13", LedgerOrigin::kJit, LedgerState::kPresent, {"req_13"}, clock_.Now()));

  ASSERT_OK(CarryForward(backup_, &replaced_, Facts(), clock_));
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].state, LedgerState::kPresent);
  EXPECT_THAT((*ledger)[0].holders, ElementsAre("req_13"));
}

TEST_F(RestoreTest, ARevocationUnderWayInTheReplacedStoreCountsAsEnded) {
  Request active = MakeRequest("req_14", RequestState::kActive, "p14");
  Put(backup_, active, {JobKind::kRevoke});
  PutEntry(backup_,
           Entry("p14", LedgerOrigin::kJit, LedgerState::kPresent, {"req_14"}, clock_.Now()));
  Request revoking = active;
  revoking.state = RequestState::kRevoking;
  revoking.end_reason = "expired";
  Put(replaced_, revoking, {JobKind::kRevoke});
  PutEntry(replaced_,
           Entry("p14", LedgerOrigin::kJit, LedgerState::kRevoking, {"req_14"}, clock_.Now()));

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->requests_ended, 1);
  auto r = backup_.GetRequest("req_14");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kEnded);
  EXPECT_EQ(r->end_reason, "expired");
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].state, LedgerState::kRevoking);  // the reconciler deletes it
  EXPECT_THAT(*backup_.ListJobs(), IsEmpty());
}

TEST_F(RestoreTest, NotificationsDeliveredSinceAreDropped) {
  Put(backup_, MakeRequest("req_07", RequestState::kPending, "p7"), {});
  Put(replaced_, MakeRequest("req_07", RequestState::kPending, "p7"), {});
  PutJobWithId(backup_, "notify:req_07:1:slack", "req_07");
  PutJobWithId(backup_, "notify:req_07:2:slack", "req_07");
  PutJobWithId(replaced_, "notify:req_07:2:slack", "req_07");

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->notify_jobs_dropped, 1);
  auto jobs = backup_.ListJobs();
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].id, "notify:req_07:2:slack");
}

TEST_F(RestoreTest, WithoutTheReplacedStoreUnfinishedGrantsFail) {
  Request approved = MakeRequest("req_08", RequestState::kApproved, "p8");
  Put(backup_, approved, {JobKind::kGrant});
  // Its create may have reached Identity Center.
  PutEntry(backup_,
           Entry("p8", LedgerOrigin::kJit, LedgerState::kGranting, {"req_08"}, clock_.Now()));
  Request active = MakeRequest("req_09", RequestState::kActive, "p9");
  Put(backup_, active, {JobKind::kRevoke});
  PutEntry(backup_,
           Entry("p9", LedgerOrigin::kJit, LedgerState::kPresent, {"req_09"}, clock_.Now()));
  Request pending = MakeRequest("req_10", RequestState::kPending, "p10");
  Put(backup_, pending, {JobKind::kApprovalTimeout});

  RestoreFacts facts = Facts();
  facts.replaced_present = true;
  facts.replaced_problem = "file is not a database";
  auto report = CarryForward(backup_, nullptr, facts, clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->grants_failed, 1);
  EXPECT_EQ(report->entries_released, 1);

  auto r = backup_.GetRequest("req_08");
  ASSERT_OK(r);
  EXPECT_EQ(r->state, RequestState::kFailed);
  EXPECT_EQ(r->failure_reason, RestoredGrantFailure(facts.backup_taken_at));
  EXPECT_THAT(r->failure_reason, HasSubstr("ask again"));
  // The active grant keeps its expiry timer; the pending request its time-out.
  EXPECT_EQ(backup_.GetRequest("req_09")->state, RequestState::kActive);
  EXPECT_EQ(backup_.GetRequest("req_10")->state, RequestState::kPending);
  std::vector<std::string> job_ids;
  auto jobs = backup_.ListJobs();
  ASSERT_OK(jobs);
  for (const auto& j : *jobs) job_ids.push_back(j.id);
  EXPECT_THAT(job_ids, ::testing::UnorderedElementsAre("revoke:req_09", "approval_timeout:req_10"));
  auto ledger = backup_.ListLedger();
  ASSERT_OK(ledger);
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].principal_id, "p8");
  EXPECT_EQ((*ledger)[0].state, LedgerState::kRevoking);  // the reconciler deletes it
  EXPECT_EQ((*ledger)[1].state, LedgerState::kPresent);
  auto events = Events(backup_);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].action, "request.failed");
  EXPECT_EQ(events.back().action, "store.restored");
  EXPECT_EQ(events.back().severity, "high");
  EXPECT_THAT(events.back().details, HasSubstr("unreadable: file is not a database"));
  ExpectTrailVerifies(backup_);
}

TEST_F(RestoreTest, StandingEntryWithNoLiveHolderIsForgotten) {
  Request active = MakeRequest("req_11", RequestState::kActive, "p11");
  Put(backup_, active, {JobKind::kRevoke});
  PutEntry(backup_,
           Entry("p11", LedgerOrigin::kStanding, LedgerState::kPresent, {"req_11"}, clock_.Now()));
  Request ended = active;
  ended.state = RequestState::kEnded;
  ended.ended_at = clock_.Now();
  ended.end_reason = "expired";
  Put(replaced_, ended, {});

  auto report = CarryForward(backup_, &replaced_, Facts(), clock_);
  ASSERT_OK(report);
  EXPECT_EQ(report->standing_dropped, 1);
  EXPECT_THAT(*backup_.ListLedger(), IsEmpty());
}

}  // namespace
}  // namespace jit::app
