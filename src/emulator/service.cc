#include "emulator/service.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/duration.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "emulator/patterns.h"
#include "emulator/policy_eval.h"
#include "emulator/wire_text.h"

namespace jit::emulator {
namespace {

using wire::Fnv1a;
using wire::Hex64;

using nlohmann::json;

constexpr std::string_view kSsoPrefix = "SWBExternalService.";
constexpr std::string_view kIdentityStorePrefix = "AWSIdentityStore.";
constexpr std::size_t kSsoMaxTokenLength = 2048;
constexpr std::size_t kIdentityStoreMaxTokenLength = 65535;
// Finished operations kept for Describe*Status; older ones are forgotten.
constexpr std::size_t kMaxOperations = 100000;
// AWS's limit on a permission set's inline policy, in characters.
constexpr std::size_t kMaxInlinePolicyLength = 32768;
// Sessions kept for the session test endpoints; the oldest are forgotten.
constexpr std::size_t kMaxSessions = 10000;

double EpochSeconds(Time t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A version-4-shaped lowercase UUID from 128 bits.
std::string FormatUuid(std::uint64_t hi, std::uint64_t lo) {
  hi = (hi & ~0xf000ULL) | 0x4000ULL;
  lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);
  std::string h = Hex64(hi) + Hex64(lo);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

// The id of one group membership: stable for a (group, user) pair.
std::string MembershipId(const std::string& group_id, const std::string& user_id) {
  std::string k = group_id + "/" + user_id;
  return FormatUuid(Fnv1a(k), Fnv1a(k, 0x84222325cbf29ce4ULL));
}

std::string ValidationMessage(std::string_view value_text, std::string_view field,
                              std::string_view constraint) {
  return "1 validation error detected: Value " + std::string(value_text) + " at '" +
         std::string(field) + "' failed to satisfy constraint: " + std::string(constraint);
}

ServiceResponse Validation(std::string_view message) {
  return ErrorResponse(400, "ValidationException", message);
}

ServiceResponse NotFound(std::string_view message) {
  return ErrorResponse(400, "ResourceNotFoundException", message);
}

// identitystore's ResourceNotFoundException names what was missing.
ServiceResponse IdentityStoreNotFound(std::string_view type, std::string_view id,
                                      std::string_view message) {
  ServiceResponse r = NotFound(message);
  r.body["ResourceType"] = type;
  r.body["ResourceId"] = id;
  return r;
}

// Reads the members of one input object, keeping the first validation error.
class Reader {
 public:
  explicit Reader(const json& in) : in_(in) {}

  bool failed() const { return error_.has_value(); }
  ServiceResponse error() const { return *error_; }

  // A string member. `pattern` (optional) and the length bounds are checked when present.
  std::string String(std::string_view name, bool required, const Pattern* pattern = nullptr,
                     std::size_t min_len = 1, std::size_t max_len = 2048) {
    const json* v = Find(name);
    if (v == nullptr) {
      if (required) Fail(ValidationMessage("null", name, "Member must not be null"));
      return {};
    }
    if (!v->is_string()) {
      Fail(ValidationMessage(v->dump(), name, "Member must be a string"));
      return {};
    }
    std::string s = v->get<std::string>();
    if (s.size() < min_len || s.size() > max_len) {
      Fail(ValidationMessage(Quoted(s), name,
                             "Member must have length between " + std::to_string(min_len) +
                                 " and " + std::to_string(max_len)));
    } else if (pattern != nullptr && !pattern->matches(s)) {
      Fail(ValidationMessage(
          Quoted(s), name,
          "Member must satisfy regular expression pattern: " + std::string(pattern->name)));
    }
    return s;
  }

  // A required string member from a fixed set.
  std::string Enum(std::string_view name, const std::vector<std::string>& allowed) {
    if (failed()) return {};
    std::string s = String(name, /*required=*/true, nullptr, 1, 64);
    if (failed()) return {};
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string set;
      for (const std::string& a : allowed) set += (set.empty() ? "" : ", ") + a;
      Fail(ValidationMessage(Quoted(s), name, "Member must satisfy enum value set: [" + set + "]"));
    }
    return s;
  }

  // An optional integer member in [min, max].
  std::optional<std::int64_t> Int(std::string_view name, std::int64_t min, std::int64_t max) {
    const json* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) {
      Fail(ValidationMessage(v->dump(), name, "Member must be an integer"));
      return std::nullopt;
    }
    std::int64_t n = v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX
                         ? INT64_MAX
                         : v->get<std::int64_t>();
    if (n < min || n > max) {
      Fail(ValidationMessage(
          std::to_string(n), name,
          "Member must have value between " + std::to_string(min) + " and " + std::to_string(max)));
      return std::nullopt;
    }
    return n;
  }

  // An object member; nullptr when absent (a validation error when required).
  const json* Object(std::string_view name, bool required) {
    const json* v = Find(name);
    if (v == nullptr) {
      if (required) Fail(ValidationMessage("null", name, "Member must not be null"));
      return nullptr;
    }
    if (!v->is_object()) {
      Fail(ValidationMessage(v->dump(), name, "Member must be an object"));
      return nullptr;
    }
    return v;
  }

