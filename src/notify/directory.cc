#include "notify/directory.h"

#include <algorithm>

namespace jit::notify {

Result<std::vector<Person>> ApproversToAsk(const model::Request& r, Directory& directory) {
  // What waits for approval: the request while pending, else an active grant's extension. A
  // delivery runs after the step that made it, on the request as it is now: once nothing waits
  // (it was decided in the meantime), nobody is asked.
  const std::vector<model::Approval>* answered = nullptr;
  if (r.state == model::RequestState::kPending) {
    answered = &r.approvals;
  } else if (r.state == model::RequestState::kActive && r.extension) {
    answered = &r.extension->approvals;
  }
  if (answered == nullptr || (r.approver_users.empty() && r.approver_groups.empty())) {
    return std::vector<Person>{};
  }
  JIT_ASSIGN_OR_RETURN(std::vector<Person> people,
                       directory.People(r.approver_users, r.approver_groups));
  std::erase_if(people, [&](const Person& p) {
    if (p.username == r.requester) return true;
    if (!r.principal_id.empty() && p.user_id == r.principal_id) return true;
    return std::any_of(answered->begin(), answered->end(),
                       [&](const model::Approval& a) { return a.approver == p.username; });
  });
  return people;
}

}  // namespace jit::notify
