#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "model/job.h"
#include "model/ledger.h"
#include "model/request.h"
#include "model/request_json.h"

namespace jit::model {
namespace {

TEST(RequestState, NamesRoundTrip) {
  for (RequestState s :
       {RequestState::kPending, RequestState::kApproved, RequestState::kActive,
        RequestState::kRevoking, RequestState::kEnded, RequestState::kDenied,
        RequestState::kCancelled, RequestState::kTimedOut, RequestState::kFailed}) {
    EXPECT_EQ(ParseRequestState(RequestStateName(s)), s) << RequestStateName(s);
  }
  EXPECT_EQ(RequestStateName(RequestState::kTimedOut), "timed_out");
  EXPECT_EQ(ParseRequestState("Pending"), std::nullopt);
  EXPECT_EQ(ParseRequestState(""), std::nullopt);
}

TEST(RequestState, TerminalStatesAreTheEndedOnes) {
  EXPECT_FALSE(IsTerminal(RequestState::kPending));
  EXPECT_FALSE(IsTerminal(RequestState::kApproved));
  EXPECT_FALSE(IsTerminal(RequestState::kActive));
  EXPECT_FALSE(IsTerminal(RequestState::kRevoking));
  EXPECT_TRUE(IsTerminal(RequestState::kEnded));
  EXPECT_TRUE(IsTerminal(RequestState::kDenied));
  EXPECT_TRUE(IsTerminal(RequestState::kCancelled));
  EXPECT_TRUE(IsTerminal(RequestState::kTimedOut));
  EXPECT_TRUE(IsTerminal(RequestState::kFailed));
}

TEST(JobKind, NamesRoundTrip) {
  for (JobKind k : {JobKind::kGrant, JobKind::kRevoke, JobKind::kApprovalTimeout, JobKind::kNotify,
                    JobKind::kCutoff, JobKind::kCutoffLift, JobKind::kActivitySummary}) {
    EXPECT_EQ(ParseJobKind(JobKindName(k)), k) << JobKindName(k);
  }
  EXPECT_EQ(JobKindName(JobKind::kApprovalTimeout), "approval_timeout");
  EXPECT_EQ(ParseJobKind("grants"), std::nullopt);
}

TEST(Ledger, NamesRoundTrip) {
  for (LedgerOrigin o : {LedgerOrigin::kJit, LedgerOrigin::kStanding}) {
    EXPECT_EQ(ParseLedgerOrigin(LedgerOriginName(o)), o);
  }
  for (LedgerState s : {LedgerState::kGranting, LedgerState::kPresent, LedgerState::kRevoking}) {
    EXPECT_EQ(ParseLedgerState(LedgerStateName(s)), s);
  }
  EXPECT_EQ(LedgerOriginName(LedgerOrigin::kStanding), "standing");
  EXPECT_EQ(ParseLedgerOrigin("JIT"), std::nullopt);
  EXPECT_EQ(ParseLedgerState(""), std::nullopt);
}

TEST(RequestToJson, UnsetFieldsAreNullAndTheStateIsItsName) {
  Request r;
  r.id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  r.duration_seconds = 3600;
  r.state = RequestState::kTimedOut;
  nlohmann::json j = RequestToJson(r);
  EXPECT_EQ(j["id"], r.id);
  EXPECT_EQ(j["state"], "timed_out");
  EXPECT_EQ(j["duration_seconds"], 3600);
  EXPECT_EQ(j["duration"], "1h");
  EXPECT_TRUE(j["ticket"].is_null());
  EXPECT_TRUE(j["expires_at"].is_null());
  EXPECT_TRUE(j["extension"].is_null());
  EXPECT_TRUE(j["approvals"].is_array());
  EXPECT_EQ(j["batch"], nlohmann::json::array());  // a request of one account
  EXPECT_TRUE(j["group"].is_null());               // an account assignment
  EXPECT_EQ(j.size(), 30u);  // every field of the API's request object, no more
}

TEST(RequestToJson, AGroupMembershipNamesItsGroup) {
  Request r;
  r.account_id = std::string(kGroupAccount);
  r.account_name = std::string(kGroupAccount);
  r.permission_set_name = "sre";
  r.permission_set_arn = "5e000000-0000-4000-8000-000000000013";
  nlohmann::json j = RequestToJson(r);
  EXPECT_EQ(j["group"],
            (nlohmann::json{{"id", "5e000000-0000-4000-8000-000000000013"}, {"name", "sre"}}));
  EXPECT_TRUE(IsGroupAccount(r.account_id));
  EXPECT_FALSE(IsGroupAccount("111111111111"));
}

}  // namespace
}  // namespace jit::model
