#pragma once
// The broker's config file (YAML, docs/POLICY.md), put together from the sections that
// the modules parse themselves: server and ui (api/settings.h), store (store/settings.h), aws
// (aws/settings.h), auth (auth/settings.h), audit (audit/settings.h), notify
// (notify/channel_config.h), jira (tickets/jira.h), findings (findings/settings.h), activity
// (activity/settings.h) and the access policy (policy/config.h). config/reader.h reads the YAML
// for them.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activity/settings.h"
#include "api/settings.h"
#include "audit/settings.h"
#include "auth/settings.h"
#include "aws/settings.h"
#include "core/result.h"
#include "core/snapshot.h"
#include "findings/settings.h"
#include "notify/channel_config.h"
#include "permsets/definition.h"
#include "policy/config.h"
#include "policy/timezone.h"
#include "tickets/jira.h"

namespace jit::config {

struct Config {
  api::ServerSettings server;
  std::string store;                          // "sqlite:///path/jit.db"; empty: <data>/jit.db
  aws::AwsSettings aws;                       // empty when the file has no `aws:` section
  auth::AuthSettings auth;                    // static tokens and OIDC
  audit::AuditSettings audit;                 // checkpoints; no key file when absent
  api::UiSettings ui;                         // the web UI's sessions
  std::vector<notify::ChannelConfig> notify;  // the `notify:` list, in file order
  findings::Settings findings;  // which threat findings end access; Empty(): findings are off
  policy::Config policy;        // accounts, permission sets, rules, admins, auditors
  tickets::JiraSettings jira;   // where rules' ticket checks look; line 0: none
  // The `definition:` of each permission set that has one, in file order, with its inline
  // policy file read and checked (permsets/definition.h; `jit permission-sets plan|apply`).
  std::vector<permsets::Definition> permission_set_definitions;
  // Session activity (docs/AWS.md "Session activity"): off without a role name.
  activity::Settings activity;
};

// Parses and validates a config. `file_name` is used in messages. On error the status is
// InvalidArgument and its message has one line per problem, each "FILE:LINE: what is wrong",
// in file order. Time zones named by `hours:` are read from `zoneinfo_dir` (an unknown zone is
// an error with its line).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir = policy::kSystemZoneInfoDir);
// Reads a file and parses it, then checks that the notify channels' files and the jira token
// file can be read (notify::CheckChannelFiles) and that the automation tokens' files hold
// usable tokens (auth::ReadAutomationKeys; "FILE:LINE: automation token 'NAME': ...").
// NotFound when the file cannot be read.
Result<Config> LoadConfigFile(const std::string& path);

// The keys whose value differs between `before` and `after` among those `jit serve` reads once
// at start (server.listen, server.max_connections, server.public_url, store, aws.*, audit.*,
// ui.*, jira, the web UI's sign-in client: auth.oidc.client_id, client_secret_file, scopes, and
// activity.*), in that order, by their names in the file. A SIGHUP reload applies everything else
// and logs these as needing a restart.
std::vector<std::string> SettingsNeedingRestart(const Config& before, const Config& after);

// The built-in config of `jit serve --dev` (docs/ARCHITECTURE.md "Dev mode"): the dev policy
// (policy::DevPolicyYaml) and defaults for everything else.
std::string_view DevConfigYaml();

// Holds the whole config in force (app/ owns it; the workflow and the API read the policy
// through a policy::ConfigHolder of their own); readers take a snapshot that stays valid while
// they hold it. Thread-safe.
using ConfigHolder = Snapshot<Config>;

}  // namespace jit::config
