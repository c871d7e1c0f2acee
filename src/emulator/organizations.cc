#include "emulator/organizations.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>
#include <utility>

#include "core/encoding.h"
#include "emulator/patterns.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

// Organizations' NextToken may be up to 100,000 characters long.
constexpr std::size_t kOrgMaxTokenLength = 100000;
// When the seed's accounts "joined": 2024-01-01T00:00:00Z, like the seed's permission sets.
constexpr double kJoinedTimestamp = 1704067200.0;

// Organizations answers every client error with HTTP 400 and ServiceException with 500.
ServiceResponse OrgError(std::string_view type, std::string_view message) {
  return ErrorResponse(400, type, message);
}

// InvalidInputException carries a Reason (INPUT_REQUIRED, INVALID_PATTERN, ...).
ServiceResponse InvalidInput(std::string_view reason, std::string_view message) {
  ServiceResponse r = OrgError("InvalidInputException", message);
  r.body["Reason"] = reason;
  return r;
}

std::uint64_t OrgFnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t OrgSplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string OrgFingerprint(std::string_view list_inputs) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(OrgFnv1a(list_inputs)));
  return buf;
}

// Reads the members of one Organizations input, keeping the first InvalidInputException.
class OrgReader {
 public:
  explicit OrgReader(const json& in) : in_(in) {}

  bool failed() const { return error_.has_value(); }
  ServiceResponse error() const { return *error_; }

  // A string member matching `pattern` (when given) of at most max_len characters.
  std::string String(std::string_view name, bool required, const Pattern* pattern,
                     std::size_t max_len) {
    if (failed()) return {};
    auto it = in_.find(name);
    if (it == in_.end() || it->is_null()) {
      if (required) {
        Fail("INPUT_REQUIRED", "You must specify a value for " + std::string(name) + ".");
      }
      return {};
    }
    if (!it->is_string()) {
      Fail("INVALID_INPUT", std::string(name) + " must be a string.");
      return {};
    }
    std::string s = it->get<std::string>();
    if (s.size() > max_len) {
      Fail("MAX_LENGTH_EXCEEDED", "The value of " + std::string(name) + " is longer than " +
                                      std::to_string(max_len) + " characters.");
    } else if (pattern != nullptr && !pattern->matches(s)) {
      Fail("INVALID_PATTERN", "The value of " + std::string(name) + " does not match the pattern " +
                                  std::string(pattern->name) + ".");
    }
    return s;
  }

  // The page of a list: MaxResults (1..20) and a NextToken that continues this very list
  // (base64 of "org1:<fingerprint of the list's inputs>:<offset>").
  void Page(std::string_view list_inputs, bool has_max_results = true) {
    if (failed()) return;
    fingerprint_ = OrgFingerprint(list_inputs);
    if (has_max_results) {
      auto it = in_.find("MaxResults");
      if (it != in_.end() && !it->is_null()) {
        if (!it->is_number_integer()) {
          Fail("INVALID_INPUT", "MaxResults must be an integer.");
          return;
        }
        bool negative =
            it->is_number_integer() && !it->is_number_unsigned() && it->get<std::int64_t>() < 1;
        if (negative || (it->is_number_unsigned() && it->get<std::uint64_t>() < 1)) {
          Fail("MIN_VALUE_EXCEEDED", "MaxResults must be at least 1.");
          return;
        }
        if (it->get<std::uint64_t>() > static_cast<std::uint64_t>(kOrganizationsPageSize)) {
          Fail("MAX_VALUE_EXCEEDED",
               "MaxResults must be at most " + std::to_string(kOrganizationsPageSize) + ".");
          return;
        }
        limit_ = it->get<std::size_t>();
      }
    }
    std::string token = String("NextToken", false, nullptr, kOrgMaxTokenLength);
    if (failed() || token.empty()) return;
    std::optional<std::string> plain = DecodeBase64(token);
    std::string prefix = "org1:" + fingerprint_ + ":";
    bool ok = plain.has_value() && plain->rfind(prefix, 0) == 0;
    std::size_t offset = 0;
    if (ok) {
      std::string_view digits = std::string_view(*plain).substr(prefix.size());
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
      ok = !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
    }
    if (!ok) {
      Fail("INVALID_PAGINATION_TOKEN",
           "The NextToken is not valid: use the value a previous call of this list returned.");
      return;
    }
    offset_ = offset;
  }

  // The [begin, end) of the page in a list of `size` entries; sets the answer's NextToken.
  std::pair<std::size_t, std::size_t> Slice(std::size_t size, json& answer) const {
    std::size_t begin = std::min(offset_, size);
    std::size_t end = std::min(size, begin + limit_);
    if (end < size) {
      answer["NextToken"] = EncodeBase64("org1:" + fingerprint_ + ":" + std::to_string(end));
    }
    return {begin, end};
  }

