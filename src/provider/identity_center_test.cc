#include "provider/identity_center.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/testing.h"

// A namespace of this file's own, so that its helpers do not meet those of the other tests of
// the module in a unity build (docs/BUILD.md).
namespace jit::provider::identity_center_test {
namespace {

using json = nlohmann::json;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kInstance[] = "arn:aws:sso:::instance/ssoins-1111111111111111";
constexpr char kStore[] = "d-1111111111";
constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
constexpr char kPs2[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr char kAlice[] = "a11ce000-0000-4000-8000-000000000001";
constexpr char kBob[] = "b0b00000-0000-4000-8000-000000000002";
const Assignment kAliceAssignment{kAlice, "111111111111", kPs};

// One call the fake transport received.
struct Received {
  std::string target;  // X-Amz-Target
  json body;
};

// Answers awsJson calls from a script: a queue of answers per operation; an operation with an
// empty queue answers with its fallback, or 500 when it has none.
class ScriptedTransport final : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpCall& call) override {
    std::string target;
    for (const auto& [name, value] : call.headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "x-amz-target") target = value;
    }
    std::string op = target.substr(target.find('.') + 1);
    MutexLock lock(&mu_);
    received_.push_back({target, json::parse(call.body, nullptr, false)});
    auto& queue = script_[op];
    if (!queue.empty()) {
      aws::HttpResponse r = queue.front();
      queue.pop_front();
      return r;
    }
    if (auto it = fallback_.find(op); it != fallback_.end()) return it->second;
    return Response(500, {{"__type", "InternalServerException"}, {"message", "unscripted"}});
  }

  static aws::HttpResponse Response(long status, const json& body) {
    aws::HttpResponse r;
    r.status = status;
    r.headers = {{"content-type", "application/x-amz-json-1.1"},
                 {"x-amzn-requestid", "11111111-2222-3333-4444-555555555555"}};
    r.body = body.dump();
    return r;
  }
  static aws::HttpResponse Error(long status, const std::string& type, const std::string& message) {
    return Response(status, {{"__type", type}, {"message", message}});
  }

  void Then(const std::string& op, aws::HttpResponse r) {
    MutexLock lock(&mu_);
    script_[op].push_back(std::move(r));
  }
  void Then(const std::string& op, const json& body) { Then(op, Response(200, body)); }
  void Always(const std::string& op, aws::HttpResponse r) {
    MutexLock lock(&mu_);
    fallback_[op] = std::move(r);
  }

  std::vector<Received> received() const {
    MutexLock lock(&mu_);
    return received_;
  }
  int Count(const std::string& op) const {
    MutexLock lock(&mu_);
    int n = 0;
    for (const Received& r : received_) n += r.target.ends_with("." + op) ? 1 : 0;
    return n;
  }

 private:
  mutable Mutex mu_;
  std::map<std::string, std::deque<aws::HttpResponse>> script_;
  std::map<std::string, aws::HttpResponse> fallback_;
  std::vector<Received> received_;
};

class FixedCredentials final : public aws::CredentialSource {
 public:
  Result<aws::Credentials> Get() override {
    return aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}};
  }
  std::string Name() const override { return "test"; }
};

// Counts create slots; never blocks (tests check the accounting, not the waiting).
class CountingLimiter final : public aws::Limiter {
 public:
  void AcquireCall() override {}
  void AcquireCreate() override {
    MutexLock lock(&mu_);
    ++acquired_;
    ++in_flight_;
  }
  void ReleaseCreate() override {
    MutexLock lock(&mu_);
    ++released_;
    --in_flight_;
  }
  int in_flight() const {
    MutexLock lock(&mu_);
    return in_flight_;
  }
  int acquired() const {
    MutexLock lock(&mu_);
    return acquired_;
  }
  int released() const {
    MutexLock lock(&mu_);
    return released_;
  }

 private:
  mutable Mutex mu_;
  int in_flight_ = 0;
  int acquired_ = 0;
  int released_ = 0;
};