  // A required array member of 1..max strings matching `pattern`.
  std::vector<std::string> StringList(std::string_view name, const Pattern& pattern,
                                      std::size_t max) {
    std::vector<std::string> out;
    const json* v = Find(name);
    if (v == nullptr) {
      Fail(ValidationMessage("null", name, "Member must not be null"));
      return out;
    }
    if (!v->is_array()) {
      Fail(ValidationMessage(v->dump(), name, "Member must be a list"));
      return out;
    }
    if (v->empty() || v->size() > max) {
      Fail(ValidationMessage("'[...]'", name,
                             "Member must have length between 1 and " + std::to_string(max)));
      return out;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      std::string member = std::string(name) + "." + std::to_string(i + 1) + ".member";
      if (!e.is_string() || !pattern.matches(e.get<std::string>())) {
        Fail(ValidationMessage(
            e.is_string() ? Quoted(e.get<std::string>()) : e.dump(), member,
            "Member must satisfy regular expression pattern: " + std::string(pattern.name)));
        return out;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }

  void Fail(std::string message) {
    if (!error_) error_ = Validation(message);
  }

 private:
  const json* Find(std::string_view name) const {
    if (failed() || !in_.is_object()) return nullptr;
    auto it = in_.find(name);
    if (it == in_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  static std::string Quoted(const std::string& s) {
    return "'" + (s.size() > 200 ? s.substr(0, 200) + "..." : s) + "'";
  }

  const json& in_;
  std::optional<ServiceResponse> error_;
};

// One page of a list: where it starts, how long it is, and how to name the next one.
// Tokens are base64("v1:<fingerprint of the list's inputs>:<offset>"), so a token only
// continues the list it came from.
class Pager {
 public:
  Pager(Reader& r, std::string_view list_inputs, std::size_t max_token_length)
      : fingerprint_(Hex64(Fnv1a(list_inputs))) {
    limit_ = static_cast<std::size_t>(r.Int("MaxResults", 1, 100).value_or(kDefaultPageSize));
    std::string token = r.String("NextToken", /*required=*/false, nullptr, 0, max_token_length);
    if (r.failed() || token.empty()) return;
    std::optional<std::string> plain = DecodeBase64(token);
    std::string prefix = "v1:" + fingerprint_ + ":";
    std::size_t offset = 0;
    bool ok = plain.has_value() && plain->rfind(prefix, 0) == 0;
    if (ok) {
      std::string_view digits = std::string_view(*plain).substr(prefix.size());
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
      ok = !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
    }
    if (!ok) {
      r.Fail("The NextToken is invalid: it does not continue this list");
      return;
    }
    offset_ = offset;
  }

  // The [begin, end) of the page in a list of `size` entries; sets the answer's NextToken.
  std::pair<std::size_t, std::size_t> Slice(std::size_t size, json& answer) const {
    std::size_t begin = std::min(offset_, size);
    std::size_t end = std::min(size, begin + limit_);
    if (end < size)
      answer["NextToken"] = EncodeBase64("v1:" + fingerprint_ + ":" + std::to_string(end));
    return {begin, end};
  }

 private:
  std::string fingerprint_;
  std::size_t limit_ = kDefaultPageSize;
  std::size_t offset_ = 0;
};

json AssignmentJson(const std::string& account, const std::string& ps, const std::string& type,
                    const std::string& principal) {
  return {{"AccountId", account},
          {"PermissionSetArn", ps},
          {"PrincipalType", type},
          {"PrincipalId", principal}};
}

// A GroupMembership as identitystore lists and describes it.
json MembershipJson(const std::string& store, const std::string& id, const std::string& group_id,
                    const std::string& user_id) {
  return {{"IdentityStoreId", store},
          {"MembershipId", id},
          {"GroupId", group_id},
          {"MemberId", {{"UserId", user_id}}}};
}

std::string RandomUuid() {
  thread_local std::mt19937_64 rng(
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  return FormatUuid(hi, lo);
}

// {"UniqueAttribute": {"AttributePath", "AttributeValue"}} → (path, value); ExternalId is a
// union member the emulator knows no values of.
std::optional<ServiceResponse> ReadUniqueAttribute(Reader& r, std::string& path,
                                                   std::string& value) {
  const json* alt = r.Object("AlternateIdentifier", true);
  if (r.failed()) return r.error();
  if (alt->contains("ExternalId") && !alt->contains("UniqueAttribute")) {
    return NotFound("No resource has the given ExternalId");
  }
  Reader a(*alt);
  const json* unique = a.Object("UniqueAttribute", true);
  if (a.failed()) return a.error();
  if (alt->size() != 1) {
    return Validation("AlternateIdentifier must have exactly one member: UniqueAttribute");
  }
  Reader u(*unique);
  path = u.String("AttributePath", true, nullptr, 1, 255);
  if (u.failed()) return u.error();
  auto v = unique->find("AttributeValue");
  if (v == unique->end() || v->is_null()) {
    return Validation(ValidationMessage("null", "AttributeValue", "Member must not be null"));
  }
  if (!v->is_string()) {
    return Validation(ValidationMessage(v->dump(), "AttributeValue", "Member must be a string"));
  }
  value = v->get<std::string>();
  return std::nullopt;
}

// A test endpoint's error answer: {"error": message}.
ServiceResponse TestError(int status, std::string message) {
  ServiceResponse r;
  r.status = status;
  r.body = {{"error", std::move(message)}};
  return r;
}

// Refuses members of a test endpoint's body other than `allowed`; nullopt when there are none.
std::optional<ServiceResponse> UnknownMembers(const json& body,
                                              const std::set<std::string_view>& allowed) {
  for (const auto& [key, value] : body.items()) {
    if (!allowed.count(key)) {
      return TestError(400, "unknown member \"" + EscapeForTerminal(key.substr(0, 100)) + "\"");
    }
  }
  return std::nullopt;
}

// A string member of a test endpoint's body: "" when absent; an error when it is there but not
// a non-empty string of at most `max_len` bytes.
std::optional<ServiceResponse> StringMember(const json& body, const char* name, std::string& out,
                                            std::size_t max_len = 256) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > max_len) {
    return TestError(400, std::string(name) + " must be a non-empty string of at most " +
                              std::to_string(max_len) + " characters");
  }
  out = it->get<std::string>();
  return std::nullopt;
}

// The optional "at" member (RFC 3339), `now` when absent.
std::optional<ServiceResponse> AtMember(const json& body, Time now, Time& at) {
  std::string text;
  if (auto e = StringMember(body, "at", text, 64)) return e;
  at = now;
  if (text.empty()) return std::nullopt;
  Result<Time> parsed = ParseRfc3339(text);
  if (!parsed.has_value()) {
    return TestError(400, "at must be an RFC 3339 time such as 2026-12-05T00:15:00Z, not \"" +
                              EscapeForTerminal(text) + "\"");
  }
  at = *parsed;
  return std::nullopt;
}

// `t` to whole milliseconds, the precision the session endpoints answer in, so that a time they
// answered names the same instant when it is sent back.
Time ToMillis(Time t) { return std::chrono::floor<std::chrono::milliseconds>(t); }

// --- permission sets as code: AWS's limits and patterns ----------------------------------------

constexpr std::size_t kMaxPermissionSets = 2000;          // per instance
constexpr std::size_t kMaxPoliciesPerPermissionSet = 20;  // managed; customer managed alike
constexpr std::size_t kMaxTagsPerResource = 50;
constexpr std::size_t kMaxTagsPerRequest = 75;
// SessionDuration on the wire: PT1H..PT12H (a seed may hold shorter ones).
constexpr Duration kMinSessionDuration = std::chrono::hours(1);
constexpr Duration kMaxSessionDuration = std::chrono::hours(12);

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// [\w+=,.@-]+ (permission set names, customer managed policy names)
bool MatchPolicyName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsWordChar(c) && std::string_view("+=,.@-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}
const Pattern kNamePattern{"[\\w+=,.@-]+", MatchPolicyName};

// [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]* in UTF-8.
bool MatchDescription(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0x7e)) continue;
    if (i + 1 >= s.size()) return false;
    unsigned char next = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xc2 && next >= 0xa1 && next <= 0xbf) ||
        (c == 0xc3 && next >= 0x80 && next <= 0xbf)) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}
const Pattern kDescriptionPattern{"[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
                                  MatchDescription};

bool MatchRelayState(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("&$@#\\/%?=~-_'\"|!:,.;*+[] (){}").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}
const Pattern kRelayStatePattern{"[a-zA-Z0-9&$@#\\\\\\/%?=~\\-_'\"|!:,.;*+\\[\\]\\ \\(\\)\\{\\}]+",
                                 MatchRelayState};

// The partitions AWS's patterns name.
bool HasPartitionPrefix(std::string_view s, std::string_view rest_prefix, std::string_view& rest) {
  for (std::string_view partition : {"aws", "aws-us-gov", "aws-cn", "aws-iso", "aws-iso-b"}) {
    std::string prefix = "arn:" + std::string(partition) + ":" + std::string(rest_prefix);
    if (s.substr(0, prefix.size()) == prefix) {
      rest = s.substr(prefix.size());
      return true;
    }
  }
  return false;
}

// arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/[\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]+
bool MatchManagedPolicyArn(std::string_view s) {
  std::string_view rest;
  if (!HasPartitionPrefix(s, "iam::aws:policy/", rest) || rest.empty()) return false;
  for (char c : rest) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}
const Pattern kManagedPolicyArnPattern{
    "arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):iam::aws:policy/"
    "[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]+",
    MatchManagedPolicyArn};

// ((/[A-Za-z0-9\.,\+@=_-]+)*)/
bool MatchPolicyPath(std::string_view s) {
  if (s.empty() || s.front() != '/' || s.back() != '/') return false;
  bool segment_empty = true;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '/') {
      if (segment_empty) return false;
      segment_empty = true;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view(".,+@=_-").find(c) != std::string_view::npos;
    if (!ok) return false;
    segment_empty = false;
  }
  return true;
}
const Pattern kPolicyPathPattern{"((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", MatchPolicyPath};

// [\p{L}\p{Z}\p{N}_.:/=+\-@]* : ASCII letters, digits, space, _.:/=+-@ and any non-ASCII
// character.
bool MatchTagText(std::string_view s) {
  for (char c : s) {
    bool ok = static_cast<unsigned char>(c) >= 0x80 || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view(" _.:/=+-@").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}
const Pattern kTagKeyPattern{"[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", MatchTagText};
const Pattern kTagValuePattern{"[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", MatchTagText};

// The ISO-8601 SessionDuration AWS accepts on the wire: PT1H..PT12H. "" when good.
std::string SessionDurationProblem(const std::string& text) {
  Result<Duration> d = ParseIsoDuration(text);
  if (!d.has_value()) {
    return ValidationMessage("'" + text.substr(0, 100) + "'", "SessionDuration",
                             "Member must be an ISO-8601 duration such as PT1H");
  }
  if (*d < kMinSessionDuration || *d > kMaxSessionDuration) {
    return "The SessionDuration " + text.substr(0, 100) +
           " is out of range: it must be from 1 hour (PT1H) to 12 hours (PT12H)";
  }
  return "";
}

// Reads a list of {"Key", "Value"} tags (member `name`); ok when absent and not required.
std::optional<ServiceResponse> ReadTags(const json& in, const char* name, bool required,
                                        std::vector<std::pair<std::string, std::string>>& out) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) {
    if (!required) return std::nullopt;
    return Validation(ValidationMessage("null", name, "Member must not be null"));
  }
  if (!it->is_array()) {
    return Validation(ValidationMessage(it->dump().substr(0, 200), name, "Member must be a list"));
  }
  if (it->size() > kMaxTagsPerRequest) {
    return Validation(ValidationMessage(
        "'[...]'", name,
        "Member must have length less than or equal to " + std::to_string(kMaxTagsPerRequest)));
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& tag = (*it)[i];
    if (!tag.is_object()) {
      return Validation(ValidationMessage(tag.dump().substr(0, 200),
                                          std::string(name) + "." + std::to_string(i + 1),
                                          "Member must be an object"));
    }
    Reader t(tag);
    std::string key = t.String("Key", true, &kTagKeyPattern, 1, 128);
    std::string value = t.String("Value", true, &kTagValuePattern, 0, 256);
    if (t.failed()) return t.error();
    if (key.rfind("aws:", 0) == 0) {
      return Validation("Tag keys starting with aws: are reserved for AWS use");
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return std::nullopt;
}

// {"Name", "Path"} of a CustomerManagedPolicyReference (Path "/" when absent).
std::optional<ServiceResponse> ReadPolicyReference(const json& ref, std::string& name,
                                                   std::string& path) {
  Reader r(ref);
  name = r.String("Name", true, &kNamePattern, 1, 128);
  path = r.String("Path", false, &kPolicyPathPattern, 1, 512);
  if (r.failed()) return r.error();
  if (path.empty()) path = "/";
  return std::nullopt;
}

ServiceResponse Conflict(std::string_view message) {
  return ErrorResponse(400, "ConflictException", message);
}

ServiceResponse QuotaExceeded(std::string_view message) {
  return ErrorResponse(402, "ServiceQuotaExceededException", message);
}

}  // namespace

std::string NewUuid() { return RandomUuid(); }

ServiceResponse ErrorResponse(int status, std::string_view type, std::string_view message) {
  ServiceResponse r;
  r.status = status;
  r.body = {{"__type", type}, {"message", message}};
  return r;
}

std::string_view ServiceForTarget(std::string_view target) {
  if (target.rfind(kSsoPrefix, 0) == 0) return "sso";
  if (target.rfind(kIdentityStorePrefix, 0) == 0) return "identitystore";
  if (target.rfind("AWSEvents.", 0) == 0) return "events";
  if (target.rfind("AWSOrganizationsV20161128.", 0) == 0) return "organizations";
  // botocore sends the long prefix; the JavaScript SDK v3 the service's shape name alone.
  if (target.rfind("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.", 0) == 0 ||
      target.rfind("CloudTrail_20131101.", 0) == 0) {
    return "cloudtrail";
  }
  return {};
}

Service::Service(Seed seed, Faults faults, Duration completion_delay, Clock& clock,
                 std::string region)
    : seed_(std::move(seed)),
      start_faults_(faults),
      completion_delay_(completion_delay),
      clock_(clock),
      region_(std::move(region)) {
  MutexLock lock(&mu_);
  ResetLocked();
}

