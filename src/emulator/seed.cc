// The seed (DefaultSeed, its validation, the JSON file) and the Faults settings.

#include <cmath>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "core/duration.h"
#include "emulator/emulator.h"
#include "emulator/patterns.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

constexpr char kInstanceId[] = "ssoins-1111111111111111";

std::string PermissionSetArn(std::string_view ps_id) {
  return std::string("arn:aws:sso:::permissionSet/") + kInstanceId + "/" + std::string(ps_id);
}

Status CheckPattern(const std::string& where, const std::string& value, const Pattern& pattern) {
  if (pattern.matches(value)) return OkStatus();
  return InvalidArgumentError(where + " \"" + value + "\" does not match " +
                              std::string(pattern.name));
}

// The seed's JSON readers: `where` names the member in error messages ("users[1].emails").
Status ReadString(const json& obj, const char* key, const std::string& where, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  if (!it->is_string()) return InvalidArgumentError(where + "." + key + " must be a string");
  out = it->get<std::string>();
  return OkStatus();
}

Status ReadStrings(const json& obj, const char* key, const std::string& where,
                   std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  if (!it->is_array()) return InvalidArgumentError(where + "." + key + " must be an array");
  out.clear();
  for (const json& v : *it) {
    if (!v.is_string()) return InvalidArgumentError(where + "." + key + " must hold strings");
    out.push_back(v.get<std::string>());
  }
  return OkStatus();
}

// Calls `read(element, "member[i]")` for each object of the array `obj[key]`.
template <typename Fn>
Status ForEachObject(const json& obj, const char* key, Fn read) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  if (!it->is_array()) return InvalidArgumentError(std::string(key) + " must be an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    if (!(*it)[i].is_object()) return InvalidArgumentError(where + " must be an object");
    JIT_RETURN_IF_ERROR(read((*it)[i], where));
  }
  return OkStatus();
}

Result<Seed> SeedFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("the seed must be a JSON object");
  static const std::set<std::string> kMembers = {"instance", "accounts", "permission_sets",
                                                 "users",    "groups",   "assignments"};
  for (const auto& [key, value] : j.items()) {
    if (!kMembers.count(key)) return InvalidArgumentError("unknown seed member \"" + key + "\"");
  }
  Seed seed;
  seed.accounts.clear();
  seed.permission_sets.clear();
  seed.users.clear();
  seed.groups.clear();
  if (auto it = j.find("instance"); it != j.end()) {
    if (!it->is_object()) return InvalidArgumentError("instance must be an object");
    JIT_RETURN_IF_ERROR(ReadString(*it, "arn", "instance", seed.instance.arn));
    JIT_RETURN_IF_ERROR(
        ReadString(*it, "identity_store_id", "instance", seed.instance.identity_store_id));
    JIT_RETURN_IF_ERROR(
        ReadString(*it, "owner_account_id", "instance", seed.instance.owner_account_id));
    JIT_RETURN_IF_ERROR(ReadString(*it, "name", "instance", seed.instance.name));
  }
  auto read_accounts = [&](const json& o, const std::string& w) {
    SeedAccount a;
    JIT_RETURN_IF_ERROR(ReadString(o, "id", w, a.id));
    JIT_RETURN_IF_ERROR(ReadString(o, "name", w, a.name));
    seed.accounts.push_back(std::move(a));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(j, "accounts", read_accounts));
  auto read_permission_sets = [&](const json& o, const std::string& w) {
    SeedPermissionSet p;
    JIT_RETURN_IF_ERROR(ReadString(o, "name", w, p.name));
    JIT_RETURN_IF_ERROR(ReadString(o, "arn", w, p.arn));
    JIT_RETURN_IF_ERROR(ReadString(o, "description", w, p.description));
    JIT_RETURN_IF_ERROR(ReadString(o, "session_duration", w, p.session_duration));
    JIT_RETURN_IF_ERROR(ReadString(o, "relay_state", w, p.relay_state));
    seed.permission_sets.push_back(std::move(p));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(j, "permission_sets", read_permission_sets));
  auto read_users = [&](const json& o, const std::string& w) {
    SeedUser u;
    JIT_RETURN_IF_ERROR(ReadString(o, "user_name", w, u.user_name));
    JIT_RETURN_IF_ERROR(ReadString(o, "user_id", w, u.user_id));
    JIT_RETURN_IF_ERROR(ReadString(o, "display_name", w, u.display_name));
    JIT_RETURN_IF_ERROR(ReadStrings(o, "emails", w, u.emails));
    seed.users.push_back(std::move(u));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(j, "users", read_users));
  auto read_groups = [&](const json& o, const std::string& w) {
    SeedGroup g;
    JIT_RETURN_IF_ERROR(ReadString(o, "display_name", w, g.display_name));
    JIT_RETURN_IF_ERROR(ReadString(o, "group_id", w, g.group_id));
    JIT_RETURN_IF_ERROR(ReadStrings(o, "members", w, g.members));
    seed.groups.push_back(std::move(g));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(j, "groups", read_groups));
  auto read_assignments = [&](const json& o, const std::string& w) {
    SeedAssignment a;
    JIT_RETURN_IF_ERROR(ReadString(o, "account_id", w, a.account_id));
    JIT_RETURN_IF_ERROR(ReadString(o, "permission_set_arn", w, a.permission_set_arn));
    JIT_RETURN_IF_ERROR(ReadString(o, "principal_type", w, a.principal_type));
    JIT_RETURN_IF_ERROR(ReadString(o, "principal_id", w, a.principal_id));
    seed.assignments.push_back(std::move(a));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(j, "assignments", read_assignments));
  JIT_RETURN_IF_ERROR(seed.Validate());
  return seed;
}