json CreationStatus(const std::string& status, const std::string& id,
                    const std::string& reason = "") {
  json st = {{"Status", status},           {"RequestId", id},
             {"TargetId", "111111111111"}, {"TargetType", "AWS_ACCOUNT"},
             {"PermissionSetArn", kPs},    {"PrincipalType", "USER"},
             {"PrincipalId", kAlice},      {"CreatedDate", 1767225600.5}};
  if (!reason.empty()) st["FailureReason"] = reason;
  return {{"AccountAssignmentCreationStatus", st}};
}

json DeletionStatus(const std::string& status, const std::string& id,
                    const std::string& reason = "") {
  json j = CreationStatus(status, id, reason);
  return {{"AccountAssignmentDeletionStatus", j["AccountAssignmentCreationStatus"]}};
}

json AssignmentJson(const std::string& principal, const std::string& type = "USER") {
  return {{"AccountId", "111111111111"},
          {"PermissionSetArn", kPs},
          {"PrincipalType", type},
          {"PrincipalId", principal}};
}

class IdentityCenterTest : public ::testing::Test {
 protected:
  IdentityCenterTest()
      : sso_(SsoAdminSpec("https://sso.us-east-1.amazonaws.com", "us-east-1"), http_, creds_,
             limiter_, clock_, NoWait()),
        ids_(IdentityStoreSpec("https://identitystore.us-east-1.amazonaws.com", "us-east-1"), http_,
             creds_, limiter_, clock_, NoWait()) {}

  static aws::RetryPolicy NoWait() {
    aws::RetryPolicy p;
    p.max_attempts = 3;
    p.sleep = [](Duration) {};
    return p;
  }

  IdentityCenterOptions Options() {
    IdentityCenterOptions o;
    o.instance_arn = kInstance;
    o.identity_store_id = kStore;
    return o;
  }

  std::unique_ptr<IdentityCenterProvider> Make(IdentityCenterOptions o) {
    return std::make_unique<IdentityCenterProvider>(std::move(o), sso_, ids_, limiter_, clock_);
  }
  std::unique_ptr<IdentityCenterProvider> Make() { return Make(Options()); }

  FakeClock clock_;
  ScriptedTransport http_;
  FixedCredentials creds_;
  CountingLimiter limiter_;
  aws::JsonClient sso_;
  aws::JsonClient ids_;
};

