// The seed (DefaultSeed, its validation, the JSON file) and the Faults settings.

#include <cctype>
#include <cmath>
#include <exception>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "core/duration.h"
#include "emulator/cloudtrail.h"
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

Status ReadStringMap(const json& obj, const char* key, const std::string& where,
                     std::map<std::string, std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  if (!it->is_object()) return InvalidArgumentError(where + "." + key + " must be an object");
  out.clear();
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return InvalidArgumentError(where + "." + key + " must map to strings");
    out[k] = v.get<std::string>();
  }
  return OkStatus();
}

// AWS Organizations' tag limits: at most 50, keys 1-128 characters not starting with "aws:",
// values 0-256.
Status CheckTags(const std::string& where, const std::map<std::string, std::string>& tags) {
  if (tags.size() > 50) return InvalidArgumentError(where + " has more than 50 tags");
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128 || k.rfind("aws:", 0) == 0) {
      return InvalidArgumentError(where + " key \"" + k +
                                  "\" must have 1 to 128 characters and not start with aws:");
    }
    if (v.size() > 256) {
      return InvalidArgumentError(where + " value of \"" + k + "\" is longer than 256 characters");
    }
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

Status ReadOrganization(const json& o, Seed& seed) {
  if (!o.is_object()) return InvalidArgumentError("organization must be an object");
  static const std::set<std::string> kOrgMembers = {"id", "master_account_id", "roots",
                                                    "organizational_units"};
  for (const auto& [key, value] : o.items()) {
    if (!kOrgMembers.count(key)) {
      return InvalidArgumentError("unknown organization member \"" + key + "\"");
    }
  }
  SeedOrganization org;
  JIT_RETURN_IF_ERROR(ReadString(o, "id", "organization", org.id));
  JIT_RETURN_IF_ERROR(ReadString(o, "master_account_id", "organization", org.master_account_id));
  auto read_root = [&](const json& r, const std::string& w) {
    SeedRoot root;
    JIT_RETURN_IF_ERROR(ReadString(r, "id", "organization." + w, root.id));
    JIT_RETURN_IF_ERROR(ReadString(r, "name", "organization." + w, root.name));
    org.roots.push_back(std::move(root));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(o, "roots", read_root));
  auto read_unit = [&](const json& u, const std::string& w) {
    SeedOrganizationalUnit ou;
    std::string where = "organization." + w;
    JIT_RETURN_IF_ERROR(ReadString(u, "id", where, ou.id));
    JIT_RETURN_IF_ERROR(ReadString(u, "name", where, ou.name));
    JIT_RETURN_IF_ERROR(ReadString(u, "parent_id", where, ou.parent_id));
    JIT_RETURN_IF_ERROR(ReadStringMap(u, "tags", where, ou.tags));
    org.organizational_units.push_back(std::move(ou));
    return OkStatus();
  };
  JIT_RETURN_IF_ERROR(ForEachObject(o, "organizational_units", read_unit));
  seed.organization = std::move(org);
  return OkStatus();
}

Result<Seed> SeedFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("the seed must be a JSON object");
  static const std::set<std::string> kMembers = {
      "instance", "accounts",    "permission_sets", "users",
      "groups",   "assignments", "organization",    "cloudtrail_events"};
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
    JIT_RETURN_IF_ERROR(ReadString(o, "parent_id", w, a.parent_id));
    JIT_RETURN_IF_ERROR(ReadString(o, "status", w, a.status));
    JIT_RETURN_IF_ERROR(ReadStringMap(o, "tags", w, a.tags));
    JIT_RETURN_IF_ERROR(ReadString(o, "email", w, a.email));
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
  if (auto it = j.find("organization"); it != j.end() && !it->is_null()) {
    JIT_RETURN_IF_ERROR(ReadOrganization(*it, seed));
  }
  if (auto it = j.find("cloudtrail_events"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgumentError("cloudtrail_events must be an array");
    seed.cloudtrail_events = *it;
  }
  JIT_RETURN_IF_ERROR(seed.Validate());
  return seed;
}

bool IsRate(double r) { return std::isfinite(r) && r >= 0 && r <= 1; }

// [^\s@]+@[^\s@]+\.[^\s@]+ with 6-64 characters, as Organizations' Email.
bool IsOrganizationsEmail(const std::string& e) {
  if (e.size() < 6 || e.size() > 64) return false;
  std::size_t at = e.find('@');
  if (at == 0 || at == std::string::npos || e.find('@', at + 1) != std::string::npos) return false;
  for (char c : e) {
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  }
  std::size_t dot = e.rfind('.');
  return dot != std::string::npos && dot > at + 1 && dot + 1 < e.size();
}