void Service::ResetLocked() {
  faults_ = start_faults_;
  rng_state_ = faults_.seed;
  assignments_.clear();
  for (const SeedAssignment& a : seed_.assignments) {
    assignments_.insert({a.account_id, a.permission_set_arn, a.principal_type, a.principal_id});
  }
  operations_.clear();
  operation_order_.clear();
  calls_.clear();
  permission_sets_.clear();
  for (const SeedPermissionSet& p : seed_.permission_sets) {
    PermissionSetState state;
    state.info = p;
    permission_sets_.push_back(std::move(state));
  }
  inline_policies_.clear();
  provisioned_.clear();
  provisioned_version_.clear();
  provisionings_.clear();
  provisioning_order_.clear();
  history_.Clear();
  sessions_.clear();
  session_order_.clear();
  memberships_.clear();
  user_memberships_.clear();
  group_memberships_.clear();
  membership_events_.clear();
  for (const SeedUser& u : seed_.users) {
    for (const SeedGroup& g : seed_.groups) {
      for (const std::string& m : g.members) {
        if ((m == u.user_name || m == u.user_id) && !FindMembership(g.group_id, u.user_id)) {
          AddMembership(MembershipId(g.group_id, u.user_id), g.group_id, u.user_id, std::nullopt);
        }
      }
    }
  }
}

void Service::Reset() {
  MutexLock lock(&mu_);
  ResetLocked();
}

void Service::SetFaults(const Faults& faults) {
  MutexLock lock(&mu_);
  faults_ = faults;
  rng_state_ = faults.seed;
}

Faults Service::faults() const {
  MutexLock lock(&mu_);
  return faults_;
}

double Service::NextUniform() {
  return static_cast<double>(SplitMix64(rng_state_) >> 11) * 0x1.0p-53;
}

void Service::Settle(Time now) {
  std::vector<std::pair<std::string, Operation*>> due;
  for (auto& [id, op] : operations_) {
    if (op.status == "IN_PROGRESS" && op.due <= now) due.emplace_back(id, &op);
  }
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->due, a.second->seq) < std::tie(b.second->due, b.second->seq);
  });
  for (auto& [id, op] : due) {
    if (op->will_fail) {
      op->status = "FAILED";
      history_.Settled(op->create, op->key, id, op->due, /*succeeded=*/false, /*changed=*/false);
      continue;
    }
    op->status = "SUCCEEDED";
    bool changed = false;
    if (op->create) {
      changed = assignments_.insert(op->key).second;
    } else {
      changed = assignments_.erase(op->key) > 0;
    }
    history_.Settled(op->create, op->key, id, op->due, /*succeeded=*/true, changed);
  }
  // Provisionings in the order they were accepted (their due times are in that order too).
  for (const std::string& id : provisioning_order_) {
    auto it = provisionings_.find(id);
    if (it == provisionings_.end()) continue;
    Provisioning& p = it->second;
    if (p.status != "IN_PROGRESS" || p.due > now) continue;
    if (p.will_fail) {
      p.status = "FAILED";
      continue;
    }
    p.status = "SUCCEEDED";
    for (const std::string& account : p.accounts) {
      provisioned_[{p.permission_set_arn, account}] = p.policy;
      provisioned_version_[{p.permission_set_arn, account}] = p.version;
    }
  }
}

void Service::ForgetOldOperations() {
  while (operation_order_.size() > kMaxOperations) {
    auto it = operations_.find(operation_order_.front());
    if (it != operations_.end() && it->second.status == "IN_PROGRESS") break;
    if (it != operations_.end()) operations_.erase(it);
    operation_order_.pop_front();
  }
  while (provisioning_order_.size() > kMaxOperations) {
    auto it = provisionings_.find(provisioning_order_.front());
    if (it != provisionings_.end() && it->second.status == "IN_PROGRESS") break;
    if (it != provisionings_.end()) provisionings_.erase(it);
    provisioning_order_.pop_front();
  }
}

json Service::OperationStatus(const std::string& id, const Operation& op) const {
  const auto& [account, ps, type, principal] = op.key;
  json s = {{"Status", op.status},      {"RequestId", id},
            {"TargetId", account},      {"TargetType", "AWS_ACCOUNT"},
            {"PermissionSetArn", ps},   {"PrincipalType", type},
            {"PrincipalId", principal}, {"CreatedDate", EpochSeconds(op.created)}};
  if (op.status == "FAILED") {
    s["FailureReason"] =
        op.create ? "Request failed: the account's IAM role quota is full (emulated failure)"
                  : "Request failed: the role could not be removed (emulated failure)";
  }
  return s;
}

json Service::ProvisioningStatus(const std::string& id, const Provisioning& p) const {
  json s = {{"Status", p.status},
            {"RequestId", id},
            {"PermissionSetArn", p.permission_set_arn},
            {"CreatedDate", EpochSeconds(p.created)}};
  if (!p.account_id.empty()) s["AccountId"] = p.account_id;
  if (p.status == "FAILED") {
    s["FailureReason"] =
        "Request failed: the permission set could not be provisioned (emulated failure)";
  }
  return s;
}

json Service::PermissionSetsJson() const {
  json out = json::array();
  for (const PermissionSetState& state : permission_sets_) {
    const SeedPermissionSet& ps = state.info;
    auto policy = inline_policies_.find(ps.arn);
    json accounts = json::object();
    json versions = json::object();
    for (const auto& [key, provisioned] : provisioned_) {
      if (key.first != ps.arn) continue;
      accounts[key.second] = provisioned;
      auto v = provisioned_version_.find(key);
      versions[key.second] = v == provisioned_version_.end() ? 0 : v->second;
    }
    json customer = json::array();
    for (const auto& [name, path] : state.customer_managed) {
      customer.push_back({{"Name", name}, {"Path", path}});
    }
    out.push_back({{"Name", ps.name},
                   {"PermissionSetArn", ps.arn},
                   {"Description", ps.description},
                   {"SessionDuration", ps.session_duration},
                   {"RelayState", ps.relay_state},
                   {"InlinePolicy", policy == inline_policies_.end() ? "" : policy->second},
                   {"ManagedPolicies", state.managed_policies},
                   {"CustomerManagedPolicyReferences", std::move(customer)},
                   {"PermissionsBoundary", state.boundary},
                   {"Tags", state.tags},
                   {"version", state.version},
                   {"provisioned", std::move(accounts)},
                   {"provisioned_version", std::move(versions)}});
  }
  return out;
}

ServiceResponse Service::Handle(std::string_view target, const json& input) {
  MutexLock lock(&mu_);
  std::string_view service = ServiceForTarget(target);
  bool sso = service == "sso";
  std::string_view op = target.substr(target.find('.') + 1);
  static const std::set<std::string_view> kSsoOps = {
      "ListInstances",
      "ListPermissionSets",
      "DescribePermissionSet",
      "CreateAccountAssignment",
      "DescribeAccountAssignmentCreationStatus",
      "DeleteAccountAssignment",
      "DescribeAccountAssignmentDeletionStatus",
      "ListAccountAssignments",
      "ListAccountAssignmentsForPrincipal",
      "GetInlinePolicyForPermissionSet",
      "PutInlinePolicyToPermissionSet",
      "DeleteInlinePolicyFromPermissionSet",
      "ProvisionPermissionSet",
      "DescribePermissionSetProvisioningStatus",
      "CreatePermissionSet",
      "UpdatePermissionSet",
      "AttachManagedPolicyToPermissionSet",
      "DetachManagedPolicyFromPermissionSet",
      "ListManagedPoliciesInPermissionSet",
      "AttachCustomerManagedPolicyReferenceToPermissionSet",
      "DetachCustomerManagedPolicyReferenceFromPermissionSet",
      "ListCustomerManagedPolicyReferencesInPermissionSet",
      "PutPermissionsBoundaryToPermissionSet",
      "GetPermissionsBoundaryForPermissionSet",
      "DeletePermissionsBoundaryFromPermissionSet",
      "TagResource",
      "UntagResource",
      "ListTagsForResource",
      "ListAccountsForProvisionedPermissionSet",
      "ListPermissionSetsProvisionedToAccount"};
  static const std::set<std::string_view> kIdentityStoreOps = {"GetUserId",
                                                               "GetGroupId",
                                                               "DescribeUser",
                                                               "DescribeGroup",
                                                               "ListGroupMembershipsForMember",
                                                               "IsMemberInGroups",
                                                               "CreateGroupMembership",
                                                               "DeleteGroupMembership",
                                                               "GetGroupMembershipId",
                                                               "DescribeGroupMembership",
                                                               "ListGroupMemberships"};
  if (service.empty() || !(sso ? kSsoOps : kIdentityStoreOps).count(op)) {
    std::string shown(target.substr(0, 200));
    return ErrorResponse(400, "UnknownOperationException", "Unknown operation " + shown);
  }
  ++calls_[std::string(op)];

  ServiceResponse r;
  double u = NextUniform();
  if (u < faults_.throttle_rate) {
    r = ErrorResponse(400, "ThrottlingException", "Rate exceeded");
    if (!sso) r.body["RetryAfterSeconds"] = 1;
  } else if (u < faults_.throttle_rate + faults_.server_error_rate) {
    r = ErrorResponse(500, "InternalServerException",
                      "The request processing has failed because of an unknown error, exception "
                      "or failure (emulated)");
    if (!sso) r.body["RetryAfterSeconds"] = 1;
  } else if (!input.is_object()) {
    r = ErrorResponse(400, "SerializationException", "The request body must be a JSON object");
  } else {
    Settle(clock_.Now());
    try {
      r = Dispatch(op, input);
    } catch (const std::exception& e) {
      // nlohmann-json throws only on a bug here (types are checked first): answer, do not die.
      r = ErrorResponse(500, "InternalServerException", e.what());
    }
  }
  r.delay = faults_.latency;
  return r;
}