TEST(IdentityCenterOptions, ValidateChecksTheIds) {
  IdentityCenterOptions o;
  o.instance_arn = kInstance;
  o.identity_store_id = kStore;
  EXPECT_OK(o.Validate());
  o.instance_arn = "arn:aws:sso:::instance/ssoins-1";
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("instance_arn")));
  o.instance_arn = kInstance;
  o.identity_store_id = "store";
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("identity_store")));
  o.identity_store_id = kStore;
  o.page_size = 101;
  EXPECT_THAT(o.Validate(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(IdentityCenterTest, GrantSendsCreateAccountAssignmentAndHoldsASlotUntilTerminal) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-1"));

  auto op = p->Grant(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->id, "req-1");
  EXPECT_EQ(op->state, OperationState::kInProgress);
  EXPECT_EQ(limiter_.in_flight(), 1);
  EXPECT_EQ(p->CreatesInFlight(), 1);

  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].target, "SWBExternalService.CreateAccountAssignment");
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance},
                                 {"TargetId", "111111111111"},
                                 {"TargetType", "AWS_ACCOUNT"},
                                 {"PermissionSetArn", kPs},
                                 {"PrincipalType", "USER"},
                                 {"PrincipalId", kAlice}}));

  auto st = p->GrantStatus("req-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  EXPECT_EQ(limiter_.in_flight(), 1);

  st = p->GrantStatus("req-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);
  EXPECT_EQ(limiter_.in_flight(), 0);
  EXPECT_EQ(p->CreatesInFlight(), 0);
  calls = http_.received();
  EXPECT_EQ(calls.back().target, "SWBExternalService.DescribeAccountAssignmentCreationStatus");
  EXPECT_EQ(calls.back().body,
            (json{{"InstanceArn", kInstance}, {"AccountAssignmentCreationRequestId", "req-1"}}));

  // Polling a settled create again gives nothing back twice.
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-1"));
  ASSERT_THAT(p->GrantStatus("req-1"), IsOk());
  EXPECT_EQ(limiter_.released(), 1);
  EXPECT_EQ(limiter_.in_flight(), 0);
}

TEST_F(IdentityCenterTest, FailedCreateReportsTheReasonAndGivesTheSlotBack) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("DescribeAccountAssignmentCreationStatus",
             CreationStatus("FAILED", "req-1", "The IAM role quota of the account is full"));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  auto st = p->GrantStatus("req-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kFailed);
  EXPECT_EQ(st->failure_reason, "The IAM role quota of the account is full");
  EXPECT_EQ(limiter_.in_flight(), 0);
}

TEST_F(IdentityCenterTest, CreateThatSettlesAtOnceOrFailsGivesTheSlotBackAtOnce) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", CreationStatus("SUCCEEDED", "req-1"));
  auto op = p->Grant(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
  EXPECT_EQ(limiter_.in_flight(), 0);

  http_.Then("CreateAccountAssignment",
             ScriptedTransport::Error(400, "AccessDeniedException", "not allowed"));
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(limiter_.in_flight(), 0);

  http_.Then("CreateAccountAssignment",
             ScriptedTransport::Error(400, "ConflictException", "a delete is under way"));
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kAborted));
  EXPECT_EQ(limiter_.in_flight(), 0);

  http_.Then("CreateAccountAssignment",
             ScriptedTransport::Error(402, "ServiceQuotaExceededException", "too many"));
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(limiter_.in_flight(), 0);

  // An answer without a request id cannot be tracked: an error, and no slot kept.
  http_.Then("CreateAccountAssignment",
             json{{"AccountAssignmentCreationStatus", {{"Status", "IN_PROGRESS"}}}});
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kInternal));
  EXPECT_EQ(limiter_.in_flight(), 0);
  EXPECT_EQ(limiter_.acquired(), 5);
  EXPECT_EQ(limiter_.released(), 5);
}

