#include "permsets/definition.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <utility>

#include "aws/names.h"
#include "core/duration.h"
#include "core/strings.h"

namespace jit::permsets {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxPolicyFileBytes = 1 << 20;  // far above AWS's 32,768 characters

// A SAX consumer that builds nothing and remembers where the first syntax error is, so that
// the error names the line of the policy file (nlohmann's DOM parser without exceptions does
// not say where).
struct ErrorFinder {
  std::size_t position = 0;
  std::string message;
  bool failed = false;

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(json::string_t&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& ex) {
    failed = true;
    position = pos;
    message = ex.what();
    return false;
  }
};

// The 1-based line of byte offset `pos` (nlohmann counts from 1, past the bad character).
int LineOf(std::string_view text, std::size_t pos) {
  if (pos > 0) --pos;
  pos = std::min(pos, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string ShortJsonError(std::string message) {
  if (!message.empty() && message.front() == '[') {
    std::size_t end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

// Latin-1 text as AWS's description pattern takes it: tab, LF, CR, U+0020..U+007E and
// U+00A1..U+00FF (in UTF-8).
bool IsAwsDescriptionText(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f)) continue;
    if ((c == 0xc2 || c == 0xc3) && i + 1 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      if ((d & 0xc0) == 0x80 && !(c == 0xc2 && d < 0xa1)) {
        ++i;
        continue;
      }
    }
    return false;
  }
  return true;
}

bool IsManagedPolicyArn(std::string_view s) {
  static const std::regex kArn(
      "arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy(/[A-Za-z0-9.,+@=_-]+)*/[A-Za-z0-9.,+=@_-]+");
  return s.size() >= 20 && s.size() <= 2048 && std::regex_match(s.begin(), s.end(), kArn);
}

bool IsPolicyName(std::string_view s) {
  static const std::regex kName("[A-Za-z0-9_+=,.@-]{1,128}");
  return std::regex_match(s.begin(), s.end(), kName);
}

bool IsPolicyPath(std::string_view s) {
  static const std::regex kPath("/([A-Za-z0-9.,+@=_-]+/)*");
  return s.size() <= 512 && std::regex_match(s.begin(), s.end(), kPath);
}

bool IsRelayState(std::string_view s) {
  static const std::regex kUrl("https?://[^\\s]+");
  return !s.empty() && s.size() <= 240 && std::regex_match(s.begin(), s.end(), kUrl);
}

// Reads {name, path} of a customer managed policy reference.
std::optional<provider::CustomerManagedPolicyReference> ReadReference(const config::Node& node,
                                                                      int line,
                                                                      const std::string& what,
                                                                      config::Reader& r) {
  std::optional<config::Fields> fields = r.Map(node, line, what, {"name", "path"});
  if (!fields) return std::nullopt;
  provider::CustomerManagedPolicyReference ref;
  bool ok = true;
  if (auto name = r.RequiredString(*fields, "name", line, what)) {
    if (!IsPolicyName(*name)) {
      r.Error(fields->Get("name")->line,
              "'" + *name + "' is not an IAM policy name (1 to 128 of A-Z a-z 0-9 _+=,.@-)");
      ok = false;
    }
    ref.name = *name;
  } else {
    ok = false;
  }
  if (const config::Field* p = fields->Get("path")) {
    if (auto path = r.String(*p)) {
      if (!IsPolicyPath(*path)) {
        r.Error(p->line, "'" + *path + "' is not an IAM path (/ or /a/b/, at most 512)");
        ok = false;
      }
      ref.path = *path;
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return ref;
}

// Reads the inline policy file into `d` (version and statements). Problems are reported on
// `line` of the config, naming the file and, for JSON syntax, its line. False on a problem.
bool ReadPolicyFile(Definition& d, int line, config::Reader& r) {
  std::string prefix = "permission set " + d.name + ": " + d.inline_policy_file;
  // A regular file of bounded size only: never a device or a pipe (/dev/zero, /dev/stdin)
  // that would be read for ever.
  std::error_code ec;
  auto status = std::filesystem::status(d.inline_policy_path, ec);
  std::ifstream in;
  if (!ec && std::filesystem::is_regular_file(status)) {
    in.open(d.inline_policy_path, std::ios::binary);
  }
  if (!in.is_open()) {
    r.Error(line, prefix + ": cannot read the inline policy file (looked for " +
                      d.inline_policy_path + ")");
    return false;
  }
  std::string text(kMaxPolicyFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxPolicyFileBytes) {
    r.Error(line, prefix + ": the inline policy file is larger than 1 MiB");
    return false;
  }
  ErrorFinder finder;
  json::sax_parse(text, &finder, json::input_format_t::json, /*strict=*/true);
  if (finder.failed) {
    r.Error(line, prefix + ":" + std::to_string(LineOf(text, finder.position)) +
                      ": not valid JSON: " + ShortJsonError(finder.message));
    return false;
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {  // not expected after the SAX pass
    r.Error(line, prefix + ": not valid JSON");
    return false;
  }
  if (!doc.is_object()) {
    r.Error(line, prefix + ":1: the policy must be a JSON object with a \"Statement\"");
    return false;
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "Version" && key != "Statement" && key != "Id") {
      r.Error(line, prefix + ": unknown policy element '" + key +
                        "' (a policy has Version, Id and Statement)");
      return false;
    }
  }
  if (auto v = doc.find("Version"); v != doc.end()) {
    if (!v->is_string() || (*v != "2012-10-17" && *v != "2008-10-17")) {
      r.Error(line, prefix + ": \"Version\" must be \"2012-10-17\"");
      return false;
    }
    d.policy_version = v->get<std::string>();
  }
  auto st = doc.find("Statement");
  if (st == doc.end()) {
    r.Error(line, prefix + ": the policy has no \"Statement\"");
    return false;
  }
  json statements = st->is_array() ? *st : json::array({*st});
  std::set<std::string> sids;
  int index = 0;
  for (const json& s : statements) {
    ++index;
    std::string where = prefix + ": statement " + std::to_string(index);
    if (!s.is_object()) {
      r.Error(line, where + " is not a JSON object");
      return false;
    }
    auto effect = s.find("Effect");
    if (effect == s.end() || (*effect != "Allow" && *effect != "Deny")) {
      r.Error(line, where + ": \"Effect\" must be \"Allow\" or \"Deny\"");
      return false;
    }
    if (!s.contains("Action") && !s.contains("NotAction")) {
      r.Error(line, where + " has neither \"Action\" nor \"NotAction\"");
      return false;
    }
    if (auto sid = s.find("Sid"); sid != s.end()) {
      if (!sid->is_string()) {
        r.Error(line, where + ": \"Sid\" must be a string");
        return false;
      }
      std::string text_sid = sid->get<std::string>();
      if (text_sid.rfind(kJitSidPrefix, 0) == 0) {
        r.Error(line, where + ": Sid '" + text_sid +
                          "' starts with 'Jit', which jit keeps for its own statements");
        return false;
      }
      if (!text_sid.empty() && !sids.insert(text_sid).second) {
        r.Error(line, where + ": Sid '" + text_sid + "' is used twice");
        return false;
      }
    }
  }
  d.statements = std::move(statements);
  return true;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& GlobalServiceActions() {
  // AWS Organizations' documented example "Deny access to AWS based on the requested AWS
  // Region", plus account and billing (global consoles). Sorted.
  static const std::vector<std::string> kActions = {
      "a4b:*",
      "account:*",
      "acm:*",
      "aws-marketplace-management:*",
      "aws-marketplace:*",
      "aws-portal:*",
      "billing:*",
      "budgets:*",
      "ce:*",
      "chime:*",
      "cloudfront:*",
      "config:*",
      "cur:*",
      "directconnect:*",
      "ec2:DescribeRegions",
      "ec2:DescribeTransitGateways",
      "ec2:DescribeVpnGateways",
      "fms:*",
      "globalaccelerator:*",
      "health:*",
      "iam:*",
      "importexport:*",
      "kms:*",
      "mobileanalytics:*",
      "networkmanager:*",
      "organizations:*",
      "pricing:*",
      "route53-recovery-cluster:*",
      "route53-recovery-control-config:*",
      "route53-recovery-readiness:*",
      "route53:*",
      "route53domains:*",
      "s3:GetAccountPublic*",
      "s3:ListAllMyBuckets",
      "s3:ListMultiRegionAccessPoints",
      "s3:PutAccountPublic*",
      "shield:*",
      "sts:*",
      "support:*",
      "trustedadvisor:*",
      "waf-regional:*",
      "waf:*",
      "wafv2:*",
      "wellarchitected:*",
  };
  return kActions;
}

json RegionGuardrail(const std::vector<std::string>& regions) {
  return {{"Sid", kRegionGuardrailSid},
          {"Effect", "Deny"},
          {"NotAction", GlobalServiceActions()},
          {"Resource", "*"},
          {"Condition", {{"StringNotEquals", {{"aws:RequestedRegion", regions}}}}}};
}

json Definition::DesiredStatements() const {
  json out = statements;
  if (!regions.empty()) out.push_back(RegionGuardrail(regions));
  return out;
}

std::string PolicyText(const std::string& version, const json& statements) {
  // Version first, as people write it (json objects sort their keys).
  return "{\"Version\":" + json(version).dump() + ",\"Statement\":" +
         statements.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace) + "}";
}

std::string ConfigDir(std::string_view config_file) {
  std::size_t slash = config_file.rfind('/');
  if (slash == std::string_view::npos) return "";
  if (slash == 0) return "/";
  return std::string(config_file.substr(0, slash));
}

std::optional<Definition> ParseDefinition(const config::Field& field, const std::string& name,
                                          const std::string& arn, const std::string& config_dir,
                                          config::Reader& r) {
  static const std::vector<std::string> kKeys = {"description",
                                                 "session_duration",
                                                 "managed_policies",
                                                 "customer_managed_policies",
                                                 "inline_policy_file",
                                                 "permissions_boundary",
                                                 "tags",
                                                 "relay_state",
                                                 "regions"};
  // Problems found here (the Reader only says whether it has any at all).
  int problems = 0;
  auto bad = [&](int line, const std::string& what) {
    r.Error(line, what);
    ++problems;
  };
  std::optional<config::Fields> fields = r.Map(field, kKeys);
  if (!fields) return std::nullopt;
  Definition d;
  d.name = name;
  d.arn = arn;
  d.line = field.line;
  d.config_file = r.file_name();
  // Reader getters report their own problems; count those too.
  auto failed = [&](bool ok) {
    if (!ok) ++problems;
  };
  for (const config::Field& f : fields->all()) {
    if (f.key == "description") {
      auto s = r.String(f);
      failed(s.has_value());
      if (!s) continue;
      if (s->empty() || s->size() > 700 || !IsAwsDescriptionText(*s)) {
        bad(f.line,
            "'description' must be 1 to 700 characters of tab, newline or U+0020..U+00FF text");
        continue;
      }
      d.description = *s;
    } else if (f.key == "session_duration") {
      auto dur = r.DurationIn(f, std::chrono::hours(1), std::chrono::hours(12),
                              "'session_duration' must be from 1h to 12h (AWS's range)");
      failed(dur.has_value());
      if (!dur) continue;
      if (*dur % std::chrono::minutes(1) != Duration(0)) {
        bad(f.line, "'session_duration' must be whole minutes");
        continue;
      }
      d.session_duration = *dur;
    } else if (f.key == "relay_state") {
      auto s = r.String(f);
      failed(s.has_value());
      if (!s) continue;
      if (!IsRelayState(*s)) {
        bad(f.line, "'relay_state' must be an http(s) URL of at most 240 characters");
        continue;
      }
      d.relay_state = *s;
    } else if (f.key == "managed_policies") {
      std::vector<std::string> arns;
      if (!f.value.IsNull()) {
        auto list = r.Names(f);
        failed(list.has_value());
        if (!list) continue;
        std::set<std::string> seen;
        for (const config::Named& n : *list) {
          if (!IsManagedPolicyArn(n.value)) {
            bad(n.line, "'" + n.value +
                            "' is not an AWS managed policy ARN (arn:aws:iam::aws:policy/NAME)");
          } else if (!seen.insert(n.value).second) {
            bad(n.line, "managed policy '" + n.value + "' is listed twice");
          } else {
            arns.push_back(n.value);
          }
        }
      }
      d.managed_policies = std::move(arns);
    } else if (f.key == "customer_managed_policies") {
      std::vector<provider::CustomerManagedPolicyReference> refs;
      if (!f.value.IsNull() && !f.value.IsSequence()) {
        bad(f.line, "'customer_managed_policies' must be a list of {name, path}");
        continue;
      }
      std::set<provider::CustomerManagedPolicyReference> seen;
      for (const config::Node& item : f.value.Items()) {
        int line = item.Line(f.line);
        auto ref = ReadReference(item, line, "a customer managed policy", r);
        failed(ref.has_value());
        if (!ref) continue;
        if (!seen.insert(*ref).second) {
          bad(line, "customer managed policy " + ref->path + ref->name + " is listed twice");
          continue;
        }
        refs.push_back(*ref);
      }
      d.customer_managed_policies = std::move(refs);
    } else if (f.key == "permissions_boundary") {
      d.boundary_declared = true;
      if (f.value.IsScalar() && f.value.Scalar() == "none") continue;  // remove it
      auto b = r.Map(f, {"managed_policy_arn", "customer_managed_policy"});
      failed(b.has_value());
      if (!b) continue;
      const config::Field* managed = b->Get("managed_policy_arn");
      const config::Field* customer = b->Get("customer_managed_policy");
      if ((managed == nullptr) == (customer == nullptr)) {
        bad(f.line,
            "'permissions_boundary' needs exactly one of 'managed_policy_arn' and "
            "'customer_managed_policy' (or is 'none')");
        continue;
      }
      provider::PermissionsBoundary boundary;
      if (managed != nullptr) {
        auto s = r.String(*managed);
        failed(s.has_value());
        if (!s) continue;
        if (!IsManagedPolicyArn(*s)) {
          bad(managed->line, "'" + *s + "' is not an AWS managed policy ARN");
          continue;
        }
        boundary.managed_policy_arn = *s;
        boundary.customer_managed_policy = {"", ""};
      } else {
        auto ref = ReadReference(customer->value, customer->line, "'customer_managed_policy'", r);
        failed(ref.has_value());
        if (!ref) continue;
        boundary.customer_managed_policy = *ref;
      }
      d.boundary = boundary;
    } else if (f.key == "tags") {
      std::map<std::string, std::string> tags;
      if (!f.value.IsNull()) {
        if (!f.value.IsMap()) {
          bad(f.line, "'tags' must be a map of key: value");
          continue;
        }
        for (const auto& [key, value] : f.value.Entries()) {
          int line = key.Line(f.line);
          std::string k = key.Scalar();
          if (!key.IsScalar() || k.empty() || k.size() > 128) {
            bad(line, "a tag key must be 1 to 128 characters");
            continue;
          }
          if (k.rfind("aws:", 0) == 0) {
            bad(line, "tag key '" + k + "': keys starting with 'aws:' are AWS's");
            continue;
          }
          if (!value.IsScalar() && !value.IsNull()) {
            bad(line, "tag '" + k + "' must have a string value");
            continue;
          }
          std::string v = value.IsNull() ? "" : value.Scalar();
          if (v.size() > 256) {
            bad(line, "tag '" + k + "': a value is at most 256 characters");
            continue;
          }
          if (!tags.emplace(k, v).second) bad(line, "tag '" + k + "' is given twice");
        }
        if (tags.size() > kMaxTags) {
          bad(f.line, "at most " + std::to_string(kMaxTags) + " tags (AWS's limit)");
        }
      }
      d.tags = std::move(tags);
    } else if (f.key == "inline_policy_file") {
      auto s = r.String(f);
      failed(s.has_value());
      if (!s) continue;
      if (s->empty()) {
        bad(f.line, "'inline_policy_file' must name a file");
        continue;
      }
      d.inline_policy_file = *s;
      d.inline_policy_path = (s->front() == '/' || config_dir.empty()) ? *s : config_dir + "/" + *s;
    } else if (f.key == "regions") {
      auto list = r.Names(f);
      failed(list.has_value());
      if (!list) continue;
      if (list->empty()) {
        bad(f.line, "'regions' must name at least one region");
        continue;
      }
      std::set<std::string> seen;
      for (const config::Named& n : *list) {
        if (!aws::IsAwsRegion(n.value)) {
          bad(n.line, "'" + n.value + "' is not an AWS region (say, eu-central-1)");
        } else if (!seen.insert(n.value).second) {
          bad(n.line, "region '" + n.value + "' is listed twice");
        } else {
          d.regions.push_back(n.value);
        }
      }
    }
  }
  std::size_t attached = (d.managed_policies ? d.managed_policies->size() : 0) +
                         (d.customer_managed_policies ? d.customer_managed_policies->size() : 0);
  if (attached > kMaxAttachedPolicies) {
    bad(field.line, "permission set " + name + " attaches " + std::to_string(attached) +
                        " managed policies; AWS allows at most " +
                        std::to_string(kMaxAttachedPolicies) +
                        " (AWS and customer managed together)");
  }
  if (!d.inline_policy_file.empty()) {
    const config::Field* f = fields->Get("inline_policy_file");
    failed(ReadPolicyFile(d, f->line, r));
  }
  if (problems == 0 && d.ManagesInlinePolicy()) {
    json desired = d.DesiredStatements();
    std::string text = PolicyText(d.policy_version, desired);
    int line = fields->Get("inline_policy_file") != nullptr
                   ? fields->Get("inline_policy_file")->line
                   : fields->Get("regions")->line;
    if (desired.empty()) {
      bad(line, "permission set " + name + ": the inline policy would have no statement");
    } else if (Status s = provider::ValidateInlinePolicy(text); !s.ok()) {
      bad(line, "permission set " + name + ": the inline policy apply would write (" +
                    (d.inline_policy_file.empty() ? "" : d.inline_policy_file) +
                    (d.regions.empty() ? "" : " + region guardrail for " + Join(d.regions)) +
                    "): " + s.message());
    } else if (provider::ProvisionedPolicySize(text) > provider::kMaxProvisionedPolicySize) {
      bad(line, "permission set " + name + ": the inline policy apply would write has " +
                    std::to_string(provider::ProvisionedPolicySize(text)) +
                    " characters besides white space; AWS allows at most " +
                    std::to_string(provider::kMaxProvisionedPolicySize));
    }
  }
  if (problems > 0) return std::nullopt;
  return d;
}

std::vector<Definition> ParseDefinitions(const config::Field& permission_sets,
                                         const std::string& config_dir, config::Reader& r) {
  std::vector<Definition> out;
  if (!permission_sets.value.IsSequence()) return out;
  for (const config::Node& item : permission_sets.value.Items()) {
    if (!item.IsMap()) continue;
    std::string name;
    std::string arn;
    std::optional<config::Field> definition;
    for (const auto& [key, value] : item.Entries()) {
      if (!key.IsScalar()) continue;
      std::string k = key.Scalar();
      if (k == "name" && value.IsScalar()) name = value.Scalar();
      if (k == "arn" && value.IsScalar()) arn = value.Scalar();
      if (k == "definition") definition = config::Field{k, value, key.Line(item.Line(0))};
    }
    if (!definition || name.empty()) continue;
    if (auto d = ParseDefinition(*definition, name, arn, config_dir, r)) {
      out.push_back(std::move(*d));
    }
  }
  return out;
}

}  // namespace jit::permsets
