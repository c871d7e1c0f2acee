#include "provider/organizations.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <set>
#include <string_view>
#include <utility>

#include "provider/wire.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;

// aws::ToStatus leaves Organizations' own error types at InvalidArgument (HTTP 400); give them
// the codes their meaning calls for. The message ("<operation>: <type>: ...") is kept.
Status OrgStatus(Status s) {
  if (s.ok()) return s;
  const std::string& m = s.message();
  std::size_t colon = m.find(": ");
  std::string_view type_part =
      colon == std::string::npos ? std::string_view(m) : std::string_view(m).substr(colon + 2);
  auto is = [&](const char* type) {
    return type_part.substr(0, std::string_view(type).size() + 1) == std::string(type) + ":";
  };
  for (const char* type : {"AccountNotFoundException", "ParentNotFoundException",
                           "ChildNotFoundException", "TargetNotFoundException",
                           "SourceParentNotFoundException", "DestinationParentNotFoundException"}) {
    if (is(type)) return NotFoundError(m);
  }
  if (is("AWSOrganizationsNotInUseException")) return FailedPreconditionError(m);
  if (is("DuplicateAccountException")) return AlreadyExistsError(m);
  if (is("ConcurrentModificationException")) return AbortedError(m);
  return s;
}

// Follows NextToken through every page of `operation` (wire::Paginate), calling `each` for
// every object of each answer's array `key`; errors as OrgStatus gives them.
Status OrgPaginate(aws::JsonClient& client, const std::string& operation, json body,
                   const char* key, const std::function<Status(const json&)>& each) {
  return OrgStatus(wire::Paginate(client, operation, std::move(body), [&](const json& answer) {
    auto list = answer.find(key);
    if (list == answer.end() || !list->is_array()) {
      return wire::Malformed(operation, std::string("no ") + key + " list");
    }
    for (const json& e : *list) {
      if (!e.is_object()) {
        return wire::Malformed(operation, std::string(key) + " holds a non-object");
      }
      JIT_RETURN_IF_ERROR(each(e));
    }
    return OkStatus();
  }));
}

Result<OrgAccount> AccountFrom(const std::string& operation, const json& a) {
  OrgAccount out;
  out.id = wire::String(a, "Id");
  if (out.id.empty()) return wire::Malformed(operation, "an account without an Id");
  out.arn = wire::String(a, "Arn");
  out.name = wire::String(a, "Name");
  out.email = wire::String(a, "Email");
  out.status = wire::String(a, "Status");
  return out;
}

}  // namespace

aws::ServiceSpec OrganizationsSpec(std::string endpoint, std::string region) {
  return {std::move(endpoint), std::move(region), "organizations", "AWSOrganizationsV20161128"};
}

// ---- The resolver ----------------------------------------------------------------------------

Result<std::vector<OrgAccount>> ResolveAccounts(const OrganizationSnapshot& snapshot,
                                                const AccountSelector& selector) {
  bool scoped = selector.organization || !selector.ou.empty() || !selector.ids.empty();
  if (!scoped && selector.tags.empty()) {
    return InvalidArgumentError(
        "an account selector must name the organization, an OU, account ids or tags");
  }
  std::map<std::string, const OrgAccount*> by_id;
  for (const OrgAccount& a : snapshot.accounts) by_id.emplace(a.id, &a);

  std::set<std::string> scope;
  if (selector.organization || !scoped) {
    for (const OrgAccount& a : snapshot.accounts) scope.insert(a.id);
  }
  if (!selector.ou.empty()) {
    bool known =
        std::any_of(snapshot.roots.begin(), snapshot.roots.end(),
                    [&](const OrgRoot& r) { return r.id == selector.ou; }) ||
        std::any_of(snapshot.organizational_units.begin(), snapshot.organizational_units.end(),
                    [&](const OrgUnit& u) { return u.id == selector.ou; });
    if (!known) {
      return NotFoundError("organizational unit " + selector.ou + " is not in the organization");
    }
    // The parents whose accounts count: the OU, and with recursive every OU below it.
    std::set<std::string> parents = {selector.ou};
    if (selector.recursive) {
      std::deque<std::string> queue = {selector.ou};
      while (!queue.empty()) {
        std::string at = queue.front();
        queue.pop_front();
        for (const OrgUnit& u : snapshot.organizational_units) {
          if (u.parent_id == at && parents.insert(u.id).second) queue.push_back(u.id);
        }
      }
    }
    for (const OrgAccount& a : snapshot.accounts) {
      if (parents.count(a.parent_id)) scope.insert(a.id);
    }
  }
  for (const std::string& id : selector.ids) {
    if (!by_id.count(id)) return NotFoundError("account " + id + " is not in the organization");
    scope.insert(id);
  }

  std::vector<OrgAccount> out;
  for (const std::string& id : scope) {  // std::set: sorted by id
    const OrgAccount& a = *by_id.at(id);
    if (a.status != "ACTIVE") continue;
    bool tagged = std::all_of(selector.tags.begin(), selector.tags.end(), [&](const auto& kv) {
      auto it = a.tags.find(kv.first);
      return it != a.tags.end() && it->second == kv.second;
    });
    if (tagged) out.push_back(a);
  }
  return out;
}

