#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/status.h"

namespace jit::provider {

// One Identity Center account assignment for a user.
struct Assignment {
  std::string principal_id;  // Identity Center user id
  std::string account_id;    // 12 digits
  std::string permission_set_arn;

  friend bool operator==(const Assignment&, const Assignment&) = default;
};

enum class OperationState { kInProgress, kSucceeded, kFailed };

// An asynchronous create, delete or provisioning, as Identity Center reports it.
struct Operation {
  std::string id;  // the provider's request id, for GrantStatus/RevokeStatus/ProvisionStatus
  OperationState state = OperationState::kInProgress;
  std::string failure_reason;  // set when kFailed
};

// Where assignments are made: AWS IAM Identity Center, its emulator, or a fake. The ledger
// rules (standing access, shared assignments) are the workflow's; a provider only does what
// it is told. Implementations are thread-safe.
//
// Error codes: Unavailable (throttled, 5xx, time-out: retry with back-off), Aborted (a
// conflicting operation on the same assignment is under way: retry), InvalidArgument /
// NotFound / PermissionDenied (retrying will not help).
class Provider {
 public:
  virtual ~Provider() = default;

  // Starts creating the assignment (CreateAccountAssignment). Creating one that exists
  // succeeds.
  virtual Result<Operation> Grant(const Assignment& a) = 0;
  // The state of a create started by Grant. NotFound for an unknown id.
  virtual Result<Operation> GrantStatus(const std::string& operation_id) = 0;
  // Starts deleting the assignment (DeleteAccountAssignment). Deleting one that does not
  // exist succeeds.
  virtual Result<Operation> Revoke(const Assignment& a) = 0;
  // The state of a delete started by Revoke. NotFound for an unknown id.
  virtual Result<Operation> RevokeStatus(const std::string& operation_id) = 0;
  // Every user assignment of one (account, permission set).
  virtual Result<std::vector<Assignment>> ListAssignments(
      const std::string& account_id, const std::string& permission_set_arn) = 0;
};

// Who an assignment is for: an identity store user, or a group (whose members all hold it).
enum class PrincipalType { kUser, kGroup };

// "USER" or "GROUP", as the AWS wire spells it.
constexpr const char* PrincipalTypeName(PrincipalType t) {
  return t == PrincipalType::kGroup ? "GROUP" : "USER";
}

// One account assignment of any principal, as Identity Center lists it.
struct PrincipalAssignment {
  PrincipalType principal_type = PrincipalType::kUser;
  std::string principal_id;  // identity store user or group id
  std::string account_id;
  std::string permission_set_arn;

  friend bool operator==(const PrincipalAssignment&, const PrincipalAssignment&) = default;
};

// Reads every assignment, of users and groups alike, and names principals: the inventory of
// standing access (`jit assignments standing`, docs/CUTOVER_CHECKLIST.md). Read-only.
// Implementations are thread-safe. Errors as for Provider: Unavailable (retry later),
// InvalidArgument / NotFound / PermissionDenied (retrying will not help).
class AssignmentInventory {
 public:
  virtual ~AssignmentInventory() = default;

  // Every assignment of one (account, permission set), users and groups, every page.
  virtual Result<std::vector<PrincipalAssignment>> ListAllAssignments(
      const std::string& account_id, const std::string& permission_set_arn) = 0;
  // A user's UserName or a group's DisplayName. NotFound when the identity store has no such
  // principal (deleted since it was assigned).
  virtual Result<std::string> PrincipalName(PrincipalType type, const std::string& id) = 0;
};

// The inline policy of a permission set and its provisioning to accounts: what session cut-off
// (cutoff/engine.h) uses to deny the sessions issued before a grant ended. Implementations are
// thread-safe. Errors as for Provider: Unavailable (throttled, 5xx, time-out: retry with
// back-off), Aborted (a conflicting change of the permission set is under way: retry),
// InvalidArgument / NotFound (unknown permission set, account or request id) /
// PermissionDenied (retrying will not help).
class PermissionSetPolicies {
 public:
  virtual ~PermissionSetPolicies() = default;

