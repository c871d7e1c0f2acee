#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace jit {

// A new unique id: `prefix` followed by 26 characters of Crockford base32 that sort by
// creation time (48 bits of milliseconds, then 80 random bits), like a ULID:
// "req_01JD3Q8W5C2M7X9K4T6B1N0R8P". Thread-safe.
std::string NewId(std::string_view prefix, Time now);

// True when `id` has the shape NewId makes with this prefix. Untrusted input is checked with
// this before it reaches the store.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

}  // namespace jit