bool IsRate(double r) { return std::isfinite(r) && r >= 0 && r <= 1; }

}  // namespace

Status Seed::Validate() const {
  JIT_RETURN_IF_ERROR(CheckPattern("instance.arn", instance.arn, kInstanceArn));
  JIT_RETURN_IF_ERROR(
      CheckPattern("instance.identity_store_id", instance.identity_store_id, kIdentityStoreId));
  JIT_RETURN_IF_ERROR(
      CheckPattern("instance.owner_account_id", instance.owner_account_id, kAccountId));
  std::set<std::string> seen;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    std::string where = "accounts[" + std::to_string(i) + "].id";
    JIT_RETURN_IF_ERROR(CheckPattern(where, accounts[i].id, kAccountId));
    if (!seen.insert(accounts[i].id).second) {
      return InvalidArgumentError(where + " \"" + accounts[i].id + "\" appears twice");
    }
  }
  seen.clear();
  for (std::size_t i = 0; i < permission_sets.size(); ++i) {
    const SeedPermissionSet& p = permission_sets[i];
    std::string where = "permission_sets[" + std::to_string(i) + "]";
    if (p.name.empty() || p.name.size() > 32) {
      return InvalidArgumentError(where + ".name must have 1 to 32 characters");
    }
    JIT_RETURN_IF_ERROR(CheckPattern(where + ".arn", p.arn, kPermissionSetArn));
    if (InstanceIdOf(p.arn) != InstanceIdOf(instance.arn)) {
      return InvalidArgumentError(where + ".arn \"" + p.arn + "\" belongs to another instance");
    }
    // Only the syntax: a seed may hold durations AWS refuses on the wire (tests use PT20S).
    Result<Duration> duration = ParseIsoDuration(p.session_duration);
    if (p.session_duration.rfind("PT", 0) != 0 || !duration.has_value() ||
        *duration <= Duration::zero()) {
      return InvalidArgumentError(where + ".session_duration must be ISO-8601 like PT1H");
    }
    if (!seen.insert(p.arn).second || !seen.insert("name:" + p.name).second) {
      return InvalidArgumentError(where + " repeats an earlier name or ARN");
    }
  }
  seen.clear();
  std::set<std::string> user_ids;
  std::set<std::string> user_names;
  for (std::size_t i = 0; i < users.size(); ++i) {
    const SeedUser& u = users[i];
    std::string where = "users[" + std::to_string(i) + "]";
    if (u.user_name.empty() || u.user_name.size() > 128) {
      return InvalidArgumentError(where + ".user_name must have 1 to 128 characters");
    }
    JIT_RETURN_IF_ERROR(CheckPattern(where + ".user_id", u.user_id, kPrincipalId));
    if (!user_ids.insert(u.user_id).second || !user_names.insert(u.user_name).second) {
      return InvalidArgumentError(where + " repeats an earlier user_name or user_id");
    }
  }
  std::set<std::string> group_ids;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const SeedGroup& g = groups[i];
    std::string where = "groups[" + std::to_string(i) + "]";
    if (g.display_name.empty()) return InvalidArgumentError(where + ".display_name is empty");
    JIT_RETURN_IF_ERROR(CheckPattern(where + ".group_id", g.group_id, kPrincipalId));
    if (!group_ids.insert(g.group_id).second || user_ids.count(g.group_id) ||
        !seen.insert(g.display_name).second) {
      return InvalidArgumentError(where + " repeats an earlier display_name or id");
    }
    for (const std::string& m : g.members) {
      if (!user_names.count(m) && !user_ids.count(m)) {
        return InvalidArgumentError(where + ".members names no seed user: \"" + m + "\"");
      }
    }
  }
  for (std::size_t i = 0; i < assignments.size(); ++i) {
    const SeedAssignment& a = assignments[i];
    std::string where = "assignments[" + std::to_string(i) + "]";
    bool account = false;
    for (const SeedAccount& acc : accounts) account = account || acc.id == a.account_id;
    bool ps = false;
    for (const SeedPermissionSet& p : permission_sets) ps = ps || p.arn == a.permission_set_arn;
    bool principal = (a.principal_type == "USER" && user_ids.count(a.principal_id)) ||
                     (a.principal_type == "GROUP" && group_ids.count(a.principal_id));
    if (!account) return InvalidArgumentError(where + ".account_id names no seed account");
    if (!ps) return InvalidArgumentError(where + ".permission_set_arn names no seed set");
    if (!principal) {
      return InvalidArgumentError(where + ": principal_type USER or GROUP with the id of one");
    }
  }
  return OkStatus();
}