TEST_F(IdentityCenterTest, ThrottledCreateIsRetriedByTheClientHoldingOneSlot) {
  auto p = Make();
  http_.Then("CreateAccountAssignment",
             ScriptedTransport::Error(400, "ThrottlingException", "Rate exceeded"));
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  auto op = p->Grant(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(http_.Count("CreateAccountAssignment"), 2);
  EXPECT_EQ(limiter_.acquired(), 1);
  EXPECT_EQ(limiter_.in_flight(), 1);

  // Throttled for good: Unavailable, and the slot is given back.
  http_.Always("CreateAccountAssignment",
               ScriptedTransport::Error(400, "ThrottlingException", "Rate exceeded"));
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(limiter_.in_flight(), 1);
}

TEST_F(IdentityCenterTest, UnknownCreateRequestGivesItsSlotBack) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  http_.Then("DescribeAccountAssignmentCreationStatus",
             ScriptedTransport::Error(400, "ResourceNotFoundException", "no such request"));
  EXPECT_THAT(p->GrantStatus("req-1"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(limiter_.in_flight(), 0);
}

TEST_F(IdentityCenterTest, SlotOfACreateNobodyPollsIsGivenBackAfterMaxHold) {
  IdentityCenterOptions o = Options();
  o.max_create_hold = std::chrono::minutes(15);
  auto p = Make(o);
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-2"));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  EXPECT_EQ(limiter_.in_flight(), 2);

  // req-2 is polled to its end; its timer is cancelled.
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-2"));
  ASSERT_THAT(p->GrantStatus("req-2"), IsOk());
  EXPECT_EQ(limiter_.in_flight(), 1);
  EXPECT_EQ(clock_.PendingTimers(), 1u);

  clock_.Advance(std::chrono::minutes(14));
  EXPECT_EQ(limiter_.in_flight(), 1);
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_EQ(limiter_.in_flight(), 0);
  EXPECT_EQ(p->CreatesInFlight(), 0);

  // A late poll does not give it back a second time.
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-1"));
  ASSERT_THAT(p->GrantStatus("req-1"), IsOk());
  EXPECT_EQ(limiter_.released(), 2);
  EXPECT_EQ(limiter_.in_flight(), 0);
}

TEST_F(IdentityCenterTest, GrantWaitingForASlotPollsTheOldestCreateItself) {
  IdentityCenterOptions o = Options();
  o.max_creates_in_flight = 2;
  o.create_wait = Duration(5);
  auto p = Make(o);
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-2"));
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-3"));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  clock_.Advance(Duration(10));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  EXPECT_EQ(limiter_.in_flight(), 2);

  // Nobody else polls: the third grant looks at the oldest (req-2) until it has ended.
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("IN_PROGRESS", "req-2"));
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("IN_PROGRESS", "req-2"));
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-2"));
  auto op = p->Grant(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->id, "req-3");
  EXPECT_EQ(limiter_.in_flight(), 2);
  EXPECT_EQ(p->CreatesInFlight(), 2);
  auto calls = http_.received();
  int looks = 0;
  for (const Received& r : calls) {
    if (r.target.ends_with("CreationStatus")) {
      ++looks;
      EXPECT_EQ(r.body["AccountAssignmentCreationRequestId"], "req-2");
    }
  }
  EXPECT_EQ(looks, 3);
  EXPECT_EQ(limiter_.acquired(), 3);

  // The job that polls req-2 next learns its end without a call (issue 18: Identity Center
  // calls per lifecycle), once: a later poll asks again.
  auto polled = p->GrantStatus("req-2");
  ASSERT_THAT(polled, IsOk());
  EXPECT_EQ(polled->state, OperationState::kSucceeded);
  EXPECT_EQ(polled->id, "req-2");
  EXPECT_EQ(http_.received().size(), calls.size());
  http_.Then("DescribeAccountAssignmentCreationStatus", CreationStatus("SUCCEEDED", "req-2"));
  ASSERT_THAT(p->GrantStatus("req-2"), IsOk());
  EXPECT_EQ(http_.received().size(), calls.size() + 1);
}

TEST_F(IdentityCenterTest, SameRequestIdTwiceHoldsOneSlot) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
  EXPECT_EQ(limiter_.in_flight(), 1);
}

TEST_F(IdentityCenterTest, DestroyingTheProviderGivesEverySlotBack) {
  {
    auto p = Make();
    http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-1"));
    http_.Then("CreateAccountAssignment", CreationStatus("IN_PROGRESS", "req-2"));
    ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
    ASSERT_THAT(p->Grant(kAliceAssignment), IsOk());
    EXPECT_EQ(limiter_.in_flight(), 2);
  }
  EXPECT_EQ(limiter_.in_flight(), 0);
  EXPECT_EQ(clock_.PendingTimers(), 0u);
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(limiter_.in_flight(), 0);
}

TEST_F(IdentityCenterTest, RevokeSendsDeleteAccountAssignmentAndPollsItsStatus) {
  auto p = Make();
  http_.Then("DeleteAccountAssignment", DeletionStatus("IN_PROGRESS", "del-1"));
  http_.Then("DescribeAccountAssignmentDeletionStatus", DeletionStatus("SUCCEEDED", "del-1"));
  auto op = p->Revoke(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->id, "del-1");
  EXPECT_EQ(op->state, OperationState::kInProgress);
  auto calls = http_.received();
  EXPECT_EQ(calls[0].target, "SWBExternalService.DeleteAccountAssignment");
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance},
                                 {"TargetId", "111111111111"},
                                 {"TargetType", "AWS_ACCOUNT"},
                                 {"PermissionSetArn", kPs},
                                 {"PrincipalType", "USER"},
                                 {"PrincipalId", kAlice}}));
  auto st = p->RevokeStatus("del-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);
  calls = http_.received();
  EXPECT_EQ(calls.back().target, "SWBExternalService.DescribeAccountAssignmentDeletionStatus");
  EXPECT_EQ(calls.back().body,
            (json{{"InstanceArn", kInstance}, {"AccountAssignmentDeletionRequestId", "del-1"}}));
  // Deletes take no create slot.
  EXPECT_EQ(limiter_.acquired(), 0);
}

