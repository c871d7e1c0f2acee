#pragma once
// `jit config check --aws` for permission sets as code: whether the credentials may make the
// calls `permission-sets apply` needs (docs/AWS.md "Permission sets as code"), probed without
// changing anything.

#include <string>
#include <vector>

#include "permsets/definition.h"
#include "provider/permission_set_admin.h"

namespace jit::permsets {

// One warning per call `apply` needs that the credentials behind `admin` may not make, when
// `definitions` is not empty; none otherwise. The writes are probed on a permission set id that
// cannot exist (ps-0000000000000000 of the instance of `instance_arn`): AWS checks permissions
// before it looks the permission set up, so AccessDenied (PermissionDenied) means "not allowed"
// and ResourceNotFound (or a validation error) means allowed. Nothing is changed. Other errors
// are reported as a warning that the check could not be made.
std::vector<std::string> PermissionWarnings(provider::PermissionSetAdmin& admin,
                                            const std::string& instance_arn,
                                            const std::vector<Definition>& definitions);

}  // namespace jit::permsets
