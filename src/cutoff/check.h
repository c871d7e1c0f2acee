#pragma once
// `jit config check --aws` for session cut-off: whether the broker's credentials may make the
// calls cut-off needs (docs/AWS.md "Session cut-off"), probed without changing anything.

#include <string>
#include <vector>

#include "policy/config.h"
#include "provider/provider.h"

namespace jit::cutoff {

// True when the config turns cut-off on anywhere (top level, a permission set or a rule).
bool CutoffConfigured(const policy::Config& config);

// One warning per call that the credentials behind `policies` may not make, when the config
// turns cut-off on; none otherwise. Reads the inline policy of the config's first permission
// set, and probes the writes and the provisioning on a permission set id that cannot exist
// (ps-0000000000000000 of the same instance): AWS checks permissions before it looks the
// permission set up, so AccessDenied (PermissionDenied) means "not allowed" and
// ResourceNotFound means allowed. Nothing is changed. Errors other than PermissionDenied are
// not the credentials' fault and are reported as a warning that the check could not be made.
std::vector<std::string> PermissionWarnings(provider::PermissionSetPolicies& policies,
                                            const policy::Config& config);

}  // namespace jit::cutoff