// ---- The client ------------------------------------------------------------------------------

OrganizationsClient::OrganizationsClient(aws::JsonClient& client, int page_size)
    : client_(client), page_size_(page_size) {}

Result<OrganizationInfo> OrganizationsClient::DescribeOrganization() {
  Result<json> answer = client_.Call("DescribeOrganization", json::object());
  if (!answer.has_value()) return OrgStatus(answer.error());
  auto org = answer->find("Organization");
  if (org == answer->end() || !org->is_object() || wire::String(*org, "Id").empty()) {
    return wire::Malformed("DescribeOrganization", "no Organization with an Id");
  }
  OrganizationInfo info;
  info.id = wire::String(*org, "Id");
  info.arn = wire::String(*org, "Arn");
  info.feature_set = wire::String(*org, "FeatureSet");
  info.master_account_id = wire::String(*org, "MasterAccountId");
  info.master_account_email = wire::String(*org, "MasterAccountEmail");
  return info;
}

Result<std::vector<OrgRoot>> OrganizationsClient::ListRoots() {
  std::vector<OrgRoot> roots;
  Status s =
      OrgPaginate(client_, "ListRoots", {{"MaxResults", page_size_}}, "Roots", [&](const json& r) {
        OrgRoot root{wire::String(r, "Id"), wire::String(r, "Arn"), wire::String(r, "Name")};
        if (root.id.empty()) return wire::Malformed("ListRoots", "a root without an Id");
        roots.push_back(std::move(root));
        return OkStatus();
      });
  if (!s.ok()) return s;
  return roots;
}

Result<std::vector<OrgChild>> OrganizationsClient::ListChildren(const std::string& parent_id,
                                                                const std::string& type) {
  std::vector<OrgChild> children;
  Status s = OrgPaginate(client_, "ListChildren",
                         {{"ParentId", parent_id}, {"ChildType", type}, {"MaxResults", page_size_}},
                         "Children", [&](const json& c) {
                           OrgChild child{wire::String(c, "Id"), wire::String(c, "Type")};
                           if (child.id.empty())
                             return wire::Malformed("ListChildren", "a child without an Id");
                           children.push_back(std::move(child));
                           return OkStatus();
                         });
  if (!s.ok()) return s;
  return children;
}

Result<std::vector<OrgAccount>> OrganizationsClient::ListAccountsForParent(
    const std::string& parent_id) {
  std::vector<OrgAccount> accounts;
  Status s = OrgPaginate(client_, "ListAccountsForParent",
                         {{"ParentId", parent_id}, {"MaxResults", page_size_}}, "Accounts",
                         [&](const json& a) {
                           Result<OrgAccount> account = AccountFrom("ListAccountsForParent", a);
                           if (!account.has_value()) return account.error();
                           account->parent_id = parent_id;
                           accounts.push_back(std::move(*account));
                           return OkStatus();
                         });
  if (!s.ok()) return s;
  return accounts;
}

