#include "permsets/plan.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/duration.h"
#include "core/strings.h"
#include "provider/identity_center.h"

namespace jit::permsets {
namespace {

using json = nlohmann::json;

bool IsCutoff(const json& statement) {
  if (!statement.is_object()) return false;
  auto sid = statement.find("Sid");
  return sid != statement.end() && sid->is_string() &&
         sid->get<std::string>().rfind(kCutoffSidPrefix, 0) == 0;
}

// The statements of a policy document (a single object becomes a list of one); empty for ""
// and for text that is not a policy.
json StatementsOf(const std::string& text, std::string* version) {
  if (text.empty()) return json::array();
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return json::array();
  if (version != nullptr) {
    auto v = doc.find("Version");
    *version = v != doc.end() && v->is_string() ? v->get<std::string>() : "";
  }
  auto st = doc.find("Statement");
  if (st == doc.end()) return json::array();
  return st->is_array() ? *st : json::array({*st});
}

void Split(const json& statements, json& own, json& cutoffs) {
  own = json::array();
  cutoffs = json::array();
  for (const json& s : statements) (IsCutoff(s) ? cutoffs : own).push_back(s);
}

std::string RefText(const provider::CustomerManagedPolicyReference& r) {
  std::string path = r.path.empty() ? "/" : r.path;
  return path + r.name;
}

std::string BoundaryText(const provider::PermissionsBoundary& b) {
  if (!b.managed_policy_arn.empty()) return b.managed_policy_arn;
  return "customer managed " + RefText(b.customer_managed_policy);
}

std::string Quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string SessionText(const std::string& iso) {
  if (iso.empty()) return "1h (AWS's default)";
  Result<Duration> d = provider::ParseIsoDuration(iso);
  return d.has_value() ? FormatDuration(*d) : iso;
}

std::string InlineDetail(const Definition& d, std::size_t cutoffs) {
  std::string out =
      std::to_string(d.statements.size()) + " statement" + (d.statements.size() == 1 ? "" : "s");
  if (!d.inline_policy_file.empty()) out += " from " + d.inline_policy_file;
  if (!d.regions.empty()) {
    out += " + region guardrail (";
    for (std::size_t i = 0; i < d.regions.size(); ++i) out += (i ? ", " : "") + d.regions[i];
    out += ")";
  }
  if (cutoffs > 0) {
    out += "; " + std::to_string(cutoffs) + " JitCutoff statement" + (cutoffs == 1 ? "" : "s") +
           " kept";
  }
  return out;
}

Change Make(ChangeKind kind, const Definition& d, const std::string& arn, std::string detail) {
  Change c;
  c.kind = kind;
  c.permission_set = d.name;
  c.arn = arn;
  c.detail = std::move(detail);
  return c;
}

// The changes of one defined set that exists as `current`.
Status PlanExisting(const Definition& d, const provider::PermissionSetAttributes& current,
                    provider::PermissionSetAdmin& admin, std::vector<Change>& out) {
  const std::string& arn = current.arn;
  std::size_t first = out.size();

  Change update = Make(ChangeKind::kUpdate, d, arn, "");
  update.attributes.arn = arn;
  std::vector<std::string> what;
  if (d.description && *d.description != current.description) {
    update.attributes.description = *d.description;
    what.push_back("description " + Quote(current.description) + " -> " + Quote(*d.description));
  }
  if (d.session_duration) {
    Duration now = std::chrono::hours(1);
    if (!current.session_duration.empty()) {
      Result<Duration> parsed = provider::ParseIsoDuration(current.session_duration);
      now = parsed.has_value() ? *parsed : Duration(0);
    }
    if (now != *d.session_duration) {
      update.attributes.session_duration = IsoDuration(*d.session_duration);
      what.push_back("session duration " + SessionText(current.session_duration) + " -> " +
                     FormatDuration(*d.session_duration));
    }
  }
  if (d.relay_state && *d.relay_state != current.relay_state) {
    update.attributes.relay_state = *d.relay_state;
    what.push_back("relay state " + Quote(current.relay_state) + " -> " + Quote(*d.relay_state));
  }
  if (!what.empty()) {
    for (const std::string& w : what) update.detail += (update.detail.empty() ? "" : "; ") + w;
    out.push_back(std::move(update));
  }

  if (d.ManagesInlinePolicy()) {
    JIT_ASSIGN_OR_RETURN(std::string text, admin.GetInlinePolicy(arn));
    std::string version;
    json own, cutoffs;
    Split(StatementsOf(text, &version), own, cutoffs);
    if (text.empty() || own != d.DesiredStatements() || version != d.policy_version) {
      out.push_back(Make(ChangeKind::kPutInlinePolicy, d, arn, InlineDetail(d, cutoffs.size())));
    }
  }

  if (d.managed_policies) {
    JIT_ASSIGN_OR_RETURN(std::vector<std::string> attached, admin.ListManagedPolicies(arn));
    for (const std::string& p : *d.managed_policies) {
      if (std::find(attached.begin(), attached.end(), p) != attached.end()) continue;
      Change c = Make(ChangeKind::kAttachManagedPolicy, d, arn, p);
      c.policy_arn = p;
      out.push_back(std::move(c));
    }
    for (const std::string& p : attached) {
      if (std::find(d.managed_policies->begin(), d.managed_policies->end(), p) !=
          d.managed_policies->end()) {
        continue;
      }
      Change c = Make(ChangeKind::kDetachManagedPolicy, d, arn, p);
      c.policy_arn = p;
      out.push_back(std::move(c));
    }
  }

  if (d.customer_managed_policies) {
    JIT_ASSIGN_OR_RETURN(std::vector<provider::CustomerManagedPolicyReference> attached,
                         admin.ListCustomerManagedPolicyReferences(arn));
    const auto& want = *d.customer_managed_policies;
    for (const auto& r : want) {
      if (std::find(attached.begin(), attached.end(), r) != attached.end()) continue;
      Change c = Make(ChangeKind::kAttachCustomerManagedPolicy, d, arn, RefText(r));
      c.reference = r;
      out.push_back(std::move(c));
    }
    for (const auto& r : attached) {
      if (std::find(want.begin(), want.end(), r) != want.end()) continue;
      Change c = Make(ChangeKind::kDetachCustomerManagedPolicy, d, arn, RefText(r));
      c.reference = r;
      out.push_back(std::move(c));
    }
  }

  if (d.boundary_declared) {
    JIT_ASSIGN_OR_RETURN(std::optional<provider::PermissionsBoundary> now,
                         admin.GetPermissionsBoundary(arn));
    if (!d.boundary && now) {
      out.push_back(Make(ChangeKind::kDeletePermissionsBoundary, d, arn, BoundaryText(*now)));
    } else if (d.boundary && (!now || !(*now == *d.boundary))) {
      Change c =
          Make(ChangeKind::kPutPermissionsBoundary, d, arn,
               (now ? BoundaryText(*now) + " -> " : std::string()) + BoundaryText(*d.boundary));
      c.boundary = *d.boundary;
      out.push_back(std::move(c));
    }
  }

  if (d.tags) {
    JIT_ASSIGN_OR_RETURN(auto now, admin.ListTags(arn));
    Change tag = Make(ChangeKind::kTag, d, arn, "");
    for (const auto& [k, v] : *d.tags) {
      auto it = now.find(k);
      if (it != now.end() && it->second == v) continue;
      tag.tags[k] = v;
      tag.detail += (tag.detail.empty() ? "" : ", ") + k + "=" + v;
    }
    if (!tag.tags.empty()) out.push_back(std::move(tag));
    Change untag = Make(ChangeKind::kUntag, d, arn, "");
    for (const auto& [k, v] : now) {
      if (d.tags->count(k) > 0) continue;
      untag.keys.push_back(k);
      untag.detail += (untag.detail.empty() ? "" : ", ") + k;
    }
    if (!untag.keys.empty()) out.push_back(std::move(untag));
  }

  if (out.size() > first) {
    JIT_ASSIGN_OR_RETURN(std::vector<std::string> accounts, admin.ListProvisionedAccounts(arn));
    if (!accounts.empty()) {
      Change c = Make(ChangeKind::kProvision, d, arn,
                      "to " + std::to_string(accounts.size()) + " account" +
                          (accounts.size() == 1 ? "" : "s") + " (ALL_PROVISIONED_ACCOUNTS)");
      c.accounts = accounts.size();
      out.push_back(std::move(c));
    }
  }
  return OkStatus();
}

// The changes that create a defined set that does not exist yet.
void PlanCreate(const Definition& d, std::vector<Change>& out) {
  Change create = Make(ChangeKind::kCreate, d, "", "");
  create.attributes.name = d.name;
  if (d.description) create.attributes.description = *d.description;
  if (d.session_duration) create.attributes.session_duration = IsoDuration(*d.session_duration);
  if (d.relay_state) create.attributes.relay_state = *d.relay_state;
  if (d.tags) create.tags = *d.tags;
  create.detail = "permission set " + d.name;
  if (d.session_duration)
    create.detail += ", session duration " + FormatDuration(*d.session_duration);
  if (!create.tags.empty()) create.detail += ", " + std::to_string(create.tags.size()) + " tags";
  out.push_back(std::move(create));
  if (d.ManagesInlinePolicy()) {
    out.push_back(Make(ChangeKind::kPutInlinePolicy, d, "", InlineDetail(d, 0)));
  }
  if (d.managed_policies) {
    for (const std::string& p : *d.managed_policies) {
      Change c = Make(ChangeKind::kAttachManagedPolicy, d, "", p);
      c.policy_arn = p;
      out.push_back(std::move(c));
    }
  }
  if (d.customer_managed_policies) {
    for (const auto& r : *d.customer_managed_policies) {
      Change c = Make(ChangeKind::kAttachCustomerManagedPolicy, d, "", RefText(r));
      c.reference = r;
      out.push_back(std::move(c));
    }
  }
  if (d.boundary) {
    Change c = Make(ChangeKind::kPutPermissionsBoundary, d, "", BoundaryText(*d.boundary));
    c.boundary = *d.boundary;
    out.push_back(std::move(c));
  }
}

// Writes the inline policy of `arn`: the definition's statements and the JitCutoff statements
// it holds now (read again here, so that a cut-off written since the plan survives).
// Returns false when the policy already is so (nothing written).
Result<bool> PutInline(const Definition& d, const std::string& arn,
                       provider::PermissionSetAdmin& admin) {
  JIT_ASSIGN_OR_RETURN(std::string text, admin.GetInlinePolicy(arn));
  std::string version;
  json own, cutoffs;
  Split(StatementsOf(text, &version), own, cutoffs);
  json desired = d.DesiredStatements();
  if (!text.empty() && own == desired && version == d.policy_version) return false;
  for (const json& c : cutoffs) desired.push_back(c);
  std::string policy = PolicyText(d.policy_version, desired);
  if (Status s = provider::ValidateInlinePolicy(policy); !s.ok()) {
    return InvalidArgumentError(
        "permission set " + d.name + ": with its " + std::to_string(cutoffs.size()) +
        " JitCutoff statements the inline policy is too large: " + s.message());
  }
  if (std::size_t size = provider::ProvisionedPolicySize(policy);
      size > provider::kMaxProvisionedPolicySize) {
    return InvalidArgumentError(
        "permission set " + d.name + ": with its " + std::to_string(cutoffs.size()) +
        " JitCutoff statements the inline policy would have " + std::to_string(size) +
        " characters besides white space; IAM allows " +
        std::to_string(provider::kMaxProvisionedPolicySize) + " (wait for cut-offs to lift)");
  }
  JIT_RETURN_IF_ERROR(admin.PutInlinePolicy(arn, policy));
  return true;
}

Status Provision(const Change& c, provider::PermissionSetAdmin& admin,
                 const ApplyOptions& options) {
  JIT_ASSIGN_OR_RETURN(provider::Operation op,
                       admin.ProvisionPermissionSet(c.arn, provider::kAllProvisionedAccounts));
  for (int polls = 0;; ++polls) {
    if (op.state == provider::OperationState::kSucceeded) return OkStatus();
    if (op.state == provider::OperationState::kFailed) {
      return InternalError("provisioning " + c.permission_set + " failed: " + op.failure_reason);
    }
    if (polls >= options.max_polls) {
      return UnavailableError("provisioning " + c.permission_set + " (request " + op.id +
                              ") did not finish in time");
    }
    options.sleep(options.poll_interval);
    std::string id = op.id;
    JIT_ASSIGN_OR_RETURN(op, admin.ProvisionStatus(id));
    if (op.id.empty()) op.id = id;
  }
}

}  // namespace

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kCreate:
      return "create";
    case ChangeKind::kUpdate:
      return "update";
    case ChangeKind::kPutInlinePolicy:
      return "put_inline_policy";
    case ChangeKind::kAttachManagedPolicy:
      return "attach_managed_policy";
    case ChangeKind::kDetachManagedPolicy:
      return "detach_managed_policy";
    case ChangeKind::kAttachCustomerManagedPolicy:
      return "attach_customer_managed_policy";
    case ChangeKind::kDetachCustomerManagedPolicy:
      return "detach_customer_managed_policy";
    case ChangeKind::kPutPermissionsBoundary:
      return "put_permissions_boundary";
    case ChangeKind::kDeletePermissionsBoundary:
      return "delete_permissions_boundary";
    case ChangeKind::kTag:
      return "tag";
    case ChangeKind::kUntag:
      return "untag";
    case ChangeKind::kProvision:
      return "provision";
  }
  return "unknown";
}

