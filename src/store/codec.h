#pragma once
// How engines keep a request: its indexed fields (id, requester, state, created_at, version) in
// columns of their own, everything else in one JSON text. Shared by every engine so that they
// cannot drift apart in what they keep.

#include <string>
#include <string_view>

#include "core/result.h"
#include "model/request.h"

namespace jit::store {

// The whole request as JSON text (times as Unix milliseconds). InvalidArgument when it holds
// text that is not UTF-8 (nothing is stored then).
Result<std::string> EncodeRequestData(const model::Request& r);

// Fills `r` from text made by EncodeRequestData, every field but id, requester, state and
// version (the engine's columns are the truth for those). Members missing from the text (rows
// written by an older broker) keep their defaults. Internal when the text is damaged.
Status DecodeRequestData(std::string_view data, model::Request& r);

}  // namespace jit::store
