#pragma once
// AWS Organizations for account selectors (issue 16): a client of the read calls (and
// MoveAccount, for tests and tools) over aws::JsonClient, one organization snapshot read once,
// and the pure function that resolves a selector against it. Nothing here is wired into the
// policy or the workflow yet.

#include <map>
#include <string>
#include <vector>

#include "aws/json_client.h"
#include "core/result.h"
#include "core/status.h"

namespace jit::provider {

// Organizations' awsJson target prefix and signing name; AWS serves it from us-east-1
// (https://organizations.us-east-1.amazonaws.com) in the commercial partition.
aws::ServiceSpec OrganizationsSpec(std::string endpoint, std::string region);

struct OrgRoot {
  std::string id;  // r-...
  std::string arn;
  std::string name;
};

struct OrgUnit {
  std::string id;  // ou-...
  std::string arn;
  std::string name;
  std::string parent_id;  // a root or OU; set by the snapshot (ListOrganizationalUnitsForParent)
};

struct OrgAccount {
  std::string id;  // 12 digits
  std::string arn;
  std::string name;
  std::string email;
  std::string status;     // ACTIVE | SUSPENDED (as AWS answers; other values kept as given)
  std::string parent_id;  // set by ListAccountsForParent and the snapshot; "" from ListAccounts
  std::map<std::string, std::string> tags;  // set by the snapshot
};

struct OrgChild {
  std::string id;
  std::string type;  // ACCOUNT | ORGANIZATIONAL_UNIT
};

struct OrganizationInfo {
  std::string id;  // o-...
  std::string arn;
  std::string feature_set;
  std::string master_account_id;
  std::string master_account_email;
};

// The organization as read at one moment: every root, OU (with its parent) and account (with
// its parent and tags). Plain data.
struct OrganizationSnapshot {
  std::vector<OrgRoot> roots;
  std::vector<OrgUnit> organizational_units;
  std::vector<OrgAccount> accounts;
};

// Which accounts an `accounts:` entry means. The scope is the union of the whole organization
// (organization), the accounts in `ou` (directly, or also in the OUs below it when recursive; a
// root id is accepted too) and the literal `ids`; when none of the three is given, the scope is
// the whole organization. `tags` then keeps only the accounts that carry every one of them
// (same key, same value; case-sensitive).
struct AccountSelector {
  bool organization = false;
  std::string ou;
  bool recursive = false;
  std::map<std::string, std::string> tags;
  std::vector<std::string> ids;
};

// The accounts `selector` names in `snapshot`, sorted by id, without duplicates; SUSPENDED (and
// any other non-ACTIVE) accounts are left out. Errors: InvalidArgument for a selector that
// names nothing (no scope and no tags); NotFound for an `ou` or an id that is not in the
// snapshot. Pure; cycles in the snapshot's parent links do not loop.
Result<std::vector<OrgAccount>> ResolveAccounts(const OrganizationSnapshot& snapshot,
                                                const AccountSelector& selector);

// The Organizations calls, each following NextToken through every page. Errors as
// aws::ToStatus, except that AWS Organizations' own types map to: AccountNotFoundException,
// ParentNotFoundException, ChildNotFoundException, TargetNotFoundException,
// SourceParentNotFoundException, DestinationParentNotFoundException -> NotFound;
// AWSOrganizationsNotInUseException -> FailedPrecondition; DuplicateAccountException ->
// AlreadyExists; ConcurrentModificationException -> Aborted; TooManyRequestsException ->
// Unavailable (after the JsonClient's retries); a malformed answer -> Internal. Thread-safe as
// the JsonClient is; `client` must outlive this.
class OrganizationsClient {
 public:
  explicit OrganizationsClient(aws::JsonClient& client, int page_size = 20);

  Result<OrganizationInfo> DescribeOrganization();
  Result<std::vector<OrgRoot>> ListRoots();
  // `type` is "ACCOUNT" or "ORGANIZATIONAL_UNIT".
  Result<std::vector<OrgChild>> ListChildren(const std::string& parent_id, const std::string& type);
  // Accounts directly in the parent, parent_id set.
  Result<std::vector<OrgAccount>> ListAccountsForParent(const std::string& parent_id);
  // OUs directly in the parent, parent_id set.
  Result<std::vector<OrgUnit>> ListOrganizationalUnitsForParent(const std::string& parent_id);
  // Every account of the organization (parent_id and tags empty).
  Result<std::vector<OrgAccount>> ListAccounts();
  Result<OrgAccount> DescribeAccount(const std::string& account_id);
  // The tags of an account, OU or root.
  Result<std::map<std::string, std::string>> ListTagsForResource(const std::string& resource_id);
  Status MoveAccount(const std::string& account_id, const std::string& source_parent_id,
                     const std::string& destination_parent_id);

  // Reads the whole organization once: ListRoots, then breadth-first from each root
  // ListOrganizationalUnitsForParent and ListAccountsForParent, then ListTagsForResource of each
  // account. Calls: 1 + 2 per root and OU + 1 per account (more with paging). Fails on the first
  // error; the snapshot is all or nothing.
  Result<OrganizationSnapshot> ReadSnapshot();

 private:
  aws::JsonClient& client_;
  int page_size_;
};

}  // namespace jit::provider
