#include "org/snapshot_cache.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <system_error>

namespace jit::org {
namespace {

using json = nlohmann::json;

constexpr int kVersion = 1;

std::string Get(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Status SaveSnapshot(const std::filesystem::path& path,
                    const provider::OrganizationSnapshot& snapshot) {
  json roots = json::array(), ous = json::array(), accounts = json::array();
  for (const provider::OrgRoot& r : snapshot.roots) {
    roots.push_back({{"id", r.id}, {"arn", r.arn}, {"name", r.name}});
  }
  for (const provider::OrgUnit& u : snapshot.organizational_units) {
    ous.push_back({{"id", u.id}, {"arn", u.arn}, {"name", u.name}, {"parent_id", u.parent_id}});
  }
  for (const provider::OrgAccount& a : snapshot.accounts) {
    accounts.push_back({{"id", a.id},
                        {"arn", a.arn},
                        {"name", a.name},
                        {"email", a.email},
                        {"status", a.status},
                        {"parent_id", a.parent_id},
                        {"tags", a.tags}});
  }
  json doc = {{"version", kVersion}, {"roots", roots}, {"ous", ous}, {"accounts", accounts}};
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump() << '\n';
    out.flush();
    if (!out) return InternalError("cannot write " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return InternalError("cannot rename " + tmp.string() + ": " + ec.message());
  return OkStatus();
}

Result<provider::OrganizationSnapshot> LoadSnapshot(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("no organization snapshot at " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&path](const std::string& why) {
    return InvalidArgumentError(path.string() + " is not an organization snapshot: " + why);
  };
  if (!doc.is_object()) return bad("not a JSON object");
  if (doc.value("version", 0) != kVersion) return bad("unknown version");
  for (const char* key : {"roots", "ous", "accounts"}) {
    if (!doc.contains(key) || !doc[key].is_array()) return bad(std::string("no ") + key);
  }
  provider::OrganizationSnapshot s;
  for (const json& r : doc["roots"]) {
    if (!r.is_object()) return bad("a root is not an object");
    s.roots.push_back({Get(r, "id"), Get(r, "arn"), Get(r, "name")});
  }
  for (const json& u : doc["ous"]) {
    if (!u.is_object()) return bad("an OU is not an object");
    s.organizational_units.push_back(
        {Get(u, "id"), Get(u, "arn"), Get(u, "name"), Get(u, "parent_id")});
  }
  for (const json& a : doc["accounts"]) {
    if (!a.is_object()) return bad("an account is not an object");
    provider::OrgAccount out;
    out.id = Get(a, "id");
    out.arn = Get(a, "arn");
    out.name = Get(a, "name");
    out.email = Get(a, "email");
    out.status = Get(a, "status");
    out.parent_id = Get(a, "parent_id");
    if (auto t = a.find("tags"); t != a.end() && t->is_object()) {
      for (const auto& [k, v] : t->items()) {
        if (v.is_string()) out.tags[k] = v.get<std::string>();
      }
    }
    if (out.id.empty()) return bad("an account without an id");
    s.accounts.push_back(std::move(out));
  }
  return s;
}

}  // namespace jit::org
