#include "cutoff/check.h"

#include <algorithm>

#include "core/status.h"

namespace jit::cutoff {
namespace {

// The ARN of a permission set of `arn`'s instance that cannot exist.
std::string ProbeArn(const std::string& arn) {
  std::size_t slash = arn.rfind('/');
  return arn.substr(0, slash + 1) + "ps-0000000000000000";
}

}  // namespace

bool CutoffConfigured(const policy::Config& config) {
  if (config.session_cutoff) return true;
  bool on_ps = std::any_of(config.permission_sets.begin(), config.permission_sets.end(),
                           [](const policy::PermissionSet& p) { return p.session_cutoff == true; });
  bool on_rule = std::any_of(config.rules.begin(), config.rules.end(),
                             [](const policy::Rule& r) { return r.session_cutoff == true; });
  return on_ps || on_rule;
}

std::vector<std::string> PermissionWarnings(provider::PermissionSetPolicies& policies,
                                            const policy::Config& config) {
  std::vector<std::string> out;
  if (!CutoffConfigured(config) || config.permission_sets.empty()) return out;
  const std::string& arn = config.permission_sets.front().arn;
  const std::string probe = ProbeArn(arn);
  const std::string account = config.accounts.empty() ? "111111111111" : config.accounts[0].id;
  auto judge = [&](const char* action, const Status& s, bool expect_not_found) {
    if (s.ok() || (expect_not_found && s.code() == StatusCode::kNotFound)) return;
    if (s.code() == StatusCode::kPermissionDenied) {
      out.push_back("session cut-off: the credentials may not call " + std::string(action) +
                    "; grant deploy/iam-policy-session-cutoff.json or turn session_cutoff off");
    } else if (!expect_not_found || s.code() != StatusCode::kInvalidArgument) {
      out.push_back("session cut-off: could not check " + std::string(action) + ": " +
                    s.ToString());
    }
  };
  judge("sso:GetInlinePolicyForPermissionSet", policies.GetInlinePolicy(arn).error(), false);
  judge("sso:DescribePermissionSet", policies.SessionDuration(arn).error(), false);
  judge("sso:PutInlinePolicyToPermissionSet",
        policies.PutInlinePolicy(probe, R"({"Version":"2012-10-17","Statement":[]})"), true);
  judge("sso:DeleteInlinePolicyFromPermissionSet", policies.DeleteInlinePolicy(probe), true);
  judge("sso:ProvisionPermissionSet", policies.ProvisionPermissionSet(probe, account).error(),
        true);
  judge("sso:DescribePermissionSetProvisioningStatus",
        policies.ProvisionStatus("00000000-0000-4000-8000-000000000000").error(), true);
  return out;
}

}  // namespace jit::cutoff