TEST_F(IdentityCenterTest, RevokeOfAnUnknownAssignmentSucceeds) {
  auto p = Make();
  http_.Then("DeleteAccountAssignment",
             ScriptedTransport::Error(400, "ResourceNotFoundException", "no such assignment"));
  auto op = p->Revoke(kAliceAssignment);
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
}

TEST_F(IdentityCenterTest, FailedDeleteOfAnAssignmentThatIsGoneCountsAsDone) {
  auto p = Make();
  http_.Then("DeleteAccountAssignment", DeletionStatus("IN_PROGRESS", "del-1"));
  http_.Then("DescribeAccountAssignmentDeletionStatus",
             DeletionStatus("FAILED", "del-1", "assignment does not exist"));
  http_.Then("ListAccountAssignments", json{{"AccountAssignments", {AssignmentJson(kBob)}}});
  ASSERT_THAT(p->Revoke(kAliceAssignment), IsOk());
  auto st = p->RevokeStatus("del-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);

  // Still there: the failure stands.
  http_.Then("DeleteAccountAssignment", DeletionStatus("IN_PROGRESS", "del-2"));
  http_.Then("DescribeAccountAssignmentDeletionStatus",
             DeletionStatus("FAILED", "del-2", "internal failure"));
  http_.Then("ListAccountAssignments", json{{"AccountAssignments", {AssignmentJson(kAlice)}}});
  ASSERT_THAT(p->Revoke(kAliceAssignment), IsOk());
  st = p->RevokeStatus("del-2");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kFailed);
  EXPECT_EQ(st->failure_reason, "internal failure");
}

TEST_F(IdentityCenterTest, ListAssignmentsFollowsNextTokenAndKeepsUsersOnly) {
  auto p = Make();
  http_.Then("ListAccountAssignments",
             json{{"AccountAssignments", {AssignmentJson(kAlice), AssignmentJson("g-1", "GROUP")}},
                  {"NextToken", "page-2"}});
  http_.Then("ListAccountAssignments",
             json{{"AccountAssignments", {AssignmentJson(kBob)}}, {"NextToken", "page-3"}});
  http_.Then("ListAccountAssignments", json{{"AccountAssignments", json::array()}});
  auto list = p->ListAssignments("111111111111", kPs);
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(*list, ElementsAre(Assignment{kAlice, "111111111111", kPs},
                                 Assignment{kBob, "111111111111", kPs}));
  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].target, "SWBExternalService.ListAccountAssignments");
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance},
                                 {"AccountId", "111111111111"},
                                 {"PermissionSetArn", kPs},
                                 {"MaxResults", 100}}));
  EXPECT_EQ(calls[1].body["NextToken"], "page-2");
  EXPECT_EQ(calls[2].body["NextToken"], "page-3");
}

TEST_F(IdentityCenterTest, ListAssignmentsRefusesATokenLoopAndPassesErrorsOn) {
  auto p = Make();
  http_.Then("ListAccountAssignments",
             json{{"AccountAssignments", json::array()}, {"NextToken", "same"}});
  http_.Then("ListAccountAssignments",
             json{{"AccountAssignments", json::array()}, {"NextToken", "same"}});
  EXPECT_THAT(p->ListAssignments("111111111111", kPs), StatusIs(StatusCode::kInternal));

  http_.Then("ListAccountAssignments",
             ScriptedTransport::Error(400, "ValidationException", "bad account"));
  EXPECT_THAT(p->ListAssignments("1", kPs), StatusIs(StatusCode::kInvalidArgument));

  http_.Always("ListAccountAssignments",
               ScriptedTransport::Error(500, "InternalServerException", "oops"));
  EXPECT_THAT(p->ListAssignments("111111111111", kPs), StatusIs(StatusCode::kUnavailable));
}

