#pragma once
// The last organization snapshot read, kept in a file of the data folder so that a restarted
// broker offers the accounts from the organization at once, before its first refresh (which,
// paced, takes about a quarter of a second per account).

#include <filesystem>

#include "core/result.h"
#include "core/status.h"
#include "provider/organizations.h"

namespace jit::org {

// Writes `snapshot` as JSON to `path` (through a temporary file renamed over it, so a reader
// never sees half a file). Errors: Internal when the file cannot be written.
Status SaveSnapshot(const std::filesystem::path& path,
                    const provider::OrganizationSnapshot& snapshot);

// Reads what SaveSnapshot wrote. NotFound when there is no file; InvalidArgument when it is
// not a snapshot (the caller ignores it and reads the organization).
Result<provider::OrganizationSnapshot> LoadSnapshot(const std::filesystem::path& path);

}  // namespace jit::org
