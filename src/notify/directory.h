#pragma once
// What notify needs to know of people: the e-mail addresses of a requester (e-mail channels
// with `to_requester`), and the people a request's approver users and groups name (Slack direct
// messages and e-mail to each approver, docs/NOTIFY.md "Approvers by name"). The broker adapts
// Identity Center's identity store to it where it wires the notifier (app/approver_directory.h,
// which caches); notify itself knows no provider.

#include <string>
#include <vector>

#include "core/result.h"
#include "model/request.h"

namespace jit::notify {

// One person of the identity store.
struct Person {
  std::string username;             // the jit username (identity store userName)
  std::string user_id;              // the Identity Center user id
  std::vector<std::string> emails;  // the primary one first; may be empty

  friend bool operator==(const Person&, const Person&) = default;
};

// Thread-safe.
class Directory {
 public:
  virtual ~Directory() = default;
  // The e-mail addresses of the user with this Identity Center user id, the primary one first
  // (empty when the user has none). NotFound: no such user; Unavailable: ask again later.
  virtual Result<std::vector<std::string>> Emails(const std::string& user_id) = 0;
  // The people that `users` (usernames) and `groups` (identity store group display names)
  // name: every named user and every member of every named group, each once, in username
  // order. A user or group the store does not know is left out (a rule may name one that was
  // removed since). Unavailable: the store could not answer now (the notify job retries).
  // Implementations may answer from a cache of a few minutes.
  virtual Result<std::vector<Person>> People(const std::vector<std::string>& users,
                                             const std::vector<std::string>& groups) = 0;
};

// Who is asked about `r` now: the people of its approver users and groups, less the requester
// (nobody approves their own request) and less those who approved already (r.approvals, or the
// pending extension's approvals while one waits): a reminder reaches only those who have not
// answered. Nobody when nothing of `r` waits for approval any more (it was decided since).
// Errors: People's.
Result<std::vector<Person>> ApproversToAsk(const model::Request& r, Directory& directory);

}  // namespace jit::notify