TEST_F(IdentityCenterTest, UserIdAsksTheIdentityStoreAndCachesTheAnswer) {
  IdentityCenterOptions o = Options();
  o.user_cache_ttl = std::chrono::minutes(10);
  auto p = Make(o);
  http_.Then("GetUserId", json{{"IdentityStoreId", kStore}, {"UserId", kAlice}});
  http_.Then("GetUserId", json{{"IdentityStoreId", kStore}, {"UserId", kAlice}});
  auto id = p->UserId("alice");
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(*id, kAlice);
  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].target, "AWSIdentityStore.GetUserId");
  EXPECT_EQ(
      calls[0].body,
      (json{
          {"IdentityStoreId", kStore},
          {"AlternateIdentifier",
           {{"UniqueAttribute", {{"AttributePath", "userName"}, {"AttributeValue", "alice"}}}}}}));

  clock_.Advance(std::chrono::minutes(9));
  ASSERT_THAT(p->UserId("alice"), IsOk());
  EXPECT_EQ(http_.Count("GetUserId"), 1);
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_THAT(p->UserId("alice"), IsOk());
  EXPECT_EQ(http_.Count("GetUserId"), 2);
}

TEST_F(IdentityCenterTest, UnknownUserIsNotFoundAndNotCached) {
  auto p = Make();
  http_.Then("GetUserId",
             ScriptedTransport::Error(400, "ResourceNotFoundException", "USER not found"));
  EXPECT_THAT(p->UserId("mallory"), StatusIs(StatusCode::kNotFound, HasSubstr("mallory")));
  http_.Then("GetUserId", json{{"IdentityStoreId", kStore}, {"UserId", kBob}});
  EXPECT_THAT(p->UserId("mallory"), IsOk());
  EXPECT_THAT(p->UserId(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(IdentityCenterTest, ListPermissionSetsPagesAndDescribesEach) {
  auto p = Make();
  http_.Then("ListPermissionSets", json{{"PermissionSets", {kPs}}, {"NextToken", "t2"}});
  http_.Then("ListPermissionSets", json{{"PermissionSets", {kPs2}}});
  http_.Then("DescribePermissionSet", json{{"PermissionSet",
                                            {{"Name", "ReadOnly"},
                                             {"PermissionSetArn", kPs},
                                             {"SessionDuration", "PT8H"},
                                             {"CreatedDate", 1767225600}}}});
  http_.Then("DescribePermissionSet",
             json{{"PermissionSet", {{"Name", "Admin"}, {"PermissionSetArn", kPs2}}}});
  auto sets = p->ListPermissionSets();
  ASSERT_THAT(sets, IsOk());
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[0].name, "ReadOnly");
  EXPECT_EQ((*sets)[0].arn, kPs);
  EXPECT_EQ((*sets)[0].session_duration, std::chrono::hours(8));
  EXPECT_EQ((*sets)[1].name, "Admin");
  EXPECT_EQ((*sets)[1].session_duration, std::chrono::hours(1));  // AWS's default
  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance}, {"MaxResults", 100}}));
  EXPECT_EQ(calls[1].body["NextToken"], "t2");
  EXPECT_EQ(calls[2].target, "SWBExternalService.DescribePermissionSet");
  EXPECT_EQ(calls[2].body, (json{{"InstanceArn", kInstance}, {"PermissionSetArn", kPs}}));
  EXPECT_EQ(calls[3].body["PermissionSetArn"], kPs2);
}

json ProvisioningStatus(const std::string& status, const std::string& id,
                        const std::string& reason = "") {
  json st = {{"Status", status},
             {"RequestId", id},
             {"AccountId", "111111111111"},
             {"PermissionSetArn", kPs},
             {"CreatedDate", 1767225600.5}};
  if (!reason.empty()) st["FailureReason"] = reason;
  return {{"PermissionSetProvisioningStatus", st}};
}

constexpr char kPolicy[] =
    R"({"Version":"2012-10-17","Statement":[{"Sid":"JitCutoff","Effect":"Deny","Action":"*","Resource":"*"}]})";