Status ValidateOrganization(const Seed& seed) {
  const SeedOrganization& org = *seed.organization;
  JIT_RETURN_IF_ERROR(CheckPattern("organization.id", org.id, kOrganizationId));
  std::string master =
      org.master_account_id.empty() ? seed.instance.owner_account_id : org.master_account_id;
  bool master_found = false;
  for (const SeedAccount& a : seed.accounts) master_found = master_found || a.id == master;
  if (!master_found) {
    return InvalidArgumentError("organization.master_account_id \"" + master +
                                "\" is not one of the seed's accounts");
  }
  if (org.roots.empty()) return InvalidArgumentError("organization.roots must not be empty");
  std::set<std::string> roots;
  for (std::size_t i = 0; i < org.roots.size(); ++i) {
    std::string where = "organization.roots[" + std::to_string(i) + "]";
    JIT_RETURN_IF_ERROR(CheckPattern(where + ".id", org.roots[i].id, kRootId));
    if (org.roots[i].name.empty() || org.roots[i].name.size() > 128) {
      return InvalidArgumentError(where + ".name must have 1 to 128 characters");
    }
    if (!roots.insert(org.roots[i].id).second) {
      return InvalidArgumentError(where + ".id \"" + org.roots[i].id + "\" appears twice");
    }
  }
  std::map<std::string, std::string> ou_parent;
  for (std::size_t i = 0; i < org.organizational_units.size(); ++i) {
    const SeedOrganizationalUnit& ou = org.organizational_units[i];
    std::string where = "organization.organizational_units[" + std::to_string(i) + "]";
    JIT_RETURN_IF_ERROR(CheckPattern(where + ".id", ou.id, kOrganizationalUnitId));
    if (ou.name.empty() || ou.name.size() > 128) {
      return InvalidArgumentError(where + ".name must have 1 to 128 characters");
    }
    JIT_RETURN_IF_ERROR(CheckTags(where + ".tags", ou.tags));
    if (!ou_parent.emplace(ou.id, ou.parent_id).second) {
      return InvalidArgumentError(where + ".id \"" + ou.id + "\" appears twice");
    }
  }
  for (std::size_t i = 0; i < org.organizational_units.size(); ++i) {
    const SeedOrganizationalUnit& ou = org.organizational_units[i];
    std::string where = "organization.organizational_units[" + std::to_string(i) + "]";
    // Up the parent links to a root: at most 5 OUs deep, as AWS allows.
    std::string at = ou.parent_id;
    int depth = 1;
    while (!roots.count(at)) {
      auto up = ou_parent.find(at);
      if (up == ou_parent.end()) {
        return InvalidArgumentError(where + ".parent_id \"" + at + "\" names no root or OU");
      }
      if (++depth > 5) {
        return InvalidArgumentError(
            where + " is nested more than 5 OUs deep (or its parents form a cycle)");
      }
      at = up->second;
    }
  }
  for (std::size_t i = 0; i < seed.accounts.size(); ++i) {
    const SeedAccount& a = seed.accounts[i];
    std::string where = "accounts[" + std::to_string(i) + "]";
    if (!a.parent_id.empty() && !roots.count(a.parent_id) && !ou_parent.count(a.parent_id)) {
      return InvalidArgumentError(where + ".parent_id \"" + a.parent_id +
                                  "\" names no root or OU of the organization");
    }
    if (a.name.size() > 50)
      return InvalidArgumentError(where + ".name is longer than 50 characters");
    if (!a.email.empty() && !IsOrganizationsEmail(a.email)) {
      return InvalidArgumentError(where + ".email \"" + a.email + "\" is not an e-mail address");
    }
  }
  return OkStatus();
}

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
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const SeedAccount& a = accounts[i];
    std::string where = "accounts[" + std::to_string(i) + "]";
    if (a.status != "ACTIVE" && a.status != "SUSPENDED") {
      return InvalidArgumentError(where + ".status must be ACTIVE or SUSPENDED");
    }
    JIT_RETURN_IF_ERROR(CheckTags(where + ".tags", a.tags));
    if (!a.parent_id.empty() && !organization.has_value()) {
      return InvalidArgumentError(where + ".parent_id needs an organization in the seed");
    }
  }
  if (organization.has_value()) JIT_RETURN_IF_ERROR(ValidateOrganization(*this));
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
  if (!cloudtrail_events.is_null()) {
    std::set<std::string> account_ids;
    for (const SeedAccount& acc : accounts) account_ids.insert(acc.id);
    Result<std::vector<CloudTrailEvent>> events =
        ParseCloudTrailEvents(cloudtrail_events, account_ids, "cloudtrail_events");
    if (!events.has_value()) return events.error();
  }
  return OkStatus();
}

Seed DefaultSeed() {
  Seed seed;
  seed.accounts = {{"111111111111", "sandbox", "ou-jit0-sandbox0", "ACTIVE", {{"env", "dev"}}, ""},
                   {"222222222222", "prod", "ou-jit0-prod0000", "ACTIVE", {{"env", "prod"}}, ""}};
  // A small AWS Organization, so that a config whose accounts come from the organization
  // (docs/POLICY.md "Accounts from AWS Organizations") can be tried with `jit serve --dev
  // --config FILE`: one OU per account, the accounts tagged env=dev and env=prod.
  SeedOrganization org;
  org.id = "o-jitdev0000";
  org.roots = {{"r-jit0", "Root"}};
  org.organizational_units = {{"ou-jit0-sandbox0", "sandbox", "r-jit0", {}},
                              {"ou-jit0-prod0000", "prod", "r-jit0", {}}};
  seed.organization = std::move(org);
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
