#pragma once
// A local IAM Identity Center (docs/ARCHITECTURE.md "Command line"): the sso-admin and
// identitystore subsets jit uses (and the AWS Organizations read calls), spoken over the AWS JSON
// 1.1 protocol on a loopback port and accepting only requests signed (SigV4) with one key pair.
// Used by tests, `jit emulator` and `jit serve --dev`.
//
// Wire contract (see docs/AWS.md "What jit does on the wire"):
// - Every call is `POST /` with `X-Amz-Target: SWBExternalService.<Op>` (signing name `sso`) or
//   `AWSIdentityStore.<Op>` (signing name `identitystore`) and a JSON object body. Answers are
//   `application/x-amz-json-1.1` with an `x-amzn-RequestId` header (a lowercase UUID).
// - Errors are `{"__type": "<Type>", "message": "..."}` with HTTP status:
//     403  MissingAuthenticationTokenException (no Authorization header),
//          IncompleteSignatureException, InvalidSignatureException (bad signature, clock skew,
//          wrong region or service, x-amz-content-sha256 not the body's hash),
//          UnrecognizedClientException (unknown access key id);
//     400  ValidationException (the message names the field), ResourceNotFoundException,
//          ConflictException, ThrottlingException, UnknownOperationException,
//          SerializationException (body not a JSON object);
//     500  InternalServerException.
//   identitystore's ThrottlingException and InternalServerException carry RetryAfterSeconds.
// - Lists page with MaxResults (1-100, default kDefaultPageSize) and an opaque NextToken that is
//   bound to the list's inputs; a token from another list or a tampered one is a
//   ValidationException.
// - Unknown accounts, permission sets (of the instance), principals, identity stores and
//   request ids are ResourceNotFoundException.
// - CreateAccountAssignment / DeleteAccountAssignment answer IN_PROGRESS; the operation ends
//   `completion_delay` later by the Clock (checked whenever a call arrives, no timer): SUCCEEDED
//   (the assignment is added or removed at that moment) or FAILED with a FailureReason, with
//   probability Faults::failed_rate. Creating an existing assignment and deleting a missing one
//   succeed.
// - Inline policies (what session cut-off, issue 14, will need): GetInlinePolicyForPermissionSet
//   answers "" for a permission set without one; PutInlinePolicyToPermissionSet refuses (400
//   ValidationException) a policy longer than 32,768 characters, with a character outside tab,
//   LF, CR and U+0020..U+00FF, or that is not a JSON object; DeleteInlinePolicyFromPermissionSet
//   of none succeeds. ProvisionPermissionSet (TargetType AWS_ACCOUNT with a TargetId, or
//   ALL_PROVISIONED_ACCOUNTS: the accounts the set is assigned in or was provisioned to) answers
//   IN_PROGRESS and ends like an assignment operation, `completion_delay` later, SUCCEEDED or
//   FAILED (Faults::failed_rate); on success each account has the inline policy as it was at
//   the call (DescribePermissionSetProvisioningStatus polls it). While a provisioning of a
//   permission set is IN_PROGRESS, another ProvisionPermissionSet of it is a ConflictException
//   (with Faults::conflicts, the default).
// - Permission sets as code (`jit permission-sets`, issue 14), AWS's members and error types:
//   CreatePermissionSet (Name [\w+=,.@-]{1,32} unique in the instance, else ConflictException;
//   SessionDuration PT1H..PT12H, default PT1H; Description, RelayState, Tags; a new ARN
//   arn:aws:sso:::permissionSet/<ins-id>/ps-<16 hex>; at most 2,000 sets) and
//   UpdatePermissionSet (members left out keep their values); DescribePermissionSet and
//   ListPermissionSets see created sets after the seed's. Attach/Detach/ListManagedPolicies...
//   (AWS managed policy ARNs, {Arn, Name}) and Attach/Detach/ListCustomerManagedPolicy
//   References... ({Name, Path}, Path "/" by default): attaching one attached is a
//   ConflictException, detaching one not attached a ResourceNotFoundException, at most 20 of
//   each (ServiceQuotaExceededException, 402). Put/Get/DeletePermissionsBoundary...: exactly one
//   of ManagedPolicyArn and CustomerManagedPolicyReference; Get and Delete of none are
//   ResourceNotFoundException. TagResource/UntagResource/ListTagsForResource on permission set
//   ARNs (InstanceArn optional; at most 50 tags; aws: keys refused; untagging a missing key
//   succeeds). ListAccountsForProvisionedPermissionSet (the accounts the set is assigned in or
//   was provisioned to) and ListPermissionSetsProvisionedToAccount, with ProvisioningStatus
//   LATEST_PERMISSION_SET_PROVISIONED when the account's last successful provisioning came after
//   the set's last change (inline policy, policies, boundary, UpdatePermissionSet), else
//   LATEST_PERMISSION_SET_NOT_PROVISIONED. Creating an assignment does not provision.
// - Group memberships (issue 16, group elevation), identitystore's members and error types:
//   CreateGroupMembership {IdentityStoreId, GroupId, MemberId: {UserId}} -> {IdentityStoreId,
//   MembershipId} (a new random id; ConflictException with Reason UNIQUENESS_CONSTRAINT_VIOLATION
//   when the user is a member already); DeleteGroupMembership {IdentityStoreId, MembershipId} ->
//   {}; GetGroupMembershipId {IdentityStoreId, GroupId, MemberId} -> {IdentityStoreId,
//   MembershipId}; DescribeGroupMembership {IdentityStoreId, MembershipId} and
//   ListGroupMemberships {IdentityStoreId, GroupId, MaxResults, NextToken} answer
//   GroupMembership objects {IdentityStoreId, MembershipId, GroupId, MemberId: {UserId}} (a
//   group's in the order they were made, the seed's first). ResourceNotFoundException carries
//   ResourceType GROUP, USER, GROUP_MEMBERSHIP or IDENTITY_STORE and the ResourceId. The seed's
//   memberships have ids derived from the (group, user) pair, and can be deleted. A membership
//   counts from the moment of the call: ListGroupMembershipsForMember, IsMemberInGroups and the
//   session checks below see it at once, and a session opened `at` an earlier time sees the
//   memberships as they were then. Reset brings back the seed's memberships.
// - Organizations (issue 16; emulator/organizations.h): `X-Amz-Target:
//   AWSOrganizationsV20161128.<Op>`, signing name `organizations`, the emulator's region (AWS
//   signs it for us-east-1). ListRoots, ListChildren (ChildType ACCOUNT | ORGANIZATIONAL_UNIT,
//   answering {Id, Type}), ListAccountsForParent, ListOrganizationalUnitsForParent, ListAccounts
//   (seed order), DescribeOrganization, DescribeAccount, ListTagsForResource (accounts, OUs and
//   roots; one page) and MoveAccount, from the seed's "organization" (accounts without a
//   parent_id sit in the first root). Accounts are {Id, Arn, Email, Name, Status, State,
//   JoinedMethod, JoinedTimestamp}; OUs {Id, Arn, Name}; roots {Id, Arn, Name, PolicyTypes: []};
//   ARNs arn:aws:organizations::<management account>:<kind>/<o-id>/<id>. Lists page with
//   MaxResults 1..20 (default 20) and a NextToken bound to the list's inputs. Errors are HTTP
//   400 except ServiceException (500), AWS's types: AWSOrganizationsNotInUseException (every
//   call, when the seed has no organization), InvalidInputException with a Reason
//   (INPUT_REQUIRED, INVALID_PATTERN, INVALID_ENUM, MAX_LENGTH_EXCEEDED, MIN_VALUE_EXCEEDED,
//   MAX_VALUE_EXCEEDED, INVALID_PAGINATION_TOKEN), ParentNotFoundException,
//   AccountNotFoundException, TargetNotFoundException (ListTagsForResource),
//   SourceParentNotFoundException (no such parent, or the account is not in it),
//   DestinationParentNotFoundException, DuplicateAccountException (already in the
//   destination); faults answer TooManyRequestsException (400) and ServiceException (500).
//   MoveAccount's moves last until reset. Paths, policies and the write calls are not emulated.
// - STS AssumeRole and CloudTrail LookupEvents (issue 17, session activity;
//   emulator/cloudtrail.h): a role in any seed account can be assumed with the emulator's key;
//   the temporary key it answers is good for CloudTrail in that account only. LookupEvents
//   answers the seed's "cloudtrail_events" and those test-added, of the caller's account.
//
// Unsigned test endpoints (never faulted):
//   GET  /_emulator/state   -> State()
//   GET  /_emulator/history[?after=SEQ] -> every create/delete accepted and how it ended, with
//        counts per assignment (emulator/history.h AssignmentHistory::ToJson); 400 for a bad SEQ
//   POST /_emulator/faults  -> sets the Faults fields present in the JSON body (see FaultsFromJson)
//   POST /_emulator/reset   -> assignments, operations, inline policies, sessions, group
//                              memberships, call counts and faults back to the start
//   POST /_emulator/sessions -> opens a session as AWS's sign-in would issue one:
//        body {"user_name" | "user_id", "account_id", "permission_set_arn", "at" (RFC 3339,
//        optional, default the Clock's now)} -> 201 {"session_id": "sess-<16 hex>", "user_id",
//        "account_id", "permission_set_arn", "issued_at" (= at), "expires_at" (issued_at + the
//        permission set's SessionDuration)}; 403 when the user held no assignment of the set in
//        the account at `at`, directly or through a group it was a member of then
//        (AssignmentHistory::HeldAt); 404
//        unknown user, account or permission set; 400 a bad body (unknown members included).
//   POST /_emulator/sessions/{id}/calls -> one call made with the session: body {"action":
//        "s3:ListBuckets", "region" (optional, default the emulator's region), "at" (optional,
//        now)} -> 200 {"allowed", "reason": "allowed" | "session expired" | "explicit deny by
//        statement <Sid>" ("#N" for a statement without a Sid), "policy_problem" (only when part
//        of the policy could not be read; such a part denies nothing)}; 404 unknown session; 400
//        a bad body or an `at` before issued_at. Expired when at >= expires_at; otherwise denied
//        when a Deny statement of the inline policy as last provisioned to the session's account
//        matches (emulator/policy_eval.h; keys identitystore:userId, aws:TokenIssueTime =
//        issued_at, aws:RequestedRegion, aws:PrincipalAccount, aws:CurrentTime = at). Deleting
//        the assignment does not end an open session. A decided call is also recorded as a
//        CloudTrail event of that account (emulator/cloudtrail.h RecordSessionCall), so that
//        session activity sees it.
//   POST /_emulator/cloudtrail/events -> adds CloudTrail events: body {"events": [...]} in the
//        seed's "cloudtrail_events" shape -> 200 {"event_ids": [...]}; 400 a bad body (nothing
//        added). DELETE /_emulator/cloudtrail/events forgets every event (until reset).
//   GET  /_emulator/sessions -> {"sessions": [{session_id, user_id, account_id,
//        permission_set_arn, issued_at, expires_at}]}, oldest first (the last 10,000)
// Errors of the session endpoints are {"error": "..."}; those of the others {"message": "..."}.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"