std::string IsoDuration(Duration d) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  std::string out = "PT";
  if (minutes >= 60) out += std::to_string(minutes / 60) + "H";
  if (minutes % 60 != 0) out += std::to_string(minutes % 60) + "M";
  if (out == "PT") out += "0M";
  return out;
}

Result<Plan> MakePlan(const std::vector<Definition>& definitions,
                      provider::PermissionSetAdmin& admin) {
  Plan plan;
  plan.definitions = definitions.size();
  if (definitions.empty()) return plan;
  JIT_ASSIGN_OR_RETURN(std::vector<provider::PermissionSetAttributes> sets,
                       admin.ListPermissionSets());
  std::map<std::string, const provider::PermissionSetAttributes*> by_name, by_arn;
  for (const auto& s : sets) {
    by_name[s.name] = &s;
    by_arn[s.arn] = &s;
  }
  std::string mismatches;
  for (const Definition& d : definitions) {
    auto named = by_name.find(d.name);
    auto owner = by_arn.find(d.arn);
    if (named != by_name.end() && named->second->arn != d.arn) {
      mismatches += (mismatches.empty() ? "" : "\n") + d.config_file + ":" +
                    std::to_string(d.line) + ": permission set " + d.name + ": its arn " + d.arn +
                    " is not Identity Center's " + named->second->arn +
                    " for that name (put that ARN in the config)";
    } else if (named == by_name.end() && owner != by_arn.end()) {
      mismatches += (mismatches.empty() ? "" : "\n") + d.config_file + ":" +
                    std::to_string(d.line) + ": permission set " + d.name + ": its arn " + d.arn +
                    " is Identity Center's permission set " + owner->second->name +
                    " (permission sets cannot be renamed)";
    }
  }
  if (!mismatches.empty()) return FailedPreconditionError(mismatches);
  for (const Definition& d : definitions) {
    auto named = by_name.find(d.name);
    if (named == by_name.end()) {
      PlanCreate(d, plan.changes);
    } else {
      JIT_RETURN_IF_ERROR(PlanExisting(d, *named->second, admin, plan.changes));
    }
  }
  return plan;
}

