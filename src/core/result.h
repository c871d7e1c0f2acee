#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "core/check.h"
#include "core/status.h"

namespace jit {

// A value or a non-ok Status. Member names follow std::expected so that a later switch is
// mechanical: has_value, value, error, operator*, operator->, value_or.
template <typename T>
class [[nodiscard]] Result {
 public:
  // REQUIRES: !status.ok() (an ok Status carries no value; that is a bug and aborts).
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    JIT_CHECK(!std::get<Status>(data_).ok());
  }
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U,
            typename = std::enable_if_t<
                std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Status> &&
                !std::is_same_v<std::decay_t<U>, Result<T>> && !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : data_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return std::holds_alternative<T>(data_); }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value().
  T& value() & {
    JIT_CHECK(has_value());
    return std::get<T>(data_);
  }
  const T& value() const& {
    JIT_CHECK(has_value());
    return std::get<T>(data_);
  }
  T&& value() && {
    JIT_CHECK(has_value());
    return std::get<T>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<T>(data_) : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; OK when there is a value.
  Status error() const { return has_value() ? Status() : std::get<Status>(data_); }
  Status status() const { return error(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace jit

#define JIT_CONCAT_INNER_(a, b) a##b
#define JIT_CONCAT_(a, b) JIT_CONCAT_INNER_(a, b)

// JIT_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s error from the enclosing function.
#define JIT_ASSIGN_OR_RETURN(lhs, expr) \
  JIT_ASSIGN_OR_RETURN_IMPL_(JIT_CONCAT_(jit_result_, __LINE__), lhs, expr)
#define JIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.has_value()) return tmp.error();        \
  lhs = std::move(tmp).value()