namespace jit::emulator {

// Default page size of the list operations when MaxResults is not given.
inline constexpr int kDefaultPageSize = 100;

struct SeedInstance {
  std::string arn = "arn:aws:sso:::instance/ssoins-1111111111111111";
  std::string identity_store_id = "d-1111111111";
  std::string owner_account_id = "111111111111";
  std::string name = "jit-emulator";
};

struct SeedAccount {
  std::string id;    // 12 digits
  std::string name;  // informational only (Organizations: 1-50 characters, the id when empty)
  // AWS Organizations (issue 16), used only when the seed has an organization:
  std::string parent_id;          // the root or OU it is in; "" = the organization's first root
  std::string status = "ACTIVE";  // ACTIVE | SUSPENDED
  std::map<std::string, std::string> tags;  // at most 50; keys 1-128, values 0-256 characters
  std::string email;                        // "" = "aws+<id>@example.com"
};

struct SeedRoot {
  std::string id;  // r-[0-9a-z]{4,32}
  std::string name = "Root";
};

struct SeedOrganizationalUnit {
  std::string id;         // ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}
  std::string name;       // 1-128 characters
  std::string parent_id;  // a root or another OU (at most 5 OUs deep, as AWS allows)
  std::map<std::string, std::string> tags;
};

// AWS Organizations as the emulator serves it (emulator.h "Organizations"). Every seed account
// is a member; the management account is one of them.
struct SeedOrganization {
  std::string id;                 // o-[a-z0-9]{10,32}
  std::string master_account_id;  // "" = the instance's owner_account_id
  std::vector<SeedRoot> roots;    // at least one
  std::vector<SeedOrganizationalUnit> organizational_units;
};

struct SeedPermissionSet {
  std::string name;
  std::string arn;  // must belong to the instance (same ins- id)
  std::string description;
  // ISO-8601 (PT20S, PT1H30M); may be shorter than the PT1H AWS allows on the wire, for tests.
  std::string session_duration = "PT1H";
  std::string relay_state;  // empty: not returned
};

struct SeedUser {
  std::string user_name;
  std::string user_id;  // identitystore id pattern, e.g. a UUID
  std::string display_name;
  std::vector<std::string> emails;  // the first one is primary
};

struct SeedGroup {
  std::string display_name;
  std::string group_id;
  std::vector<std::string> members;  // user names (or user ids) of seed users
};

struct SeedAssignment {
  std::string account_id;
  std::string permission_set_arn;
  std::string principal_type;  // USER | GROUP
  std::string principal_id;
};

// What the emulator starts with (and returns to on reset).
struct Seed {
  SeedInstance instance;
  std::vector<SeedAccount> accounts;
  std::vector<SeedPermissionSet> permission_sets;
  std::vector<SeedUser> users;
  std::vector<SeedGroup> groups;
  std::vector<SeedAssignment> assignments;
  // None: the Organizations calls answer AWSOrganizationsNotInUseException.
  std::optional<SeedOrganization> organization;
  // CloudTrail events LookupEvents answers (emulator/cloudtrail.h ParseCloudTrailEvents gives
  // the shape of one); null or an array.
  nlohmann::json cloudtrail_events;

