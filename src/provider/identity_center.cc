#include "provider/identity_center.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <set>
#include <utility>

#include "aws/names.h"
#include "core/mutex.h"
#include "core/strings.h"
#include "provider/wire.h"

namespace jit::provider {
namespace {

using json = nlohmann::json;

// Deletes remembered for RevokeStatus, and ended creates for GrantStatus; beyond this the oldest
// are forgotten (deletes only help to tell "already gone" from a real failure; a forgotten end
// is asked for again).
constexpr std::size_t kMaxTrackedDeletes = 10000;

using wire::Malformed;
using wire::Paginate;

}  // namespace

// ---- Options and helpers ---------------------------------------------------------------------

Status IdentityCenterOptions::Validate() const {
  if (!aws::IsInstanceArn(instance_arn)) {
    return InvalidArgumentError("instance_arn '" + instance_arn +
                                "' is not an Identity Center instance ARN");
  }
  if (!aws::IsIdentityStoreId(identity_store_id)) {
    return InvalidArgumentError("identity_store_id '" + identity_store_id +
                                "' is not an identity store id");
  }
  if (user_cache_ttl.count() < 0)
    return InvalidArgumentError("user_cache_ttl must not be negative");
  if (max_create_hold.count() <= 0) return InvalidArgumentError("max_create_hold must be positive");
  if (page_size < 1 || page_size > 100) return InvalidArgumentError("page_size must be 1..100");
  if (max_creates_in_flight < 1) {
    return InvalidArgumentError("max_creates_in_flight must be at least 1");
  }
  if (create_wait.count() <= 0) return InvalidArgumentError("create_wait must be positive");
  return OkStatus();
}

aws::ServiceSpec SsoAdminSpec(std::string endpoint, std::string region) {
  return {std::move(endpoint), std::move(region), "sso", "SWBExternalService"};
}

aws::ServiceSpec IdentityStoreSpec(std::string endpoint, std::string region) {
  return {std::move(endpoint), std::move(region), "identitystore", "AWSIdentityStore"};
}

// ---- Create slots ----------------------------------------------------------------------------

struct IdentityCenterProvider::CreateSlots {
  CreateSlots(aws::Limiter& l, int max_in_flight) : limiter(l), max(max_in_flight) {}

  // Waits until fewer than `max` creates are reserved or held, reserves one and takes the
  // limiter's create slot. While all are taken, one waiter at a time calls `look` (which polls
  // the oldest create, giving its slot back if it has ended) every `wait`: the jobs that would
  // poll them may all be stuck right here, waiting for a slot.
  void Reserve(const std::function<void(const std::string&)>& look, Duration wait) {
    {
      MutexLock lock(&mu);
      while (used >= max) {
        if (!looking && !held.empty()) {
          looking = true;
          std::string oldest = Oldest();
          mu.Unlock();
          look(oldest);
          mu.Lock();
          looking = false;
          if (used < max) break;
        }
        cv.WaitFor(mu, wait);
      }
      ++used;
    }
    limiter.AcquireCreate();
  }
  // Gives back a reservation that did not become a tracked create.
  void Unreserve() {
    {
      MutexLock lock(&mu);
      --used;
    }
    cv.SignalAll();
    limiter.ReleaseCreate();
  }
  // Turns a reservation into a tracked create. False when that request is tracked already (the
  // caller then gives its reservation back).
  bool Track(const std::string& id, MonoTime now) {
    MutexLock lock(&mu);
    return held.emplace(id, Held{0, now}).second;
  }
  // Records the give-back timer of a tracked create. False when it is no longer tracked.
  bool SetTimer(const std::string& id, TimerId timer) {
    MutexLock lock(&mu);
    auto it = held.find(id);
    if (it == held.end()) return false;
    it->second.timer = timer;
    return true;
  }
  // Gives back the slot of `id` if it is held. Returns whether it was, and its timer (0 when
  // none was armed) through `timer`.
  bool Release(const std::string& id, TimerId* timer = nullptr) {
    {
      MutexLock lock(&mu);
      auto it = held.find(id);
      if (it == held.end()) return false;
      if (timer != nullptr) *timer = it->second.timer;
      held.erase(it);
      --used;
    }
    cv.SignalAll();
    limiter.ReleaseCreate();
    return true;
  }
  int Count() {
    MutexLock lock(&mu);
    return static_cast<int>(held.size());
  }
  // REQUIRES: !held.empty().
  std::string Oldest() const REQUIRES(mu) {
    auto best = held.begin();
    for (auto it = held.begin(); it != held.end(); ++it) {
      if (it->second.since < best->second.since) best = it;
    }
    return best->first;
  }

