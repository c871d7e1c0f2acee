#include "app/web_ui.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <utility>

#include "api/session.h"
#include "auth/jwt.h"
#include "core/secret_file.h"

namespace jit::app {
Result<std::unique_ptr<WebUi>> BuildWebUi(const config::Config& config,
                                          std::vector<auth::DevUser> dev_users, Clock& clock) {
  auto w = std::make_unique<WebUi>();
  std::optional<api::CookieSigner> signer;
  if (!config.ui.session_key_file.empty()) {
    Result<std::string> key = api::ReadSessionKeyFile(config.ui.session_key_file);
    if (!key.has_value()) {
      return Status(key.error().code(), "ui.session_key_file: " + key.error().message());
    }
    Result<api::CookieSigner> made = api::CookieSigner::Create(*key);
    if (!made.has_value()) return made.error();
    signer.emplace(*std::move(made));
  } else {
    signer.emplace(api::CookieSigner::WithRandomKey());
    if (dev_users.empty()) {
      spdlog::warn(
          "ui: no ui.session_key_file: web UI sessions end when this process stops and are not "
          "shared with other replicas");
    }
  }
  if (const auth::OidcConfig& oidc = config.auth.oidc; !oidc.Empty()) {
    w->http = aws::NewCurlTransport();
    auth::OidcSettings verify = auth::OidcSettingsFromConfig(oidc);
    verify.audience = oidc.LoginClientId();  // an id_token is for the UI's client
    auto verifier = auth::NewOidcAuthenticator(verify, *w->http, clock);
    if (!verifier.has_value()) {
      return Status(verifier.error().code(), "auth.oidc: " + verifier.error().message());
    }
    auth::OidcLoginSettings login;
    login.issuer = oidc.issuer;
    login.client_id = oidc.LoginClientId();
    login.scopes = oidc.scopes;
    if (!oidc.client_secret_file.empty()) {
      JIT_ASSIGN_OR_RETURN(login.client_secret,
                           ReadSecretFile(oidc.client_secret_file, "auth.oidc.client_secret_file"));
    }
    JIT_RETURN_IF_ERROR(login.Validate());
    w->oidc = std::make_unique<auth::OidcLogin>(std::move(login), std::move(verifier).value(),
                                                *w->http, clock);
  }
  api::UiOptions options;
  options.dev_users = std::move(dev_users);
  options.session_lifetime = config.ui.session_lifetime;
  options.public_url = config.server.public_url;
  w->ui = std::make_unique<api::Ui>(std::move(options), *std::move(signer), w->oidc.get(), clock);
  return w;
}

}  // namespace jit::app