Result<ApplyResult> Apply(const std::vector<Definition>& definitions,
                          provider::PermissionSetAdmin& admin, const ApplyOptions& options) {
  JIT_ASSIGN_OR_RETURN(Plan plan, MakePlan(definitions, admin));
  std::map<std::string, const Definition*> by_name;
  for (const Definition& d : definitions) by_name[d.name] = &d;
  ApplyResult result;
  std::map<std::string, std::string> created;  // name -> new ARN
  for (Change c : plan.changes) {
    const Definition& d = *by_name.at(c.permission_set);
    if (c.arn.empty() && c.kind != ChangeKind::kCreate) c.arn = created.at(d.name);
    switch (c.kind) {
      case ChangeKind::kCreate: {
        JIT_ASSIGN_OR_RETURN(std::string arn, admin.CreatePermissionSet(c.attributes, c.tags));
        created[d.name] = arn;
        result.created[d.name] = arn;
        c.arn = arn;
        break;
      }
      case ChangeKind::kUpdate:
        JIT_RETURN_IF_ERROR(admin.UpdatePermissionSet(c.attributes));
        break;
      case ChangeKind::kPutInlinePolicy: {
        JIT_ASSIGN_OR_RETURN(bool wrote, PutInline(d, c.arn, admin));
        if (!wrote) continue;
        break;
      }
      case ChangeKind::kAttachManagedPolicy:
        JIT_RETURN_IF_ERROR(admin.AttachManagedPolicy(c.arn, c.policy_arn));
        break;
      case ChangeKind::kDetachManagedPolicy:
        JIT_RETURN_IF_ERROR(admin.DetachManagedPolicy(c.arn, c.policy_arn));
        break;
      case ChangeKind::kAttachCustomerManagedPolicy:
        JIT_RETURN_IF_ERROR(admin.AttachCustomerManagedPolicyReference(c.arn, c.reference));
        break;
      case ChangeKind::kDetachCustomerManagedPolicy:
        JIT_RETURN_IF_ERROR(admin.DetachCustomerManagedPolicyReference(c.arn, c.reference));
        break;
      case ChangeKind::kPutPermissionsBoundary:
        JIT_RETURN_IF_ERROR(admin.PutPermissionsBoundary(c.arn, c.boundary));
        break;
      case ChangeKind::kDeletePermissionsBoundary:
        JIT_RETURN_IF_ERROR(admin.DeletePermissionsBoundary(c.arn));
        break;
      case ChangeKind::kTag:
        JIT_RETURN_IF_ERROR(admin.TagResource(c.arn, c.tags));
        break;
      case ChangeKind::kUntag:
        JIT_RETURN_IF_ERROR(admin.UntagResource(c.arn, c.keys));
        break;
      case ChangeKind::kProvision:
        JIT_RETURN_IF_ERROR(Provision(c, admin, options));
        break;
    }
    ++result.changes;
    if (options.on_change) options.on_change(c);
  }
  return result;
}

