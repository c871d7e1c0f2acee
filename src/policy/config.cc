#include "policy/config.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/strings.h"
#include "model/request.h"

namespace jit::policy {

std::string_view TicketCheckName(TicketCheck c) {
  switch (c) {
    case TicketCheck::kOpen:
      return "open";
    case TicketCheck::kAssigned:
      return "assigned";
    case TicketCheck::kNone:
      break;
  }
  return "";
}
namespace {

using config::Field;
using config::Fields;
using config::Named;

// The largest number a `limits:` key takes.
constexpr int kMaxPerUserLimit = 100000;

// AWS.md "PermissionSetArn".
bool IsPermissionSetArn(const std::string& arn) {
  static const std::regex kArn(
      "arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9.-]{16}/"
      "ps-[a-zA-Z0-9./-]{16}");
  return std::regex_match(arn, kArn);
}

// An organizational unit id or a root id, as AWS Organizations spells them.
// An identity store GroupId: a UUID, optionally after a 10-hex-digit prefix and a dash.
bool IsGroupId(const std::string& id) {
  static const std::regex kGroupId(
      "([0-9a-f]{10}-)?[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{"
      "12}");
  return std::regex_match(id, kGroupId);
}

bool IsOrganizationParentId(const std::string& id) {
  static const std::regex kParent("ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}");
  return std::regex_match(id, kParent);
}

// Reads the policy sections into a Config, reporting every problem with its line to the
// Reader.
class Parser {
 public:
  Parser(config::Reader& r, std::string_view zoneinfo_dir, Config& out)
      : r_(r), zoneinfo_dir_(zoneinfo_dir), out_(out) {}

  void Read(const Field& f) {
    if (f.key == "admins") {
      out_.admins = ReadSubjects(f, false);
    } else if (f.key == "auditors") {
      out_.auditors = ReadSubjects(f, false);
    } else if (f.key == "accounts") {
      ReadAccounts(f);
    } else if (f.key == "permission_sets") {
      ReadPermissionSets(f);
    } else if (f.key == "identity_center_groups") {
      ReadGroups(f);
    } else if (f.key == "rules") {
      ReadRules(f);
    } else if (f.key == "limits") {
      ReadLimits(f);
    } else if (f.key == "session_cutoff") {
      if (auto b = r_.Bool(f)) out_.session_cutoff = *b;
    }
  }

 private:
  // {users: [...], groups: [...]}.
  Subjects ReadSubjects(const Field& f, bool required_not_empty) {
    Subjects s;
    std::optional<Fields> fields = r_.Map(f, {"users", "groups"});
    if (!fields) return s;
    s.users = r_.NameList(fields->Get("users"));
    s.groups = r_.NameList(fields->Get("groups"));
    if (required_not_empty && s.Empty()) {
      r_.Error(f.line, "'" + f.key + "' must name at least one user or group");
    }
    return s;
  }