TEST_F(IdentityCenterTest, InlinePolicyCallsSendTheDocumentedRequests) {
  auto p = Make();
  http_.Then("GetInlinePolicyForPermissionSet", json{{"InlinePolicy", kPolicy}});
  http_.Then("GetInlinePolicyForPermissionSet", json{{"InlinePolicy", ""}});
  http_.Then("GetInlinePolicyForPermissionSet", json::object());
  http_.Then("PutInlinePolicyToPermissionSet", json::object());
  http_.Then("DeleteInlinePolicyFromPermissionSet", json::object());

  auto got = p->GetInlinePolicy(kPs);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(*got, kPolicy);
  EXPECT_EQ(*p->GetInlinePolicy(kPs), "");  // none: AWS answers an empty string
  EXPECT_EQ(*p->GetInlinePolicy(kPs), "");  // or leaves the member out
  ASSERT_OK(p->PutInlinePolicy(kPs, kPolicy));
  ASSERT_OK(p->DeleteInlinePolicy(kPs));

  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0].target, "SWBExternalService.GetInlinePolicyForPermissionSet");
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance}, {"PermissionSetArn", kPs}}));
  EXPECT_EQ(calls[3].target, "SWBExternalService.PutInlinePolicyToPermissionSet");
  EXPECT_EQ(
      calls[3].body,
      (json{{"InstanceArn", kInstance}, {"PermissionSetArn", kPs}, {"InlinePolicy", kPolicy}}));
  EXPECT_EQ(calls[4].target, "SWBExternalService.DeleteInlinePolicyFromPermissionSet");
  EXPECT_EQ(calls[4].body, (json{{"InstanceArn", kInstance}, {"PermissionSetArn", kPs}}));
  // None of these takes a create slot.
  EXPECT_EQ(limiter_.acquired(), 0);
}

