#pragma once
// A GroupMemberships for tests (header-only): groups and users added by the test, memberships
// with ids m-1, m-2, ... in the order they were made, a fail switch and call counts. Its
// answers follow the same contract as IdentityStoreGroupMemberships (group_membership_test.cc
// runs one suite against both).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "provider/group_membership.h"

namespace jit::provider {

// Thread-safe.
class FakeGroupMemberships final : public GroupMemberships {
 public:
  // Adds (or renames) a group.
  void AddGroup(const std::string& group_id, std::string display_name) {
    MutexLock lock(&mu_);
    groups_[group_id] = std::move(display_name);
  }
  // Adds a user that AddMember accepts.
  void AddUser(const std::string& user_id) {
    MutexLock lock(&mu_);
    users_.insert(user_id);
  }
  // Every call fails with `s` (changing nothing) until cleared with OkStatus().
  void FailWith(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  // Calls made, failed ones included: all of them, or of one method ("AddMember", ...).
  int calls() const {
    MutexLock lock(&mu_);
    int n = 0;
    for (const auto& [name, count] : calls_) n += count;
    return n;
  }
  int calls(const std::string& method) const {
    MutexLock lock(&mu_);
    auto it = calls_.find(method);
    return it == calls_.end() ? 0 : it->second;
  }

  Result<std::string> AddMember(const std::string& group_id, const std::string& user_id) override {
    MutexLock lock(&mu_);
    if (Status s = Enter("AddMember"); !s.ok()) return s;
    if (!groups_.count(group_id)) return NotFoundError("group " + group_id + " does not exist");
    if (!users_.count(user_id)) return NotFoundError("user " + user_id + " does not exist");
    if (const std::string* id = Find(group_id, user_id)) {
      return AlreadyExistsError("user " + user_id + " is already a member of group " + group_id +
                                " (membership " + *id + ")");
    }
    std::string id = "m-" + std::to_string(++next_id_);
    memberships_.push_back({id, group_id, user_id});
    return id;
  }
  Status RemoveMember(const std::string& membership_id) override {
    MutexLock lock(&mu_);
    if (Status s = Enter("RemoveMember"); !s.ok()) return s;
    for (auto it = memberships_.begin(); it != memberships_.end(); ++it) {
      if (it->id != membership_id) continue;
      memberships_.erase(it);
      return OkStatus();
    }
    return NotFoundError("group membership " + membership_id + " does not exist");
  }
  Result<std::optional<std::string>> MembershipId(const std::string& group_id,
                                                  const std::string& user_id) override {
    MutexLock lock(&mu_);
    if (Status s = Enter("MembershipId"); !s.ok()) return s;
    if (!groups_.count(group_id)) return NotFoundError("group " + group_id + " does not exist");
    const std::string* id = Find(group_id, user_id);
    return id == nullptr ? std::nullopt : std::optional<std::string>(*id);
  }
  Result<std::vector<GroupMember>> ListMembers(const std::string& group_id) override {
    MutexLock lock(&mu_);
    if (Status s = Enter("ListMembers"); !s.ok()) return s;
    if (!groups_.count(group_id)) return NotFoundError("group " + group_id + " does not exist");
    std::vector<GroupMember> out;
    for (const Entry& m : memberships_) {
      if (m.group_id == group_id) out.push_back({m.id, m.user_id});
    }
    return out;
  }
  Result<std::string> GroupId(const std::string& display_name) override {
    MutexLock lock(&mu_);
    if (Status s = Enter("GroupId"); !s.ok()) return s;
    for (const auto& [id, name] : groups_) {
      if (name == display_name) return id;
    }
    return NotFoundError("group " + display_name + " is not in the identity store");
  }

 private:
  struct Entry {
    std::string id;
    std::string group_id;
    std::string user_id;
  };

  Status Enter(const std::string& method) REQUIRES(mu_) {
    ++calls_[method];
    return fail_;
  }
  const std::string* Find(const std::string& group_id, const std::string& user_id) const
      REQUIRES(mu_) {
    for (const Entry& m : memberships_) {
      if (m.group_id == group_id && m.user_id == user_id) return &m.id;
    }
    return nullptr;
  }

  mutable Mutex mu_;
  std::map<std::string, std::string> groups_ GUARDED_BY(mu_);  // id -> display name
  std::set<std::string> users_ GUARDED_BY(mu_);
  std::vector<Entry> memberships_ GUARDED_BY(mu_);  // oldest first
  int next_id_ GUARDED_BY(mu_) = 0;
  Status fail_ GUARDED_BY(mu_);
  std::map<std::string, int> calls_ GUARDED_BY(mu_);
};

}  // namespace jit::provider