Result<std::vector<OrgUnit>> OrganizationsClient::ListOrganizationalUnitsForParent(
    const std::string& parent_id) {
  std::vector<OrgUnit> units;
  Status s = OrgPaginate(client_, "ListOrganizationalUnitsForParent",
                         {{"ParentId", parent_id}, {"MaxResults", page_size_}},
                         "OrganizationalUnits", [&](const json& u) {
                           OrgUnit unit{wire::String(u, "Id"), wire::String(u, "Arn"),
                                        wire::String(u, "Name"), parent_id};
                           if (unit.id.empty()) {
                             return wire::Malformed("ListOrganizationalUnitsForParent",
                                                    "an OU without an Id");
                           }
                           units.push_back(std::move(unit));
                           return OkStatus();
                         });
  if (!s.ok()) return s;
  return units;
}

Result<std::vector<OrgAccount>> OrganizationsClient::ListAccounts() {
  std::vector<OrgAccount> accounts;
  Status s = OrgPaginate(client_, "ListAccounts", {{"MaxResults", page_size_}}, "Accounts",
                         [&](const json& a) {
                           Result<OrgAccount> account = AccountFrom("ListAccounts", a);
                           if (!account.has_value()) return account.error();
                           accounts.push_back(std::move(*account));
                           return OkStatus();
                         });
  if (!s.ok()) return s;
  return accounts;
}

Result<OrgAccount> OrganizationsClient::DescribeAccount(const std::string& account_id) {
  Result<json> answer = client_.Call("DescribeAccount", {{"AccountId", account_id}});
  if (!answer.has_value()) return OrgStatus(answer.error());
  auto account = answer->find("Account");
  if (account == answer->end()) return wire::Malformed("DescribeAccount", "no Account");
  return AccountFrom("DescribeAccount", *account);
}

Result<std::map<std::string, std::string>> OrganizationsClient::ListTagsForResource(
    const std::string& resource_id) {
  std::map<std::string, std::string> tags;
  Status s = OrgPaginate(client_, "ListTagsForResource", {{"ResourceId", resource_id}}, "Tags",
                         [&](const json& t) {
                           std::string key = wire::String(t, "Key");
                           if (key.empty()) {
                             return wire::Malformed("ListTagsForResource", "a tag without a Key");
                           }
                           tags[key] = wire::String(t, "Value");
                           return OkStatus();
                         });
  if (!s.ok()) return s;
  return tags;
}

Status OrganizationsClient::MoveAccount(const std::string& account_id,
                                        const std::string& source_parent_id,
                                        const std::string& destination_parent_id) {
  Result<json> answer =
      client_.Call("MoveAccount", {{"AccountId", account_id},
                                   {"SourceParentId", source_parent_id},
                                   {"DestinationParentId", destination_parent_id}});
  if (!answer.has_value()) return OrgStatus(answer.error());
  return OkStatus();
}

Result<OrganizationSnapshot> OrganizationsClient::ReadSnapshot() {
  OrganizationSnapshot snapshot;
  Result<std::vector<OrgRoot>> roots = ListRoots();
  if (!roots.has_value()) return roots.error();
  snapshot.roots = std::move(*roots);
  std::deque<std::string> parents;
  std::set<std::string> visited;
  for (const OrgRoot& r : snapshot.roots) parents.push_back(r.id);
  while (!parents.empty()) {
    std::string parent = parents.front();
    parents.pop_front();
    if (!visited.insert(parent).second) continue;  // a cycle would be AWS's bug; do not loop
    Result<std::vector<OrgUnit>> units = ListOrganizationalUnitsForParent(parent);
    if (!units.has_value()) return units.error();
    for (OrgUnit& u : *units) {
      parents.push_back(u.id);
      snapshot.organizational_units.push_back(std::move(u));
    }
    Result<std::vector<OrgAccount>> accounts = ListAccountsForParent(parent);
    if (!accounts.has_value()) return accounts.error();
    for (OrgAccount& a : *accounts) snapshot.accounts.push_back(std::move(a));
  }
  for (OrgAccount& a : snapshot.accounts) {
    Result<std::map<std::string, std::string>> tags = ListTagsForResource(a.id);
    if (!tags.has_value()) return tags.error();
    a.tags = std::move(*tags);
  }
  return snapshot;
}

}  // namespace jit::provider
