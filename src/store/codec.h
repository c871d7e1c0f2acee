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
// Text of the shape EncodeRequestData writes is read without building a JSON document; anything
// else goes through DecodeRequestDataWithDom, so both give the same values and errors.
Status DecodeRequestData(std::string_view data, model::Request& r);

// The same through nlohmann's JSON document (the reference the fast path is tested against).
Status DecodeRequestDataWithDom(std::string_view data, model::Request& r);

// The fast path alone: true when it read `data` into `r`; false when the text is of a shape it
// leaves to DecodeRequestDataWithDom (then `r` is partly filled).
bool TryDecodeRequestDataFast(std::string_view data, model::Request& r);

}  // namespace jit::store
