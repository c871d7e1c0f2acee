#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace jit {

// Parses a duration such as "90s", "15m", "1h30m", "2d" or "1h 30m": one or more
// <whole number><unit> parts, units d, h, m, s, ms, each at most once and from largest to
// smallest. A bare whole number is seconds ("300"). Errors are InvalidArgument and say what is
// wrong ("unknown unit 'x' in '5x'"). Durations above 366 days are refused.
Result<Duration> ParseDuration(std::string_view text);

// Parses the ISO-8601 durations AWS uses (Identity Center's SessionDuration): "PT8H",
// "PT1H30M", "PT45M", "PT3600S", "P1D". InvalidArgument otherwise.
Result<Duration> ParseIsoDuration(std::string_view text);

// Formats a duration the way ParseDuration reads it: "1h30m", "45s", "0s".
std::string FormatDuration(Duration d);

}  // namespace jit