  // InvalidArgument naming the first bad entry: id patterns, duplicates, permission sets of
  // another instance, group members and assignment parts that name nothing in the seed; for the
  // organization, parents that name no root or OU, OU cycles or nesting deeper than 5, a
  // management account that is not a seed account, an account status other than ACTIVE or
  // SUSPENDED, tags beyond AWS's limits, and an account parent_id without an organization.
  Status Validate() const;
};

// The dev catalog (docs/ARCHITECTURE.md "Dev mode"): accounts 111111111111 (sandbox) and
// 222222222222 (prod); permission sets ReadOnly, Admin, BreakGlass (ps-1111.., ps-2222..,
// ps-3333..); users alice, bob, carol with the principal ids of auth::DevUsers(); groups
// engineers{alice}, approvers{bob, carol}, sre{carol}, admins{carol}; no assignments; an
// organization o-jitdev0000 with root r-jit0, OUs ou-jit0-sandbox0 (holding sandbox, tagged
// env=dev) and ou-jit0-prod0000 (holding prod, tagged env=prod).
Seed DefaultSeed();

// Reads a seed from a JSON file of this shape (every member optional; a missing one keeps
// DefaultSeed()'s value for "instance", and is empty for the lists):
//   {"instance": {"arn": "...", "identity_store_id": "d-...", "owner_account_id": "...",
//                 "name": "..."},
//    "accounts": [{"id": "111111111111", "name": "sandbox"}],
//    "permission_sets": [{"name": "ReadOnly", "arn": "...", "description": "...",
//                         "session_duration": "PT1H", "relay_state": ""}],
//    "users": [{"user_name": "alice", "user_id": "...", "display_name": "Alice",
//               "emails": ["alice@example.com"]}],
//    "groups": [{"display_name": "engineers", "group_id": "...", "members": ["alice"]}],
//    "assignments": [{"account_id": "...", "permission_set_arn": "...",
//                     "principal_type": "USER", "principal_id": "..."}],
//    "organization": {"id": "o-...", "master_account_id": "111111111111",
//                     "roots": [{"id": "r-...", "name": "Root"}],
//                     "organizational_units": [{"id": "ou-...", "name": "...",
//                                               "parent_id": "r-... or ou-...",
//                                               "tags": {"k": "v"}}]}}
// and each account may add "parent_id", "status" (ACTIVE | SUSPENDED), "tags" {k: v}, "email".
// Errors: NotFound (no such file), InvalidArgument (not JSON, wrong types, Validate fails).
Result<Seed> LoadSeed(const std::string& path);
Result<Seed> ParseSeed(const std::string& json_text);

// Fault injection. Applies to signed, well-formed calls only.
struct Faults {
  double throttle_rate = 0;      // share of calls answered ThrottlingException (400)
  double server_error_rate = 0;  // share of calls answered InternalServerException (500)
  Duration latency{0};           // real time added before each answer
  double failed_rate = 0;        // share of creates/deletes/provisionings that end FAILED
  // ConflictException when a create and a delete on one assignment overlap, and when a
  // permission set is provisioned while a provisioning of it is still IN_PROGRESS.
  bool conflicts = true;
  std::uint64_t seed = 1;  // the fault RNG's seed (the same calls give the same faults)

