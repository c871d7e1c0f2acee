#pragma once
// A permission set's definition in the config (docs/POLICY.md "Permission set definitions"):
// what `jit permission-sets apply` makes the permission set of that name in Identity Center
// look like. Parsed, with its inline policy file, when the config is read, so that a bad file
// is refused with its file and line before any call.
//
// What a definition leaves out, apply leaves alone: a key that is absent is not managed; a key
// that is present (even an empty list) is made exactly so. The inline policy is managed when
// `inline_policy_file` or `regions` is present.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "core/clock.h"
#include "provider/permission_set_admin.h"
#include "provider/provider.h"

namespace jit::permsets {

// Sid prefixes in a permission set's inline policy that jit owns (NAMES.md): cut-off
// statements (session cut-off writes them, apply carries them over) and the region guardrail.
using provider::kCutoffSidPrefix;
using provider::kJitSidPrefix;
inline constexpr const char* kRegionGuardrailSid = "JitRegionGuardrail";

// AWS's quotas checked when the config is read.
inline constexpr std::size_t kMaxAttachedPolicies = 20;  // AWS and customer managed, together
inline constexpr std::size_t kMaxTags = 50;

struct Definition {
  std::string name;  // the permission set's Name, also its name in the config
  std::string arn;   // the config's `arn` (may be empty when it did not parse)
  int line = 0;      // of the `definition:` key
  std::string config_file;

  std::optional<std::string> description;
  std::optional<Duration> session_duration;  // 1h..12h
  std::optional<std::string> relay_state;
  std::optional<std::vector<std::string>> managed_policies;  // AWS managed policy ARNs
  std::optional<std::vector<provider::CustomerManagedPolicyReference>> customer_managed_policies;
  bool boundary_declared = false;                         // `permissions_boundary` present
  std::optional<provider::PermissionsBoundary> boundary;  // declared and nullopt: `none`
  std::optional<std::map<std::string, std::string>> tags;
  std::string inline_policy_file;  // as written in the config; "" when none
  std::string inline_policy_path;  // resolved against the config file's folder
  std::vector<std::string> regions;

  // The policy file's "Version" ("2012-10-17" when it has none) and its statements, each an
  // object, in file order (a single "Statement" object becomes a list of one).
  std::string policy_version = "2012-10-17";
  nlohmann::json statements = nlohmann::json::array();

  // Whether apply writes the inline policy at all.
  bool ManagesInlinePolicy() const { return !inline_policy_file.empty() || !regions.empty(); }
  // The statements apply writes before the carried-over cut-off statements: the file's, then
  // the region guardrail when `regions` is set.
  nlohmann::json DesiredStatements() const;
};

// The AWS services whose actions the region guardrail never denies (they are global, or
// answer from one region whatever the caller's): IAM, Organizations, STS, Support, Route 53,
// CloudFront and the others AWS's documented region-deny examples exempt. The same list is in
// deploy/scp/region-allow-list.json (tests/deploy_test.py checks it).
const std::vector<std::string>& GlobalServiceActions();

// The guardrail statement for `regions` (Sid JitRegionGuardrail): Deny every action but
// GlobalServiceActions() when aws:RequestedRegion is not one of them.
nlohmann::json RegionGuardrail(const std::vector<std::string>& regions);

// Serializes a policy document the way apply writes it (compact JSON).
std::string PolicyText(const std::string& version, const nlohmann::json& statements);

// Parses the `definition:` field of the permission set `name` (arn `arn`) of the config
// `reader` reads, reading its inline policy file relative to `config_dir` ("" for the working
// folder). Reports every problem through `reader` as "FILE:LINE: ..." (for the policy file:
// "FILE:LINE: permission set NAME: POLICYFILE:LINE: ..."), and returns nullopt when there was
// one. Not thread-safe (the Reader is not).
std::optional<Definition> ParseDefinition(const config::Field& field, const std::string& name,
                                          const std::string& arn, const std::string& config_dir,
                                          config::Reader& reader);

// Walks the `permission_sets:` list of a config and parses the `definition:` of each entry
// that has one (entries that are not maps, or lack a name, are the policy parser's to report).
std::vector<Definition> ParseDefinitions(const config::Field& permission_sets,
                                         const std::string& config_dir, config::Reader& reader);

// The folder of a config file path, for ParseDefinitions: "" for a bare file name.
std::string ConfigDir(std::string_view config_file);

}  // namespace jit::permsets