  void Fail(std::string_view reason, const std::string& message) {
    if (!error_) error_ = InvalidInput(reason, message);
  }

 private:
  const json& in_;
  std::optional<ServiceResponse> error_;
  std::string fingerprint_;
  std::size_t limit_ = kOrganizationsPageSize;
  std::size_t offset_ = 0;
};

json TagsJson(const std::map<std::string, std::string>& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return out;
}

}  // namespace

OrganizationsService::OrganizationsService(const Seed& seed, Faults faults)
    : in_use_(seed.organization.has_value()),
      org_(seed.organization.value_or(SeedOrganization())),
      master_(org_.master_account_id.empty() ? seed.instance.owner_account_id
                                             : org_.master_account_id),
      seed_accounts_(seed.accounts),
      start_faults_(faults) {
  Reset();
}

void OrganizationsService::Reset() {
  MutexLock lock(&mu_);
  faults_ = start_faults_;
  rng_state_ = faults_.seed;
  calls_.clear();
  accounts_.clear();
  for (const SeedAccount& a : seed_accounts_) {
    std::string parent = a.parent_id;
    if (parent.empty() && in_use_) parent = org_.roots.front().id;
    accounts_.push_back({a, parent});
  }
}

void OrganizationsService::SetFaults(const Faults& faults) {
  MutexLock lock(&mu_);
  faults_ = faults;
  rng_state_ = faults.seed;
}

json OrganizationsService::State() const {
  MutexLock lock(&mu_);
  json calls = json::object();
  for (const auto& [op, n] : calls_) calls[op] = n;
  json org = nullptr;
  if (in_use_) {
    json parents = json::object();
    for (const Account& a : accounts_) parents[a.seed.id] = a.parent_id;
    org = {{"Id", org_.id}, {"MasterAccountId", master_}, {"accounts", std::move(parents)}};
  }
  return {{"organization", std::move(org)}, {"calls", std::move(calls)}};
}

ServiceResponse OrganizationsService::Handle(std::string_view operation, const json& input) {
  static const std::set<std::string_view> kOps = {"ListRoots",
                                                  "ListChildren",
                                                  "ListAccountsForParent",
                                                  "ListOrganizationalUnitsForParent",
                                                  "ListAccounts",
                                                  "DescribeOrganization",
                                                  "DescribeAccount",
                                                  "ListTagsForResource",
                                                  "MoveAccount"};
  MutexLock lock(&mu_);
  if (!kOps.count(operation)) {
    return ErrorResponse(
        400, "UnknownOperationException",
        "Unknown operation AWSOrganizationsV20161128." + std::string(operation.substr(0, 200)));
  }
  ++calls_[std::string(operation)];
  ServiceResponse r;
  double u = static_cast<double>(OrgSplitMix64(rng_state_) >> 11) * 0x1.0p-53;
  if (u < faults_.throttle_rate) {
    r = OrgError("TooManyRequestsException",
                 "You have sent too many requests in too short a period of time (emulated).");
    r.body["Type"] = "Organizations";
  } else if (u < faults_.throttle_rate + faults_.server_error_rate) {
    r = ErrorResponse(500, "ServiceException",
                      "Organizations can't complete your request because of an internal service "
                      "error (emulated).");
  } else if (!input.is_object()) {
    r = ErrorResponse(400, "SerializationException", "The request body must be a JSON object");
  } else if (!in_use_) {
    r = OrgError("AWSOrganizationsNotInUseException",
                 "Your account is not a member of an organization.");
  } else {
    try {
      r = Dispatch(operation, input);
    } catch (const std::exception& e) {
      // nlohmann-json throws only on a bug here (types are checked first): answer, do not die.
      r = ErrorResponse(500, "ServiceException", e.what());
    }
  }
  r.delay = faults_.latency;
  return r;
}

ServiceResponse OrganizationsService::Dispatch(std::string_view op, const json& in) {
  if (op == "ListRoots") return ListRoots(in);
  if (op == "ListChildren") return ListChildren(in);
  if (op == "ListAccountsForParent") return ListAccountsForParent(in);
  if (op == "ListOrganizationalUnitsForParent") return ListOrganizationalUnitsForParent(in);
  if (op == "ListAccounts") return ListAccounts(in);
  if (op == "DescribeOrganization") return DescribeOrganization();
  if (op == "DescribeAccount") return DescribeAccount(in);
  if (op == "ListTagsForResource") return ListTagsForResource(in);
  return MoveAccount(in);
}

