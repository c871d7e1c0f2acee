#pragma once
// The id patterns of the sso-admin, identitystore and organizations service models (as AWS
// publishes them), and the text of each, for validation messages. Internal to jit_emulator.

#include <string_view>

namespace jit::emulator {

struct Pattern {
  std::string_view name;  // the regular expression as the service model writes it
  bool (*matches)(std::string_view);
};

// arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}
extern const Pattern kInstanceArn;
// arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}
extern const Pattern kPermissionSetArn;
// \d{12}
extern const Pattern kAccountId;
// ([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}
// (sso-admin PrincipalId; identitystore UserId and GroupId alike)
extern const Pattern kPrincipalId;
// d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
extern const Pattern kIdentityStoreId;
// [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}  (async request ids)
extern const Pattern kRequestId;

// AWS Organizations (issue 16):
// ^o-[a-z0-9]{10,32}$
extern const Pattern kOrganizationId;
// ^r-[0-9a-z]{4,32}$
extern const Pattern kRootId;
// ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$
extern const Pattern kOrganizationalUnitId;
// a root or OU id (ParentId)
extern const Pattern kParentId;
// a root, OU or account id (ListTagsForResource's ResourceId; policy ids are not emulated)
extern const Pattern kTaggableResourceId;

// The "ins-..." part of an instance or permission set ARN ("" when there is none).
std::string_view InstanceIdOf(std::string_view arn);

}  // namespace jit::emulator
