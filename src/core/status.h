#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace jit {

// What went wrong, chosen so that the caller knows what to do next (see docs/ARCHITECTURE.md "Errors").
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the caller; do not retry unchanged (HTTP 400/422)
  kNotFound,            // the named thing does not exist (404)
  kAlreadyExists,       // creating something that is already there (409)
  kPermissionDenied,    // the caller is known but not allowed (403)
  kUnauthenticated,     // the caller is not known (401)
  kFailedPrecondition,  // wrong state for this step (409)
  kAborted,             // lost a race; retry the whole transaction
  kUnavailable,         // throttled, 5xx, time-out, store busy; retry with back-off (503)
  kResourceExhausted,   // a limit was hit (429)
  kInternal,            // a bug or an unexpected failure below us (500)
};

std::string_view StatusCodeName(StatusCode code);

// A small value type: a code and a message. Cheap to copy when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: message" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; ok stays ok.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
inline Status PermissionDeniedError(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status UnauthenticatedError(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

std::ostream& operator<<(std::ostream& os, const Status& s);

}  // namespace jit

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define JIT_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::jit::Status jit_status_tmp_ = (expr);            \
    if (!jit_status_tmp_.ok()) return jit_status_tmp_; \
  } while (0)
