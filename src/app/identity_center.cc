#include "app/identity_center.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "cutoff/check.h"
#include "org/scope.h"
#include "permsets/check.h"
#include "provider/permission_set_admin.h"
#include "workflow/session_gap.h"

namespace jit::app {

Result<IdentityCenterSettings> SettingsFromConfig(const config::Config& config,
                                                  const aws::Environment& env) {
  if (config.aws.instance_arn.empty() || config.aws.identity_store_id.empty()) {
    return InvalidArgumentError(
        "the config has no aws section (region, instance_arn, identity_store_id): jit cannot "
        "reach Identity Center without it");
  }
  IdentityCenterSettings s;
  s.region = config.aws.region;
  if (s.region.empty()) {
    Result<std::string> region = aws::ResolveRegion(env);
    if (!region.has_value()) {
      return InvalidArgumentError("no AWS region: set aws.region in the config, or AWS_REGION");
    }
    s.region = *region;
  }
  s.sso_admin_endpoint = aws::ResolveEndpoint(env, "SSO_ADMIN", "sso", s.region);
  s.identity_store_endpoint = aws::ResolveEndpoint(env, "IDENTITYSTORE", "identitystore", s.region);
  s.instance_arn = config.aws.instance_arn;
  s.identity_store_id = config.aws.identity_store_id;
  s.organizations_endpoint =
      aws::ResolveEndpoint(env, "ORGANIZATIONS", "organizations", s.organizations_region);
  s.organizations_calls_per_second = config.aws.organizations_calls_per_second;
  s.calls_per_second = config.aws.calls_per_second;
  s.max_creates_in_flight = config.aws.max_creates_in_flight;
  return s;
}

Result<std::unique_ptr<IdentityCenter>> ConnectIdentityCenter(
    const IdentityCenterSettings& settings, std::unique_ptr<aws::CredentialSource> credentials,
    const aws::Environment& env, Clock& clock, aws::CallObserver observer) {
  auto ic = std::make_unique<IdentityCenter>();
  ic->health = std::make_unique<aws::CallHealth>(clock);
  ic->http = aws::NewCurlTransport();
  ic->credentials =
      credentials ? std::move(credentials) : aws::NewDefaultCredentialChain(env, *ic->http, clock);
  ic->limiter = aws::NewLimiter(clock, settings.calls_per_second, settings.max_creates_in_flight);
  ic->sso_admin = std::make_unique<aws::JsonClient>(
      provider::SsoAdminSpec(settings.sso_admin_endpoint, settings.region), *ic->http,
      *ic->credentials, *ic->limiter, clock);
  ic->identity_store = std::make_unique<aws::JsonClient>(
      provider::IdentityStoreSpec(settings.identity_store_endpoint, settings.region), *ic->http,
      *ic->credentials, *ic->limiter, clock);
  aws::CallHealth* health = ic->health.get();
  auto tell = [health, observer](const std::string& operation, std::string_view outcome) {
    health->Record(operation, outcome);
    if (observer) observer(operation, outcome);
  };
  ic->sso_admin->SetObserver(tell);
  ic->identity_store->SetObserver(tell);
  ic->organizations_limiter = aws::NewLimiter(clock, settings.organizations_calls_per_second, 1);
  ic->organizations_client = std::make_unique<aws::JsonClient>(
      provider::OrganizationsSpec(settings.organizations_endpoint, settings.organizations_region),
      *ic->http, *ic->credentials, *ic->organizations_limiter, clock);
  ic->organizations_client->SetObserver(tell);
  ic->organizations = std::make_unique<provider::OrganizationsClient>(*ic->organizations_client);
  provider::IdentityCenterOptions options;
  options.instance_arn = settings.instance_arn;
  options.identity_store_id = settings.identity_store_id;
  // The provider holds no more create slots than the limiter lets be in flight.
  options.max_creates_in_flight = settings.max_creates_in_flight;
  if (Status s = options.Validate(); !s.ok()) return s;
  ic->provider = std::make_unique<provider::IdentityCenterProvider>(
      options, *ic->sso_admin, *ic->identity_store, *ic->limiter, clock);
  provider::IdentityStoreGroupsOptions group_options;
  group_options.identity_store_id = settings.identity_store_id;
  if (Status s = group_options.Validate(); !s.ok()) return s;
  ic->groups =
      std::make_unique<provider::IdentityStoreGroupMemberships>(group_options, *ic->identity_store);
  ic->targets = std::make_unique<provider::GroupTargetProvider>(*ic->provider, *ic->groups);
  return ic;
}

Result<std::vector<std::string>> AwsWarnings(IdentityCenter& ic, const policy::Config& config) {
  JIT_ASSIGN_OR_RETURN(std::vector<provider::PermissionSetInfo> sets,
                       ic.provider->ListPermissionSets());
  std::vector<std::string> out;
  for (const policy::PermissionSet& ps : config.permission_sets) {
    bool listed = std::any_of(sets.begin(), sets.end(), [&](const provider::PermissionSetInfo& i) {
      return i.arn == ps.arn;
    });
    if (!listed) {
      out.push_back("permission set " + ps.name + ": " + ps.arn +
                    " is not a permission set of the Identity Center instance");
    }
  }
  for (const policy::PermissionSet& g : config.groups) {
    // Listing the members is what every group grant does first (the standing check).
    Result<std::vector<provider::GroupMember>> members = ic.groups->ListMembers(g.arn);
    if (members.has_value()) continue;
    out.push_back("Identity Center group " + g.name + ": " + g.arn +
                  (members.error().code() == StatusCode::kNotFound
                       ? std::string(" is not a group of the identity store")
                       : " cannot be listed: " + members.error().message()));
  }
  for (std::string& w : workflow::SessionGapWarnings(sets, config)) out.push_back(std::move(w));
  for (std::string& w : cutoff::PermissionWarnings(*ic.provider, config)) {
    out.push_back(std::move(w));
  }
  return out;
}

Result<cli::AwsCheck> CheckAws(const config::Config& config) {
  RealClock clock;
  aws::Environment env = aws::Environment::FromProcess();
  JIT_ASSIGN_OR_RETURN(IdentityCenterSettings settings, SettingsFromConfig(config, env));
  JIT_ASSIGN_OR_RETURN(auto ic, ConnectIdentityCenter(settings, nullptr, env, clock));
  cli::AwsCheck check;
  policy::Config policy = config.policy;
  if (policy.UsesOrganization()) {
    Result<provider::OrganizationSnapshot> snapshot = ic->organizations->ReadSnapshot();
    if (!snapshot.has_value()) {
      return Status(snapshot.error().code(), "AWS Organizations: " + snapshot.error().message());
    }
    JIT_ASSIGN_OR_RETURN(org::Resolution scope, org::ResolveScope(policy, *snapshot));
    for (const std::string& line : scope.sources) {
      check.notes.push_back("accounts from AWS Organizations, " + line);
    }
    for (const policy::Account& a : scope.config.accounts) {
      if (!a.from_organization) continue;
      std::string tags;
      for (const std::string& t : a.tags) tags += (tags.empty() ? "" : ",") + t;
      check.notes.push_back("account " + a.id + " " + a.name + " (" +
                            (a.ous.empty() ? std::string("?") : a.ous.front()) +
                            (tags.empty() ? "" : "; " + tags) + ")");
    }
    for (const policy::Rule& rule : scope.config.rules) {
      if (rule.group_elevation) continue;  // it selects groups, not accounts
      bool any = std::any_of(scope.config.accounts.begin(), scope.config.accounts.end(),
                             [&](const policy::Account& a) { return rule.accounts.Matches(a); });
      if (!any) check.warnings.push_back("rule " + rule.name + " selects no account of the scope");
    }
    for (std::string& w : scope.warnings) check.warnings.push_back(std::move(w));
    policy = std::move(scope.config);
  }
  JIT_ASSIGN_OR_RETURN(std::vector<std::string> warnings, AwsWarnings(*ic, policy));
  for (std::string& w : warnings) check.warnings.push_back(std::move(w));
  provider::IdentityCenterPermissionSetAdmin admin(settings.instance_arn, *ic->sso_admin,
                                                   *ic->provider);
  for (std::string& w : permsets::PermissionWarnings(admin, settings.instance_arn,
                                                     config.permission_set_definitions)) {
    check.warnings.push_back(std::move(w));
  }
  return check;
}

}  // namespace jit::app