std::string OrganizationsService::Arn(std::string_view kind, const std::string& id) const {
  std::string base = "arn:aws:organizations::" + master_ + ":";
  if (kind == "organization") return base + "organization/" + org_.id;
  return base + std::string(kind) + "/" + org_.id + "/" + id;
}

bool OrganizationsService::IsRoot(const std::string& id) const {
  return std::any_of(org_.roots.begin(), org_.roots.end(),
                     [&](const SeedRoot& r) { return r.id == id; });
}

const SeedOrganizationalUnit* OrganizationsService::FindUnit(const std::string& id) const {
  for (const SeedOrganizationalUnit& ou : org_.organizational_units) {
    if (ou.id == id) return &ou;
  }
  return nullptr;
}

OrganizationsService::Account* OrganizationsService::FindAccount(const std::string& id) {
  for (Account& a : accounts_) {
    if (a.seed.id == id) return &a;
  }
  return nullptr;
}

json OrganizationsService::AccountJson(const Account& a) const {
  const SeedAccount& s = a.seed;
  return {{"Id", s.id},
          {"Arn", Arn("account", s.id)},
          {"Email", s.email.empty() ? "aws+" + s.id + "@example.com" : s.email},
          {"Name", s.name.empty() ? s.id : s.name},
          {"Status", s.status},
          {"State", s.status},
          {"JoinedMethod", s.id == master_ ? "CREATED" : "INVITED"},
          {"JoinedTimestamp", kJoinedTimestamp}};
}

json OrganizationsService::UnitJson(const SeedOrganizationalUnit& ou) const {
  return {{"Id", ou.id}, {"Arn", Arn("ou", ou.id)}, {"Name", ou.name}};
}

ServiceResponse OrganizationsService::ListRoots(const json& in) {
  OrgReader r(in);
  r.Page("ListRoots");
  if (r.failed()) return r.error();
  ServiceResponse resp;
  auto [begin, end] = r.Slice(org_.roots.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const SeedRoot& root = org_.roots[i];
    list.push_back({{"Id", root.id},
                    {"Arn", Arn("root", root.id)},
                    {"Name", root.name},
                    {"PolicyTypes", json::array()}});
  }
  resp.body["Roots"] = std::move(list);
  return resp;
}