  struct Held {
    TimerId timer = 0;  // gives the slot back at the latest
    MonoTime since;
  };

  aws::Limiter& limiter;
  const int max;
  Mutex mu;
  CondVar cv;
  std::map<std::string, Held> held GUARDED_BY(mu);  // request id -> its slot
  int used GUARDED_BY(mu) = 0;                      // held + reserved
  bool looking GUARDED_BY(mu) = false;              // a waiter is polling the oldest
};

// ---- The provider ----------------------------------------------------------------------------

IdentityCenterProvider::IdentityCenterProvider(IdentityCenterOptions options,
                                               aws::JsonClient& sso_admin,
                                               aws::JsonClient& identity_store,
                                               aws::Limiter& limiter, Clock& clock)
    : options_(std::move(options)),
      sso_admin_(sso_admin),
      identity_store_(identity_store),
      clock_(clock),
      slots_(std::make_shared<CreateSlots>(limiter, options_.max_creates_in_flight)) {
  JIT_CHECK(options_.Validate().ok());
}

IdentityCenterProvider::~IdentityCenterProvider() {
  std::map<std::string, CreateSlots::Held> held;
  {
    MutexLock lock(&slots_->mu);
    held = slots_->held;
  }
  for (const auto& [id, h] : held) {
    if (h.timer != 0) clock_.Cancel(h.timer);
    slots_->Release(id);  // a timer that fired meanwhile released it already: no double release
  }
}

Result<Operation> IdentityCenterProvider::ParseOperation(const json& answer, const char* field) {
  return wire::OperationStatus(answer, field);
}

Result<Operation> IdentityCenterProvider::Grant(const Assignment& a) {
  json body = {{"InstanceArn", options_.instance_arn},
               {"TargetId", a.account_id},
               {"TargetType", "AWS_ACCOUNT"},
               {"PermissionSetArn", a.permission_set_arn},
               {"PrincipalType", "USER"},
               {"PrincipalId", a.principal_id}};
  slots_->Reserve(
      [this](const std::string& oldest) {
        // Gives the slot back if the create has ended, and keeps the end for the job that
        // will poll it, so that it costs no second call.
        Result<Operation> op = GrantStatus(oldest);
        if (op.has_value() && op->state != OperationState::kInProgress) {
          MutexLock lock(&mu_);
          if (settled_creates_.size() >= kMaxTrackedDeletes) {
            settled_creates_.erase(settled_creates_.begin());
          }
          settled_creates_[oldest] = *op;
        }
      },
      options_.create_wait);
  Result<json> answer = sso_admin_.Call("CreateAccountAssignment", body);
  Result<Operation> op = answer.has_value()
                             ? ParseOperation(*answer, "AccountAssignmentCreationStatus")
                             : Result<Operation>(answer.error());
  if (!op.has_value() || op->state != OperationState::kInProgress) {
    // Refused, or settled at once: nothing is outstanding. (A call that timed out may still
    // have reached AWS; without its request id it cannot be tracked, and AWS ends it anyway.)
    slots_->Unreserve();
    return op;
  }
  // Outstanding: keep the slot until GrantStatus sees the end, or max_create_hold at the latest.
  std::string id = op->id;
  if (!slots_->Track(id, clock_.MonoNow())) {
    slots_->Unreserve();  // the same request is tracked (and holds a slot) already
    return op;
  }
  std::weak_ptr<CreateSlots> weak = slots_;
  TimerId timer = clock_.ScheduleAt(clock_.Now() + options_.max_create_hold, [weak, id] {
    if (auto slots = weak.lock()) {
      if (slots->Release(id)) {
        spdlog::warn("create {} was not polled to its end; giving its create slot back", id);
      }
    }
  });
  if (!slots_->SetTimer(id, timer)) clock_.Cancel(timer);  // already given back meanwhile
  return op;
}

Result<Operation> IdentityCenterProvider::GrantStatus(const std::string& operation_id) {
  {
    MutexLock lock(&mu_);
    auto it = settled_creates_.find(operation_id);
    if (it != settled_creates_.end()) {
      Operation op = std::move(it->second);
      settled_creates_.erase(it);
      return op;
    }
  }
  Result<json> answer = sso_admin_.Call("DescribeAccountAssignmentCreationStatus",
                                        {{"InstanceArn", options_.instance_arn},
                                         {"AccountAssignmentCreationRequestId", operation_id}});
  if (!answer.has_value()) {
    if (answer.error().code() == StatusCode::kNotFound) {
      ReleaseSlot(operation_id);
    }
    return answer.error();
  }
  Result<Operation> op = ParseOperation(*answer, "AccountAssignmentCreationStatus");
  if (op.has_value() && op->state != OperationState::kInProgress) {
    ReleaseSlot(operation_id);
  }
  if (op.has_value() && op->id.empty()) op->id = operation_id;
  return op;
}

Result<Operation> IdentityCenterProvider::Revoke(const Assignment& a) {
  json body = {{"InstanceArn", options_.instance_arn},
               {"TargetId", a.account_id},
               {"TargetType", "AWS_ACCOUNT"},
               {"PermissionSetArn", a.permission_set_arn},
               {"PrincipalType", "USER"},
               {"PrincipalId", a.principal_id}};
  Result<json> answer = sso_admin_.Call("DeleteAccountAssignment", body);
  if (!answer.has_value()) {
    // The contract: deleting what does not exist succeeds.
    if (answer.error().code() == StatusCode::kNotFound) {
      return Operation{"", OperationState::kSucceeded, ""};
    }
    return answer.error();
  }
  Result<Operation> op = ParseOperation(*answer, "AccountAssignmentDeletionStatus");
  if (op.has_value() && op->state == OperationState::kInProgress) {
    MutexLock lock(&mu_);
    if (deletes_.size() >= kMaxTrackedDeletes) deletes_.erase(deletes_.begin());
    deletes_[op->id] = a;
  }
  return op;
}

Result<Operation> IdentityCenterProvider::RevokeStatus(const std::string& operation_id) {
  Result<json> answer = sso_admin_.Call("DescribeAccountAssignmentDeletionStatus",
                                        {{"InstanceArn", options_.instance_arn},
                                         {"AccountAssignmentDeletionRequestId", operation_id}});
  if (!answer.has_value()) return answer.error();
  Result<Operation> op = ParseOperation(*answer, "AccountAssignmentDeletionStatus");
  if (!op.has_value()) return op;
  if (op->id.empty()) op->id = operation_id;
  if (op->state == OperationState::kInProgress) return op;

  std::optional<Assignment> target;
  {
    MutexLock lock(&mu_);
    auto it = deletes_.find(operation_id);
    if (it != deletes_.end()) {
      target = it->second;
      deletes_.erase(it);
    }
  }
  if (op->state == OperationState::kFailed && target) {
    // A delete can fail because the assignment is gone already; what matters is that it is.
    auto listed = ListAssignments(target->account_id, target->permission_set_arn);
    if (listed.has_value() && std::find(listed->begin(), listed->end(), *target) == listed->end()) {
      op->state = OperationState::kSucceeded;
      op->failure_reason.clear();
    }
  }
  return op;
}

Result<std::vector<Assignment>> IdentityCenterProvider::ListAssignments(
    const std::string& account_id, const std::string& permission_set_arn) {
  Result<std::vector<PrincipalAssignment>> all = ListAllAssignments(account_id, permission_set_arn);
  if (!all.has_value()) return all.error();
  std::vector<Assignment> out;
  for (PrincipalAssignment& p : *all) {
    if (p.principal_type != PrincipalType::kUser) continue;  // groups are not ours
    out.push_back(
        {std::move(p.principal_id), std::move(p.account_id), std::move(p.permission_set_arn)});
  }
  return out;
}

Result<std::vector<PrincipalAssignment>> IdentityCenterProvider::ListAllAssignments(
    const std::string& account_id, const std::string& permission_set_arn) {
  std::vector<PrincipalAssignment> out;
  json body = {{"InstanceArn", options_.instance_arn},
               {"AccountId", account_id},
               {"PermissionSetArn", permission_set_arn},
               {"MaxResults", options_.page_size}};
  Status s = Paginate(sso_admin_, "ListAccountAssignments", body, [&](const json& page) {
    auto it = page.find("AccountAssignments");
    if (it == page.end() || it->is_null()) return OkStatus();
    if (!it->is_array()) return Malformed("ListAccountAssignments", "AccountAssignments");
    for (const json& item : *it) {
      PrincipalAssignment a;
      std::string type = wire::String(item, "PrincipalType");
      if (type == "USER") {
        a.principal_type = PrincipalType::kUser;
      } else if (type == "GROUP") {
        a.principal_type = PrincipalType::kGroup;
      } else {
        continue;  // a principal type jit does not know: neither ours nor a person's
      }
      a.principal_id = wire::String(item, "PrincipalId");
      a.account_id = wire::String(item, "AccountId");
      a.permission_set_arn = wire::String(item, "PermissionSetArn");
      if (a.account_id.empty()) a.account_id = account_id;
      if (a.permission_set_arn.empty()) a.permission_set_arn = permission_set_arn;
      if (a.principal_id.empty()) continue;
      out.push_back(std::move(a));
    }
    return OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::string> IdentityCenterProvider::PrincipalName(PrincipalType type,
                                                          const std::string& id) {
  if (type == PrincipalType::kUser) {
    Result<DirectoryUser> u = DescribeUser(id);
    if (!u.has_value()) return u.error();
    return u->user_name;
  }
  if (id.empty() || id.size() > 47) {
    return InvalidArgumentError("'" + id + "' is not an identity store group id");
  }
  if (std::optional<std::string> name = Fresh(&IdentityCenterProvider::group_display_, id)) {
    return *name;
  }
  Result<json> answer = identity_store_.Call(
      "DescribeGroup", {{"IdentityStoreId", options_.identity_store_id}, {"GroupId", id}});
  if (!answer.has_value()) return answer.error();
  std::string name = wire::String(*answer, "DisplayName");
  if (name.empty()) return Malformed("DescribeGroup", "no DisplayName");
  Remember(&IdentityCenterProvider::group_display_, id, name);
  return name;
}

Result<std::string> IdentityCenterProvider::UserId(const std::string& username) {
  if (username.empty() || username.size() > 128) {
    return InvalidArgumentError("'" + username + "' is not a username Identity Center can hold");
  }
  MonoTime now = clock_.MonoNow();
  if (options_.user_cache_ttl.count() > 0) {
    MutexLock lock(&mu_);
    auto it = users_.find(username);
    if (it != users_.end() && now - it->second.fetched < options_.user_cache_ttl) {
      return it->second.user_id;
    }
  }
  json body = {
      {"IdentityStoreId", options_.identity_store_id},
      {"AlternateIdentifier",
       {{"UniqueAttribute", {{"AttributePath", "userName"}, {"AttributeValue", username}}}}}};
  Result<json> answer = identity_store_.Call("GetUserId", body);
  if (!answer.has_value()) {
    if (answer.error().code() == StatusCode::kNotFound) {
      return NotFoundError("user " + username + " is not in the identity store");
    }
    return answer.error();
  }
  std::string id = wire::String(*answer, "UserId");
  if (id.empty()) return Malformed("GetUserId", "no UserId");
  if (options_.user_cache_ttl.count() > 0) {
    MutexLock lock(&mu_);
    users_[username] = CachedUser{id, now};
  }
  return id;
}

template <typename T>
std::optional<T> IdentityCenterProvider::Fresh(
    std::map<std::string, Cached<T>> IdentityCenterProvider::*cache_member,
    const std::string& key) {
  if (options_.directory_cache_ttl.count() <= 0) return std::nullopt;
  MutexLock lock(&mu_);
  const std::map<std::string, Cached<T>>& cache = this->*cache_member;
  auto it = cache.find(key);
  if (it == cache.end() || clock_.MonoNow() - it->second.fetched >= options_.directory_cache_ttl) {
    return std::nullopt;
  }
  return it->second.value;
}

template <typename T>
void IdentityCenterProvider::Remember(
    std::map<std::string, Cached<T>> IdentityCenterProvider::*cache_member, const std::string& key,
    T value) {
  if (options_.directory_cache_ttl.count() <= 0) return;
  MutexLock lock(&mu_);
  std::map<std::string, Cached<T>>& cache = this->*cache_member;
  if (cache.size() >= 10000) cache.clear();  // bounded; a miss only costs a call
  cache[key] = Cached<T>{std::move(value), clock_.MonoNow()};
}

Result<std::string> IdentityCenterProvider::UserIdByEmail(const std::string& email) {
  if (email.empty() || email.size() > 320 || email.find('@') == std::string::npos) {
    return InvalidArgumentError("'" + email + "' is not an e-mail address");
  }
  std::string key = ToLower(email);
  if (std::optional<std::string> id = Fresh(&IdentityCenterProvider::ids_by_email_, key))
    return *id;
  json body = {
      {"IdentityStoreId", options_.identity_store_id},
      {"AlternateIdentifier",
       {{"UniqueAttribute", {{"AttributePath", "emails.value"}, {"AttributeValue", email}}}}}};
  Result<json> answer = identity_store_.Call("GetUserId", body);
  if (!answer.has_value()) {
    if (answer.error().code() == StatusCode::kNotFound) {
      return NotFoundError("no identity store user has the e-mail " + email);
    }
    return answer.error();
  }
  std::string id = wire::String(*answer, "UserId");
  if (id.empty()) return Malformed("GetUserId", "no UserId");
  Remember(&IdentityCenterProvider::ids_by_email_, key, id);
  return id;
}

Result<DirectoryUser> IdentityCenterProvider::DescribeUser(const std::string& user_id) {
  if (user_id.empty() || user_id.size() > 47) {
    return InvalidArgumentError("'" + user_id + "' is not an identity store user id");
  }
  if (std::optional<DirectoryUser> u = Fresh(&IdentityCenterProvider::described_, user_id))
    return *u;
  Result<json> answer = identity_store_.Call(
      "DescribeUser", {{"IdentityStoreId", options_.identity_store_id}, {"UserId", user_id}});
  if (!answer.has_value()) return answer.error();
  DirectoryUser u;
  u.user_id = wire::String(*answer, "UserId");
  if (u.user_id.empty()) u.user_id = user_id;
  u.user_name = wire::String(*answer, "UserName");
  u.display_name = wire::String(*answer, "DisplayName");
  if (u.user_name.empty()) return Malformed("DescribeUser", "no UserName");
  if (auto emails = answer->find("Emails"); emails != answer->end() && emails->is_array()) {
    for (const json& e : *emails) {
      std::string value = wire::String(e, "Value");
      if (value.empty()) continue;
      bool primary = e.is_object() && e.value("Primary", false);
      if (primary) {
        u.emails.insert(u.emails.begin(), value);
      } else {
        u.emails.push_back(value);
      }
    }
  }
  Remember(&IdentityCenterProvider::described_, user_id, u);
  return u;
}

Result<std::vector<std::string>> IdentityCenterProvider::GroupNames(const std::string& user_id) {
  if (user_id.empty() || user_id.size() > 47) {
    return InvalidArgumentError("'" + user_id + "' is not an identity store user id");
  }
  if (std::optional<std::vector<std::string>> g =
          Fresh(&IdentityCenterProvider::group_names_, user_id))
    return *g;
  std::vector<std::string> group_ids;
  Status s = Paginate(identity_store_, "ListGroupMembershipsForMember",
                      {{"IdentityStoreId", options_.identity_store_id},
                       {"MemberId", {{"UserId", user_id}}},
                       {"MaxResults", options_.page_size}},
                      [&](const json& page) {
                        auto it = page.find("GroupMemberships");
                        if (it == page.end() || it->is_null()) return OkStatus();
                        if (!it->is_array()) {
                          return Malformed("ListGroupMembershipsForMember", "GroupMemberships");
                        }
                        for (const json& m : *it) {
                          std::string id = wire::String(m, "GroupId");
                          if (!id.empty()) group_ids.push_back(id);
                        }
                        return OkStatus();
                      });
  if (!s.ok()) return s;
  std::vector<std::string> names;
  for (const std::string& id : group_ids) {
    std::optional<std::string> name = Fresh(&IdentityCenterProvider::group_display_, id);
    if (!name) {
      Result<json> answer = identity_store_.Call(
          "DescribeGroup", {{"IdentityStoreId", options_.identity_store_id}, {"GroupId", id}});
      if (!answer.has_value()) {
        if (answer.error().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
        return answer.error();
      }
      name = wire::String(*answer, "DisplayName");
      if (name->empty()) return Malformed("DescribeGroup", "no DisplayName");
      Remember(&IdentityCenterProvider::group_display_, id, *name);
    }
    names.push_back(*name);
  }
  Remember(&IdentityCenterProvider::group_names_, user_id, names);
  return names;
}

Result<std::vector<PermissionSetInfo>> IdentityCenterProvider::ListPermissionSets() {
  std::vector<std::string> arns;
  Status s = Paginate(sso_admin_, "ListPermissionSets",
                      {{"InstanceArn", options_.instance_arn}, {"MaxResults", options_.page_size}},
                      [&](const json& page) {
                        auto it = page.find("PermissionSets");
                        if (it == page.end() || it->is_null()) return OkStatus();
                        if (!it->is_array()) {
                          return Malformed("ListPermissionSets", "PermissionSets");
                        }
                        for (const json& arn : *it) {
                          if (arn.is_string()) arns.push_back(arn.get<std::string>());
                        }
                        return OkStatus();
                      });
  if (!s.ok()) return s;
  std::vector<PermissionSetInfo> out;
  for (const std::string& arn : arns) {
    JIT_ASSIGN_OR_RETURN(PermissionSetInfo info, DescribePermissionSet(arn));
    out.push_back(std::move(info));
  }
  return out;
}

Result<PermissionSetInfo> IdentityCenterProvider::DescribePermissionSet(const std::string& arn) {
  Result<json> answer = sso_admin_.Call(
      "DescribePermissionSet", {{"InstanceArn", options_.instance_arn}, {"PermissionSetArn", arn}});
  if (!answer.has_value()) return answer.error();
  auto it = answer->find("PermissionSet");
  if (it == answer->end() || !it->is_object()) {
    return Malformed("DescribePermissionSet", "no PermissionSet");
  }
  PermissionSetInfo info;
  info.name = wire::String(*it, "Name");
  info.arn = wire::String(*it, "PermissionSetArn");
  if (info.arn.empty()) info.arn = arn;
  std::string session = wire::String(*it, "SessionDuration");
  if (session.empty()) {
    info.session_duration = std::chrono::hours(1);  // AWS's default
  } else {
    Result<Duration> d = ParseIsoDuration(session);
    if (!d.has_value()) {
      return Malformed("DescribePermissionSet", "SessionDuration " + d.error().message());
    }
    info.session_duration = *d;
  }
  return info;
}

Result<Duration> IdentityCenterProvider::SessionDuration(const std::string& permission_set_arn) {
  JIT_ASSIGN_OR_RETURN(PermissionSetInfo info, DescribePermissionSet(permission_set_arn));
  return info.session_duration;
}

Result<std::string> IdentityCenterProvider::GetInlinePolicy(const std::string& permission_set_arn) {
  Result<json> answer = sso_admin_.Call(
      "GetInlinePolicyForPermissionSet",
      {{"InstanceArn", options_.instance_arn}, {"PermissionSetArn", permission_set_arn}});
  if (!answer.has_value()) return answer.error();
  if (!answer->is_object()) return Malformed("GetInlinePolicyForPermissionSet", "not an object");
  auto it = answer->find("InlinePolicy");
  if (it == answer->end() || it->is_null()) return std::string();  // none
  if (!it->is_string()) return Malformed("GetInlinePolicyForPermissionSet", "InlinePolicy");
  return it->get<std::string>();
}

Status IdentityCenterProvider::PutInlinePolicy(const std::string& permission_set_arn,
                                               const std::string& policy_json) {
  JIT_RETURN_IF_ERROR(ValidateInlinePolicy(policy_json));
  Result<json> answer =
      sso_admin_.Call("PutInlinePolicyToPermissionSet", {{"InstanceArn", options_.instance_arn},
                                                         {"PermissionSetArn", permission_set_arn},
                                                         {"InlinePolicy", policy_json}});
  if (!answer.has_value()) return answer.error();
  return OkStatus();
}

Status IdentityCenterProvider::DeleteInlinePolicy(const std::string& permission_set_arn) {
  Result<json> answer = sso_admin_.Call(
      "DeleteInlinePolicyFromPermissionSet",
      {{"InstanceArn", options_.instance_arn}, {"PermissionSetArn", permission_set_arn}});
  if (!answer.has_value()) return answer.error();
  return OkStatus();
}

Result<Operation> IdentityCenterProvider::ProvisionPermissionSet(
    const std::string& permission_set_arn, const std::string& account_id) {
  json body = {{"InstanceArn", options_.instance_arn}, {"PermissionSetArn", permission_set_arn}};
  if (account_id == kAllProvisionedAccounts) {
    body["TargetType"] = kAllProvisionedAccounts;
  } else {
    body["TargetType"] = "AWS_ACCOUNT";
    body["TargetId"] = account_id;
  }
  Result<json> answer = sso_admin_.Call("ProvisionPermissionSet", body);
  if (!answer.has_value()) return answer.error();
  return ParseOperation(*answer, "PermissionSetProvisioningStatus");
}

Result<Operation> IdentityCenterProvider::ProvisionStatus(const std::string& request_id) {
  Result<json> answer = sso_admin_.Call(
      "DescribePermissionSetProvisioningStatus",
      {{"InstanceArn", options_.instance_arn}, {"ProvisionPermissionSetRequestId", request_id}});
  if (!answer.has_value()) return answer.error();
  Result<Operation> op = ParseOperation(*answer, "PermissionSetProvisioningStatus");
  if (op.has_value() && op->id.empty()) op->id = request_id;
  return op;
}

void IdentityCenterProvider::ReleaseSlot(const std::string& request_id) {
  TimerId timer = 0;
  if (slots_->Release(request_id, &timer) && timer != 0) clock_.Cancel(timer);
}

int IdentityCenterProvider::CreatesInFlight() const { return slots_->Count(); }

}  // namespace jit::provider
