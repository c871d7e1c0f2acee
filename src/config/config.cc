#include "config/config.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "auth/auth.h"
#include "config/reader.h"
#include "store/settings.h"

namespace jit::config {
namespace {

// A channel's `rules` and `accounts` (docs/NOTIFY.md "Per-rule routing") name rules and
// accounts of the policy: a misspelt name would quietly send a channel nothing. Accounts from
// the organization are not known before the broker reads it, so with account sources the
// accounts are not checked.
void CheckChannelRouting(const Config& config, Reader& r) {
  for (const notify::ChannelConfig& c : config.notify) {
    for (const std::string& rule : c.rules) {
      bool known = std::any_of(config.policy.rules.begin(), config.policy.rules.end(),
                               [&](const policy::Rule& x) { return x.name == rule; });
      if (!known) {
        r.Error(c.line, c.type + " channel '" + c.name + "': 'rules' names no rule '" + rule + "'");
      }
    }
    for (const std::string& account : c.accounts) {
      bool listed = std::any_of(
          config.policy.accounts.begin(), config.policy.accounts.end(),
          [&](const policy::Account& a) { return a.name == account || a.id == account; });
      if (!listed && config.policy.account_sources.empty()) {
        r.Error(c.line, c.type + " channel '" + c.name + "': 'accounts' names no account '" +
                            account + "' (an account id or a name from 'accounts')");
      }
    }
  }
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir) {
  std::vector<std::string> keys = {"server",   "store",           "aws",
                                   "auth",     "admins",          "auditors",
                                   "accounts", "permission_sets", "rules",
                                   "limits",   "notify",          "audit",
                                   "ui",       "session_cutoff",  "identity_center_groups",
                                   "jira",     "findings",        "activity"};
  Config config;
  JIT_RETURN_IF_ERROR(ReadDocument(yaml_text, file_name, keys, [&](const Fields& top, Reader& r) {
    // Rules refer to accounts and permission sets, which may stand after them in the file.
    const Field* rules = nullptr;
    for (const Field& f : top.all()) {
      if (f.key == "server") {
        config.server = api::ParseServerSettings(f, r);
      } else if (f.key == "store") {
        if (auto s = store::ParseStoreUrl(f, r)) config.store = *s;
      } else if (f.key == "aws") {
        config.aws = aws::ParseAwsSettings(f, r);
      } else if (f.key == "audit") {
        config.audit = audit::ParseAuditSettings(f, r);
      } else if (f.key == "notify") {
        config.notify = notify::ParseChannels(f, r);
      } else if (f.key == "auth") {
        config.auth = auth::ParseAuthSettings(f, r);
      } else if (f.key == "findings") {
        config.findings = findings::ParseSettings(f, r);
      } else if (f.key == "ui") {
        config.ui = api::ParseUiSettings(f, r);
      } else if (f.key == "jira") {
        config.jira = tickets::ParseJiraSettings(f, r);
      } else if (f.key == "activity") {
        config.activity = activity::ParseSettings(f, r);
      } else if (f.key == "rules") {
        rules = &f;
      } else if (f.key == "permission_sets") {
        policy::ParsePolicyField(f, r, zoneinfo_dir, config.policy);
        // Inline policy files are read relative to the config file's folder.
        config.permission_set_definitions =
            permsets::ParseDefinitions(f, permsets::ConfigDir(file_name), r);
      } else {
        policy::ParsePolicyField(f, r, zoneinfo_dir, config.policy);
      }
    }
    if (rules != nullptr) policy::ParsePolicyField(*rules, r, zoneinfo_dir, config.policy);
    // Ticket checks need to know where Jira is.
    if (config.jira.line == 0) {
      for (const policy::Rule& rule : config.policy.rules) {
        if (rule.ticket_check != policy::TicketCheck::kNone) {
          r.Error(rule.line, "rule '" + rule.name +
                                 "' has a 'ticket_check', but the file has no 'jira' section");
        }
      }
    }
    CheckChannelRouting(config, r);
  }));
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  JIT_ASSIGN_OR_RETURN(std::string text, ReadConfigText(path));
  JIT_ASSIGN_OR_RETURN(Config config, ParseConfig(text, path));
  JIT_RETURN_IF_ERROR(notify::CheckChannelFiles(config.notify, path));
  if (config.jira.line != 0 && !std::ifstream(config.jira.token_file, std::ios::binary)) {
    return InvalidArgumentError(path + ":" + std::to_string(config.jira.line) +
                                ": jira: 'token_file': cannot read " + config.jira.token_file);
  }
  // The automation tokens' files, checked as the broker reads them (auth::ReadAutomationKeys).
  std::string unreadable;
  for (const auth::AutomationToken& t : config.auth.automation) {
    Result<std::vector<auth::AutomationKey>> key = auth::ReadAutomationKeys({t});
    if (key.has_value()) continue;
    if (!unreadable.empty()) unreadable += '\n';
    unreadable += path + ":" + std::to_string(t.line) + ": " + key.error().message();
  }
  if (!unreadable.empty()) return InvalidArgumentError(std::move(unreadable));
  return config;
}

std::string_view DevConfigYaml() { return policy::DevPolicyYaml(); }

std::vector<std::string> SettingsNeedingRestart(const Config& before, const Config& after) {
  std::vector<std::string> changed;
  auto check = [&changed](bool differs, const char* key) {
    if (differs) changed.emplace_back(key);
  };
  check(before.server.listen != after.server.listen, "server.listen");
  check(before.server.max_connections != after.server.max_connections, "server.max_connections");
  check(before.server.public_url != after.server.public_url, "server.public_url");
  check(before.store != after.store, "store");
  check(before.aws.region != after.aws.region, "aws.region");
  check(before.aws.instance_arn != after.aws.instance_arn, "aws.instance_arn");
  check(before.aws.identity_store_id != after.aws.identity_store_id, "aws.identity_store_id");
  check(before.aws.calls_per_second != after.aws.calls_per_second, "aws.calls_per_second");
  check(before.aws.max_creates_in_flight != after.aws.max_creates_in_flight,
        "aws.max_creates_in_flight");
  check(before.aws.organizations_refresh != after.aws.organizations_refresh,
        "aws.organizations_refresh");
  check(before.aws.organizations_calls_per_second != after.aws.organizations_calls_per_second,
        "aws.organizations_calls_per_second");
  check(before.audit.checkpoint_key_file != after.audit.checkpoint_key_file,
        "audit.checkpoint_key_file");
  check(before.audit.checkpoint_interval != after.audit.checkpoint_interval,
        "audit.checkpoint_interval");
  check(before.audit.checkpoint_file != after.audit.checkpoint_file, "audit.checkpoint_file");
  check(before.ui.session_key_file != after.ui.session_key_file, "ui.session_key_file");
  check(before.ui.session_lifetime != after.ui.session_lifetime, "ui.session_lifetime");
  check(before.jira.url != after.jira.url || before.jira.token_file != after.jira.token_file ||
            before.jira.user != after.jira.user || before.jira.timeout != after.jira.timeout,
        "jira");
  check(before.auth.oidc.client_id != after.auth.oidc.client_id, "auth.oidc.client_id");
  check(before.auth.oidc.client_secret_file != after.auth.oidc.client_secret_file,
        "auth.oidc.client_secret_file");
  check(before.auth.oidc.scopes != after.auth.oidc.scopes, "auth.oidc.scopes");
  check(before.activity.role_name != after.activity.role_name, "activity.role_name");
  check(before.activity.session_name != after.activity.session_name, "activity.session_name");
  check(before.activity.calls_per_second != after.activity.calls_per_second,
        "activity.calls_per_second");
  check(before.activity.live_cache != after.activity.live_cache, "activity.live_cache");
  check(before.activity.settle != after.activity.settle, "activity.settle");
  check(before.activity.max_events != after.activity.max_events, "activity.max_events");
  return changed;
}

}  // namespace jit::config