ServiceResponse Service::Dispatch(std::string_view op, const json& in) {
  if (op == "ListInstances") return ListInstances(in);
  if (op == "ListPermissionSets") return ListPermissionSets(in);
  if (op == "DescribePermissionSet") return DescribePermissionSet(in);
  if (op == "CreateAccountAssignment") return StartAssignmentOperation(true, in);
  if (op == "DeleteAccountAssignment") return StartAssignmentOperation(false, in);
  if (op == "DescribeAccountAssignmentCreationStatus") return DescribeOperation(true, in);
  if (op == "DescribeAccountAssignmentDeletionStatus") return DescribeOperation(false, in);
  if (op == "ListAccountAssignments") return ListAccountAssignments(in);
  if (op == "ListAccountAssignmentsForPrincipal") return ListAccountAssignmentsForPrincipal(in);
  if (op == "GetInlinePolicyForPermissionSet") return GetInlinePolicy(in);
  if (op == "PutInlinePolicyToPermissionSet") return PutInlinePolicy(in);
  if (op == "DeleteInlinePolicyFromPermissionSet") return DeleteInlinePolicy(in);
  if (op == "ProvisionPermissionSet") return ProvisionPermissionSet(in);
  if (op == "DescribePermissionSetProvisioningStatus") return DescribeProvisioning(in);
  if (op == "CreatePermissionSet") return CreatePermissionSet(in);
  if (op == "UpdatePermissionSet") return UpdatePermissionSet(in);
  if (op == "AttachManagedPolicyToPermissionSet") return ManagedPolicy(true, in);
  if (op == "DetachManagedPolicyFromPermissionSet") return ManagedPolicy(false, in);
  if (op == "ListManagedPoliciesInPermissionSet") return ListManagedPolicies(in);
  if (op == "AttachCustomerManagedPolicyReferenceToPermissionSet") {
    return CustomerManagedPolicy(true, in);
  }
  if (op == "DetachCustomerManagedPolicyReferenceFromPermissionSet") {
    return CustomerManagedPolicy(false, in);
  }
  if (op == "ListCustomerManagedPolicyReferencesInPermissionSet") {
    return ListCustomerManagedPolicies(in);
  }
  if (op == "PutPermissionsBoundaryToPermissionSet") return PutPermissionsBoundary(in);
  if (op == "GetPermissionsBoundaryForPermissionSet") return GetPermissionsBoundary(in);
  if (op == "DeletePermissionsBoundaryFromPermissionSet") return DeletePermissionsBoundary(in);
  if (op == "TagResource") return TagResource(in);
  if (op == "UntagResource") return UntagResource(in);
  if (op == "ListTagsForResource") return ListTagsForResource(in);
  if (op == "ListAccountsForProvisionedPermissionSet") {
    return ListAccountsForProvisionedPermissionSet(in);
  }
  if (op == "ListPermissionSetsProvisionedToAccount") {
    return ListPermissionSetsProvisionedToAccount(in);
  }
  if (op == "GetUserId") return GetUserId(in);
  if (op == "GetGroupId") return GetGroupId(in);
  if (op == "DescribeUser") return DescribeUser(in);
  if (op == "DescribeGroup") return DescribeGroup(in);
  if (op == "ListGroupMembershipsForMember") return ListGroupMembershipsForMember(in);
  if (op == "CreateGroupMembership") return CreateGroupMembership(in);
  if (op == "DeleteGroupMembership") return DeleteGroupMembership(in);
  if (op == "GetGroupMembershipId") return GetGroupMembershipId(in);
  if (op == "DescribeGroupMembership") return DescribeGroupMembership(in);
  if (op == "ListGroupMemberships") return ListGroupMemberships(in);
  return IsMemberInGroups(in);
}

std::optional<ServiceResponse> Service::CheckInstance(const std::string& arn) const {
  if (arn == seed_.instance.arn) return std::nullopt;
  return NotFound("Instance " + arn + " does not exist");
}

std::optional<ServiceResponse> Service::CheckPermissionSet(const std::string& arn) const {
  if (FindPermissionSet(arn) != nullptr) return std::nullopt;
  return NotFound("PermissionSet " + arn + " does not exist in instance " + seed_.instance.arn);
}

std::optional<ServiceResponse> Service::CheckAccount(const std::string& id) const {
  for (const SeedAccount& a : seed_.accounts) {
    if (a.id == id) return std::nullopt;
  }
  return NotFound("Account " + id + " is not a member of the organization");
}

std::optional<ServiceResponse> Service::CheckIdentityStore(const std::string& id) const {
  if (id == seed_.instance.identity_store_id) return std::nullopt;
  return IdentityStoreNotFound("IDENTITY_STORE", id, "Identity store " + id + " does not exist");
}

const SeedUser* Service::FindUser(std::string_view user_id) const {
  for (const SeedUser& u : seed_.users) {
    if (u.user_id == user_id) return &u;
  }
  return nullptr;
}

bool Service::GroupExists(std::string_view group_id) const {
  for (const SeedGroup& g : seed_.groups) {
    if (g.group_id == group_id) return true;
  }
  return false;
}

