#pragma once
// The AWS IAM Identity Center provider: sso-admin for assignments and permission sets,
// identitystore for user ids (docs/AWS.md "What jit does on the wire").

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_client.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/status.h"
#include "provider/provider.h"

namespace jit::provider {

struct IdentityCenterOptions {
  // The Identity Center instance: arn:aws:sso:::instance/ssoins-<16>.
  std::string instance_arn;
  // Its identity store: d-<10 hex> (or a UUID for some regions).
  std::string identity_store_id;
  // How long a username -> user id answer is reused. 0: not cached.
  Duration user_cache_ttl = std::chrono::minutes(10);
  // A create holds one of the Limiter's create slots until its status is terminal. Should
  // nobody ask for that status (the workflow gave up on the request, say), the slot is given
  // back after this long anyway, so that no slot is ever lost for good.
  Duration max_create_hold = std::chrono::minutes(15);
  // Creates this provider lets be outstanding at once (AWS: 10). Must not exceed the
  // Limiter's max_creates_in_flight, or Grant may block in Limiter::AcquireCreate.
  int max_creates_in_flight = 10;
  // While every create slot is taken, Grant looks at the oldest outstanding create this often
  // (real time), so that waiting grants make progress even when no other thread polls.
  Duration create_wait = Duration(1000);
  // ListAccountAssignments / ListPermissionSets page size (AWS allows 1..100).
  int page_size = 100;
  // How long UserDirectory answers (e-mail -> user id, user details, group names) are reused.
  // 0: not cached.
  Duration directory_cache_ttl = std::chrono::minutes(1);

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

// The ServiceSpec of each service Identity Center speaks.
aws::ServiceSpec SsoAdminSpec(std::string endpoint, std::string region);  // sso, SWBExternalService
aws::ServiceSpec IdentityStoreSpec(std::string endpoint, std::string region);  // identitystore

// A permission set as DescribePermissionSet reports it.
struct PermissionSetInfo {
  std::string name;
  std::string arn;
  Duration session_duration{0};  // how long an AWS session made from it lasts (default 1h)
};

// ParseIsoDuration (core/duration.h) reads the ISO-8601 durations of SessionDuration.
using ::jit::ParseIsoDuration;

// Provider and Directory over the real wire. Thread-safe.
//
// Create slots: AWS allows about 10 outstanding asynchronous CreateAccountAssignment calls.
// Grant takes a slot (Limiter::AcquireCreate) before the call and gives it back
// (ReleaseCreate) as soon as the creation status is terminal: at once when the call fails or
// answers SUCCEEDED/FAILED, otherwise when GrantStatus first reports a terminal state (or
// NotFound) for that request id. In-flight request ids are tracked here; each also arms a
// clock timer that gives the slot back after `max_create_hold` should nobody poll it, and the
// destructor gives back every slot still held. So a slot is never leaked.
// Grant blocks while max_creates_in_flight creates are outstanding. Since the threads that
// would poll those creates may be the very ones blocked, a waiting Grant itself polls the
// oldest outstanding create every `create_wait` (one waiter at a time), so waiting always ends;
// the end it sees is kept for the next GrantStatus of that create, which then makes no call.
class IdentityCenterProvider final : public Provider,
                                     public Directory,
                                     public UserDirectory,
                                     public AssignmentInventory,
                                     public PermissionSetPolicies {
 public:
  // `sso_admin` speaks to sso-admin (SsoAdminSpec), `identity_store` to identitystore; both,
  // `limiter` (the one the clients share) and `clock` must outlive this object.
  // REQUIRES: options.Validate().ok().
  IdentityCenterProvider(IdentityCenterOptions options, aws::JsonClient& sso_admin,
                         aws::JsonClient& identity_store, aws::Limiter& limiter, Clock& clock);
  ~IdentityCenterProvider() override;
  IdentityCenterProvider(const IdentityCenterProvider&) = delete;
  IdentityCenterProvider& operator=(const IdentityCenterProvider&) = delete;

  // Provider (see provider.h). Errors come from aws::ToStatus: Unavailable (throttled, 5xx,
  // time-out, after the client's own retries), Aborted (ConflictException), InvalidArgument,
  // NotFound, PermissionDenied, ResourceExhausted (ServiceQuotaExceededException),
  // Unauthenticated (bad credentials). Revoke of an assignment AWS does not know succeeds.
  Result<Operation> Grant(const Assignment& a) override;
  Result<Operation> GrantStatus(const std::string& operation_id) override;
  Result<Operation> Revoke(const Assignment& a) override;
  Result<Operation> RevokeStatus(const std::string& operation_id) override;
  // USER principals only, every page.
  Result<std::vector<Assignment>> ListAssignments(const std::string& account_id,
                                                  const std::string& permission_set_arn) override;

  // Directory: identitystore GetUserId on userName, cached for user_cache_ttl.
  Result<std::string> UserId(const std::string& username) override;

  // UserDirectory (provider.h), each answer cached for directory_cache_ttl:
  // GetUserId on emails.value; DescribeUser; ListGroupMembershipsForMember (every page) and
  // DescribeGroup for each group.
  Result<std::string> UserIdByEmail(const std::string& email) override;
  Result<DirectoryUser> DescribeUser(const std::string& user_id) override;
  Result<std::vector<std::string>> GroupNames(const std::string& user_id) override;

  // AssignmentInventory: ListAccountAssignments (every page, users and groups); DescribeUser
  // (cached like UserDirectory's answers) or DescribeGroup (its DisplayName, cached likewise).
  Result<std::vector<PrincipalAssignment>> ListAllAssignments(
      const std::string& account_id, const std::string& permission_set_arn) override;
  Result<std::string> PrincipalName(PrincipalType type, const std::string& id) override;

  // PermissionSetPolicies (provider.h), errors as for Provider above. PutInlinePolicy checks
  // the document (ValidateInlinePolicy) before any call. DeleteInlinePolicy passes AWS's
  // answer on as it is. ProvisionPermissionSet takes no create slot.
  Result<std::string> GetInlinePolicy(const std::string& permission_set_arn) override;
  Status PutInlinePolicy(const std::string& permission_set_arn,
                         const std::string& policy_json) override;
  Status DeleteInlinePolicy(const std::string& permission_set_arn) override;
  Result<Operation> ProvisionPermissionSet(const std::string& permission_set_arn,
                                           const std::string& account_id) override;
  Result<Operation> ProvisionStatus(const std::string& request_id) override;
  // DescribePermissionSet's SessionDuration (AWS's default, one hour, when it has none).
  Result<Duration> SessionDuration(const std::string& permission_set_arn) override;

  // One permission set (DescribePermissionSet).
  Result<PermissionSetInfo> DescribePermissionSet(const std::string& arn);
  // Every permission set of the instance (ListPermissionSets, every page, then
  // DescribePermissionSet for each), in the order AWS lists them.
  Result<std::vector<PermissionSetInfo>> ListPermissionSets();

  // Create slots held now (for tests and metrics).
  int CreatesInFlight() const;

 private:
  // Gives back the create slot of a tracked request id (and cancels its timer); does nothing
  // for an id that holds none.
  void ReleaseSlot(const std::string& request_id);
  // Parses an AccountAssignment{Creation,Deletion}Status or PermissionSetProvisioningStatus
  // object.
  static Result<Operation> ParseOperation(const nlohmann::json& answer, const char* field);

  // The create slots held, shared with the timers that give them back at the latest (a
  // timer may fire while this object is being destroyed).
  struct CreateSlots;

  const IdentityCenterOptions options_;
  aws::JsonClient& sso_admin_;
  aws::JsonClient& identity_store_;
  Clock& clock_;
  std::shared_ptr<CreateSlots> slots_;

  mutable Mutex mu_;
  // Delete request id -> what it deletes (to tell "already gone" from a real failure).
  std::map<std::string, Assignment> deletes_ GUARDED_BY(mu_);
  // Creates whose end a waiting Grant saw while polling the oldest (request id -> the end):
  // the next GrantStatus of that id answers from here, once, without a call.
  std::map<std::string, Operation> settled_creates_ GUARDED_BY(mu_);

  struct CachedUser {
    std::string user_id;
    MonoTime fetched;
  };
  std::map<std::string, CachedUser> users_ GUARDED_BY(mu_);

  template <typename T>
  struct Cached {
    T value;
    MonoTime fetched;
  };
  // UserDirectory caches, by e-mail (lowercased), user id and group id.
  std::map<std::string, Cached<std::string>> ids_by_email_ GUARDED_BY(mu_);
  std::map<std::string, Cached<DirectoryUser>> described_ GUARDED_BY(mu_);
  std::map<std::string, Cached<std::vector<std::string>>> group_names_ GUARDED_BY(mu_);
  std::map<std::string, Cached<std::string>> group_display_ GUARDED_BY(mu_);
  // Returns the cached value of `key` in the member `*cache` when fresh. The cache is named by
  // a member pointer so that it is touched only under the lock taken here.
  template <typename T>
  std::optional<T> Fresh(std::map<std::string, Cached<T>> IdentityCenterProvider::*cache,
                         const std::string& key) EXCLUDES(mu_);
  template <typename T>
  void Remember(std::map<std::string, Cached<T>> IdentityCenterProvider::*cache,
                const std::string& key, T value) EXCLUDES(mu_);
};

}  // namespace jit::provider
