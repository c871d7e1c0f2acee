#pragma once
// Secrets and URLs kept in files (webhook secrets, bot tokens, SMTP passwords, OIDC client
// secrets).

#include <string>
#include <string_view>

#include "core/result.h"

namespace jit {

// The content of the file at `path` with surrounding white space (space, tab, CR, LF)
// removed. InvalidArgument "<what>: cannot read <path>" when it cannot be read and
// "<what>: <path> is empty" when nothing is left.
Result<std::string> ReadSecretFile(const std::string& path, std::string_view what);

}  // namespace jit