  // InvalidArgument when a rate is outside [0, 1] or the latency is negative or above 60 s.
  Status Validate() const;
};

// Faults as JSON: {"throttle_rate", "server_error_rate", "latency_ms", "failed_rate",
// "conflicts", "seed"}. FaultsFromJson starts from `base` and sets the members present;
// InvalidArgument for unknown members, wrong types or values Validate refuses.
nlohmann::json FaultsToJson(const Faults& faults);
Result<Faults> FaultsFromJson(const nlohmann::json& j, const Faults& base);

struct EmulatorOptions {
  // "HOST:PORT" (IPv4, "[IPv6]" or localhost); port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // The one key pair accepted.
  std::string access_key_id = "AKIDJITEMULATOR";
  std::string secret_access_key = "jit-emulator-secret";
  // The control endpoints (/_emulator/...) need "Authorization: Bearer <secret_access_key>" when
  // the emulator listens beyond loopback, and also on loopback when this is set.
  bool control_needs_key = false;
  // The region requests must be signed for.
  std::string region = "us-east-1";
  // Create/delete operations end this long (by the Clock) after they were accepted.
  Duration completion_delay = Duration(200);
  // Largest difference between a request's X-Amz-Date and the Clock.
  Duration max_skew = std::chrono::minutes(15);
  Seed seed = DefaultSeed();
  Faults faults;
  // Refuse any address that is not loopback.
  bool loopback_only = true;

