#pragma once
// The emulator's state and operations, without HTTP or signatures: one call in (the
// X-Amz-Target and the parsed JSON body), one answer out. Internal to jit_emulator; the
// wire contract is in emulator.h.

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "emulator/emulator.h"
#include "emulator/history.h"

namespace jit::emulator {

// An answer: the HTTP status and the JSON body (an error body has "__type").
struct ServiceResponse {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  Duration delay{0};  // real time to wait before answering (Faults::latency)
};

// An error answer: {"__type": type, "message": message}.
ServiceResponse ErrorResponse(int status, std::string_view type, std::string_view message);

// A random lowercase UUID (version 4 shape), for request ids.
std::string NewUuid();

// Which signing name a target belongs to: "sso" (SWBExternalService.*), "identitystore"
// (AWSIdentityStore.*), "events" (AWSEvents.*, handled by NotifyServices), "organizations"
// (AWSOrganizationsV20161128.*, handled by OrganizationsService), "cloudtrail"
// (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.* or CloudTrail_20131101.*, handled by
// CloudTrailService), or "" for none.
std::string_view ServiceForTarget(std::string_view target);

// Thread-safe (one mutex around everything).
class Service {
 public:
  // REQUIRES: seed.Validate() and faults.Validate() are ok. `clock` must outlive this.
  // `region` is the region a session call is made in when it names none.
  Service(Seed seed, Faults faults, Duration completion_delay, Clock& clock,
          std::string region = "us-east-1");

  // Handles one call whose signature has been checked: counts it, applies the faults, then
  // runs the operation. `target` is the whole X-Amz-Target value.
  ServiceResponse Handle(std::string_view target, const nlohmann::json& input);

  void SetFaults(const Faults& faults);
  Faults faults() const;
  // Back to the seed and the start faults.
  void Reset();
  // See Emulator::State.
  nlohmann::json State();
  // GET /_emulator/history (AssignmentHistory::ToJson); due operations are settled first.
  nlohmann::json History(std::int64_t after_seq);

  // The session test endpoints (emulator.h): the answer's status (201, 200, 400, 403, 404)
  // and JSON body ({"error": "..."} for an error). Due operations are settled first.
  // POST /_emulator/sessions
  ServiceResponse OpenSession(const nlohmann::json& body);
  // A call a session made and how it was decided, for its CloudTrail event.
  struct SessionCallRecord {
    std::string user_name;
    std::string account_id;
    std::string permission_set;  // its name
    std::string action;          // "s3:ListBuckets"
    std::string region;
    Time at;
    bool allowed = false;
  };
  // POST /_emulator/sessions/{id}/calls. `record` (may be null) receives the call when it was
  // decided (not for a bad body, an unknown or expired session).
  ServiceResponse SessionCall(std::string_view session_id, const nlohmann::json& body,
                              SessionCallRecord* record = nullptr);
  // GET /_emulator/sessions: {"sessions": [...]}, oldest first.
  nlohmann::json Sessions() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // account, ps,
                                                                               // type, principal
  struct Operation {
    bool create = true;
    Key key;
    Time created;
    Time due;
    std::uint64_t seq = 0;
    std::string status = "IN_PROGRESS";  // IN_PROGRESS | SUCCEEDED | FAILED
    bool will_fail = false;
  };

  // A ProvisionPermissionSet request: it copies the inline policy as it was at the call to
  // its accounts when it succeeds.
  struct Provisioning {
    std::string permission_set_arn;
    std::string account_id;             // "" for ALL_PROVISIONED_ACCOUNTS
    std::vector<std::string> accounts;  // the accounts it provisions to
    std::string policy;                 // the inline policy it copies ("" none)
    std::uint64_t version = 0;          // the permission set's version it copies
    Time created;
    Time due;
    std::string status = "IN_PROGRESS";  // IN_PROGRESS | SUCCEEDED | FAILED
    bool will_fail = false;
  };

  // A permission set as the emulator holds it: one of the seed's or one CreatePermissionSet
  // made.
  struct PermissionSetState {
    SeedPermissionSet info;
    double created_date = 1704067200.0;  // epoch seconds (seed sets: 2024-01-01)
    std::map<std::string, std::string> tags;
    std::vector<std::string> managed_policies;  // AWS managed policy ARNs, in attach order
    std::vector<std::pair<std::string, std::string>> customer_managed;  // (Name, Path)
    nlohmann::json boundary;  // PermissionsBoundary as put; null for none
    // Bumped by every change that needs a ProvisionPermissionSet to reach the accounts.
    std::uint64_t version = 0;
  };