Seed DefaultSeed() {
  Seed seed;
  seed.accounts = {{"111111111111", "sandbox"}, {"222222222222", "prod"}};
  seed.permission_sets = {
      {"ReadOnly", PermissionSetArn("ps-1111111111111111"), "Read-only access", "PT1H", ""},
      {"Admin", PermissionSetArn("ps-2222222222222222"), "Administrator access", "PT1H", ""},
      {"BreakGlass", PermissionSetArn("ps-3333333333333333"), "Emergency administrator access",
       "PT1H", ""},
  };
  // The ids of auth::DevUsers() (src/auth/auth.cc).
  seed.users = {
      {"alice", "a11ce000-0000-4000-8000-000000000001", "Alice", {"alice@example.com"}},
      {"bob", "b0b00000-0000-4000-8000-000000000002", "Bob", {"bob@example.com"}},
      {"carol", "ca401000-0000-4000-8000-000000000003", "Carol", {"carol@example.com"}},
  };
  seed.groups = {
      {"engineers", "e0000000-0000-4000-8000-000000000011", {"alice"}},
      {"approvers", "a0000000-0000-4000-8000-000000000012", {"bob", "carol"}},
      {"sre", "5e000000-0000-4000-8000-000000000013", {"carol"}},
      {"admins", "ad000000-0000-4000-8000-000000000014", {"carol"}},
  };
  return seed;
}

Result<Seed> ParseSeed(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("the seed is not valid JSON");
  try {
    return SeedFromJson(j);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("bad seed: ") + e.what());
  }
}

Result<Seed> LoadSeed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read seed file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Result<Seed> seed = ParseSeed(text.str());
  if (!seed.has_value()) return seed.error().WithContext(path);
  return seed;
}

Status Faults::Validate() const {
  if (!IsRate(throttle_rate)) return InvalidArgumentError("throttle_rate must be from 0 to 1");
  if (!IsRate(server_error_rate)) {
    return InvalidArgumentError("server_error_rate must be from 0 to 1");
  }
  if (!IsRate(failed_rate)) return InvalidArgumentError("failed_rate must be from 0 to 1");
  if (latency < Duration::zero() || latency > std::chrono::minutes(1)) {
    return InvalidArgumentError("latency must be from 0 to 60 s");
  }
  return OkStatus();
}

json FaultsToJson(const Faults& f) {
  return {{"throttle_rate", f.throttle_rate}, {"server_error_rate", f.server_error_rate},
          {"latency_ms", f.latency.count()},  {"failed_rate", f.failed_rate},
          {"conflicts", f.conflicts},         {"seed", f.seed}};
}

Result<Faults> FaultsFromJson(const json& j, const Faults& base) {
  if (!j.is_object()) return InvalidArgumentError("faults must be a JSON object");
  Faults f = base;
  for (const auto& [key, value] : j.items()) {
    if (key == "throttle_rate" || key == "server_error_rate" || key == "failed_rate") {
      if (!value.is_number()) return InvalidArgumentError(key + " must be a number");
      double rate = value.get<double>();
      if (key == "throttle_rate") f.throttle_rate = rate;
      if (key == "server_error_rate") f.server_error_rate = rate;
      if (key == "failed_rate") f.failed_rate = rate;
    } else if (key == "latency_ms") {
      if (!value.is_number_integer()) return InvalidArgumentError("latency_ms must be an integer");
      f.latency = Duration(value.get<std::int64_t>());
    } else if (key == "conflicts") {
      if (!value.is_boolean()) return InvalidArgumentError("conflicts must be true or false");
      f.conflicts = value.get<bool>();
    } else if (key == "seed") {
      if (!value.is_number_unsigned()) {
        return InvalidArgumentError("seed must be a non-negative integer");
      }
      f.seed = value.get<std::uint64_t>();
    } else {
      return InvalidArgumentError("unknown faults member \"" + key + "\"");
    }
  }
  JIT_RETURN_IF_ERROR(f.Validate());
  return f;
}

}  // namespace jit::emulator
