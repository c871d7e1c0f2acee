#pragma once
// The one place where Status codes become HTTP statuses (docs/ARCHITECTURE.md "Errors").

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace jit::api {

struct HttpError {
  int status = 500;
  std::string_view code;  // the "code" of the JSON error body, e.g. "not_found"
};

// InvalidArgument → 422 invalid_argument, NotFound → 404 not_found, PermissionDenied → 403
// permission_denied, Unauthenticated → 401 unauthenticated, FailedPrecondition, AlreadyExists
// and Aborted → 409 conflict, ResourceExhausted → 429 resource_exhausted, Unavailable → 503
// unavailable, anything else → 500 internal.
HttpError HttpErrorFor(StatusCode code);

// True when the Status's message may be shown to the caller; false for codes whose messages can
// carry internals (Internal, Unavailable and unknown codes), which get a generic message.
bool MessageIsSafeToShow(StatusCode code);

// The value of a 429's Retry-After header: `wait` in whole seconds, rounded up, at least 1.
std::string RetryAfterSeconds(Duration wait);

}  // namespace jit::api