  // A session opened through POST /_emulator/sessions: what AWS's sign-in would have issued.
  struct Session {
    std::string user_id;
    std::string account_id;
    std::string permission_set_arn;
    Time issued;
    Time expires;
  };

  // Everything below runs with mu_ held.
  double NextUniform() REQUIRES(mu_);
  void Settle(Time now) REQUIRES(mu_);
  void ForgetOldOperations() REQUIRES(mu_);
  std::string NewRequestId() REQUIRES(mu_);
  nlohmann::json OperationStatus(const std::string& id, const Operation& op) const REQUIRES(mu_);
  nlohmann::json ProvisioningStatus(const std::string& id, const Provisioning& p) const
      REQUIRES(mu_);
  // The permission set's inline policy and what each account has of it, for State().
  nlohmann::json PermissionSetsJson() const REQUIRES(mu_);

  void ResetLocked() REQUIRES(mu_);
  std::optional<ServiceResponse> CheckInstance(const std::string& arn) const REQUIRES(mu_);
  std::optional<ServiceResponse> CheckPermissionSet(const std::string& arn) const REQUIRES(mu_);
  std::optional<ServiceResponse> CheckAccount(const std::string& id) const REQUIRES(mu_);
  std::optional<ServiceResponse> CheckIdentityStore(const std::string& id) const REQUIRES(mu_);
  const SeedUser* FindUser(std::string_view user_id) const REQUIRES(mu_);
  bool GroupExists(std::string_view group_id) const REQUIRES(mu_);
  const PermissionSetState* FindPermissionSet(std::string_view arn) const REQUIRES(mu_);
  PermissionSetState* FindPermissionSet(std::string_view arn) REQUIRES(mu_);
  // The accounts a permission set was provisioned to or is assigned in, sorted.
  std::vector<std::string> ProvisionedAccounts(const std::string& ps) const REQUIRES(mu_);
  // The user's groups now, in the order the memberships were made (the seed's first).
  std::vector<std::string> UserGroups(const std::string& user_id) const REQUIRES(mu_);
  // The id of the user's membership in the group now; nullptr when it is not a member.
  const std::string* FindMembership(const std::string& group_id, const std::string& user_id) const
      REQUIRES(mu_);
  // Adds a membership under `id` (not yet used) and records it at `at` (seed ones: no record).
  void AddMembership(const std::string& id, const std::string& group_id, const std::string& user_id,
                     std::optional<Time> at) REQUIRES(mu_);
  // Removes the membership `id` (which exists) and records that at `at`.
  void RemoveMembership(const std::string& id, Time at) REQUIRES(mu_);
  // Whether the user was a member of the group at `t`: the membership now, with the additions
  // and removals recorded after `t` undone (as far back as the kept records reach).
  bool MemberAt(const std::string& group_id, const std::string& user_id, Time t) const
      REQUIRES(mu_);
  // Whether the user held an assignment of the permission set in the account at `at`, directly
  // or through a group it was a member of then (AssignmentHistory::HeldAt, MemberAt).
  bool HoldsAssignment(const std::string& user_id, const std::string& account,
                       const std::string& ps, Time at) const REQUIRES(mu_);
  nlohmann::json SessionsJson() const REQUIRES(mu_);

