// `jit permission-sets plan|apply` (commands.h): the config's permission set definitions
// against Identity Center, through the same clients `jit config check --aws` builds.

#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "app/commands.h"
#include "app/identity_center.h"
#include "aws/credentials.h"
#include "core/strings.h"
#include "permsets/plan.h"

namespace jit::app {
namespace {

// Each line of a (possibly multi-line) message as "jit: LINE", escaped.
void PrintError(std::ostream& err, const std::string& message) {
  std::size_t start = 0;
  while (start <= message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    if (end > start)
      err << "jit: " << EscapeForTerminal(message.substr(start, end - start)) << '\n';
    start = end + 1;
  }
}

}  // namespace

int RunPermissionSets(const cli::PermissionSetsOptions& opts, const config::Config& config,
                      provider::PermissionSetAdmin& admin, std::ostream& out, std::ostream& err,
                      const std::function<void(Duration)>& sleep) {
  const std::vector<permsets::Definition>& defs = config.permission_set_definitions;
  if (!opts.apply) {
    Result<permsets::Plan> plan = permsets::MakePlan(defs, admin);
    if (!plan.has_value()) {
      PrintError(err, plan.error().message());
      return 1;
    }
    if (opts.json) {
      out << permsets::PlanJson(*plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
          << '\n';
    } else {
      out << permsets::FormatPlan(*plan);
    }
    return 0;
  }

  permsets::ApplyOptions options;
  options.sleep = sleep;
  nlohmann::json made = nlohmann::json::array();
  std::set<std::string> sets;
  options.on_change = [&](const permsets::Change& c) {
    sets.insert(c.permission_set);
    if (opts.json) {
      made.push_back({{"permission_set", c.permission_set},
                      {"arn", c.arn},
                      {"action", std::string(permsets::ChangeKindName(c.kind))},
                      {"detail", c.detail}});
      return;
    }
    out << EscapeForTerminal(c.permission_set) << ": " << EscapeForTerminal(permsets::ChangeLine(c))
        << '\n';
    if (c.kind == permsets::ChangeKind::kCreate) {
      out << EscapeForTerminal(c.permission_set) << ": created as " << EscapeForTerminal(c.arn)
          << " (put this ARN in the config's `arn`)\n";
    }
    out.flush();
  };
  Result<permsets::ApplyResult> applied = permsets::Apply(defs, admin, options);
  if (!applied.has_value()) {
    if (opts.json) {
      out << nlohmann::json({{"applied", made}, {"error", applied.error().message()}})
                 .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
          << '\n';
    }
    PrintError(err, applied.error().message());
    return 1;
  }
  if (opts.json) {
    out << nlohmann::json({{"applied", made}, {"created", applied->created}})
               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << '\n';
  } else if (applied->changes == 0) {
    out << "no changes (" << defs.size() << " permission set definition"
        << (defs.size() == 1 ? "" : "s") << " match Identity Center)\n";
  } else {
    out << "applied " << applied->changes << " change" << (applied->changes == 1 ? "" : "s")
        << " to " << sets.size() << " permission set" << (sets.size() == 1 ? "" : "s") << '\n';
  }
  return 0;
}

int PermissionSets(const cli::PermissionSetsOptions& opts) {
  Result<config::Config> config = config::LoadConfigFile(opts.config_file);
  if (!config.has_value()) {
    if (config.error().code() != StatusCode::kInvalidArgument) {
      PrintError(std::cerr, config.error().message());
    } else {
      std::string message = config.error().message();  // "FILE:LINE: ..." lines, escaped
      if (!message.empty() && message.back() != '\n') message += '\n';
      std::cerr << message;
    }
    return 1;
  }
  RealClock clock;
  aws::Environment env = aws::Environment::FromProcess();
  Result<IdentityCenterSettings> settings = SettingsFromConfig(*config, env);
  if (!settings.has_value()) {
    PrintError(std::cerr, settings.error().message());
    return 1;
  }
  Result<std::unique_ptr<IdentityCenter>> ic =
      ConnectIdentityCenter(*settings, nullptr, env, clock);
  if (!ic.has_value()) {
    PrintError(std::cerr, ic.error().message());
    return 1;
  }
  provider::IdentityCenterPermissionSetAdmin admin(settings->instance_arn, *(*ic)->sso_admin,
                                                   *(*ic)->provider);
  return RunPermissionSets(opts, *config, admin, std::cout, std::cerr,
                           [](Duration d) { std::this_thread::sleep_for(d); });
}

}  // namespace jit::app
