#include "emulator/history.h"

#include <utility>

namespace jit::emulator {
namespace {

using nlohmann::json;

void PutKey(json& out, const AssignmentHistory::Key& key) {
  const auto& [account, ps, type, principal] = key;
  out["AccountId"] = account;
  out["PermissionSetArn"] = ps;
  out["PrincipalType"] = type;
  out["PrincipalId"] = principal;
}

}  // namespace

void AssignmentHistory::Accepted(bool create, const Key& key, const std::string& request_id,
                                 Time at) {
  Counters& c = counts_[key];
  ++(create ? c.create_calls : c.delete_calls);
  Event e;
  e.at = at;
  e.create = create;
  e.request_id = request_id;
  e.status = "IN_PROGRESS";
  e.effect = "none";
  e.key = key;
  Push(std::move(e));
}

bool AssignmentHistory::HeldAt(const Key& key, Time t, bool held_now) const {
  bool held = held_now;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (!it->settled || it->at <= t || it->key != key) continue;
    if (it->effect == "added") held = false;
    if (it->effect == "removed") held = true;
  }
  return held;
}

void AssignmentHistory::Settled(bool create, const Key& key, const std::string& request_id, Time at,
                                bool succeeded, bool changed) {
  Counters& c = counts_[key];
  std::string effect = "none";
  if (!succeeded) {
    ++(create ? c.creates_failed : c.deletes_failed);
  } else if (create) {
    ++c.creates_succeeded;
    if (changed) ++c.added;
    effect = changed ? "added" : "present_already";
  } else {
    ++c.deletes_succeeded;
    if (changed) ++c.removed;
    effect = changed ? "removed" : "absent_already";
  }
  Event e;
  e.at = at;
  e.create = create;
  e.settled = true;
  e.request_id = request_id;
  e.status = succeeded ? "SUCCEEDED" : "FAILED";
  e.effect = std::move(effect);
  e.key = key;
  Push(std::move(e));
}

void AssignmentHistory::Push(Event e) {
  e.seq = next_seq_++;
  events_.push_back(std::move(e));
  while (events_.size() > max_events_) {
    events_.pop_front();
    ++dropped_;
  }
}

void AssignmentHistory::Clear() {
  events_.clear();
  counts_.clear();
  next_seq_ = 1;
  dropped_ = 0;
}

json AssignmentHistory::Counts() const {
  json triples = json::array();
  for (const auto& [key, c] : counts_) {
    json t = json::object();
    PutKey(t, key);
    t["create_calls"] = c.create_calls;
    t["creates_succeeded"] = c.creates_succeeded;
    t["creates_failed"] = c.creates_failed;
    t["added"] = c.added;
    t["delete_calls"] = c.delete_calls;
    t["deletes_succeeded"] = c.deletes_succeeded;
    t["deletes_failed"] = c.deletes_failed;
    t["removed"] = c.removed;
    triples.push_back(std::move(t));
  }
  return triples;
}

json AssignmentHistory::ToJson(std::int64_t after_seq) const {
  json events = json::array();
  for (const Event& e : events_) {
    if (e.seq <= after_seq) continue;
    json j = {{"seq", e.seq},
              {"at_ms", ToUnixMillis(e.at)},
              {"operation", e.create ? "create" : "delete"},
              {"phase", e.settled ? "settled" : "accepted"},
              {"request_id", e.request_id},
              {"status", e.status},
              {"effect", e.effect}};
    PutKey(j, e.key);
    events.push_back(std::move(j));
  }
  return {{"events", std::move(events)},
          {"triples", Counts()},
          {"dropped", dropped_},
          {"last_seq", next_seq_ - 1}};
}

}  // namespace jit::emulator