ServiceResponse OrganizationsService::ListChildren(const json& in) {
  OrgReader r(in);
  std::string parent = r.String("ParentId", true, &kParentId, 100);
  std::string type = r.String("ChildType", true, nullptr, 64);
  if (!r.failed() && type != "ACCOUNT" && type != "ORGANIZATIONAL_UNIT") {
    r.Fail("INVALID_ENUM", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.");
  }
  r.Page("ListChildren\n" + parent + "\n" + type);
  if (r.failed()) return r.error();
  if (!IsRoot(parent) && FindUnit(parent) == nullptr) {
    return OrgError("ParentNotFoundException", "We can't find a root or OU with the ParentId " +
                                                   parent + " that you specified.");
  }
  std::vector<std::string> ids;
  if (type == "ACCOUNT") {
    for (const Account& a : accounts_) {
      if (a.parent_id == parent) ids.push_back(a.seed.id);
    }
  } else {
    for (const SeedOrganizationalUnit& ou : org_.organizational_units) {
      if (ou.parent_id == parent) ids.push_back(ou.id);
    }
  }
  ServiceResponse resp;
  auto [begin, end] = r.Slice(ids.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) list.push_back({{"Id", ids[i]}, {"Type", type}});
  resp.body["Children"] = std::move(list);
  return resp;
}

ServiceResponse OrganizationsService::ListAccountsForParent(const json& in) {
  OrgReader r(in);
  std::string parent = r.String("ParentId", true, &kParentId, 100);
  r.Page("ListAccountsForParent\n" + parent);
  if (r.failed()) return r.error();
  if (!IsRoot(parent) && FindUnit(parent) == nullptr) {
    return OrgError("ParentNotFoundException", "We can't find a root or OU with the ParentId " +
                                                   parent + " that you specified.");
  }
  std::vector<const Account*> in_parent;
  for (const Account& a : accounts_) {
    if (a.parent_id == parent) in_parent.push_back(&a);
  }
  ServiceResponse resp;
  auto [begin, end] = r.Slice(in_parent.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) list.push_back(AccountJson(*in_parent[i]));
  resp.body["Accounts"] = std::move(list);
  return resp;
}

ServiceResponse OrganizationsService::ListOrganizationalUnitsForParent(const json& in) {
  OrgReader r(in);
  std::string parent = r.String("ParentId", true, &kParentId, 100);
  r.Page("ListOrganizationalUnitsForParent\n" + parent);
  if (r.failed()) return r.error();
  if (!IsRoot(parent) && FindUnit(parent) == nullptr) {
    return OrgError("ParentNotFoundException", "We can't find a root or OU with the ParentId " +
                                                   parent + " that you specified.");
  }
  std::vector<const SeedOrganizationalUnit*> units;
  for (const SeedOrganizationalUnit& ou : org_.organizational_units) {
    if (ou.parent_id == parent) units.push_back(&ou);
  }
  ServiceResponse resp;
  auto [begin, end] = r.Slice(units.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) list.push_back(UnitJson(*units[i]));
  resp.body["OrganizationalUnits"] = std::move(list);
  return resp;
}

ServiceResponse OrganizationsService::ListAccounts(const json& in) {
  OrgReader r(in);
  r.Page("ListAccounts");
  if (r.failed()) return r.error();
  ServiceResponse resp;
  auto [begin, end] = r.Slice(accounts_.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) list.push_back(AccountJson(accounts_[i]));
  resp.body["Accounts"] = std::move(list);
  return resp;
}

ServiceResponse OrganizationsService::DescribeOrganization() {
  // Seed::Validate makes the management account a seed account; a missing one still answers.
  const Account* master = FindAccount(master_);
  std::string email = master != nullptr ? AccountJson(*master)["Email"].get<std::string>()
                                        : "aws+" + master_ + "@example.com";
  ServiceResponse resp;
  resp.body["Organization"] = {{"Id", org_.id},
                               {"Arn", Arn("organization", "")},
                               {"FeatureSet", "ALL"},
                               {"MasterAccountArn", Arn("account", master_)},
                               {"MasterAccountId", master_},
                               {"MasterAccountEmail", email},
                               {"AvailablePolicyTypes", json::array()}};
  return resp;
}

ServiceResponse OrganizationsService::DescribeAccount(const json& in) {
  OrgReader r(in);
  std::string id = r.String("AccountId", true, &kAccountId, 12);
  if (r.failed()) return r.error();
  const Account* a = FindAccount(id);
  if (a == nullptr) {
    return OrgError("AccountNotFoundException", "We can't find an AWS account with the AccountId " +
                                                    id + " that you specified.");
  }
  ServiceResponse resp;
  resp.body["Account"] = AccountJson(*a);
  return resp;
}

// Tags of accounts and OUs (roots have none in the seed); one page holds them all (at most 50),
// as the real service's ListTagsForResource has no MaxResults.
ServiceResponse OrganizationsService::ListTagsForResource(const json& in) {
  OrgReader r(in);
  std::string id = r.String("ResourceId", true, &kTaggableResourceId, 130);
  r.Page("ListTagsForResource\n" + id, /*has_max_results=*/false);
  if (r.failed()) return r.error();
  std::map<std::string, std::string> tags;
  if (const Account* a = FindAccount(id)) {
    tags = a->seed.tags;
  } else if (const SeedOrganizationalUnit* ou = FindUnit(id)) {
    tags = ou->tags;
  } else if (!IsRoot(id)) {
    return OrgError("TargetNotFoundException",
                    "We can't find a root, OU, account, or policy with the TargetId " + id +
                        " that you specified.");
  }
  ServiceResponse resp;
  resp.body["Tags"] = TagsJson(tags);
  return resp;
}

ServiceResponse OrganizationsService::MoveAccount(const json& in) {
  OrgReader r(in);
  std::string id = r.String("AccountId", true, &kAccountId, 12);
  std::string source = r.String("SourceParentId", true, &kParentId, 100);
  std::string destination = r.String("DestinationParentId", true, &kParentId, 100);
  if (r.failed()) return r.error();
  Account* a = FindAccount(id);
  if (a == nullptr) {
    return OrgError("AccountNotFoundException", "We can't find an AWS account with the AccountId " +
                                                    id + " that you specified.");
  }
  if (!IsRoot(source) && FindUnit(source) == nullptr) {
    return OrgError(
        "SourceParentNotFoundException",
        "We can't find a source root or OU with the ParentId " + source + " that you specified.");
  }
  if (!IsRoot(destination) && FindUnit(destination) == nullptr) {
    return OrgError("DestinationParentNotFoundException",
                    "We can't find the destination container (a root or OU) with the ParentId " +
                        destination + " that you specified.");
  }
  if (a->parent_id == destination) {
    return ErrorResponse(400, "DuplicateAccountException",
                         "That account is already present in the specified destination.");
  }
  if (a->parent_id != source) {
    return OrgError("SourceParentNotFoundException",
                    "Account " + id + " is not in the source parent " + source + ".");
  }
  a->parent_id = destination;
  return ServiceResponse();
}

}  // namespace jit::emulator
