#include "org/scope.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/strings.h"

namespace jit::org {
namespace {

// The parents of each account and OU, innermost first, up to and including the root. A cycle
// in the snapshot's links (never from AWS) stops the walk.
std::vector<std::string> ParentChain(const std::string& first_parent,
                                     const std::map<std::string, std::string>& parent_of) {
  std::vector<std::string> chain;
  std::set<std::string> seen;
  std::string at = first_parent;
  while (!at.empty() && seen.insert(at).second) {
    chain.push_back(at);
    auto it = parent_of.find(at);
    if (it == parent_of.end()) break;
    at = it->second;
  }
  return chain;
}

std::string Describe(const policy::AccountSource& src) {
  std::string what;
  if (src.organization) {
    what = "the whole organization";
  } else if (!src.ou.empty()) {
    what = src.ou + (src.recursive ? " and the OUs below it" : " (directly)");
  } else {
    what = "the organization";
  }
  if (!src.tags.empty()) {
    std::string tags;
    for (const auto& [k, v] : src.tags) tags += (tags.empty() ? "" : ", ") + k + "=" + v;
    what += " with tags " + tags;
  }
  return what;
}

}  // namespace

Result<Resolution> ResolveScope(const policy::Config& base,
                                const provider::OrganizationSnapshot& snapshot) {
  Resolution out;
  out.config = base;
  std::map<std::string, std::string> parent_of;  // OU -> its parent
  for (const provider::OrgUnit& u : snapshot.organizational_units) {
    parent_of[u.id] = u.parent_id;
  }
  std::map<std::string, const provider::OrgAccount*> in_org;
  for (const provider::OrgAccount& a : snapshot.accounts) in_org[a.id] = &a;
  auto ous_of = [&](const provider::OrgAccount& a) { return ParentChain(a.parent_id, parent_of); };

  std::set<std::string> ids;
  std::set<std::string> names;
  for (policy::Account& a : out.config.accounts) {
    ids.insert(a.id);
    names.insert(a.name);
    auto it = in_org.find(a.id);
    a.ous = it == in_org.end() ? std::vector<std::string>{} : ous_of(*it->second);
  }
  for (const policy::AccountSource& src : base.account_sources) {
    provider::AccountSelector selector;
    selector.organization = src.organization;
    selector.ou = src.ou;
    selector.recursive = src.recursive;
    selector.tags = src.tags;
    Result<std::vector<provider::OrgAccount>> found = provider::ResolveAccounts(snapshot, selector);
    if (!found.has_value()) {
      return Status(found.error().code(),
                    "accounts (line " + std::to_string(src.line) + "): " + found.error().message());
    }
    int added = 0;
    for (const provider::OrgAccount& oa : *found) {
      if (!ids.insert(oa.id).second) continue;
      policy::Account a;
      a.id = oa.id;
      a.name = oa.name;
      if (a.name.empty() || IsDigits(a.name, 12) || !names.insert(a.name).second) {
        out.warnings.push_back("account " + oa.id + " of the organization is named '" +
                               EscapeForTerminal(oa.name) +
                               "', which is empty, looks like an account id or is taken by an "
                               "account before it; jit names it by its id");
        a.name = oa.id;
        names.insert(a.name);
      }
      for (const auto& [k, v] : oa.tags) a.tags.push_back(k + "=" + v);
      a.ous = ous_of(oa);
      a.from_organization = true;
      a.line = src.line;
      out.config.accounts.push_back(std::move(a));
      ++added;
    }
    out.sources.push_back(
        "line " + std::to_string(src.line) + ": " + Describe(src) + ": " +
        std::to_string(found->size()) + " active account" + (found->size() == 1 ? "" : "s") +
        (static_cast<std::size_t>(added) == found->size()
             ? std::string()
             : " (" + std::to_string(found->size() - added) + " already listed before)"));
  }
  return out;
}

std::vector<OutOfScope> FindOutOfScope(const policy::Config& scope,
                                       const std::vector<model::Request>& open) {
  std::map<std::string, const policy::Account*> by_id;
  for (const policy::Account& a : scope.accounts) by_id.emplace(a.id, &a);
  std::map<std::string, const policy::Rule*> rules;
  for (const policy::Rule& r : scope.rules) rules.emplace(r.name, &r);
  std::vector<OutOfScope> out;
  for (const model::Request& r : open) {
    if (model::IsGroupAccount(r.account_id)) continue;  // a group membership is in no account
    auto account = by_id.find(r.account_id);
    if (account == by_id.end()) {
      out.push_back({r.id, "account " + r.account_id + " is no longer in jit's scope"});
      continue;
    }
    auto rule = rules.find(r.rule);
    if (rule != rules.end() && !rule->second->accounts.Matches(*account->second)) {
      out.push_back({r.id, "rule " + r.rule + " no longer selects account " + r.account_id});
    }
  }
  return out;
}

}  // namespace jit::org
