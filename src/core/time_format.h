#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace jit {

// RFC 3339 in UTC with milliseconds: "2026-11-24T09:30:00.123Z".
std::string FormatRfc3339(Time t);

// Reads RFC 3339 ("2026-11-24T09:30:00Z", "...T10:30:00.5+01:00"). InvalidArgument otherwise.
Result<Time> ParseRfc3339(std::string_view text);

}  // namespace jit