  // InvalidArgument naming the first bad field (the seed and faults included).
  Status Validate() const;
};

// One HTTP request and its answer without a socket (Emulator::HandleRaw).
struct RawRequest {
  std::string method;  // "POST"
  std::string target;  // path and query, "/" for AWS calls
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
struct RawResponse {
  int status = 0;
  std::string content_type;
  std::string error_type;  // x-amzn-ErrorType; empty for success and test endpoints
  std::string body;
};

// The emulator. Thread-safe; the Clock must outlive it.
class Emulator {
 public:
  Emulator(EmulatorOptions options, Clock& clock);
  // Stops the server if it runs.
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Validates the options, binds and serves on one background thread. Errors: InvalidArgument
  // (bad options; "loopback only" for another address with loopback_only), Unavailable (cannot
  // bind), FailedPrecondition (started before).
  Status Start();
  // The bound port; 0 before Start.
  std::uint16_t port() const;
  // The address it listens on as bound, "HOST:PORT" ("0.0.0.0:9090" for every address); "" before
  // Start.
  std::string listen_address() const;
  // Whether the control endpoints (/_emulator/...) need "Authorization: Bearer
  // <secret_access_key>": when it listens beyond loopback, or control_needs_key is set.
  bool control_needs_key() const;
  // "http://HOST:PORT" for clients (a wildcard host becomes 127.0.0.1); "" before Start.
  std::string url() const;
  // Stops serving and closes every connection. Idempotent.
  void Stop();

