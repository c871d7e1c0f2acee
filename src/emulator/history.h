#pragma once
// The emulator's record of assignment operations: every CreateAccountAssignment and
// DeleteAccountAssignment it accepted, when and how each ended, and what it did to the set of
// assignments. It is the ground truth that cross-process tests (tests/crash, tests/fault)
// compare a broker's own bookkeeping with: "no grant applied twice" (each assignment that
// appeared was created once, by one recorded grant), "no assignment alive past its expiry"
// (when it disappeared). Internal to jit_emulator; served by GET /_emulator/history.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "core/clock.h"

namespace jit::emulator {

// Events kept at most; older ones are dropped (and counted). The per-assignment counts are
// never dropped.
inline constexpr std::size_t kMaxHistoryEvents = 200000;

// Not thread-safe: Service calls it under its own mutex.
class AssignmentHistory {
 public:
  // (account id, permission set ARN, principal type, principal id), as Service keys them.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;

  explicit AssignmentHistory(std::size_t max_events = kMaxHistoryEvents)
      : max_events_(max_events) {}

  // A create (or delete) was accepted at `at` with request id `request_id` (IN_PROGRESS).
  void Accepted(bool create, const Key& key, const std::string& request_id, Time at);
  // That operation ended at `at`: SUCCEEDED (`succeeded`) or FAILED. `changed`: the assignment
  // was added (create) or removed (delete) then; false when it was there already (create) or
  // gone already (delete), and always false for FAILED.
  void Settled(bool create, const Key& key, const std::string& request_id, Time at, bool succeeded,
               bool changed);
  // Forgets everything (POST /_emulator/reset).
  void Clear();

  // {"events": [...], "triples": [...], "dropped": n, "last_seq": n}:
  //   events, oldest first, those with seq > after_seq: {"seq", "at_ms" (Unix milliseconds),
  //     "operation": "create"|"delete", "phase": "accepted"|"settled", "request_id",
  //     "status": "IN_PROGRESS"|"SUCCEEDED"|"FAILED", "effect": "added"|"removed"|
  //     "present_already"|"absent_already"|"none", "AccountId", "PermissionSetArn",
  //     "PrincipalType", "PrincipalId"};
  //   triples, one per assignment ever named by an operation: its ids and "create_calls",
  //     "creates_succeeded", "creates_failed", "added", "delete_calls", "deletes_succeeded",
  //     "deletes_failed", "removed";
  //   dropped: events no longer kept (kMaxHistoryEvents).
  nlohmann::json ToJson(std::int64_t after_seq = 0) const;
  // Just the "triples" array.
  nlohmann::json Counts() const;
  // Whether `key` was assigned at `t`, given whether it is now (`held_now`): the additions and
  // removals recorded after `t` undone, newest first. As far back as the kept events reach;
  // before that, assignments are taken as they were at the oldest kept event.
  bool HeldAt(const Key& key, Time t, bool held_now) const;

 private:
  struct Event {
    std::int64_t seq = 0;
    Time at;
    bool create = true;
    bool settled = false;
    std::string request_id;
    std::string status;
    std::string effect;
    Key key;
  };
  struct Counters {
    std::int64_t create_calls = 0;
    std::int64_t creates_succeeded = 0;
    std::int64_t creates_failed = 0;
    std::int64_t added = 0;
    std::int64_t delete_calls = 0;
    std::int64_t deletes_succeeded = 0;
    std::int64_t deletes_failed = 0;
    std::int64_t removed = 0;
  };

  void Push(Event e);

  const std::size_t max_events_;
  std::deque<Event> events_;
  std::map<Key, Counters> counts_;
  std::int64_t next_seq_ = 1;
  std::int64_t dropped_ = 0;
};

}  // namespace jit::emulator
