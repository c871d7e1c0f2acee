#pragma once
// The web UI as the config sets it up: session keys (ui.session_key_file) and the OIDC sign-in
// (auth.oidc).

#include <memory>
#include <vector>

#include "api/ui.h"
#include "auth/auth.h"
#include "auth/oidc_login.h"
#include "aws/http.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::app {

// The web UI with what it stands on; members are destroyed in reverse order, the UI first.
struct WebUi {
  std::unique_ptr<aws::HttpTransport> http;  // for the OIDC sign-in
  std::unique_ptr<auth::OidcLogin> oidc;     // null without auth.oidc
  std::unique_ptr<api::Ui> ui;
};

// Sessions signed with ui.session_key_file (every replica must have the same) or, without
// one, a key of this process (and a warning unless `dev_users` is set); the OIDC sign-in when
// auth.oidc is set; the dev users in dev mode. Sends nothing. `clock` must outlive the result.
// Errors: the key file's or OIDC settings' (the message names the config key), the client
// secret file's (NotFound when unreadable, InvalidArgument when empty).
Result<std::unique_ptr<WebUi>> BuildWebUi(const config::Config& config,
                                          std::vector<auth::DevUser> dev_users, Clock& clock);

}  // namespace jit::app