  // Replaces the faults and reseeds the fault RNG with faults.seed. REQUIRES: a valid Faults
  // (an invalid one is ignored).
  void SetFaults(const Faults& faults);
  // Assignments back to the seed, operations, inline policies, provisionings, sessions and call
  // counts cleared, accounts MoveAccount moved back in their seed parents, the start faults back.
  void Reset();
  // What GET /_emulator/state returns (operations that are due are settled first):
  //   {"assignments": [{AccountId, PermissionSetArn, PrincipalType, PrincipalId}],
  //    "group_memberships": [{MembershipId, GroupId, UserId}] (by group id, then as made),
  //    "operations": {"create": {"in_progress", "succeeded", "failed"}, "delete": {...}},
  //    "calls": {"<Operation>": n}, "assignment_calls": [...], "faults": {...},
  //    "permission_sets": [{"Name", "PermissionSetArn", "Description", "SessionDuration",
  //                         "RelayState", "InlinePolicy" ("" none), "ManagedPolicies": [ARN],
  //                         "CustomerManagedPolicyReferences": [{Name, Path}],
  //                         "PermissionsBoundary" (null none), "Tags": {key: value},
  //                         "version" (bumped by each change),
  //                         "provisioned": {"<account id>": "<inline policy it has>"},
  //                         "provisioned_version": {"<account id>": version}}],
  //    "provisioning": [{RequestId, Status, PermissionSetArn, AccountId (one account only),
  //                      CreatedDate, FailureReason, "Accounts": [...], "InlinePolicy"}],
  //    "sessions": [as GET /_emulator/sessions lists them],
  //    "organization": null (none in the seed) | {"Id", "MasterAccountId",
  //                    "accounts": {"<account id>": "<the root or OU it is in now>"}},
  //    "sns": [], "eventbridge": [], "securityhub": [],
  //    "cloudtrail_events": n, "assumed_roles": [{access_key_id, account_id, assumed_role_arn,
  //                                               expiration}]}
  // "calls" counts every call whose signature checked out, faulted ones included (the
  // Organizations calls too).
  // "assignment_calls" has one entry per assignment ever named by a create or delete: its ids
  // and how many creates and deletes were accepted, succeeded, failed, and actually added or
  // removed it (AssignmentHistory::Counts).
  nlohmann::json State() const;
  // What GET /_emulator/history?after=after_seq returns (see the test endpoints above).
  nlohmann::json History(std::int64_t after_seq = 0) const;

  // Answers one request exactly as the server would (signature check, JSON parsing, faults,
  // test endpoints), without waiting out the faults' latency. Works before Start (nothing is
  // bound). Never throws: a request that cannot even be represented is a 400. For the fuzzer
  // (fuzz/emulator_request_fuzzer.cc) and tests.
  RawResponse HandleRaw(const RawRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jit::emulator
