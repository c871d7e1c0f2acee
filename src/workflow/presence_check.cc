#include "workflow/presence_check.h"

namespace jit::workflow {
namespace {

// Targets remembered before aged listings are forgotten.
constexpr std::size_t kPruneAbove = 1024;

}  // namespace

PresenceCheck::PresenceCheck(provider::Provider& provider, Clock& clock, Duration reuse)
    : provider_(provider), clock_(clock), reuse_(reuse) {}

Result<bool> PresenceCheck::Exists(const provider::Assignment& a) {
  Key key{a.account_id, a.permission_set_arn};
  MonoTime asked = clock_.MonoNow();
  MonoTime started;
  std::int64_t number = 0;
  {
    MutexLock lock(&mu_);
    // Listings numbered from here on were asked for after this check began.
    const std::int64_t first_after = listings_ + 1;
    for (; reuse_ > Duration(0);) {
      Target& t = targets_[key];
      if (t.listed) {
        bool named = t.principals.contains(a.principal_id);
        // A listing asked for after this check began answers both ways; an earlier one that is
        // fresh enough answers "absent" only.
        if (t.number >= first_after) return named;
        if (!named && t.started + reuse_ >= asked) return false;
      }
      if (!t.listing) break;
      cv_.Wait(mu_);  // the listing under way may answer; look again once it is done
    }
    // This caller lists; later checks of the target wait for it.
    targets_[key].listing = true;
    started = clock_.MonoNow();
    number = ++listings_;
  }
  JIT_ASSIGN_OR_RETURN(std::set<std::string> principals, List(key, started, number));
  return principals.contains(a.principal_id);
}

Result<std::set<std::string>> PresenceCheck::List(const Key& key, MonoTime started,
                                                  std::int64_t number) {
  auto listed = provider_.ListAssignments(key.first, key.second);
  std::set<std::string> principals;
  if (listed.has_value()) {
    for (const provider::Assignment& got : *listed) principals.insert(got.principal_id);
  }
  {
    MutexLock lock(&mu_);
    Target& t = targets_[key];
    t.listing = false;
    if (listed.has_value() && (!t.listed || t.number < number)) {
      t.listed = true;
      t.number = number;
      t.started = started;
      t.principals = principals;
    }
    Prune(clock_.MonoNow());
  }
  cv_.SignalAll();
  if (!listed.has_value()) return listed.error();
  return principals;
}

void PresenceCheck::Prune(MonoTime now) {
  if (targets_.size() <= kPruneAbove) return;
  for (auto it = targets_.begin(); it != targets_.end();) {
    const Target& t = it->second;
    if (!t.listing && (!t.listed || t.started + reuse_ < now)) {
      it = targets_.erase(it);
    } else {
      ++it;
    }
  }
}

std::int64_t PresenceCheck::listings() const {
  MutexLock lock(&mu_);
  return listings_;
}

}  // namespace jit::workflow