  // The permission set's inline policy document (GetInlinePolicyForPermissionSet); "" when
  // it has none.
  virtual Result<std::string> GetInlinePolicy(const std::string& permission_set_arn) = 0;
  // Replaces the permission set's inline policy (PutInlinePolicyToPermissionSet). Accounts
  // see the change only once it is provisioned to them. InvalidArgument for a document that
  // is not a JSON object or is longer than kMaxInlinePolicyLength characters.
  virtual Status PutInlinePolicy(const std::string& permission_set_arn,
                                 const std::string& policy_json) = 0;
  // Removes the inline policy (DeleteInlinePolicyFromPermissionSet). Removing none succeeds.
  virtual Status DeleteInlinePolicy(const std::string& permission_set_arn) = 0;
  // Starts provisioning the permission set, as it is now, to one account
  // (ProvisionPermissionSet, TargetType AWS_ACCOUNT), or, with kAllProvisionedAccounts, to
  // every account it is provisioned to (TargetType ALL_PROVISIONED_ACCOUNTS).
  virtual Result<Operation> ProvisionPermissionSet(const std::string& permission_set_arn,
                                                   const std::string& account_id) = 0;
  // The state of a provisioning started by ProvisionPermissionSet
  // (DescribePermissionSetProvisioningStatus). NotFound for an unknown id.
  virtual Result<Operation> ProvisionStatus(const std::string& request_id) = 0;
  // How long a role session made from the permission set lasts (its SessionDuration): every
  // session issued before a time has expired that long after it.
  virtual Result<Duration> SessionDuration(const std::string& permission_set_arn) = 0;
};

// ProvisionPermissionSet's account for "every account the set is provisioned to".
inline constexpr const char* kAllProvisionedAccounts = "ALL_PROVISIONED_ACCOUNTS";

// AWS's limit on a permission set's inline policy, in characters.
inline constexpr std::size_t kMaxInlinePolicyLength = 32768;
// IAM's limit on a role's inline policies, which the permission set's inline policy becomes in
// each account it is provisioned to: 10,240 characters besides white space. PutInlinePolicy
// takes a longer document, but provisioning it fails.
inline constexpr std::size_t kMaxProvisionedPolicySize = 10240;
// The characters of `policy_json` that count against kMaxProvisionedPolicySize: all but
// spaces, tabs, carriage returns and line feeds.
std::size_t ProvisionedPolicySize(std::string_view policy_json);

// Statements of a permission set's inline policy whose Sid starts with kJitSidPrefix are jit's:
// session cut-off's start with kCutoffSidPrefix (cutoff/statements.h), and `permission-sets
// apply` writes the region guardrail (permsets/definition.h). Each keeps the other's.
inline constexpr const char* kJitSidPrefix = "Jit";
inline constexpr const char* kCutoffSidPrefix = "JitCutoff";

// OK when `policy_json` is a document PutInlinePolicy may send: a JSON object of 1 to
// kMaxInlinePolicyLength characters, each a tab, line feed, carriage return or U+0020..U+00FF
// (AWS's pattern). InvalidArgument saying which rule it breaks otherwise. Thread-safe.
Status ValidateInlinePolicy(std::string_view policy_json);

// Looks users up in the identity store behind the provider (Identity Center's identitystore).
// Implementations are thread-safe.
class Directory {
 public:
  virtual ~Directory() = default;

  // The Identity Center user id of a username. NotFound when the store has no such user;
  // Unavailable when it could not answer now (retry with back-off); InvalidArgument for a
  // username the store cannot take.
  virtual Result<std::string> UserId(const std::string& username) = 0;
};

// A user of the identity store, as identitystore DescribeUser reports it.
struct DirectoryUser {
  std::string user_id;
  std::string user_name;  // the jit username
  std::string display_name;
  std::vector<std::string> emails;  // the primary one first
};

// Looks users up by e-mail and reads their details and groups (Slack interactions map a Slack
// user to a jit identity by e-mail; e-mail notifications find the requester's address).
// Implementations are thread-safe. Errors as for Directory: NotFound (no such user),
// Unavailable (retry later), InvalidArgument (a value the store cannot take).
class UserDirectory {
 public:
  virtual ~UserDirectory() = default;

  // The user id of the one user with this e-mail (identitystore GetUserId on emails.value).
  virtual Result<std::string> UserIdByEmail(const std::string& email) = 0;
  // The user's name, display name and e-mails (DescribeUser).
  virtual Result<DirectoryUser> DescribeUser(const std::string& user_id) = 0;
  // The display names of the user's groups (ListGroupMembershipsForMember, DescribeGroup).
  virtual Result<std::vector<std::string>> GroupNames(const std::string& user_id) = 0;
};

}  // namespace jit::provider
