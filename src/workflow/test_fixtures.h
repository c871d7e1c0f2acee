#pragma once

// Test-only: the dev-mode people and policy that the workflow tests share (one copy, so that the
// tests agree on who alice is and so that the unity build sees one definition).

#include <utility>

#include "core/check.h"
#include "model/identity.h"
#include "policy/config.h"

namespace jit::workflow::fixtures {

inline const model::Identity kAlice{"alice", {"engineers"}, "a11ce000-0000-4000-8000-000000000001"};
inline const model::Identity kBob{"bob", {"approvers"}, "b0b00000-0000-4000-8000-000000000002"};
inline const model::Identity kCarol{
    "carol", {"approvers", "sre", "admins"}, "ca401000-0000-4000-8000-000000000003"};
inline const model::Identity kDave{"dave", {"engineers"}, "da7e0000-0000-4000-8000-000000000004"};

// The dev catalog's ReadOnly and Admin permission sets.
inline constexpr char kReadOnly[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111";
inline constexpr char kAdmin[] =
    "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";

// The policy of `jit serve --dev`.
inline policy::Config DevConfig() {
  auto c = policy::ParseConfig(policy::DevPolicyYaml(), "dev");
  JIT_CHECK(c.has_value());
  return std::move(c).value();
}

// `c` with the per-user limits off (policy::Limits), for tests that pile up one user's requests
// on purpose: to fill a disk, or to overlap grants of one assignment.
inline policy::Config WithoutLimits(policy::Config c) {
  c.limits.open_requests_per_user = 0;
  c.limits.requests_per_minute_per_user = 0;
  c.limits.refuse_duplicates = false;
  return c;
}

}  // namespace jit::workflow::fixtures