ServiceResponse Service::ListInstances(const json& in) {
  Reader r(in);
  Pager pager(r, "ListInstances", kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(1, resp.body);
  json instances = json::array();
  if (begin < end) {
    instances.push_back({{"InstanceArn", seed_.instance.arn},
                         {"IdentityStoreId", seed_.instance.identity_store_id},
                         {"OwnerAccountId", seed_.instance.owner_account_id},
                         {"Name", seed_.instance.name},
                         {"Status", "ACTIVE"},
                         {"CreatedDate", 1704067200.0}});
  }
  resp.body["Instances"] = std::move(instances);
  return resp;
}

ServiceResponse Service::ListPermissionSets(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  Pager pager(r, "ListPermissionSets\n" + instance, kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(permission_sets_.size(), resp.body);
  json arns = json::array();
  for (std::size_t i = begin; i < end; ++i) arns.push_back(permission_sets_[i].info.arn);
  resp.body["PermissionSets"] = std::move(arns);
  return resp;
}

ServiceResponse Service::DescribePermissionSet(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  const PermissionSetState* ps = FindPermissionSet(arn);
  if (ps == nullptr) return *CheckPermissionSet(arn);
  ServiceResponse resp;
  resp.body["PermissionSet"] = PermissionSetJson(*ps);
  return resp;
}

json Service::PermissionSetJson(const PermissionSetState& state) {
  const SeedPermissionSet& p = state.info;
  json ps = {{"Name", p.name},
             {"PermissionSetArn", p.arn},
             {"CreatedDate", state.created_date},
             {"SessionDuration", p.session_duration}};
  if (!p.description.empty()) ps["Description"] = p.description;
  if (!p.relay_state.empty()) ps["RelayState"] = p.relay_state;
  return ps;
}

ServiceResponse Service::StartAssignmentOperation(bool create, const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string account = r.String("TargetId", true, &kAccountId, 12, 12);
  r.Enum("TargetType", {"AWS_ACCOUNT"});
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  std::string type = r.Enum("PrincipalType", {"USER", "GROUP"});
  std::string principal = r.String("PrincipalId", true, &kPrincipalId, 1, 47);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  if (auto e = CheckAccount(account)) return *e;
  bool known = type == "USER" ? FindUser(principal) != nullptr : GroupExists(principal);
  if (!known) {
    return NotFound("Principal " + principal + " (" + type + ") does not exist in identity store " +
                    seed_.instance.identity_store_id);
  }
  Key key{account, ps, type, principal};
  if (faults_.conflicts) {
    for (const auto& [id, op] : operations_) {
      if (op.status == "IN_PROGRESS" && op.create != create && op.key == key) {
        return ErrorResponse(400, "ConflictException",
                             std::string("An assignment ") + (op.create ? "creation" : "deletion") +
                                 " for this principal, account and permission set is in progress "
                                 "(request " +
                                 id + "); retry when it has finished");
      }
    }
  }
  Operation op;
  op.create = create;
  op.key = std::move(key);
  op.created = clock_.Now();
  op.due = op.created + completion_delay_;
  op.seq = next_seq_++;
  op.will_fail = faults_.failed_rate > 0 && NextUniform() < faults_.failed_rate;
  std::string id = RandomUuid();
  while (operations_.count(id)) id = RandomUuid();
  ServiceResponse resp;
  resp.body[create ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus"] =
      OperationStatus(id, op);
  history_.Accepted(op.create, op.key, id, op.created);
  operations_.emplace(id, std::move(op));
  operation_order_.push_back(id);
  ForgetOldOperations();
  return resp;
}

ServiceResponse Service::DescribeOperation(bool create, const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  const char* field =
      create ? "AccountAssignmentCreationRequestId" : "AccountAssignmentDeletionRequestId";
  std::string id = r.String(field, true, &kRequestId, 36, 36);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  auto it = operations_.find(id);
  if (it == operations_.end() || it->second.create != create) {
    return NotFound(std::string(create ? "Creation" : "Deletion") + " request " + id +
                    " does not exist");
  }
  ServiceResponse resp;
  resp.body[create ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus"] =
      OperationStatus(it->first, it->second);
  return resp;
}

ServiceResponse Service::ListAccountAssignments(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string account = r.String("AccountId", true, &kAccountId, 12, 12);
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  Pager pager(r, "ListAccountAssignments\n" + instance + "\n" + account + "\n" + ps,
              kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  if (auto e = CheckAccount(account)) return *e;
  std::vector<const Key*> matching;
  for (const Key& k : assignments_) {
    if (std::get<0>(k) == account && std::get<1>(k) == ps) matching.push_back(&k);
  }
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(matching.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const auto& [a, p, t, id] = *matching[i];
    list.push_back(AssignmentJson(a, p, t, id));
  }
  resp.body["AccountAssignments"] = std::move(list);
  return resp;
}

ServiceResponse Service::ListAccountAssignmentsForPrincipal(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string principal = r.String("PrincipalId", true, &kPrincipalId, 1, 47);
  std::string type = r.Enum("PrincipalType", {"USER", "GROUP"});
  std::string account_filter;
  if (const json* filter = r.Object("Filter", false)) {
    Reader f(*filter);
    account_filter = f.String("AccountId", false, &kAccountId, 12, 12);
    if (f.failed()) return f.error();
  }
  Pager pager(r,
              "ListAccountAssignmentsForPrincipal\n" + instance + "\n" + principal + "\n" + type +
                  "\n" + account_filter,
              kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  std::vector<const Key*> matching;
  for (const Key& k : assignments_) {
    if (std::get<2>(k) == type && std::get<3>(k) == principal &&
        (account_filter.empty() || std::get<0>(k) == account_filter)) {
      matching.push_back(&k);
    }
  }
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(matching.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const auto& [a, p, t, id] = *matching[i];
    list.push_back(AssignmentJson(a, p, t, id));
  }
  resp.body["AccountAssignments"] = std::move(list);
  return resp;
}

ServiceResponse Service::GetUserId(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  if (r.failed()) return r.error();
  std::string path;
  std::string value;
  if (auto e = ReadUniqueAttribute(r, path, value)) return *e;
  if (auto e = CheckIdentityStore(store)) return *e;
  bool by_name = EqualsIgnoreCase(path, "userName");
  bool by_email = EqualsIgnoreCase(path, "emails.value");
  if (!by_name && !by_email) {
    return Validation("AttributePath '" + path.substr(0, 200) +
                      "' is not a unique attribute of a user: use userName or emails.value");
  }
  for (const SeedUser& u : seed_.users) {
    bool match = by_name ? EqualsIgnoreCase(u.user_name, value)
                         : std::any_of(u.emails.begin(), u.emails.end(), [&](const std::string& e) {
                             return EqualsIgnoreCase(e, value);
                           });
    if (match) {
      ServiceResponse resp;
      resp.body = {{"IdentityStoreId", store}, {"UserId", u.user_id}};
      return resp;
    }
  }
  return IdentityStoreNotFound("USER", "",
                               "No user has " + path + " '" + value.substr(0, 200) + "'");
}

ServiceResponse Service::GetGroupId(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  if (r.failed()) return r.error();
  std::string path;
  std::string value;
  if (auto e = ReadUniqueAttribute(r, path, value)) return *e;
  if (auto e = CheckIdentityStore(store)) return *e;
  if (!EqualsIgnoreCase(path, "displayName")) {
    return Validation("AttributePath '" + path.substr(0, 200) +
                      "' is not a unique attribute of a group: use displayName");
  }
  for (const SeedGroup& g : seed_.groups) {
    if (EqualsIgnoreCase(g.display_name, value)) {
      ServiceResponse resp;
      resp.body = {{"IdentityStoreId", store}, {"GroupId", g.group_id}};
      return resp;
    }
  }
  return IdentityStoreNotFound("GROUP", "",
                               "No group has displayName '" + value.substr(0, 200) + "'");
}

ServiceResponse Service::DescribeUser(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string user_id = r.String("UserId", true, &kPrincipalId, 1, 47);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  const SeedUser* u = FindUser(user_id);
  if (u == nullptr) return IdentityStoreNotFound("USER", user_id, "User " + user_id + " not found");
  json emails = json::array();
  for (std::size_t i = 0; i < u->emails.size(); ++i) {
    emails.push_back({{"Value", u->emails[i]}, {"Type", "work"}, {"Primary", i == 0}});
  }
  ServiceResponse resp;
  resp.body = {{"IdentityStoreId", store},
               {"UserId", u->user_id},
               {"UserName", u->user_name},
               {"DisplayName", u->display_name},
               {"Emails", std::move(emails)}};
  return resp;
}

ServiceResponse Service::DescribeGroup(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string group_id = r.String("GroupId", true, &kPrincipalId, 1, 47);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  for (const SeedGroup& g : seed_.groups) {
    if (g.group_id != group_id) continue;
    ServiceResponse resp;
    resp.body = {
        {"IdentityStoreId", store}, {"GroupId", g.group_id}, {"DisplayName", g.display_name}};
    return resp;
  }
  return IdentityStoreNotFound("GROUP", group_id, "Group " + group_id + " not found");
}

ServiceResponse Service::ListGroupMembershipsForMember(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string user_id;
  if (const json* member = r.Object("MemberId", true)) {
    Reader m(*member);
    user_id = m.String("UserId", true, &kPrincipalId, 1, 47);
    if (m.failed()) return m.error();
  }
  Pager pager(r, "ListGroupMembershipsForMember\n" + store + "\n" + user_id,
              kIdentityStoreMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  ServiceResponse resp;
  const std::vector<std::string>& ids = MembershipIds(user_memberships_, user_id);
  auto [begin, end] = pager.Slice(ids.size(), resp.body);
  resp.body["GroupMemberships"] = MembershipList(store, ids, begin, end);
  return resp;
}

ServiceResponse Service::IsMemberInGroups(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string user_id;
  if (const json* member = r.Object("MemberId", true)) {
    Reader m(*member);
    user_id = m.String("UserId", true, &kPrincipalId, 1, 47);
    if (m.failed()) return m.error();
  }
  std::vector<std::string> group_ids = r.StringList("GroupIds", kPrincipalId, 100);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  json results = json::array();
  for (const std::string& g : group_ids) {
    bool member = FindMembership(g, user_id) != nullptr;
    results.push_back(
        {{"GroupId", g}, {"MemberId", {{"UserId", user_id}}}, {"MembershipExists", member}});
  }
  ServiceResponse resp;
  resp.body["Results"] = std::move(results);
  return resp;
}

std::vector<std::string> Service::UserGroups(const std::string& user_id) const {
  std::vector<std::string> out;
  auto it = user_memberships_.find(user_id);
  if (it == user_memberships_.end()) return out;
  for (const std::string& id : it->second) out.push_back(memberships_.at(id).group_id);
  return out;
}

const std::string* Service::FindMembership(const std::string& group_id,
                                           const std::string& user_id) const {
  auto it = user_memberships_.find(user_id);
  if (it == user_memberships_.end()) return nullptr;
  for (const std::string& id : it->second) {
    if (memberships_.at(id).group_id == group_id) return &id;
  }
  return nullptr;
}

void Service::AddMembership(const std::string& id, const std::string& group_id,
                            const std::string& user_id, std::optional<Time> at) {
  memberships_[id] = Membership{group_id, user_id};
  user_memberships_[user_id].push_back(id);
  group_memberships_[group_id].push_back(id);
  if (!at) return;
  membership_events_.push_back({*at, group_id, user_id, /*added=*/true});
  while (membership_events_.size() > kMaxHistoryEvents) membership_events_.pop_front();
}

void Service::RemoveMembership(const std::string& id, Time at) {
  auto it = memberships_.find(id);
  JIT_CHECK(it != memberships_.end());
  Membership m = it->second;
  memberships_.erase(it);
  auto unlist = [&id](std::map<std::string, std::vector<std::string>>& index,
                      const std::string& key) {
    auto list = index.find(key);
    if (list == index.end()) return;
    std::erase(list->second, id);
    if (list->second.empty()) index.erase(list);
  };
  unlist(user_memberships_, m.user_id);
  unlist(group_memberships_, m.group_id);
  membership_events_.push_back({at, m.group_id, m.user_id, /*added=*/false});
  while (membership_events_.size() > kMaxHistoryEvents) membership_events_.pop_front();
}

bool Service::MemberAt(const std::string& group_id, const std::string& user_id, Time t) const {
  bool member = FindMembership(group_id, user_id) != nullptr;
  for (auto it = membership_events_.rbegin(); it != membership_events_.rend(); ++it) {
    if (it->at <= t || it->group_id != group_id || it->user_id != user_id) continue;
    member = !it->added;
  }
  return member;
}

namespace {

// {"MemberId": {"UserId": ...}}: the union's one member this emulator (like jit) knows.
std::string ReadMemberUserId(Reader& r) {
  const json* member = r.Object("MemberId", true);
  if (r.failed()) return {};
  Reader m(*member);
  std::string user_id = m.String("UserId", true, &kPrincipalId, 1, 47);
  if (m.failed()) r.Fail(m.error().body["message"].get<std::string>());
  return user_id;
}

}  // namespace

ServiceResponse Service::CreateGroupMembership(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string group_id = r.String("GroupId", true, &kPrincipalId, 1, 47);
  std::string user_id = ReadMemberUserId(r);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  if (!GroupExists(group_id)) {
    return IdentityStoreNotFound("GROUP", group_id, "Group " + group_id + " not found");
  }
  if (FindUser(user_id) == nullptr) {
    return IdentityStoreNotFound("USER", user_id, "User " + user_id + " not found");
  }
  if (FindMembership(group_id, user_id) != nullptr) {
    ServiceResponse conflict = ErrorResponse(
        400, "ConflictException", "User " + user_id + " is already a member of group " + group_id);
    conflict.body["Reason"] = "UNIQUENESS_CONSTRAINT_VIOLATION";
    return conflict;
  }
  std::string id = RandomUuid();
  while (memberships_.count(id)) id = RandomUuid();
  AddMembership(id, group_id, user_id, ToMillis(clock_.Now()));
  ServiceResponse resp;
  resp.body = {{"IdentityStoreId", store}, {"MembershipId", id}};
  return resp;
}

ServiceResponse Service::DeleteGroupMembership(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string id = r.String("MembershipId", true, &kPrincipalId, 1, 47);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  if (!memberships_.count(id)) {
    return IdentityStoreNotFound("GROUP_MEMBERSHIP", id, "GroupMembership " + id + " not found");
  }
  RemoveMembership(id, ToMillis(clock_.Now()));
  return ServiceResponse{};
}

ServiceResponse Service::GetGroupMembershipId(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string group_id = r.String("GroupId", true, &kPrincipalId, 1, 47);
  std::string user_id = ReadMemberUserId(r);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  if (!GroupExists(group_id)) {
    return IdentityStoreNotFound("GROUP", group_id, "Group " + group_id + " not found");
  }
  const std::string* id = FindMembership(group_id, user_id);
  if (id == nullptr) {
    return IdentityStoreNotFound("GROUP_MEMBERSHIP", "",
                                 "User " + user_id + " is not a member of group " + group_id);
  }
  ServiceResponse resp;
  resp.body = {{"IdentityStoreId", store}, {"MembershipId", *id}};
  return resp;
}

ServiceResponse Service::DescribeGroupMembership(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string id = r.String("MembershipId", true, &kPrincipalId, 1, 47);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  auto it = memberships_.find(id);
  if (it == memberships_.end()) {
    return IdentityStoreNotFound("GROUP_MEMBERSHIP", id, "GroupMembership " + id + " not found");
  }
  ServiceResponse resp;
  resp.body = MembershipJson(store, id, it->second.group_id, it->second.user_id);
  return resp;
}

const std::vector<std::string>& Service::MembershipIds(
    const std::map<std::string, std::vector<std::string>>& index, const std::string& key) {
  static const std::vector<std::string> kNone;
  auto it = index.find(key);
  return it == index.end() ? kNone : it->second;
}

json Service::MembershipList(const std::string& store, const std::vector<std::string>& ids,
                             std::size_t begin, std::size_t end) const {
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const Membership& m = memberships_.at(ids[i]);
    list.push_back(MembershipJson(store, ids[i], m.group_id, m.user_id));
  }
  return list;
}

ServiceResponse Service::ListGroupMemberships(const json& in) {
  Reader r(in);
  std::string store = r.String("IdentityStoreId", true, &kIdentityStoreId, 1, 36);
  std::string group_id = r.String("GroupId", true, &kPrincipalId, 1, 47);
  Pager pager(r, "ListGroupMemberships\n" + store + "\n" + group_id, kIdentityStoreMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckIdentityStore(store)) return *e;
  if (!GroupExists(group_id)) {
    return IdentityStoreNotFound("GROUP", group_id, "Group " + group_id + " not found");
  }
  ServiceResponse resp;
  const std::vector<std::string>& ids = MembershipIds(group_memberships_, group_id);
  auto [begin, end] = pager.Slice(ids.size(), resp.body);
  resp.body["GroupMemberships"] = MembershipList(store, ids, begin, end);
  return resp;
}

ServiceResponse Service::GetInlinePolicy(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  auto it = inline_policies_.find(ps);
  ServiceResponse resp;
  // AWS answers an empty document for a permission set without one.
  resp.body["InlinePolicy"] = it == inline_policies_.end() ? "" : it->second;
  return resp;
}

ServiceResponse Service::PutInlinePolicy(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  // Lengths are in characters, checked below; the body parser has checked the UTF-8.
  std::string policy =
      r.String("InlinePolicy", true, nullptr, 0, std::numeric_limits<std::size_t>::max());
  if (r.failed()) return r.error();
  if (policy.empty()) {
    return Validation(ValidationMessage("''", "InlinePolicy",
                                        "Member must have length greater than or equal to 1"));
  }
  std::size_t chars = 0;
  bool allowed = true;
  for (unsigned char c : policy) {
    if ((c & 0xc0) == 0x80) continue;  // a continuation byte
    ++chars;
    // AWS's pattern allows tab, LF, CR and U+0020..U+00FF: in UTF-8, those ASCII bytes and
    // the lead bytes C2 and C3.
    bool ok =
        c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x80) || c == 0xc2 || c == 0xc3;
    allowed = allowed && ok;
  }
  std::string excerpt = "'" + (policy.size() > 200 ? policy.substr(0, 200) + "..." : policy) + "'";
  if (chars > kMaxInlinePolicyLength) {
    return Validation(ValidationMessage(
        excerpt, "InlinePolicy",
        "Member must have length less than or equal to " + std::to_string(kMaxInlinePolicyLength)));
  }
  if (!allowed) {
    return Validation(ValidationMessage(excerpt, "InlinePolicy",
                                        "Member must satisfy regular expression pattern: "
                                        "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"));
  }
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  json doc = json::parse(policy, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return Validation("The InlinePolicy is not a valid policy document: it must be a JSON object");
  }
  inline_policies_[ps] = std::move(policy);
  ++FindPermissionSet(ps)->version;
  return ServiceResponse();
}

ServiceResponse Service::DeleteInlinePolicy(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  if (inline_policies_.erase(ps) > 0) ++FindPermissionSet(ps)->version;  // deleting none succeeds
  return ServiceResponse();
}

ServiceResponse Service::ProvisionPermissionSet(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string ps = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  std::string type = r.Enum("TargetType", {"AWS_ACCOUNT", "ALL_PROVISIONED_ACCOUNTS"});
  std::string account = r.String("TargetId", false, &kAccountId, 12, 12);
  if (r.failed()) return r.error();
  if (type == "AWS_ACCOUNT" && account.empty()) {
    return Validation("TargetId is required when TargetType is AWS_ACCOUNT");
  }
  if (type == "ALL_PROVISIONED_ACCOUNTS" && !account.empty()) {
    return Validation("TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS");
  }
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(ps)) return *e;
  if (!account.empty()) {
    if (auto e = CheckAccount(account)) return *e;
  }
  if (faults_.conflicts) {
    // AWS refuses a provisioning of a permission set while another one of it is running.
    for (const auto& [id, other] : provisionings_) {
      if (other.status == "IN_PROGRESS" && other.permission_set_arn == ps) {
        return ErrorResponse(400, "ConflictException",
                             "A provisioning of permission set " + ps +
                                 " is in progress (request " + id +
                                 "); retry when it has finished");
      }
    }
  }
  Provisioning p;
  p.permission_set_arn = ps;
  p.account_id = account;
  if (!account.empty()) {
    p.accounts.push_back(account);
  } else {
    // Every account the permission set is assigned in or was provisioned to.
    p.accounts = ProvisionedAccounts(ps);
  }
  p.version = FindPermissionSet(ps)->version;
  auto policy = inline_policies_.find(ps);
  if (policy != inline_policies_.end()) p.policy = policy->second;
  p.created = clock_.Now();
  p.due = p.created + completion_delay_;
  p.will_fail = faults_.failed_rate > 0 && NextUniform() < faults_.failed_rate;
  std::string id = RandomUuid();
  while (provisionings_.count(id) || operations_.count(id)) id = RandomUuid();
  ServiceResponse resp;
  resp.body["PermissionSetProvisioningStatus"] = ProvisioningStatus(id, p);
  provisionings_.emplace(id, std::move(p));
  provisioning_order_.push_back(id);
  ForgetOldOperations();
  return resp;
}

ServiceResponse Service::DescribeProvisioning(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string id = r.String("ProvisionPermissionSetRequestId", true, &kRequestId, 36, 36);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  auto it = provisionings_.find(id);
  if (it == provisionings_.end()) {
    return NotFound("Provisioning request " + id + " does not exist");
  }
  ServiceResponse resp;
  resp.body["PermissionSetProvisioningStatus"] = ProvisioningStatus(it->first, it->second);
  return resp;
}

const Service::PermissionSetState* Service::FindPermissionSet(std::string_view arn) const {
  for (const PermissionSetState& p : permission_sets_) {
    if (p.info.arn == arn) return &p;
  }
  return nullptr;
}

Service::PermissionSetState* Service::FindPermissionSet(std::string_view arn) {
  for (PermissionSetState& p : permission_sets_) {
    if (p.info.arn == arn) return &p;
  }
  return nullptr;
}

std::vector<std::string> Service::ProvisionedAccounts(const std::string& ps) const {
  std::set<std::string> accounts;
  for (const Key& k : assignments_) {
    if (std::get<1>(k) == ps) accounts.insert(std::get<0>(k));
  }
  for (const auto& [key, unused] : provisioned_) {
    if (key.first == ps) accounts.insert(key.second);
  }
  return {accounts.begin(), accounts.end()};
}

bool Service::HoldsAssignment(const std::string& user_id, const std::string& account,
                              const std::string& ps, Time at) const {
  // The principals whose assignment would let the user in: the user, then each of its groups.
  Key direct{account, ps, "USER", user_id};
  if (history_.HeldAt(direct, at, assignments_.count(direct) > 0)) return true;
  // Its groups now and those it has left since the kept records began.
  std::set<std::string> groups;
  for (const std::string& g : UserGroups(user_id)) groups.insert(g);
  for (const MembershipEvent& e : membership_events_) {
    if (e.user_id == user_id) groups.insert(e.group_id);
  }
  for (const std::string& g : groups) {
    if (!MemberAt(g, user_id, at)) continue;
    Key key{account, ps, "GROUP", g};
    if (history_.HeldAt(key, at, assignments_.count(key) > 0)) return true;
  }
  return false;
}

json Service::SessionsJson() const {
  json out = json::array();
  for (const std::string& id : session_order_) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) continue;
    const Session& s = it->second;
    out.push_back({{"session_id", id},
                   {"user_id", s.user_id},
                   {"account_id", s.account_id},
                   {"permission_set_arn", s.permission_set_arn},
                   {"issued_at", FormatRfc3339(s.issued)},
                   {"expires_at", FormatRfc3339(s.expires)}});
  }
  return out;
}

json Service::Sessions() const {
  MutexLock lock(&mu_);
  return {{"sessions", SessionsJson()}};
}

ServiceResponse Service::OpenSession(const json& body) {
  MutexLock lock(&mu_);
  Time now = clock_.Now();
  Settle(now);
  if (!body.is_object()) return TestError(400, "the body must be a JSON object");
  if (auto e = UnknownMembers(body,
                              {"user_name", "user_id", "account_id", "permission_set_arn", "at"})) {
    return *e;
  }
  std::string user_name;
  std::string user_id;
  std::string account;
  std::string ps_arn;
  Time at;
  if (auto e = StringMember(body, "user_name", user_name)) return *e;
  if (auto e = StringMember(body, "user_id", user_id)) return *e;
  if (auto e = StringMember(body, "account_id", account)) return *e;
  if (auto e = StringMember(body, "permission_set_arn", ps_arn, 1224)) return *e;
  if (auto e = AtMember(body, now, at)) return *e;
  if (user_name.empty() == user_id.empty()) {
    return TestError(400, "give exactly one of user_name and user_id");
  }
  if (account.empty()) return TestError(400, "account_id is required");
  if (ps_arn.empty()) return TestError(400, "permission_set_arn is required");
  const SeedUser* user = nullptr;
  for (const SeedUser& u : seed_.users) {
    if ((!user_name.empty() && u.user_name == user_name) ||
        (!user_id.empty() && u.user_id == user_id)) {
      user = &u;
    }
  }
  if (user == nullptr) {
    return TestError(404,
                     "no such user: " + EscapeForTerminal(user_name.empty() ? user_id : user_name));
  }
  if (CheckAccount(account))
    return TestError(404, "no such account: " + EscapeForTerminal(account));
  const PermissionSetState* state = FindPermissionSet(ps_arn);
  if (state == nullptr) {
    return TestError(404, "no such permission set: " + EscapeForTerminal(ps_arn));
  }
  const SeedPermissionSet* ps = &state->info;
  if (!HoldsAssignment(user->user_id, account, ps_arn, at)) {
    return TestError(403, "user " + user->user_name + " held no assignment of " + ps->name +
                              " in account " + account + " at " + FormatRfc3339(at) +
                              " (directly or through a group)");
  }
  Result<Duration> duration = ParseIsoDuration(ps->session_duration);
  if (!duration.has_value() || *duration <= Duration::zero()) {
    // The seed's validation refuses these; a guard, not a case.
    return TestError(400, "permission set " + ps->name + " has no usable SessionDuration");
  }
  at = ToMillis(at);
  Session session{user->user_id, account, ps_arn, at, at + *duration};
  std::string id = "sess-" + Hex64(Fnv1a(RandomUuid()));
  while (sessions_.count(id)) id = "sess-" + Hex64(Fnv1a(RandomUuid()));
  ServiceResponse resp;
  resp.status = 201;
  resp.body = {{"session_id", id},
               {"user_id", session.user_id},
               {"account_id", account},
               {"permission_set_arn", ps_arn},
               {"issued_at", FormatRfc3339(session.issued)},
               {"expires_at", FormatRfc3339(session.expires)}};
  sessions_.emplace(id, std::move(session));
  session_order_.push_back(id);
  while (session_order_.size() > kMaxSessions) {
    sessions_.erase(session_order_.front());
    session_order_.pop_front();
  }
  return resp;
}

ServiceResponse Service::SessionCall(std::string_view session_id, const json& body,
                                     SessionCallRecord* record) {
  MutexLock lock(&mu_);
  Time now = clock_.Now();
  Settle(now);
  auto it = sessions_.find(std::string(session_id));
  if (it == sessions_.end()) {
    return TestError(
        404, "no such session: " + EscapeForTerminal(std::string(session_id.substr(0, 100))));
  }
  const Session& session = it->second;
  if (!body.is_object()) return TestError(400, "the body must be a JSON object");
  if (auto e = UnknownMembers(body, {"action", "region", "at"})) return *e;
  std::string action;
  std::string region;
  Time at;
  if (auto e = StringMember(body, "action", action)) return *e;
  if (auto e = StringMember(body, "region", region, 64)) return *e;
  if (auto e = AtMember(body, now, at)) return *e;
  if (action.empty()) return TestError(400, "action is required, e.g. \"s3:ListBuckets\"");
  if (region.empty()) region = region_;
  at = ToMillis(at);
  if (at < session.issued) {
    return TestError(400,
                     "at is before the session was issued (" + FormatRfc3339(session.issued) + ")");
  }
  ServiceResponse resp;
  if (at >= session.expires) {
    resp.body = {{"allowed", false}, {"reason", "session expired"}};
    return resp;
  }
  CallContext call;
  call.action = action;
  call.keys = {{"identitystore:userId", session.user_id},
               {"aws:TokenIssueTime", FormatRfc3339(session.issued)},
               {"aws:RequestedRegion", region},
               {"aws:PrincipalAccount", session.account_id},
               {"aws:CurrentTime", FormatRfc3339(at)}};
  // The policy the account has: as last provisioned there, not as the permission set has it now.
  auto provisioned = provisioned_.find({session.permission_set_arn, session.account_id});
  std::string policy = provisioned == provisioned_.end() ? "" : provisioned->second;
  DenyDecision d = EvaluateDeny(policy, call);
  resp.body = {{"allowed", !d.denied},
               {"reason", d.denied ? "explicit deny by statement " + d.statement : "allowed"}};
  if (!d.problem.empty()) resp.body["policy_problem"] = d.problem;
  if (record != nullptr) {
    const SeedUser* user = FindUser(session.user_id);
    const PermissionSetState* ps = FindPermissionSet(session.permission_set_arn);
    record->user_name = user != nullptr ? user->user_name : session.user_id;
    record->account_id = session.account_id;
    record->permission_set = ps != nullptr ? ps->info.name : "";
    record->action = action;
    record->region = region;
    record->at = at;
    record->allowed = !d.denied;
  }
  return resp;
}

// --- permission sets as code (issue 14) ---------------------------------------------------------

ServiceResponse Service::CreatePermissionSet(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string name = r.String("Name", true, &kNamePattern, 1, 32);
  std::string description = r.String("Description", false, &kDescriptionPattern, 1, 700);
  std::string session = r.String("SessionDuration", false, nullptr, 1, 100);
  std::string relay = r.String("RelayState", false, &kRelayStatePattern, 1, 240);
  if (r.failed()) return r.error();
  std::vector<std::pair<std::string, std::string>> tags;
  if (auto e = ReadTags(in, "Tags", false, tags)) return *e;
  if (!session.empty()) {
    if (std::string problem = SessionDurationProblem(session); !problem.empty()) {
      return Validation(problem);
    }
  }
  if (auto e = CheckInstance(instance)) return *e;
  for (const PermissionSetState& p : permission_sets_) {
    if (p.info.name == name) {
      return Conflict("A permission set named " + name + " already exists in instance " + instance +
                      " (" + p.info.arn + ")");
    }
  }
  if (permission_sets_.size() >= kMaxPermissionSets) {
    return QuotaExceeded("The instance already has " + std::to_string(kMaxPermissionSets) +
                         " permission sets");
  }
  std::map<std::string, std::string> tag_map(tags.begin(), tags.end());
  if (tag_map.size() > kMaxTagsPerResource) {
    return QuotaExceeded("A permission set can have at most " +
                         std::to_string(kMaxTagsPerResource) + " tags");
  }
  PermissionSetState state;
  std::string prefix =
      "arn:aws:sso:::permissionSet/" + std::string(InstanceIdOf(instance)) + "/ps-";
  do {
    state.info.arn = prefix + Hex64(Fnv1a(RandomUuid()));
  } while (FindPermissionSet(state.info.arn) != nullptr);
  state.info.name = name;
  state.info.description = description;
  state.info.session_duration = session.empty() ? "PT1H" : session;
  state.info.relay_state = relay;
  state.created_date = EpochSeconds(clock_.Now());
  state.tags = std::move(tag_map);
  ServiceResponse resp;
  resp.body["PermissionSet"] = PermissionSetJson(state);
  permission_sets_.push_back(std::move(state));
  return resp;
}

ServiceResponse Service::UpdatePermissionSet(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  std::string description = r.String("Description", false, &kDescriptionPattern, 1, 700);
  std::string session = r.String("SessionDuration", false, nullptr, 1, 100);
  std::string relay = r.String("RelayState", false, &kRelayStatePattern, 1, 240);
  if (r.failed()) return r.error();
  if (!session.empty()) {
    if (std::string problem = SessionDurationProblem(session); !problem.empty()) {
      return Validation(problem);
    }
  }
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  // Members left out keep their values.
  if (!description.empty()) ps.info.description = description;
  if (!session.empty()) ps.info.session_duration = session;
  if (!relay.empty()) ps.info.relay_state = relay;
  ++ps.version;
  return ServiceResponse();
}

ServiceResponse Service::ManagedPolicy(bool attach, const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  std::string policy = r.String("ManagedPolicyArn", true, &kManagedPolicyArnPattern, 20, 2048);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  auto it = std::find(ps.managed_policies.begin(), ps.managed_policies.end(), policy);
  if (attach) {
    if (it != ps.managed_policies.end()) {
      return Conflict("Managed policy " + policy + " is already attached to permission set " + arn);
    }
    if (ps.managed_policies.size() >= kMaxPoliciesPerPermissionSet) {
      return QuotaExceeded("A permission set can have at most " +
                           std::to_string(kMaxPoliciesPerPermissionSet) + " managed policies");
    }
    ps.managed_policies.push_back(policy);
  } else {
    if (it == ps.managed_policies.end()) {
      return NotFound("Managed policy " + policy + " is not attached to permission set " + arn);
    }
    ps.managed_policies.erase(it);
  }
  ++ps.version;
  return ServiceResponse();
}

ServiceResponse Service::ListManagedPolicies(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  Pager pager(r, "ListManagedPoliciesInPermissionSet\n" + instance + "\n" + arn,
              kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  const std::vector<std::string>& policies = FindPermissionSet(arn)->managed_policies;
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(policies.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const std::string& p = policies[i];
    list.push_back({{"Arn", p}, {"Name", p.substr(p.rfind('/') + 1)}});
  }
  resp.body["AttachedManagedPolicies"] = std::move(list);
  return resp;
}

ServiceResponse Service::CustomerManagedPolicy(bool attach, const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  const json* ref = r.Object("CustomerManagedPolicyReference", true);
  if (r.failed()) return r.error();
  std::string name;
  std::string path;
  if (auto e = ReadPolicyReference(*ref, name, path)) return *e;
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  auto it =
      std::find(ps.customer_managed.begin(), ps.customer_managed.end(), std::make_pair(name, path));
  std::string shown = path + name;
  if (attach) {
    if (it != ps.customer_managed.end()) {
      return Conflict("Customer managed policy " + shown +
                      " is already attached to permission set " + arn);
    }
    if (ps.customer_managed.size() >= kMaxPoliciesPerPermissionSet) {
      return QuotaExceeded("A permission set can have at most " +
                           std::to_string(kMaxPoliciesPerPermissionSet) +
                           " customer managed policy references");
    }
    ps.customer_managed.emplace_back(name, path);
  } else {
    if (it == ps.customer_managed.end()) {
      return NotFound("Customer managed policy " + shown + " is not attached to permission set " +
                      arn);
    }
    ps.customer_managed.erase(it);
  }
  ++ps.version;
  return ServiceResponse();
}

ServiceResponse Service::ListCustomerManagedPolicies(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  Pager pager(r, "ListCustomerManagedPolicyReferencesInPermissionSet\n" + instance + "\n" + arn,
              kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  const auto& refs = FindPermissionSet(arn)->customer_managed;
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(refs.size(), resp.body);
  json list = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    list.push_back({{"Name", refs[i].first}, {"Path", refs[i].second}});
  }
  resp.body["CustomerManagedPolicyReferences"] = std::move(list);
  return resp;
}

ServiceResponse Service::PutPermissionsBoundary(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  const json* boundary = r.Object("PermissionsBoundary", true);
  if (r.failed()) return r.error();
  Reader b(*boundary);
  std::string managed = b.String("ManagedPolicyArn", false, &kManagedPolicyArnPattern, 20, 2048);
  const json* ref = b.Object("CustomerManagedPolicyReference", false);
  if (b.failed()) return b.error();
  if (managed.empty() == (ref == nullptr)) {
    return Validation(
        "PermissionsBoundary must have exactly one of ManagedPolicyArn and "
        "CustomerManagedPolicyReference");
  }
  json stored;
  if (ref != nullptr) {
    std::string name;
    std::string path;
    if (auto e = ReadPolicyReference(*ref, name, path)) return *e;
    stored = {{"CustomerManagedPolicyReference", {{"Name", name}, {"Path", path}}}};
  } else {
    stored = {{"ManagedPolicyArn", managed}};
  }
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  ps.boundary = std::move(stored);  // replaces the one there
  ++ps.version;
  return ServiceResponse();
}

ServiceResponse Service::GetPermissionsBoundary(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  const PermissionSetState& ps = *FindPermissionSet(arn);
  if (ps.boundary.is_null()) {
    return NotFound("Permission set " + arn + " has no permissions boundary");
  }
  ServiceResponse resp;
  resp.body["PermissionsBoundary"] = ps.boundary;
  return resp;
}

ServiceResponse Service::DeletePermissionsBoundary(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  if (ps.boundary.is_null()) {
    return NotFound("Permission set " + arn + " has no permissions boundary");
  }
  ps.boundary = nullptr;
  ++ps.version;
  return ServiceResponse();
}

// The tag operations take the instance optionally; the emulator keeps tags of permission sets.
ServiceResponse Service::TagResource(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", false, &kInstanceArn, 10, 1224);
  std::string arn = r.String("ResourceArn", true, &kPermissionSetArn, 10, 2048);
  if (r.failed()) return r.error();
  std::vector<std::pair<std::string, std::string>> tags;
  if (auto e = ReadTags(in, "Tags", true, tags)) return *e;
  if (!instance.empty()) {
    if (auto e = CheckInstance(instance)) return *e;
  }
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  std::map<std::string, std::string> merged = ps.tags;
  for (auto& [key, value] : tags) merged[key] = value;  // a key given again gets the new value
  if (merged.size() > kMaxTagsPerResource) {
    return QuotaExceeded("A permission set can have at most " +
                         std::to_string(kMaxTagsPerResource) + " tags");
  }
  ps.tags = std::move(merged);
  return ServiceResponse();
}

ServiceResponse Service::UntagResource(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", false, &kInstanceArn, 10, 1224);
  std::string arn = r.String("ResourceArn", true, &kPermissionSetArn, 10, 2048);
  std::vector<std::string> keys = r.StringList("TagKeys", kTagKeyPattern, 50);
  if (r.failed()) return r.error();
  for (const std::string& k : keys) {
    if (k.empty() || k.size() > 128) {
      return Validation(ValidationMessage("'" + k.substr(0, 200) + "'", "TagKeys",
                                          "Member must have length between 1 and 128"));
    }
  }
  if (!instance.empty()) {
    if (auto e = CheckInstance(instance)) return *e;
  }
  if (auto e = CheckPermissionSet(arn)) return *e;
  PermissionSetState& ps = *FindPermissionSet(arn);
  for (const std::string& k : keys) ps.tags.erase(k);  // a key it does not have is no error
  return ServiceResponse();
}

ServiceResponse Service::ListTagsForResource(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", false, &kInstanceArn, 10, 1224);
  std::string arn = r.String("ResourceArn", true, &kPermissionSetArn, 10, 2048);
  Pager pager(r, "ListTagsForResource\n" + instance + "\n" + arn, kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (!instance.empty()) {
    if (auto e = CheckInstance(instance)) return *e;
  }
  if (auto e = CheckPermissionSet(arn)) return *e;
  const std::map<std::string, std::string>& tags = FindPermissionSet(arn)->tags;
  std::vector<std::pair<std::string, std::string>> list(tags.begin(), tags.end());
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(list.size(), resp.body);
  json out = json::array();
  for (std::size_t i = begin; i < end; ++i) {
    out.push_back({{"Key", list[i].first}, {"Value", list[i].second}});
  }
  resp.body["Tags"] = std::move(out);
  return resp;
}

ServiceResponse Service::ListAccountsForProvisionedPermissionSet(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string arn = r.String("PermissionSetArn", true, &kPermissionSetArn, 10, 1224);
  std::string status;
  if (in.contains("ProvisioningStatus") && !in["ProvisioningStatus"].is_null()) {
    status = r.Enum("ProvisioningStatus",
                    {"LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED"});
  }
  Pager pager(r,
              "ListAccountsForProvisionedPermissionSet\n" + instance + "\n" + arn + "\n" + status,
              kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckPermissionSet(arn)) return *e;
  std::uint64_t version = FindPermissionSet(arn)->version;
  std::vector<std::string> accounts;
  for (const std::string& account : ProvisionedAccounts(arn)) {
    auto v = provisioned_version_.find({arn, account});
    bool latest = v != provisioned_version_.end() && v->second == version;
    if (status == "LATEST_PERMISSION_SET_PROVISIONED" && !latest) continue;
    if (status == "LATEST_PERMISSION_SET_NOT_PROVISIONED" && latest) continue;
    accounts.push_back(account);
  }
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(accounts.size(), resp.body);
  resp.body["AccountIds"] =
      std::vector<std::string>(accounts.begin() + begin, accounts.begin() + end);
  return resp;
}

ServiceResponse Service::ListPermissionSetsProvisionedToAccount(const json& in) {
  Reader r(in);
  std::string instance = r.String("InstanceArn", true, &kInstanceArn, 10, 1224);
  std::string account = r.String("AccountId", true, &kAccountId, 12, 12);
  std::string status;
  if (in.contains("ProvisioningStatus") && !in["ProvisioningStatus"].is_null()) {
    status = r.Enum("ProvisioningStatus",
                    {"LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED"});
  }
  Pager pager(
      r, "ListPermissionSetsProvisionedToAccount\n" + instance + "\n" + account + "\n" + status,
      kSsoMaxTokenLength);
  if (r.failed()) return r.error();
  if (auto e = CheckInstance(instance)) return *e;
  if (auto e = CheckAccount(account)) return *e;
  std::vector<std::string> sets;
  for (const PermissionSetState& ps : permission_sets_) {
    std::vector<std::string> accounts = ProvisionedAccounts(ps.info.arn);
    if (std::find(accounts.begin(), accounts.end(), account) == accounts.end()) continue;
    auto v = provisioned_version_.find({ps.info.arn, account});
    bool latest = v != provisioned_version_.end() && v->second == ps.version;
    if (status == "LATEST_PERMISSION_SET_PROVISIONED" && !latest) continue;
    if (status == "LATEST_PERMISSION_SET_NOT_PROVISIONED" && latest) continue;
    sets.push_back(ps.info.arn);
  }
  ServiceResponse resp;
  auto [begin, end] = pager.Slice(sets.size(), resp.body);
  resp.body["PermissionSets"] = std::vector<std::string>(sets.begin() + begin, sets.begin() + end);
  return resp;
}

json Service::State() {
  MutexLock lock(&mu_);
  Settle(clock_.Now());
  json assignments = json::array();
  for (const auto& [a, p, t, id] : assignments_) assignments.push_back(AssignmentJson(a, p, t, id));
  json counts = json::object();
  for (const char* kind : {"create", "delete"}) {
    counts[kind] = {{"in_progress", 0}, {"succeeded", 0}, {"failed", 0}};
  }
  for (const auto& [id, op] : operations_) {
    std::string status = op.status == "IN_PROGRESS" ? "in_progress"
                         : op.status == "SUCCEEDED" ? "succeeded"
                                                    : "failed";
    counts[op.create ? "create" : "delete"][status] =
        counts[op.create ? "create" : "delete"][status].get<int>() + 1;
  }
  json calls = json::object();
  for (const auto& [op, n] : calls_) calls[op] = n;
  json provisioning = json::array();
  for (const std::string& id : provisioning_order_) {
    auto it = provisionings_.find(id);
    if (it == provisionings_.end()) continue;
    json p = ProvisioningStatus(it->first, it->second);
    p["Accounts"] = it->second.accounts;
    p["InlinePolicy"] = it->second.policy;
    provisioning.push_back(std::move(p));
  }
  json memberships = json::array();
  for (const auto& [group_id, ids] : group_memberships_) {
    for (const std::string& id : ids) {
      memberships.push_back(
          {{"MembershipId", id}, {"GroupId", group_id}, {"UserId", memberships_.at(id).user_id}});
    }
  }
  return {{"assignments", std::move(assignments)},
          {"group_memberships", std::move(memberships)},
          {"operations", std::move(counts)},
          {"assignment_calls", history_.Counts()},
          {"calls", std::move(calls)},
          {"faults", FaultsToJson(faults_)},
          {"permission_sets", PermissionSetsJson()},
          {"provisioning", std::move(provisioning)},
          {"sessions", SessionsJson()},
          {"sns", json::array()},
          {"eventbridge", json::array()},
          {"securityhub", json::array()}};
}

json Service::History(std::int64_t after_seq) {
  MutexLock lock(&mu_);
  Settle(clock_.Now());
  return history_.ToJson(after_seq);
}

}  // namespace jit::emulator