  // `limits: {open_requests_per_user: 20, requests_per_minute_per_user: 10,
  // refuse_duplicates: true}`; a key left out keeps its default.
  void ReadLimits(const Field& f) {
    std::optional<Fields> fields =
        r_.Map(f, {"open_requests_per_user", "requests_per_minute_per_user", "refuse_duplicates",
                   "max_targets_per_request"});
    if (!fields) return;
    if (const Field* x = fields->Get("open_requests_per_user")) {
      if (auto n = r_.Int(*x, 0, kMaxPerUserLimit)) out_.limits.open_requests_per_user = *n;
    }
    if (const Field* x = fields->Get("requests_per_minute_per_user")) {
      if (auto n = r_.Int(*x, 0, kMaxPerUserLimit)) out_.limits.requests_per_minute_per_user = *n;
    }
    if (const Field* x = fields->Get("refuse_duplicates")) {
      if (auto b = r_.Bool(*x)) out_.limits.refuse_duplicates = *b;
    }
    if (const Field* x = fields->Get("max_targets_per_request")) {
      if (auto n = r_.Int(*x, 2, 100)) out_.limits.max_targets_per_request = *n;
    }
  }
  void ReadAccounts(const Field& f) {
    if (!f.value.IsSequence()) {
      r_.Error(f.line, "'accounts' must be a list");
      return;
    }
    std::map<std::string, int> ids;
    std::map<std::string, int> names;
    for (const config::Node& item : f.value.Items()) {
      int line = item.Line(f.line);
      std::optional<Fields> fields = r_.Map(
          item, line, "an account", {"id", "name", "tags", "organization", "ou", "recursive"});
      if (!fields) continue;
      if (!fields->Get("id") && !fields->Get("name")) {
        ReadAccountSource(*fields, line);
        continue;
      }
      for (const char* key : {"organization", "ou", "recursive"}) {
        if (const Field* x = fields->Get(key)) {
          r_.Error(x->line, std::string("'") + key +
                                "' names accounts of the organization; an entry with an id "
                                "lists one account");
        }
      }
      Account a;
      a.line = line;
      if (auto id = r_.RequiredString(*fields, "id", line, "an account")) {
        // yaml-cpp keeps the scalar's text, so an unquoted 012345678901 keeps its zero.
        if (!IsDigits(*id, 12)) {
          r_.Error(fields->Get("id")->line, "account id '" + *id + "' must be exactly 12 digits");
        } else {
          a.id = *id;
          auto [it, fresh] = ids.emplace(*id, line);
          if (!fresh) {
            r_.Error(line, "account id " + *id + " is already listed on line " +
                               std::to_string(it->second));
          }
        }
      }
      if (auto name = r_.RequiredString(*fields, "name", line, "an account")) {
        a.name = *name;
        if (IsDigits(*name, 12)) {
          // Accounts are looked up by id or name; a name that looks like an id is ambiguous.
          r_.Error(fields->Get("name")->line,
                   "account name '" + *name + "' looks like an account id");
        }
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "account name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      a.tags = r_.NameList(fields->Get("tags"));
      out_.accounts.push_back(std::move(a));
    }
  }

  // `{organization: true}`, `{ou: ou-..., recursive: false}`, `{tags: {env: prod}}` or a
  // combination (an OU's accounts with the tags).
  void ReadAccountSource(const Fields& fields, int line) {
    AccountSource src;
    src.line = line;
    if (const Field* x = fields.Get("organization")) {
      if (auto b = r_.Bool(*x)) {
        if (!*b) r_.Error(x->line, "'organization' can only be true (leave it out otherwise)");
        src.organization = *b;
      }
    }
    if (const Field* x = fields.Get("ou")) {
      if (auto ou = r_.String(*x)) {
        if (!IsOrganizationParentId(*ou)) {
          r_.Error(x->line, "'" + *ou +
                                "' is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root "
                                "id (r-xxxx)");
        }
        src.ou = *ou;
      }
    }
    if (const Field* x = fields.Get("recursive")) {
      if (!fields.Get("ou")) r_.Error(x->line, "'recursive' needs an 'ou'");
      if (auto b = r_.Bool(*x)) src.recursive = *b;
    }
    if (const Field* x = fields.Get("tags")) {
      if (!x->value.IsMap() || x->value.Entries().empty()) {
        r_.Error(x->line,
                 "'tags' of an organization entry must be a map of AWS tags (tags: {env: prod}); "
                 "a list of tags belongs to an entry with an id");
      } else {
        for (const auto& [key, value] : x->value.Entries()) {
          int at = key.Line(x->line);
          if (!key.IsScalar() || key.Scalar().empty() || !value.IsScalar()) {
            r_.Error(at, "a tag must be 'key: value' with a non-empty key");
            continue;
          }
          src.tags[key.Scalar()] = value.Scalar();
        }
      }
    }
    if (src.organization && !src.ou.empty()) {
      r_.Error(line, "an account entry has 'organization: true' and an 'ou'; use one or the other");
    }
    if (!src.organization && src.ou.empty() && !fields.Get("tags")) {
      r_.Error(line,
               "an account needs an 'id' and a 'name', or names accounts of the "
               "organization with 'organization: true', 'ou' or 'tags'");
      return;
    }
    out_.account_sources.push_back(std::move(src));
  }

  void ReadPermissionSets(const Field& f) {
    if (!f.value.IsSequence()) {
      r_.Error(f.line, "'permission_sets' must be a list");
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, int> arns;
    for (const config::Node& item : f.value.Items()) {
      int line = item.Line(f.line);
      std::optional<Fields> fields =
          r_.Map(item, line, "a permission set",
                 {"name", "arn", "max_duration", "session_cutoff", "definition"});
      if (!fields) continue;
      PermissionSet ps;
      ps.line = line;
      if (auto name = r_.RequiredString(*fields, "name", line, "a permission set")) {
        ps.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "permission set name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      if (auto arn = r_.RequiredString(*fields, "arn", line, "a permission set")) {
        if (!IsPermissionSetArn(*arn)) {
          r_.Error(fields->Get("arn")->line,
                   "'" + *arn +
                       "' is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-<16>/"
                       "ps-<16>)");
        } else {
          ps.arn = *arn;
          auto [it, fresh] = arns.emplace(*arn, line);
          if (!fresh) {
            r_.Error(line,
                     "permission set ARN is already used on line " + std::to_string(it->second));
          }
        }
      }
      if (const Field* max = fields->Get("max_duration")) {
        if (auto d = r_.PositiveDuration(*max)) ps.max_duration = *d;
      }
      if (const Field* x = fields->Get("session_cutoff")) {
        if (auto b = r_.Bool(*x)) ps.session_cutoff = *b;
      }
      out_.permission_sets.push_back(std::move(ps));
    }
  }

  // `identity_center_groups: [{name, id, max_duration}]`: the groups rules may grant membership
  // in, kept in the shape of a permission set (Config::groups).
  void ReadGroups(const Field& f) {
    if (!f.value.IsSequence()) {
      r_.Error(f.line, "'identity_center_groups' must be a list");
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, int> ids;
    for (const config::Node& item : f.value.Items()) {
      int line = item.Line(f.line);
      std::optional<Fields> fields =
          r_.Map(item, line, "an Identity Center group", {"name", "id", "max_duration"});
      if (!fields) continue;
      PermissionSet g;
      g.line = line;
      g.session_cutoff = false;
      if (auto name = r_.RequiredString(*fields, "name", line, "an Identity Center group")) {
        g.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "group name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      if (auto id = r_.RequiredString(*fields, "id", line, "an Identity Center group")) {
        if (!IsGroupId(*id)) {
          r_.Error(fields->Get("id")->line,
                   "'" + *id +
                       "' is not an identity store GroupId (a UUID, as `aws identitystore "
                       "get-group-id` prints it)");
        } else {
          g.arn = *id;
          auto [it, fresh] = ids.emplace(*id, line);
          if (!fresh) {
            r_.Error(line, "group id is already used on line " + std::to_string(it->second));
          }
        }
      }
      if (const Field* max = fields->Get("max_duration")) {
        if (auto d = r_.PositiveDuration(*max)) g.max_duration = *d;
      }
      out_.groups.push_back(std::move(g));
    }
  }

  std::vector<std::string> GroupNames() const {
    std::vector<std::string> out;
    for (const PermissionSet& g : out_.groups) out.push_back(g.name);
    return out;
  }

  std::vector<std::string> AccountNames() const {
    std::vector<std::string> out;
    for (const Account& a : out_.accounts) out.push_back(a.name);
    return out;
  }

  std::vector<std::string> PermissionSetNames() const {
    std::vector<std::string> out;
    for (const PermissionSet& p : out_.permission_sets) out.push_back(p.name);
    return out;
  }

  AccountSelector ReadSelector(const Field& f) {
    AccountSelector sel;
    std::optional<Fields> fields = r_.Map(f, {"all", "ids", "names", "tags", "ous"});
    if (!fields) return sel;
    bool bad_list = false;
    if (const Field* all = fields->Get("all")) {
      std::optional<bool> b = r_.Bool(*all);
      bad_list = !b;
      sel.all = b.value_or(false);
    }
    std::vector<Named> ids, names, tags, ous;
    auto read = [&](std::string_view key, std::vector<Named>& out) {
      if (const Field* x = fields->Get(key)) {
        std::optional<std::vector<Named>> list = r_.Names(*x);
        bad_list = bad_list || !list;
        if (list) out = std::move(*list);
      }
    };
    read("ids", ids);
    read("names", names);
    read("tags", tags);
    read("ous", ous);
    // Accounts from the organization are known only once org/ has read it: with sources, a
    // rule may name accounts, tags and ids the file does not list.
    const bool organization = !out_.account_sources.empty();
    for (const Named& id : ids) {
      if (!IsDigits(id.value, 12)) {
        r_.Error(id.line, "account id '" + id.value + "' must be exactly 12 digits");
      } else if (!organization &&
                 std::none_of(out_.accounts.begin(), out_.accounts.end(),
                              [&](const Account& a) { return a.id == id.value; })) {
        r_.Error(id.line, "account id " + id.value + " is not among the accounts");
      }
      sel.ids.push_back(id.value);
    }
    for (const Named& name : names) {
      if (!organization && std::none_of(out_.accounts.begin(), out_.accounts.end(),
                                        [&](const Account& a) { return a.name == name.value; })) {
        r_.Error(name.line,
                 "unknown account '" + name.value + "'" + config::Hint(name.value, AccountNames()));
      }
      sel.names.push_back(name.value);
    }
    for (const Named& tag : tags) {
      if (!organization &&
          std::none_of(out_.accounts.begin(), out_.accounts.end(), [&](const Account& a) {
            return std::find(a.tags.begin(), a.tags.end(), tag.value) != a.tags.end();
          })) {
        r_.Error(tag.line, "no account has the tag '" + tag.value + "'");
      }
      sel.tags.push_back(tag.value);
    }
    for (const Named& ou : ous) {
      if (!IsOrganizationParentId(ou.value)) {
        r_.Error(ou.line, "'" + ou.value +
                              "' is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root "
                              "id (r-xxxx)");
      }
      sel.ous.push_back(ou.value);
    }
    bool listed = !ids.empty() || !names.empty() || !tags.empty() || !ous.empty();
    if (sel.all && listed) {
      r_.Error(f.line, "'accounts' has 'all: true' and a list; use one or the other");
    } else if (!sel.all && !listed && !bad_list) {
      r_.Error(f.line, "'accounts' selects no account; use all: true, ids, names, tags or ous");
    }
    return sel;
  }

  void ReadApproval(const Field& f, Rule& rule) {
    if (f.value.IsScalar()) {
      if (f.value.Scalar() == "auto") {
        rule.approval.automatic = true;
      } else {
        r_.Error(f.line, "'approval' must be 'auto' or a map with approvers, not '" +
                             f.value.Scalar() + "'");
      }
      return;
    }
    std::optional<Fields> fields = r_.Map(f, {"approvers", "required", "timeout"});
    if (!fields) return;
    if (const Field* approvers = fields->Get("approvers")) {
      rule.approval.approvers = ReadSubjects(*approvers, true);
    } else {
      r_.Error(f.line, "'approval' has no 'approvers'");
    }
    if (const Field* required = fields->Get("required")) {
      if (auto n = r_.Int(*required, 1, 100)) {
        rule.approval.required = *n;
        const Subjects& who = rule.approval.approvers;
        if (who.groups.empty() && !who.users.empty() &&
            static_cast<std::size_t>(*n) > who.users.size()) {
          r_.Error(required->line, "'required' is " + std::to_string(*n) + " but only " +
                                       std::to_string(who.users.size()) + " approvers are listed");
        }
      }
    }
    if (const Field* timeout = fields->Get("timeout")) {
      if (auto d = r_.PositiveDuration(*timeout)) rule.approval.timeout = *d;
    }
  }

  // "08:00" -> 480. "24:00" only when `allow_24` (the end of a window).
  std::optional<int> ClockTime(const Field& f, bool allow_24) {
    static const std::regex kTime("([01][0-9]|2[0-4]):([0-5][0-9])");
    std::smatch m;
    std::string s = f.value.IsScalar() ? f.value.Scalar() : std::string();
    if (!std::regex_match(s, m, kTime)) {
      r_.Error(f.line, "'" + f.key + "' must be a time of day such as \"08:00\"");
      return std::nullopt;
    }
    int minutes = std::stoi(m[1].str()) * 60 + std::stoi(m[2].str());
    if (minutes > 24 * 60 || (minutes == 24 * 60 && !allow_24)) {
      r_.Error(f.line, "'" + f.key + "' must be from 00:00 to " + (allow_24 ? "24:00" : "23:59"));
      return std::nullopt;
    }
    return minutes;
  }

  // `hours: {days: [mon, ...], from: "08:00", to: "18:00", timezone: Europe/Berlin}`.
  std::optional<AllowedHours> ReadHours(const Field& f) {
    std::optional<Fields> fields = r_.Map(f, {"days", "from", "to", "timezone"});
    if (!fields) return std::nullopt;
    AllowedHours h;
    bool ok = true;
    if (const Field* days = fields->Get("days")) {
      static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu",
                                                     "fri", "sat", "sun"};
      if (auto names = r_.Names(*days)) {
        if (names->empty()) {
          r_.Error(days->line, "'days' must name at least one day");
          ok = false;
        }
        h.days.fill(false);
        for (const Named& d : *names) {
          auto it = std::find(kDays.begin(), kDays.end(), d.value);
          if (it == kDays.end()) {
            r_.Error(d.line, "unknown day '" + d.value + "'; days are mon, tue, wed, thu, fri, " +
                                 "sat, sun" + config::Hint(d.value, kDays));
            ok = false;
            continue;
          }
          h.days[static_cast<std::size_t>(it - kDays.begin())] = true;
        }
      } else {
        ok = false;
      }
    }
    std::optional<int> from;
    std::optional<int> to;
    if (const Field* x = fields->Get("from")) {
      from = ClockTime(*x, false);
    } else {
      r_.Error(f.line, "'hours' has no 'from'");
    }
    if (const Field* x = fields->Get("to")) {
      to = ClockTime(*x, true);
    } else {
      r_.Error(f.line, "'hours' has no 'to'");
    }
    if (!from || !to) return std::nullopt;
    if (*from == *to || (*from == 0 && *to == 24 * 60)) {
      r_.Error(fields->Get("to")->line,
               "'from' and 'to' must differ (leave 'hours' out to allow any time)");
      return std::nullopt;
    }
    h.from_minute = *from;
    h.to_minute = *to;
    if (const Field* x = fields->Get("timezone")) {
      if (auto name = r_.String(*x)) {
        Result<std::shared_ptr<const TimeZone>> zone = LoadTimeZone(*name, zoneinfo_dir_);
        if (!zone.ok()) {
          r_.Error(x->line, zone.error().message());
          ok = false;
        } else {
          h.zone = *zone;
        }
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return h;
  }

  // A rule's `accounts` and `permission_sets` (an account assignment).
  void ReadRuleTargets(const Fields& fields, int line, const std::string& what, Rule& rule) {
    if (const Field* x = fields.Get("accounts")) {
      rule.accounts = ReadSelector(*x);
    } else {
      r_.Error(line, what + " has no 'accounts'");
    }
    if (const Field* x = fields.Get("permission_sets")) {
      if (auto list = r_.Names(*x)) {
        if (list->empty()) r_.Error(x->line, "'permission_sets' must name at least one");
        for (const Named& ps : *list) {
          if (std::none_of(out_.permission_sets.begin(), out_.permission_sets.end(),
                           [&](const PermissionSet& p) { return p.name == ps.value; })) {
            r_.Error(ps.line, "unknown permission set '" + ps.value + "'" +
                                  config::Hint(ps.value, PermissionSetNames()));
          }
          rule.permission_sets.push_back(ps.value);
        }
      }
    } else {
      r_.Error(line, what + " has no 'permission_sets'");
    }
  }

  // A rule's `identity_center_groups` (group elevation): its targets are the group account
  // (model::kGroupAccount) and the groups named, in place of accounts and permission sets.
  void ReadRuleGroups(const Field& x, const Fields& fields, const std::string& what, Rule& rule) {
    rule.group_elevation = true;
    for (const char* other : {"accounts", "permission_sets", "session_cutoff"}) {
      if (const Field* o = fields.Get(other)) {
        r_.Error(o->line,
                 what + " grants Identity Center groups and takes no '" + std::string(other) + "'");
      }
    }
    rule.accounts.ids = {std::string(model::kGroupAccount)};
    if (auto list = r_.Names(x)) {
      if (list->empty()) r_.Error(x.line, "'identity_center_groups' must name at least one");
      for (const Named& g : *list) {
        if (std::none_of(out_.groups.begin(), out_.groups.end(),
                         [&](const PermissionSet& p) { return p.name == g.value; })) {
          r_.Error(g.line, "unknown Identity Center group '" + g.value + "'" +
                               config::Hint(g.value, GroupNames()));
        }
        rule.permission_sets.push_back(g.value);
      }
    }
  }

  void ReadRules(const Field& f) {
    if (!out_.groups.empty()) {
      for (const Account& a : out_.accounts) {
        if (a.name == model::kGroupAccount) {
          r_.Error(a.line,
                   "account name '" + a.name +
                       "' is reserved for Identity Center groups ('identity_center_groups')");
        }
      }
    }
    if (!f.value.IsSequence()) {
      r_.Error(f.line, "'rules' must be a list");
      return;
    }
    std::map<std::string, int> names;
    for (const config::Node& item : f.value.Items()) {
      int line = item.Line(f.line);
      std::optional<Fields> fields =
          r_.Map(item, line, "a rule",
                 {"name", "requesters", "accounts", "permission_sets", "identity_center_groups",
                  "max_duration", "min_duration", "reason", "reason_min_length", "ticket",
                  "ticket_check", "approval", "break_glass", "hours", "schedule_window",
                  "max_active_per_user", "session_cutoff"});
      if (!fields) continue;
      Rule rule;
      rule.line = line;
      if (auto name = r_.RequiredString(*fields, "name", line, "a rule")) {
        rule.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "rule name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      std::string what = rule.name.empty() ? "a rule" : "rule '" + rule.name + "'";

      if (const Field* x = fields->Get("requesters")) {
        rule.requesters = ReadSubjects(*x, true);
      } else {
        r_.Error(line, what + " has no 'requesters'");
      }

      if (const Field* x = fields->Get("identity_center_groups")) {
        ReadRuleGroups(*x, *fields, what, rule);
      } else {
        ReadRuleTargets(*fields, line, what, rule);
      }

      if (const Field* x = fields->Get("max_duration")) {
        if (auto d = r_.PositiveDuration(*x)) rule.max_duration = *d;
      } else {
        r_.Error(line, what + " has no 'max_duration'");
      }
      if (const Field* x = fields->Get("min_duration")) {
        if (auto d = r_.PositiveDuration(*x)) {
          rule.min_duration = *d;
          if (rule.max_duration.count() > 0 && *d > rule.max_duration) {
            r_.Error(x->line, "'min_duration' " + FormatDuration(*d) + " is longer than " +
                                  "'max_duration' " + FormatDuration(rule.max_duration));
          }
        }
      }

      if (const Field* x = fields->Get("reason")) {
        if (auto s = r_.String(*x)) {
          if (*s == "required") {
            rule.reason_required = true;
          } else if (*s != "optional") {
            r_.Error(x->line, "'reason' must be 'required' or 'optional', not '" + *s + "'");
          }
        }
      }

      if (const Field* x = fields->Get("reason_min_length")) {
        if (auto n = r_.Int(*x, 0, 1000)) {
          rule.reason_min_length = *n;
          if (*n > 0) rule.reason_required = true;
          const Field* reason = fields->Get("reason");
          if (*n > 0 && reason != nullptr && reason->value.IsScalar() &&
              reason->value.Scalar() == "optional") {
            r_.Error(x->line, "'reason_min_length' needs a reason, but 'reason' is 'optional'");
          }
        }
      }

      if (const Field* x = fields->Get("hours")) rule.hours = ReadHours(*x);

      if (const Field* x = fields->Get("ticket")) {
        if (auto s = r_.String(*x)) {
          if (s->empty()) {
            r_.Error(x->line, "'ticket' must not be empty");
          } else {
            try {
              std::regex re(*s, std::regex::ECMAScript);
              rule.ticket_pattern = *s;
            } catch (const std::regex_error& e) {
              r_.Error(x->line,
                       "'ticket' is not a valid regular expression: " + std::string(e.what()));
            }
          }
        }
      }

      if (const Field* x = fields->Get("ticket_check")) {
        if (auto s = r_.String(*x)) {
          if (*s == "open") {
            rule.ticket_check = TicketCheck::kOpen;
          } else if (*s == "assigned") {
            rule.ticket_check = TicketCheck::kAssigned;
          } else {
            r_.Error(x->line, "'ticket_check' must be open or assigned");
          }
        }
      }

      if (const Field* x = fields->Get("session_cutoff")) {
        if (auto b = r_.Bool(*x)) rule.session_cutoff = *b;
      }
      if (const Field* x = fields->Get("break_glass")) {
        if (auto b = r_.Bool(*x)) rule.break_glass = *b;
      }
      if (const Field* x = fields->Get("schedule_window")) {
        Result<Duration> d = x->value.IsScalar() ? ParseDuration(x->value.Scalar())
                                                 : Result<Duration>(InvalidArgumentError(""));
        if (!d.ok() || d->count() < 0 || *d > kMaxScheduleWindow) {
          r_.Error(x->line, "'schedule_window' must be a duration from 0s to " +
                                FormatDuration(kMaxScheduleWindow));
        } else if (rule.break_glass && d->count() > 0) {
          r_.Error(x->line,
                   "a break-glass rule cannot schedule access: it starts at once (schedule_window: "
                   "0s or none)");
        } else {
          rule.schedule_window = *d;
        }
      }
      if (rule.break_glass) rule.schedule_window = Duration(0);
      if (const Field* x = fields->Get("max_active_per_user")) {
        if (rule.break_glass) {
          r_.Error(x->line,
                   "a break-glass rule takes no 'max_active_per_user': no limit refuses "
                   "break-glass");
        } else if (auto n = r_.Int(*x, 0, kMaxPerUserLimit)) {
          rule.max_active_per_user = *n;
        }
      }
      const Field* approval = fields->Get("approval");
      if (rule.break_glass && approval != nullptr) {
        r_.Error(approval->line, "a break-glass rule takes no 'approval'; it is self-activated");
      } else if (approval != nullptr) {
        ReadApproval(*approval, rule);
      } else if (!rule.break_glass) {
        r_.Error(line, what +
                           " has no 'approval' (approval: auto, or approvers) and is not "
                           "break_glass: true");
      }
      out_.rules.push_back(std::move(rule));
    }
  }

  config::Reader& r_;
  std::string zoneinfo_dir_;
  Config& out_;
};

}  // namespace

const std::vector<std::string>& PolicyKeys() {
  static const std::vector<std::string> kKeys = {
      "admins", "auditors", "accounts",      "permission_sets", "identity_center_groups",
      "rules",  "limits",   "session_cutoff"};
  return kKeys;
}

void ParsePolicyField(const config::Field& field, config::Reader& reader,
                      std::string_view zoneinfo_dir, Config& out) {
  Parser(reader, zoneinfo_dir, out).Read(field);
}

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir) {
  Config config;
  JIT_RETURN_IF_ERROR(config::ReadDocument(yaml_text, file_name, PolicyKeys(),
                                           [&](const Fields& top, config::Reader& r) {
                                             const Field* rules = nullptr;
                                             for (const Field& f : top.all()) {
                                               if (f.key == "rules") {
                                                 rules = &f;
                                               } else {
                                                 ParsePolicyField(f, r, zoneinfo_dir, config);
                                               }
                                             }
                                             if (rules != nullptr)
                                               ParsePolicyField(*rules, r, zoneinfo_dir, config);
                                           }));
  return config;
}

std::string_view DevPolicyYaml() {
  static constexpr std::string_view kYaml =
      R"yaml(# jit serve --dev (docs/ARCHITECTURE.md "Dev mode")
admins: {groups: [admins]}
auditors: {groups: [auditors]}
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", max_duration: 1h}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    min_duration: 5s
    approval: auto
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    min_duration: 5s
    reason: required
    break_glass: true
)yaml";
  return kYaml;
}

}  // namespace jit::policy
