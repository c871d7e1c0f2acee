#pragma once
// Reading sso-admin, identitystore and Organizations answers (provider-internal): the helpers
// the Identity Center provider, the permission-set admin, group membership and Organizations
// clients share. Thread-compatible.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/json_client.h"
#include "core/result.h"
#include "core/status.h"
#include "provider/provider.h"

namespace jit::provider::wire {

// The string member `key` of `j`; "" when `j` is not an object or the member is not a string.
std::string String(const nlohmann::json& j, const char* key);

// Internal "<operation>: unexpected answer from AWS: <what>".
Status Malformed(const std::string& operation, const std::string& what);

// Calls `operation` with `body` and follows NextToken through every page (at most 10,000),
// calling `page` with each answer. The client's errors; Internal for a NextToken that comes back
// or too many pages.
Status Paginate(aws::JsonClient& client, const std::string& operation, nlohmann::json body,
                const std::function<Status(const nlohmann::json&)>& page);

// The array member `key` of a page (null or absent: an empty array); Internal otherwise.
Result<const nlohmann::json*> Array(const nlohmann::json& page, const char* key,
                                    const std::string& operation);

// The operation status object `field` of `answer` (AccountAssignmentCreationStatus,
// AccountAssignmentDeletionStatus, PermissionSetProvisioningStatus): RequestId, Status
// (IN_PROGRESS, SUCCEEDED, FAILED) and FailureReason. Internal when it is not there or says
// something else, or is IN_PROGRESS without a RequestId.
Result<Operation> OperationStatus(const nlohmann::json& answer, const char* field);

}  // namespace jit::provider::wire
