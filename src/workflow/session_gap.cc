#include "workflow/session_gap.h"

#include <algorithm>

#include "core/duration.h"
#include "cutoff/engine.h"

namespace jit::workflow {

Duration LongestGrant(const policy::Config& config, const std::string& name) {
  const policy::PermissionSet* ps = config.FindPermissionSet(name);
  Duration longest{0};
  for (const policy::Rule& rule : config.rules) {
    if (rule.group_elevation) continue;  // its names are groups'
    if (std::find(rule.permission_sets.begin(), rule.permission_sets.end(), name) ==
        rule.permission_sets.end()) {
      continue;
    }
    Duration d = rule.max_duration;
    if (ps != nullptr && ps->max_duration.count() > 0 && ps->max_duration < d) {
      d = ps->max_duration;
    }
    longest = std::max(longest, d);
  }
  return longest;
}

bool CutoffCoversEveryGrant(const policy::Config& config, const policy::PermissionSet& ps) {
  for (const policy::Rule& rule : config.rules) {
    if (rule.group_elevation) continue;  // its names are groups'
    if (std::find(rule.permission_sets.begin(), rule.permission_sets.end(), ps.name) ==
        rule.permission_sets.end()) {
      continue;
    }
    model::Request r;
    r.rule = rule.name;
    r.permission_set_arn = ps.arn;
    if (!cutoff::CutoffEnabled(config, r)) return false;
  }
  return true;
}

std::vector<std::string> SessionGapWarnings(const std::vector<provider::PermissionSetInfo>& sets,
                                            const policy::Config& config) {
  std::vector<std::string> out;
  for (const policy::PermissionSet& ps : config.permission_sets) {
    auto info = std::find_if(sets.begin(), sets.end(),
                             [&](const provider::PermissionSetInfo& i) { return i.arn == ps.arn; });
    if (info == sets.end()) continue;
    Duration longest = LongestGrant(config, ps.name);
    if (longest.count() <= 0 || info->session_duration <= longest) continue;
    if (CutoffCoversEveryGrant(config, ps)) continue;  // the sessions end with the grant
    out.push_back("permission set " + ps.name + ": its SessionDuration is " +
                  FormatDuration(info->session_duration) + " but the longest grant is " +
                  FormatDuration(longest) +
                  "; AWS sessions outlive a deleted assignment, so access can last up to " +
                  FormatDuration(info->session_duration) +
                  " after a revocation (set SessionDuration to " + FormatDuration(longest) +
                  " or less, or turn session_cutoff on: docs/AWS.md \"Session cut-off\")");
  }
  return out;
}

}  // namespace jit::workflow
