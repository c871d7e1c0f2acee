#include "findings/finding.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/strings.h"

namespace jit::findings {
namespace {

using json = nlohmann::json;

constexpr std::string_view kGuardDutyType = "GuardDuty Finding";
constexpr std::string_view kSecurityHubType = "Security Hub Findings - Imported";

// The member `key` of `j` when `j` is an object and it is there; else null.
const json* Member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// The string at a path of members; "" when any step is missing or the leaf is not a string.
std::string StringAt(const json& j, std::initializer_list<std::string_view> path) {
  const json* at = &j;
  for (std::string_view key : path) {
    at = Member(*at, key);
    if (at == nullptr) return "";
  }
  return at->is_string() ? at->get<std::string>() : "";
}

// Collects principal names once each, in the order found, skipping empty ones.
class Names {
 public:
  void Add(std::string_view name) {
    name = Trim(name);
    if (name.empty()) return;
    if (std::find(out_.begin(), out_.end(), name) != out_.end()) return;
    out_.emplace_back(name);
  }
  // A principal id: the whole id (an Identity Center user id is given as such), and for
  // "AROA...:session" (an assumed role) or "ACCOUNT:name" (a federated user) the part after ':',
  // the role session name.
  void AddPrincipalId(std::string_view id) {
    std::size_t colon = id.find(':');
    if (colon == std::string_view::npos) {
      if (LooksLikeUserId(id)) Add(id);
      return;
    }
    Add(id.substr(colon + 1));
  }
  // An ARN naming a principal: arn:P:sts::A:assumed-role/ROLE/SESSION gives SESSION,
  // arn:P:iam::A:user/PATH/NAME gives NAME, arn:P:sts::A:federated-user/NAME gives NAME.
  void AddArn(std::string_view arn) {
    if (arn.rfind("arn:", 0) != 0) return;
    // arn:partition:service:region:account:resource
    std::size_t pos = 0;
    for (int i = 0; i < 5; ++i) {
      pos = arn.find(':', pos);
      if (pos == std::string_view::npos) return;
      ++pos;
    }
    std::string_view service = arn.substr(arn.find(':', 4) + 1);
    service = service.substr(0, service.find(':'));
    std::string_view resource = arn.substr(pos);
    std::size_t slash = resource.find('/');
    if (slash == std::string_view::npos) return;
    std::string_view kind = resource.substr(0, slash);
    std::string_view last = resource.substr(resource.rfind('/') + 1);
    if ((service == "sts" && (kind == "assumed-role" || kind == "federated-user")) ||
        (service == "iam" && kind == "user")) {
      Add(last);
    }
  }
  std::vector<std::string> Take() { return std::move(out_); }

