#pragma once
// The `store:` key of the config file: which database holds the broker's state.

#include <optional>
#include <string>

#include "config/reader.h"

namespace jit::store {

// Reads `store: URL` ("sqlite:///path/jit.db", "postgresql://..."; empty: <data>/jit.db),
// reporting a value that is not a string to `reader`. Which URLs open is decided when the
// broker starts (main.cc), not here.
std::optional<std::string> ParseStoreUrl(const config::Field& field, config::Reader& reader);

}  // namespace jit::store
