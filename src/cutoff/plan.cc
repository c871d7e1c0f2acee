#include "cutoff/plan.h"

#include <algorithm>
#include <map>

namespace jit::cutoff {
namespace {

// True when `s` denies the sessions of `user` issued before `t` (and maybe later ones too).
bool DeniesBefore(const CutoffStatement& s, const std::string& user, Time t) {
  if (s.before < t) return false;
  bool listed = s.users.count(user) > 0;
  return s.everyone_except ? !listed : listed;
}

CutoffStatement* Find(InlinePolicy& p, const std::string& account, Time before,
                      bool everyone_except) {
  for (CutoffStatement& s : p.cutoffs) {
    if (s.account_id == account && s.before == before && s.everyone_except == everyone_except) {
      return &s;
    }
  }
  return nullptr;
}

// True when the document of `p` is within the budget: `max_size` characters besides white space
// (provider::ProvisionedPolicySize), and AWS's length limit.
bool Fits(const InlinePolicy& p, std::size_t max_size) {
  std::string text = ComposeInlinePolicy(p);
  return provider::ProvisionedPolicySize(text) <= max_size &&
         text.size() <= provider::kMaxInlinePolicyLength;
}

void DropEmpty(InlinePolicy& p) {
  p.cutoffs.erase(std::remove_if(p.cutoffs.begin(), p.cutoffs.end(),
                                 [](const CutoffStatement& s) {
                                   return !s.everyone_except && s.users.empty();
                                 }),
                  p.cutoffs.end());
}

// Compacts `account` (step 3 of PlanRound); false when nothing in it could move.
Result<bool> Compact(InlinePolicy& p, const std::string& account, const RoundInput& in) {
  JIT_ASSIGN_OR_RETURN(std::set<std::string> holders, in.holders(account));
  std::set<std::string> movers;
  Time latest{};
  for (CutoffStatement& s : p.cutoffs) {
    if (s.account_id != account || s.everyone_except) continue;
    bool moved = false;
    for (auto it = s.users.begin(); it != s.users.end();) {
      if (holders.count(*it) == 0) {
        movers.insert(*it);
        it = s.users.erase(it);
        moved = true;
      } else {
        ++it;
      }
    }
    if (moved) latest = std::max(latest, s.before);
  }
  if (movers.empty()) return false;
  DropEmpty(p);
  if (CutoffStatement* both = Find(p, account, latest, /*everyone_except=*/true)) {
    // Two statements of one time deny together whoever either denies: keep the users both spare.
    std::set<std::string> spared;
    std::set_intersection(both->users.begin(), both->users.end(), holders.begin(), holders.end(),
                          std::inserter(spared, spared.begin()));
    both->users = std::move(spared);
  } else {
    p.cutoffs.push_back({account, latest, /*everyone_except=*/true, std::move(holders)});
  }
  return true;
}

}  // namespace

Result<RoundPlan> PlanRound(const RoundInput& in) {
  RoundPlan plan;
  plan.next = in.current;
  plan.outcomes.assign(in.changes.size(), ChangeOutcome::kDone);
  plan.until.assign(in.changes.size(), Time{});
  InlinePolicy& next = plan.next;

  // 1. Statements whose sessions have all expired go.
  for (auto it = next.cutoffs.begin(); it != next.cutoffs.end();) {
    if (it->before + in.session_duration <= in.now) {
      plan.provision.insert(it->account_id);
      it = next.cutoffs.erase(it);
    } else {
      ++it;
    }
  }

  // 2. Each cut-off is covered, or joins its account's statement of its time.
  std::vector<std::size_t> added;
  for (std::size_t i = 0; i < in.changes.size(); ++i) {
    const Change& c = in.changes[i];
    if (c.kind != Change::Kind::kApply) continue;
    Time t = CeilToSecond(c.at);
    plan.provision.insert(c.account_id);
    bool covered =
        std::any_of(next.cutoffs.begin(), next.cutoffs.end(), [&](const CutoffStatement& s) {
          return s.account_id == c.account_id && DeniesBefore(s, c.user_id, t);
        });
    if (covered) continue;
    CutoffStatement* s = Find(next, c.account_id, t, /*everyone_except=*/false);
    if (s == nullptr) {
      next.cutoffs.push_back({c.account_id, t, /*everyone_except=*/false, {}});
      s = &next.cutoffs.back();
    }
    s->users.insert(c.user_id);
    added.push_back(i);
  }

  // 3. Compact the accounts with the most listed users until it fits.
  std::set<std::string> tried;
  while (!Fits(next, in.max_size)) {
    std::map<std::string, std::size_t> listed;
    for (const CutoffStatement& s : next.cutoffs) {
      if (!s.everyone_except && tried.count(s.account_id) == 0) {
        listed[s.account_id] += s.users.size();
      }
    }
    if (listed.empty() || !in.holders) break;
    auto most = std::max_element(listed.begin(), listed.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    std::string account = most->first;
    tried.insert(account);
    JIT_ASSIGN_OR_RETURN(bool moved, Compact(next, account, in));
    if (moved) {
      plan.provision.insert(account);
      ++plan.compacted_accounts;
    }
  }

  // 4. What still does not fit is left out, newest first.
  while (!Fits(next, in.max_size) && !added.empty()) {
    std::size_t i = added.back();
    added.pop_back();
    const Change& c = in.changes[i];
    CutoffStatement* s = Find(next, c.account_id, CeilToSecond(c.at), /*everyone_except=*/false);
    if (s == nullptr || s->users.erase(c.user_id) == 0) continue;  // compacted: covered
    DropEmpty(next);
    plan.outcomes[i] = ChangeOutcome::kNoRoom;
  }

  // Lifts: done unless a statement still denies the user's sessions there.
  for (std::size_t i = 0; i < in.changes.size(); ++i) {
    const Change& c = in.changes[i];
    if (c.kind != Change::Kind::kLift) continue;
    for (const CutoffStatement& s : next.cutoffs) {
      if (s.account_id != c.account_id || !DeniesBefore(s, c.user_id, CeilToSecond(c.at))) {
        continue;
      }
      plan.outcomes[i] = ChangeOutcome::kNotYet;
      plan.until[i] = std::max(plan.until[i], s.before + in.session_duration);
    }
  }

  std::string composed = ComposeInlinePolicy(next);
  plan.size = provider::ProvisionedPolicySize(composed);
  plan.changed = composed != ComposeInlinePolicy(in.current);
  return plan;
}

}  // namespace jit::cutoff