 private:
  std::vector<std::string> out_;
};

// GuardDuty names the principal of an access-key finding in resource.accessKeyDetails.
std::vector<std::string> GuardDutyPrincipals(const json& detail) {
  Names names;
  const json* resource = Member(detail, "resource");
  if (resource == nullptr) return {};
  if (const json* key = Member(*resource, "accessKeyDetails")) {
    names.AddPrincipalId(StringAt(*key, {"principalId"}));
    std::string type = StringAt(*key, {"userType"});
    // For an assumed role userName is the role's name, which every user of the permission set
    // shares: it names nobody. Root names the account.
    if (type != "AssumedRole" && type != "Root" && type != "AWSService") {
      names.Add(StringAt(*key, {"userName"}));
    }
  }
  return names.Take();
}

// ASFF names principals in Resources[]: access keys, IAM users, and assumed-role or user ARNs
// as resource ids.
std::vector<std::string> AsffPrincipals(const json& finding) {
  Names names;
  const json* resources = Member(finding, "Resources");
  if (resources == nullptr || !resources->is_array()) return {};
  for (const json& r : *resources) {
    if (!r.is_object()) continue;
    names.AddArn(StringAt(r, {"Id"}));
    const json* details = Member(r, "Details");
    if (details == nullptr) continue;
    if (const json* key = Member(*details, "AwsIamAccessKey")) {
      names.AddPrincipalId(StringAt(*key, {"PrincipalId"}));
      std::string type = StringAt(*key, {"PrincipalType"});
      if (type != "AssumedRole" && type != "Root" && type != "AWSService") {
        names.Add(StringAt(*key, {"PrincipalName"}));
        names.Add(StringAt(*key, {"UserName"}));
      }
    }
    if (const json* user = Member(*details, "AwsIamUser")) {
      names.Add(StringAt(*user, {"UserName"}));
    }
  }
  return names.Take();
}

Result<Finding> ParseGuardDuty(const json& detail) {
  if (!detail.is_object()) return InvalidArgumentError("detail must be an object");
  Finding f;
  f.source = Source::kGuardDuty;
  f.id = StringAt(detail, {"id"});
  if (f.id.empty()) return InvalidArgumentError("detail.id (the finding id) is missing");
  std::string type = StringAt(detail, {"type"});
  if (type.empty()) return InvalidArgumentError("detail.type is missing");
  f.types.push_back(std::move(type));
  const json* severity = Member(detail, "severity");
  if (severity == nullptr || !severity->is_number()) {
    return InvalidArgumentError("detail.severity must be a number from 0 to 10");
  }
  double score = severity->get<double>();
  if (!std::isfinite(score) || score < 0 || score > 10) {
    return InvalidArgumentError("detail.severity must be a number from 0 to 10");
  }
  f.severity = FromGuardDutyScore(score);
  f.severity_text = severity->dump();
  f.title = StringAt(detail, {"title"});
  f.account = StringAt(detail, {"accountId"});
  f.region = StringAt(detail, {"region"});
  f.principals = GuardDutyPrincipals(detail);
  return f;
}

Result<Finding> ParseAsff(const json& j, std::size_t index) {
  std::string where = "detail.findings[" + std::to_string(index) + "]";
  if (!j.is_object()) return InvalidArgumentError(where + " must be an object");
  Finding f;
  f.source = Source::kSecurityHub;
  f.id = StringAt(j, {"Id"});
  if (f.id.empty()) return InvalidArgumentError(where + ".Id is missing");
  if (const json* types = Member(j, "Types"); types != nullptr && types->is_array()) {
    for (const json& t : *types) {
      if (t.is_string() && !t.get<std::string>().empty()) f.types.push_back(t.get<std::string>());
    }
  }
  if (f.types.empty()) return InvalidArgumentError(where + ".Types is missing or empty");
  const json* severity = Member(j, "Severity");
  std::string label = severity != nullptr ? StringAt(*severity, {"Label"}) : "";
  if (!label.empty()) {
    std::optional<Severity> s = ParseSeverity(label);
    if (!s) {
      return InvalidArgumentError(where +
                                  ".Severity.Label must be INFORMATIONAL, LOW, MEDIUM, HIGH or "
                                  "CRITICAL");
    }
    f.severity = *s;
    f.severity_text = std::string(SeverityName(*s));
  } else if (const json* n = severity != nullptr ? Member(*severity, "Normalized") : nullptr;
             n != nullptr && n->is_number() && n->get<double>() >= 0 && n->get<double>() <= 100) {
    f.severity = FromNormalized(n->get<double>());
    f.severity_text = std::string(SeverityName(f.severity));
  } else {
    return InvalidArgumentError(where +
                                ".Severity has neither a Label nor a Normalized from 0 to 100");
  }
  f.title = StringAt(j, {"Title"});
  f.account = StringAt(j, {"AwsAccountId"});
  f.region = StringAt(j, {"Region"});
  f.principals = AsffPrincipals(j);
  return f;
}

}  // namespace

std::string_view SourceName(Source s) {
  return s == Source::kGuardDuty ? "guardduty" : "securityhub";
}

namespace {
constexpr std::array<std::string_view, 5> kSeverityNames = {"INFORMATIONAL", "LOW", "MEDIUM",
                                                            "HIGH", "CRITICAL"};
}  // namespace

std::string_view SeverityName(Severity s) { return kSeverityNames.at(static_cast<std::size_t>(s)); }

std::optional<Severity> ParseSeverity(std::string_view label) {
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (EqualsIgnoreCase(label, kSeverityNames[i])) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

Severity FromGuardDutyScore(double score) {
  if (score < 4.0) return Severity::kLow;
  if (score < 7.0) return Severity::kMedium;
  if (score < 9.0) return Severity::kHigh;
  return Severity::kCritical;
}

Severity FromNormalized(double normalized) {
  if (normalized < 1) return Severity::kInformational;
  if (normalized < 40) return Severity::kLow;
  if (normalized < 70) return Severity::kMedium;
  if (normalized < 90) return Severity::kHigh;
  return Severity::kCritical;
}

Result<Event> ParseEvent(std::string_view body) {
  if (body.size() > kMaxEventBytes) {
    return InvalidArgumentError("the event is larger than " + std::to_string(kMaxEventBytes) +
                                " bytes");
  }
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("the event is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the event must be a JSON object");
  Event e;
  e.event_id = StringAt(j, {"id"});
  if (e.event_id.empty()) return InvalidArgumentError("the event has no id");
  e.detail_type = StringAt(j, {"detail-type"});
  std::string source = StringAt(j, {"source"});
  const json* detail = Member(j, "detail");
  if (detail == nullptr) return InvalidArgumentError("the event has no detail");
  if (e.detail_type == kGuardDutyType && source == "aws.guardduty") {
    e.source = Source::kGuardDuty;
    JIT_ASSIGN_OR_RETURN(Finding f, ParseGuardDuty(*detail));
    e.findings.push_back(std::move(f));
    return e;
  }
  if (e.detail_type == kSecurityHubType && source == "aws.securityhub") {
    e.source = Source::kSecurityHub;
    const json* list = Member(*detail, "findings");
    if (list == nullptr || !list->is_array() || list->empty()) {
      return InvalidArgumentError("detail.findings must be a list of at least one finding");
    }
    if (list->size() > kMaxFindingsPerEvent) {
      return InvalidArgumentError("detail.findings has more than " +
                                  std::to_string(kMaxFindingsPerEvent) + " findings");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      JIT_ASSIGN_OR_RETURN(Finding f, ParseAsff((*list)[i], i));
      e.findings.push_back(std::move(f));
    }
    return e;
  }
  return InvalidArgumentError(
      "the event must be a GuardDuty finding (source aws.guardduty, detail-type \"GuardDuty "
      "Finding\") or Security Hub findings (source aws.securityhub, detail-type \"Security Hub "
      "Findings - Imported\")");
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative with one back-track point: linear in practice, never exponential.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool LooksLikeUserId(std::string_view s) {
  auto hex = [](std::string_view part, std::size_t n) {
    return part.size() == n && std::all_of(part.begin(), part.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
  };
  if (s.size() == 36 + 11 && s[10] == '-' && hex(s.substr(0, 10), 10)) s.remove_prefix(11);
  if (s.size() != 36) return false;
  return hex(s.substr(0, 8), 8) && s[8] == '-' && hex(s.substr(9, 4), 4) && s[13] == '-' &&
         hex(s.substr(14, 4), 4) && s[18] == '-' && hex(s.substr(19, 4), 4) && s[23] == '-' &&
         hex(s.substr(24, 12), 12);
}

}  // namespace jit::findings
