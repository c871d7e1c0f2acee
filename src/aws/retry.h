#pragma once
// What the AWS clients (JsonClient, QueryClient) share: how an endpoint splits for signing and
// the back-off between the tries of one call.

#include <functional>
#include <string>

#include "core/clock.h"

namespace jit::aws {

struct RetryPolicy {
  int max_attempts = 5;           // including the first
  Duration base = Duration(100);  // full jitter: random in [0, min(max, base * 2^n)]
  Duration max = Duration(5000);
  // How the client waits between tries; empty: SleepFor on the client's Clock (so that a
  // FakeClock's Advance releases it). Tests pass a fake that records the waits.
  std::function<void(Duration)> sleep;
};

// "scheme://authority/path" -> authority (user info dropped) and path ("" when none, trailing
// '/' removed).
void SplitEndpoint(const std::string& endpoint, std::string& authority, std::string& path);

// The wait before retry number `attempt` + 1 (`attempt` counts from 0): "full jitter", random
// in [0, min(retry.max, retry.base * 2^attempt)].
Duration FullJitter(const RetryPolicy& retry, int attempt);

// Waits `d` before the next try: retry.sleep when set, else on `clock`.
void WaitBeforeRetry(const RetryPolicy& retry, Clock& clock, Duration d);

}  // namespace jit::aws
