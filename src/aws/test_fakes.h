#pragma once
// Fakes for jit_aws tests only (never linked into the binary).

#include <functional>
#include <utility>
#include <vector>

#include "aws/http.h"
#include "core/mutex.h"

namespace jit::aws::testing {

// Records every call and answers with `handler` (Unavailable without one); never touches the
// network. Thread-safe.
class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpCall&)>;
  explicit FakeTransport(Handler handler = nullptr) : handler_(std::move(handler)) {}
  Result<HttpResponse> Send(const HttpCall& call) override {
    Handler handler;
    {
      MutexLock lock(&mu_);
      calls_.push_back(call);
      handler = handler_;
    }
    if (!handler) return UnavailableError("fake: no handler");
    return handler(call);
  }
  std::vector<HttpCall> calls() const {
    MutexLock lock(&mu_);
    return calls_;
  }

 private:
  Handler handler_;
  mutable Mutex mu_;
  std::vector<HttpCall> calls_ GUARDED_BY(mu_);
};

}  // namespace jit::aws::testing
