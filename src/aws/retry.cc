#include "aws/retry.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace jit::aws {

void SplitEndpoint(const std::string& endpoint, std::string& authority, std::string& path) {
  std::size_t scheme = endpoint.find("://");
  std::string rest = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
  std::size_t slash = rest.find('/');
  authority = rest.substr(0, slash);
  path = slash == std::string::npos ? "" : rest.substr(slash);
  if (std::size_t at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
}

Duration FullJitter(const RetryPolicy& retry, int attempt) {
  double cap = static_cast<double>(retry.base.count()) * std::pow(2.0, attempt);
  cap = std::min(cap, static_cast<double>(retry.max.count()));
  if (cap <= 0) return Duration(0);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist(0.0, cap);
  return Duration(static_cast<Duration::rep>(dist(rng)));
}

void WaitBeforeRetry(const RetryPolicy& retry, Clock& clock, Duration d) {
  if (retry.sleep) {
    retry.sleep(d);
  } else {
    SleepFor(clock, d);
  }
}

}  // namespace jit::aws
