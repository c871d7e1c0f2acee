#include "app/approver_directory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace jit::app {
namespace {

constexpr std::size_t kMaxCached = 20000;

notify::Person ToPerson(provider::DirectoryUser u) {
  return notify::Person{std::move(u.user_name), std::move(u.user_id), std::move(u.emails)};
}

}  // namespace

ApproverDirectory::ApproverDirectory(provider::Directory& names, provider::UserDirectory& users,
                                     provider::GroupMemberships& groups, Clock& clock, Duration ttl)
    : names_(names), users_(users), groups_(groups), clock_(clock), ttl_(ttl) {}

template <typename T, typename Pick, typename Ask>
Result<std::optional<T>> ApproverDirectory::Cached(Pick pick, const std::string& key, Ask ask) {
  MonoTime now = clock_.MonoNow();
  std::optional<Entry<T>> stale;
  {
    MutexLock lock(&mu_);
    Cache<T>& cache = pick(caches_);
    auto it = cache.find(key);
    if (it != cache.end()) {
      if (now - it->second.at < ttl_) return it->second.value;
      stale = it->second;
    }
  }
  Result<T> got = ask();
  Entry<T> fresh{std::nullopt, now};
  if (got.has_value()) {
    fresh.value = std::move(got).value();
  } else if (got.error().code() != StatusCode::kNotFound) {
    if (!stale) return got.error();
    spdlog::warn("notify: identity store look-up of {} failed, using the answer of {} s ago: {}",
                 key, std::chrono::duration_cast<std::chrono::seconds>(now - stale->at).count(),
                 got.error().ToString());
    return stale->value;
  }
  MutexLock lock(&mu_);
  Cache<T>& cache = pick(caches_);
  if (cache.size() >= kMaxCached) cache.clear();
  cache[key] = fresh;
  return fresh.value;
}

Result<std::optional<notify::Person>> ApproverDirectory::ById(const std::string& user_id) {
  auto pick = [](Caches& c) -> Cache<notify::Person>& { return c.by_id; };
  return Cached<notify::Person>(pick, user_id, [&]() -> Result<notify::Person> {
    JIT_ASSIGN_OR_RETURN(provider::DirectoryUser u, users_.DescribeUser(user_id));
    return ToPerson(std::move(u));
  });
}

Result<std::optional<notify::Person>> ApproverDirectory::ByName(const std::string& username) {
  auto pick = [](Caches& c) -> Cache<notify::Person>& { return c.by_name; };
  return Cached<notify::Person>(pick, username, [&]() -> Result<notify::Person> {
    JIT_ASSIGN_OR_RETURN(std::string id, names_.UserId(username));
    JIT_ASSIGN_OR_RETURN(provider::DirectoryUser u, users_.DescribeUser(id));
    return ToPerson(std::move(u));
  });
}

Result<std::optional<std::vector<std::string>>> ApproverDirectory::Members(
    const std::string& group) {
  auto pick = [](Caches& c) -> Cache<std::vector<std::string>>& { return c.members; };
  return Cached<std::vector<std::string>>(pick, group, [&]() -> Result<std::vector<std::string>> {
    JIT_ASSIGN_OR_RETURN(std::string id, groups_.GroupId(group));
    JIT_ASSIGN_OR_RETURN(std::vector<provider::GroupMember> members, groups_.ListMembers(id));
    std::vector<std::string> out;
    out.reserve(members.size());
    for (provider::GroupMember& m : members) out.push_back(std::move(m.user_id));
    return out;
  });
}

Result<std::vector<std::string>> ApproverDirectory::Emails(const std::string& user_id) {
  JIT_ASSIGN_OR_RETURN(std::optional<notify::Person> p, ById(user_id));
  if (!p) return NotFoundError("the identity store has no user " + user_id);
  return p->emails;
}

Result<std::vector<notify::Person>> ApproverDirectory::People(
    const std::vector<std::string>& users, const std::vector<std::string>& groups) {
  std::map<std::string, notify::Person> people;  // by username: each once, in order
  for (const std::string& name : users) {
    JIT_ASSIGN_OR_RETURN(std::optional<notify::Person> p, ByName(name));
    if (p) people.emplace(p->username, std::move(*p));
  }
  for (const std::string& group : groups) {
    JIT_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> members, Members(group));
    if (!members) continue;
    for (const std::string& id : *members) {
      JIT_ASSIGN_OR_RETURN(std::optional<notify::Person> p, ById(id));
      if (p) people.emplace(p->username, std::move(*p));
    }
  }
  std::vector<notify::Person> out;
  out.reserve(people.size());
  for (auto& [name, p] : people) out.push_back(std::move(p));
  return out;
}

}  // namespace jit::app