std::string ChangeLine(const Change& c) {
  switch (c.kind) {
    case ChangeKind::kCreate:
      return "+ create " + c.detail;
    case ChangeKind::kUpdate:
      return "~ update " + c.detail;
    case ChangeKind::kPutInlinePolicy:
      return "~ put inline policy: " + c.detail;
    case ChangeKind::kAttachManagedPolicy:
      return "+ attach managed policy " + c.detail;
    case ChangeKind::kDetachManagedPolicy:
      return "- detach managed policy " + c.detail;
    case ChangeKind::kAttachCustomerManagedPolicy:
      return "+ attach customer managed policy " + c.detail;
    case ChangeKind::kDetachCustomerManagedPolicy:
      return "- detach customer managed policy " + c.detail;
    case ChangeKind::kPutPermissionsBoundary:
      return "~ put permissions boundary " + c.detail;
    case ChangeKind::kDeletePermissionsBoundary:
      return "- delete permissions boundary " + c.detail;
    case ChangeKind::kTag:
      return "+ tag " + c.detail;
    case ChangeKind::kUntag:
      return "- untag " + c.detail;
    case ChangeKind::kProvision:
      return "> provision " + c.detail;
  }
  return c.detail;
}

std::string FormatPlan(const Plan& plan) {
  if (plan.changes.empty()) {
    if (plan.definitions == 0) return "no changes (the config defines no permission set)\n";
    return "no changes (" + std::to_string(plan.definitions) + " permission set definition" +
           (plan.definitions == 1 ? "" : "s") + " match Identity Center)\n";
  }
  std::string out;
  std::string current;
  std::set<std::string> sets;
  for (const Change& c : plan.changes) {
    if (c.permission_set != current || out.empty()) {
      current = c.permission_set;
      sets.insert(current);
      out += EscapeForTerminal(current) +
             (c.arn.empty() ? std::string(" (new)") : " (" + EscapeForTerminal(c.arn) + ")") +
             ":\n";
    }
    out += "  " + EscapeForTerminal(ChangeLine(c)) + "\n";
  }
  out += std::to_string(plan.changes.size()) + " change" + (plan.changes.size() == 1 ? "" : "s") +
         " to " + std::to_string(sets.size()) + " permission set" + (sets.size() == 1 ? "" : "s") +
         "\n";
  return out;
}

json PlanJson(const Plan& plan) {
  json changes = json::array();
  for (const Change& c : plan.changes) {
    changes.push_back({{"permission_set", c.permission_set},
                       {"arn", c.arn},
                       {"action", std::string(ChangeKindName(c.kind))},
                       {"detail", c.detail}});
  }
  return {{"changes", std::move(changes)}, {"definitions", plan.definitions}};
}

}  // namespace jit::permsets
