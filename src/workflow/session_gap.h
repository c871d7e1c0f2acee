#pragma once
// AWS sessions outlive a deleted assignment (docs/AWS.md "Sessions outlive a deleted assignment"):
// a permission set whose SessionDuration is longer than the longest grant jit makes of it lets
// a user keep working after jit has revoked the access.

#include <string>
#include <vector>

#include "core/clock.h"
#include "policy/config.h"
#include "provider/identity_center.h"

namespace jit::workflow {

// The longest grant any rule of `config` allows for the permission set named `name` (the
// smaller of the rule's and the permission set's max_duration), or 0 when no rule allows it.
Duration LongestGrant(const policy::Config& config, const std::string& name);

// True when session cut-off (cutoff/engine.h CutoffEnabled) is on for the grants of every rule
// that offers `ps`: their sessions end with the grant, whatever the SessionDuration.
bool CutoffCoversEveryGrant(const policy::Config& config, const policy::PermissionSet& ps);

// One warning per permission set of `config` whose SessionDuration in `sets` (matched by ARN)
// is longer than the longest grant a rule allows for it, in config order. Permission sets that
// no rule allows, that Identity Center does not list, or whose every grant is cut off at its
// end (CutoffCoversEveryGrant), get none.
std::vector<std::string> SessionGapWarnings(const std::vector<provider::PermissionSetInfo>& sets,
                                            const policy::Config& config);

}  // namespace jit::workflow
