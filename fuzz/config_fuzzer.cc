// Fuzzes the config parser: config::ParseConfig on arbitrary text (time zones from the test
// zoneinfo folder, so that nothing outside the repository is read), then, for a config that
// parses, policy::Evaluate and policy::Explain for a few callers and requests.
//
// What must hold (a violation aborts): a refused config is InvalidArgument whose message has one
// "fuzz.yaml:LINE: ..." line per problem; nothing throws or crashes.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"
#include "model/identity.h"
#include "policy/config.h"
#include "policy/explain.h"
#include "policy/policy.h"

namespace {

[[noreturn]] void Fail(const std::string& why, const std::string& detail) {
  (void)std::fprintf(stderr, "config_fuzzer: %s\n%s\n", why.c_str(), detail.c_str());
  std::abort();
}

void CheckError(const jit::Status& s) {
  if (s.code() != jit::StatusCode::kInvalidArgument) {
    Fail("a bad config is not InvalidArgument", s.ToString());
  }
  std::string_view m = s.message();
  if (m.empty()) Fail("empty error message", "");
  while (!m.empty()) {
    std::size_t nl = m.find('\n');
    std::string_view line = m.substr(0, nl);
    m = nl == std::string_view::npos ? std::string_view() : m.substr(nl + 1);
    if (line.empty()) continue;
    if (line.rfind("fuzz.yaml:", 0) != 0) {
      Fail("an error line names no file", "line: " + std::string(line) + "\nall: " + s.message());
    }
    std::size_t i = 10;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    if (i == 10 || i >= line.size() || line[i] != ':') {
      Fail("an error line names no line number",
           "line: " + std::string(line) + "\nall: " + s.message());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = jit::config::ParseConfig(text, "fuzz.yaml", JIT_ZONEINFO_TESTDATA);
  if (!config.has_value()) {
    CheckError(config.error());
    return 0;
  }
  const jit::Time now = jit::FromUnixMillis(1767225600000);  // 2026-01-01T00:00:00Z
  const jit::model::Identity people[] = {
      {"alice", {"engineers"}, "a11ce000-0000-4000-8000-000000000001"},
      {"carol", {"approvers", "sre", "admins"}, "ca401000-0000-4000-8000-000000000003"},
      {"nobody", {}, ""},
  };
  // A few of each: enough to reach every rule's checks without making one input slow.
  const std::size_t accounts = std::min<std::size_t>(config->policy.accounts.size(), 4);
  const std::size_t sets = std::min<std::size_t>(config->policy.permission_sets.size(), 4);
  for (const auto& who : people) {
    for (std::size_t a = 0; a < accounts; ++a) {
      for (std::size_t p = 0; p < sets; ++p) {
        const auto& account = config->policy.accounts[a];
        const auto& ps = config->policy.permission_sets[p];
        jit::policy::AccessRequest ask;
        ask.account = account.name.empty() ? account.id : account.name;
        ask.permission_set = ps.name;
        ask.duration = std::chrono::minutes(30);
        ask.reason = "fuzzing the config";
        (void)jit::policy::Evaluate(config->policy, who, ask, now);
        (void)jit::policy::Explain(config->policy, who, ask, now);
      }
    }
  }
  return 0;
}
