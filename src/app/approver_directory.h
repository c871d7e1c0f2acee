#pragma once
// notify::Directory over Identity Center's identity store (docs/NOTIFY.md "Approvers by
// name"): the requester's e-mail, and the people a request's approver users and groups name,
// with their e-mail addresses. Answers are cached for a few minutes, so that a burst of
// notifications asks the identity store once; a look-up that fails while a stale answer is at
// hand answers the stale one (logged), so that a slow identity store delays no notification.
// Look-ups run inside notify jobs, never inside a workflow transaction.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "notify/directory.h"
#include "provider/group_membership.h"
#include "provider/provider.h"

namespace jit::app {

// Thread-safe. Every reference must outlive it.
class ApproverDirectory final : public notify::Directory {
 public:
  // `names` maps usernames to user ids, `users` describes users, `groups` finds groups and
  // their members. `ttl`: how long an answer is used before it is asked again.
  ApproverDirectory(provider::Directory& names, provider::UserDirectory& users,
                    provider::GroupMemberships& groups, Clock& clock,
                    Duration ttl = std::chrono::minutes(5));

  Result<std::vector<std::string>> Emails(const std::string& user_id) override;
  Result<std::vector<notify::Person>> People(const std::vector<std::string>& users,
                                             const std::vector<std::string>& groups) override;

 private:
  template <typename T>
  struct Entry {
    std::optional<T> value;  // nullopt: the store has no such user or group
    MonoTime at;
  };
  // The person with this username / user id, or nullopt when the store has none.
  Result<std::optional<notify::Person>> ByName(const std::string& username);
  Result<std::optional<notify::Person>> ById(const std::string& user_id);
  // The user ids of the group's members, or nullopt when the store has no such group.
  Result<std::optional<std::vector<std::string>>> Members(const std::string& group);

  template <typename T>
  using Cache = std::map<std::string, Entry<T>>;
  struct Caches {
    Cache<notify::Person> by_name;
    Cache<notify::Person> by_id;
    Cache<std::vector<std::string>> members;
  };
  // The cached answer of `key` in the cache `pick` chooses of the caches, when fresh; else
  // `ask()`, cached; a failure with a stale answer at hand gives the stale answer. `pick` runs
  // with mu_ held.
  template <typename T, typename Pick, typename Ask>
  Result<std::optional<T>> Cached(Pick pick, const std::string& key, Ask ask) EXCLUDES(mu_);

  provider::Directory& names_;
  provider::UserDirectory& users_;
  provider::GroupMemberships& groups_;
  Clock& clock_;
  const Duration ttl_;

  Mutex mu_;
  Caches caches_ GUARDED_BY(mu_);
};

}  // namespace jit::app
