#include "api/http_error.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace jit::api {

HttpError HttpErrorFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
      return {422, "invalid_argument"};
    case StatusCode::kNotFound:
      return {404, "not_found"};
    case StatusCode::kPermissionDenied:
      return {403, "permission_denied"};
    case StatusCode::kUnauthenticated:
      return {401, "unauthenticated"};
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return {409, "conflict"};
    case StatusCode::kResourceExhausted:
      return {429, "resource_exhausted"};
    case StatusCode::kUnavailable:
      return {503, "unavailable"};
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  return {500, "internal"};
}

bool MessageIsSafeToShow(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

std::string RetryAfterSeconds(Duration wait) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::to_string(std::max<std::int64_t>(seconds, 1));
}

}  // namespace jit::api
