#pragma once
// A UserDirectory for tests (header-only): users by id and e-mail, their groups, call counts
// and a fail switch.

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/strings.h"
#include "provider/provider.h"

namespace jit::provider {

// Thread-safe.
class FakeUserDirectory final : public UserDirectory {
 public:
  // Adds (or replaces) a user with its e-mails and group names.
  void AddUser(DirectoryUser user, std::vector<std::string> groups) {
    MutexLock lock(&mu_);
    groups_[user.user_id] = std::move(groups);
    users_[user.user_id] = std::move(user);
  }
  // Every call fails with `s` until cleared with OkStatus().
  void FailWith(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  int calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }

  Result<std::string> UserIdByEmail(const std::string& email) override {
    MutexLock lock(&mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
    for (const auto& [id, u] : users_) {
      for (const std::string& e : u.emails) {
        if (EqualsIgnoreCase(e, email)) return id;
      }
    }
    return NotFoundError("no user has the e-mail " + email);
  }
  Result<DirectoryUser> DescribeUser(const std::string& user_id) override {
    MutexLock lock(&mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
    auto it = users_.find(user_id);
    if (it == users_.end()) return NotFoundError("no user " + user_id);
    return it->second;
  }
  Result<std::vector<std::string>> GroupNames(const std::string& user_id) override {
    MutexLock lock(&mu_);
    ++calls_;
    if (!fail_.ok()) return fail_;
    auto it = groups_.find(user_id);
    if (it == groups_.end()) return NotFoundError("no user " + user_id);
    return it->second;
  }

 private:
  mutable Mutex mu_;
  std::map<std::string, DirectoryUser> users_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> groups_ GUARDED_BY(mu_);
  Status fail_ GUARDED_BY(mu_);
  int calls_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::provider
