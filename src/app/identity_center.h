#pragma once
// The Identity Center provider built from the config's `aws:` section: the AWS clients it
// stands on, and what Identity Center says about the config (`jit config check --aws`).

#include <memory>
#include <string>
#include <vector>

#include "aws/call_health.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "policy/config.h"
#include "provider/group_membership.h"
#include "provider/group_target.h"
#include "provider/identity_center.h"
#include "provider/organizations.h"

namespace jit::app {

// Where Identity Center is and which instance jit manages.
struct IdentityCenterSettings {
  std::string region;
  std::string sso_admin_endpoint;
  std::string identity_store_endpoint;
  std::string instance_arn;
  std::string identity_store_id;
  int calls_per_second = 18;  // aws::AwsSettings's pacing
  int max_creates_in_flight = 10;
  // AWS Organizations (accounts from the organization): its endpoint and signing region
  // (AWS serves it from us-east-1 in the commercial partition), and its own pacing.
  std::string organizations_endpoint;
  std::string organizations_region = "us-east-1";
  int organizations_calls_per_second = 4;
};

// The Identity Center provider with everything it stands on; members are destroyed in reverse
// order, the provider first. Thread-safe as the provider is.
struct IdentityCenter {
  std::unique_ptr<aws::CallHealth> health;  // outlives the clients that report to it
  std::unique_ptr<aws::HttpTransport> http;
  std::unique_ptr<aws::CredentialSource> credentials;
  std::unique_ptr<aws::Limiter> limiter;
  std::unique_ptr<aws::JsonClient> sso_admin;
  std::unique_ptr<aws::JsonClient> identity_store;
  std::unique_ptr<provider::IdentityCenterProvider> provider;
  // Group elevation: memberships through the same identitystore client, and the provider the
  // workflow and the reconciler use, which sends group targets there and account assignments
  // to `provider`.
  std::unique_ptr<provider::IdentityStoreGroupMemberships> groups;
  std::unique_ptr<provider::GroupTargetProvider> targets;
  // AWS Organizations, paced apart from Identity Center. Built always; called only when the
  // policy names accounts of the organization.
  std::unique_ptr<aws::Limiter> organizations_limiter;
  std::unique_ptr<aws::JsonClient> organizations_client;
  std::unique_ptr<provider::OrganizationsClient> organizations;
};

// The config's `aws:` section, completed from the environment (region, endpoint overrides).
// InvalidArgument when the section is missing or no region is known.
Result<IdentityCenterSettings> SettingsFromConfig(const config::Config& config,
                                                  const aws::Environment& env);

// Builds the provider; sends nothing. `credentials` null: the default credential chain of
// `env`. `observer` (may be empty) hears every call's outcome, as does the provider's
// CallHealth. `clock` must outlive the result. InvalidArgument for settings the provider
// refuses.
Result<std::unique_ptr<IdentityCenter>> ConnectIdentityCenter(
    const IdentityCenterSettings& settings, std::unique_ptr<aws::CredentialSource> credentials,
    const aws::Environment& env, Clock& clock, aws::CallObserver observer = {});

// What Identity Center says about the config: permission sets it does not have, those whose
// sessions outlive the longest grant (AWS sessions outlive a deleted assignment), Identity
// Center groups (`identity_center_groups`) the identity store does not have or will not list
// to jit, and, when the config turns session cut-off on, the calls it needs that the
// credentials may not make (cutoff/check.h). One warning per problem; errors of
// ListPermissionSets.
Result<std::vector<std::string>> AwsWarnings(IdentityCenter& ic, const policy::Config& config);

// `jit config check FILE --aws`: AwsWarnings for `config`, and the calls `permission-sets apply`
// needs that the credentials may not make (permsets/check.h) when it defines permission sets,
// asking the Identity Center of its `aws:` section with the process's environment and default
// credential chain. When the policy names accounts of the organization, also reads it and
// reports the resolved scope (org::ResolveScope): one note per source and per account.
// Errors of SettingsFromConfig, ConnectIdentityCenter, AwsWarnings, and of reading and
// resolving the organization.
Result<cli::AwsCheck> CheckAws(const config::Config& config);

}  // namespace jit::app
