#pragma once
// A config with allowed hours, reason minimum length and a permission-set cap, shared by the
// policy_rules and explain tests. Zones come from the test copies in testdata/zoneinfo.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/time_format.h"
#include "model/identity.h"
#include "policy/config.h"
#include "policy/policy.h"

namespace jit::policy::test {

inline constexpr std::string_view kRules = R"(accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 2h}
  - {name: Ops, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333"}
rules:
  - name: office
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 4h
    reason_min_length: 10
    ticket: "^INC-[0-9]+$"
    approval: {approvers: {groups: [approvers]}, required: 2, timeout: 30m}
    hours: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", timezone: Europe/Berlin}
  - name: night
    requesters: {groups: [oncall]}
    accounts: {all: true}
    permission_sets: [Ops]
    max_duration: 1h
    min_duration: 10m
    approval: auto
    schedule_window: 0s
    hours: {days: [fri], from: "22:00", to: "06:00", timezone: America/New_York}
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    reason: required
    approval: auto
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [Admin]
    max_duration: 1h
    break_glass: true
)";

inline const model::Identity kCarol{"carol", {"engineers", "sre"}, "u-carol"};
inline const model::Identity kDave{"dave", {"oncall"}, "u-dave"};
inline const model::Identity kErin{"erin", {"engineers"}, "u-erin"};
inline const model::Identity kMallory{"mallory", {}, "u-mallory"};

inline Config MustParse(std::string_view yaml) {
  Result<Config> c = ParseConfig(yaml, "rules.yaml", JIT_ZONEINFO_TESTDATA);
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? std::move(c).value() : Config();
}

inline Time At(const std::string& rfc3339) {
  Result<Time> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.value_or(Time());
}

inline AccessRequest Req(std::string account, std::string ps, Duration d, std::string reason = "",
                         std::string ticket = "") {
  return {std::move(account), std::move(ps), d, std::move(reason), std::move(ticket)};
}

}  // namespace jit::policy::test