TEST_F(IdentityCenterTest, PutRefusesABadDocumentBeforeAnyCall) {
  auto p = Make();
  EXPECT_THAT(p->PutInlinePolicy(kPs, "not json"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(p->PutInlinePolicy(kPs, "[]"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(p->PutInlinePolicy(kPs, "{\"a\":\"" + std::string(40000, 'x') + "\"}"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("32768")));
  EXPECT_THAT(http_.received(), IsEmpty());
}

TEST_F(IdentityCenterTest, PolicyErrorsKeepTheirMeaning) {
  auto p = Make();
  http_.Then("GetInlinePolicyForPermissionSet",
             ScriptedTransport::Error(400, "ResourceNotFoundException", "no such permission set"));
  EXPECT_THAT(p->GetInlinePolicy(kPs2), StatusIs(StatusCode::kNotFound));
  http_.Then("PutInlinePolicyToPermissionSet",
             ScriptedTransport::Error(400, "ConflictException", "provisioning in progress"));
  EXPECT_THAT(p->PutInlinePolicy(kPs, kPolicy), StatusIs(StatusCode::kAborted));
  http_.Then("DeleteInlinePolicyFromPermissionSet",
             ScriptedTransport::Error(400, "AccessDeniedException", "not allowed"));
  EXPECT_THAT(p->DeleteInlinePolicy(kPs), StatusIs(StatusCode::kPermissionDenied));
  http_.Always("ProvisionPermissionSet",
               ScriptedTransport::Error(500, "InternalServerException", "oops"));
  EXPECT_THAT(p->ProvisionPermissionSet(kPs, "111111111111"), StatusIs(StatusCode::kUnavailable));
  http_.Then("DescribePermissionSetProvisioningStatus",
             ScriptedTransport::Error(400, "ResourceNotFoundException", "no such request"));
  EXPECT_THAT(p->ProvisionStatus("prov-9"), StatusIs(StatusCode::kNotFound));
  http_.Then("GetInlinePolicyForPermissionSet", json{{"InlinePolicy", 7}});
  EXPECT_THAT(p->GetInlinePolicy(kPs), StatusIs(StatusCode::kInternal));
  http_.Then("DescribePermissionSetProvisioningStatus", json{{"Something", "else"}});
  EXPECT_THAT(p->ProvisionStatus("prov-9"), StatusIs(StatusCode::kInternal));
}

TEST_F(IdentityCenterTest, ProvisionSendsProvisionPermissionSetAndPollsItsStatus) {
  auto p = Make();
  http_.Then("ProvisionPermissionSet", ProvisioningStatus("IN_PROGRESS", "prov-1"));
  http_.Then("DescribePermissionSetProvisioningStatus",
             ProvisioningStatus("IN_PROGRESS", "prov-1"));
  http_.Then("DescribePermissionSetProvisioningStatus", ProvisioningStatus("SUCCEEDED", "prov-1"));
  auto op = p->ProvisionPermissionSet(kPs, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->id, "prov-1");
  EXPECT_EQ(op->state, OperationState::kInProgress);
  auto st = p->ProvisionStatus("prov-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kInProgress);
  st = p->ProvisionStatus("prov-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kSucceeded);
  EXPECT_EQ(st->id, "prov-1");

  auto calls = http_.received();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].target, "SWBExternalService.ProvisionPermissionSet");
  EXPECT_EQ(calls[0].body, (json{{"InstanceArn", kInstance},
                                 {"PermissionSetArn", kPs},
                                 {"TargetType", "AWS_ACCOUNT"},
                                 {"TargetId", "111111111111"}}));
  EXPECT_EQ(calls[1].target, "SWBExternalService.DescribePermissionSetProvisioningStatus");
  EXPECT_EQ(calls[1].body,
            (json{{"InstanceArn", kInstance}, {"ProvisionPermissionSetRequestId", "prov-1"}}));
  EXPECT_EQ(limiter_.acquired(), 0);  // provisioning takes no create slot
}

TEST_F(IdentityCenterTest, FailedProvisioningReportsTheReason) {
  auto p = Make();
  http_.Then("ProvisionPermissionSet", ProvisioningStatus("IN_PROGRESS", "prov-1"));
  http_.Then("DescribePermissionSetProvisioningStatus",
             ProvisioningStatus("FAILED", "prov-1", "The policy quota of the account is full"));
  ASSERT_THAT(p->ProvisionPermissionSet(kPs, "111111111111"), IsOk());
  auto st = p->ProvisionStatus("prov-1");
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state, OperationState::kFailed);
  EXPECT_EQ(st->failure_reason, "The policy quota of the account is full");

  // An answer that settled at once is passed on as it is.
  http_.Then("ProvisionPermissionSet", ProvisioningStatus("SUCCEEDED", "prov-2"));
  auto op = p->ProvisionPermissionSet(kPs, "111111111111");
  ASSERT_THAT(op, IsOk());
  EXPECT_EQ(op->state, OperationState::kSucceeded);
}

TEST_F(IdentityCenterTest, MalformedAnswersAreInternalErrors) {
  auto p = Make();
  http_.Then("CreateAccountAssignment", json{{"Something", "else"}});
  EXPECT_THAT(p->Grant(kAliceAssignment), StatusIs(StatusCode::kInternal));
  http_.Then("DescribeAccountAssignmentCreationStatus",
             json{{"AccountAssignmentCreationStatus", {{"Status", "WEIRD"}, {"RequestId", "r"}}}});
  EXPECT_THAT(p->GrantStatus("r"), StatusIs(StatusCode::kInternal));
  http_.Then("GetUserId", json{{"IdentityStoreId", kStore}});
  EXPECT_THAT(p->UserId("alice"), StatusIs(StatusCode::kInternal));
  http_.Then("ListPermissionSets", json{{"PermissionSets", {kPs}}});
  http_.Then("DescribePermissionSet",
             json{{"PermissionSet", {{"Name", "X"}, {"SessionDuration", "8 hours"}}}});
  EXPECT_THAT(p->ListPermissionSets(), StatusIs(StatusCode::kInternal));
  EXPECT_EQ(limiter_.in_flight(), 0);
}

}  // namespace
}  // namespace jit::provider::identity_center_test