  ServiceResponse Dispatch(std::string_view op, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListInstances(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListPermissionSets(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribePermissionSet(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse StartAssignmentOperation(bool create, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeOperation(bool create, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListAccountAssignments(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListAccountAssignmentsForPrincipal(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse GetUserId(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse GetGroupId(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeUser(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeGroup(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListGroupMembershipsForMember(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse IsMemberInGroups(const nlohmann::json& in) REQUIRES(mu_);
  // Group memberships (issue 16, group elevation).
  ServiceResponse CreateGroupMembership(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DeleteGroupMembership(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse GetGroupMembershipId(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeGroupMembership(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListGroupMemberships(const nlohmann::json& in) REQUIRES(mu_);
  // The membership ids `index` (user_memberships_ or group_memberships_) holds for `key`
  // (empty when none), and the GroupMemberships list of ids[begin, end) for a list answer.
  static const std::vector<std::string>& MembershipIds(
      const std::map<std::string, std::vector<std::string>>& index, const std::string& key);
  nlohmann::json MembershipList(const std::string& store, const std::vector<std::string>& ids,
                                std::size_t begin, std::size_t end) const REQUIRES(mu_);
  ServiceResponse GetInlinePolicy(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse PutInlinePolicy(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DeleteInlinePolicy(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ProvisionPermissionSet(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DescribeProvisioning(const nlohmann::json& in) REQUIRES(mu_);
  // Permission sets as code (issue 14), in service_permission_sets.cc.
  ServiceResponse CreatePermissionSet(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse UpdatePermissionSet(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ManagedPolicy(bool attach, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListManagedPolicies(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse CustomerManagedPolicy(bool attach, const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListCustomerManagedPolicies(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse PutPermissionsBoundary(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse GetPermissionsBoundary(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse DeletePermissionsBoundary(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse TagResource(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse UntagResource(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListTagsForResource(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListAccountsForProvisionedPermissionSet(const nlohmann::json& in) REQUIRES(mu_);
  ServiceResponse ListPermissionSetsProvisionedToAccount(const nlohmann::json& in) REQUIRES(mu_);
  // {"Name", "PermissionSetArn", "Description", "CreatedDate", "SessionDuration",
  // "RelayState"} as AWS answers it (empty members left out).
  static nlohmann::json PermissionSetJson(const PermissionSetState& ps);

  const Seed seed_;
  const Faults start_faults_;
  const Duration completion_delay_;
  Clock& clock_;
  const std::string region_;
  // A user's membership in a group: the seed's (ids derived from the pair) or one
  // CreateGroupMembership made (a new random id).
  struct Membership {
    std::string group_id;
    std::string user_id;
  };
  // A membership added or removed by a call, at `at`.
  struct MembershipEvent {
    Time at;
    std::string group_id;
    std::string user_id;
    bool added = true;
  };

  mutable Mutex mu_;
  Faults faults_ GUARDED_BY(mu_);
  std::uint64_t rng_state_ GUARDED_BY(mu_) = 0;  // the fault RNG
  std::uint64_t id_state_ GUARDED_BY(mu_) = 0;   // request ids
  std::set<Key> assignments_ GUARDED_BY(mu_);
  std::map<std::string, Operation> operations_ GUARDED_BY(mu_);  // by request id
  std::deque<std::string> operation_order_ GUARDED_BY(mu_);      // oldest first
  std::uint64_t next_seq_ GUARDED_BY(mu_) = 0;
  std::map<std::string, std::int64_t> calls_ GUARDED_BY(mu_);
  std::vector<PermissionSetState> permission_sets_ GUARDED_BY(mu_);  // seed's first, then created
  // Permission set ARN -> its inline policy (none: absent).
  std::map<std::string, std::string> inline_policies_ GUARDED_BY(mu_);
  // (permission set ARN, account id) -> the inline policy provisioned there ("" none).
  std::map<std::pair<std::string, std::string>, std::string> provisioned_ GUARDED_BY(mu_);
  // (permission set ARN, account id) -> the permission set's version provisioned there.
  std::map<std::pair<std::string, std::string>, std::uint64_t> provisioned_version_ GUARDED_BY(mu_);
  std::map<std::string, Provisioning> provisionings_ GUARDED_BY(mu_);  // by request id
  std::deque<std::string> provisioning_order_ GUARDED_BY(mu_);         // oldest first
  AssignmentHistory history_ GUARDED_BY(mu_);
  std::map<std::string, Session> sessions_ GUARDED_BY(mu_);        // by session id
  std::deque<std::string> session_order_ GUARDED_BY(mu_);          // oldest first
  std::map<std::string, Membership> memberships_ GUARDED_BY(mu_);  // by membership id
  // User id (group id) -> its membership ids, oldest first.
  std::map<std::string, std::vector<std::string>> user_memberships_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> group_memberships_ GUARDED_BY(mu_);
  // Additions and removals by calls, oldest first (the last kMaxHistoryEvents).
  std::deque<MembershipEvent> membership_events_ GUARDED_BY(mu_);
};

}  // namespace jit::emulator
