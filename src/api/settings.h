#pragma once
// The `server:` and `ui:` sections of the config file. A library of its own (jit_api_settings)
// so that config/ can hold them without depending on the HTTP server.

#include <string>
#include <string_view>

#include "config/reader.h"
#include "core/clock.h"
#include "core/status.h"

namespace jit::api {

struct ServerSettings {
  std::string listen = "127.0.0.1:8080";
  // Where browsers reach the broker ("https://jit.example.com"): an https URL (http only on a
  // loopback host) without a path. The web UI's sign-in redirect is <public_url>/ui/auth/callback.
  std::string public_url;
  // The most client connections open at once (1 to 1,000,000); 0: derived from the open-file
  // limit (net::ChooseMaxConnections). A value the limit cannot hold is lowered at start.
  int max_connections = 0;
};

// The `ui:` section: the web UI's sessions (docs/UI.md).
struct UiSettings {
  // A file holding the key (at least 32 bytes) that signs session cookies; every replica must
  // read the same key. Empty: a random key per process (sessions end with a restart).
  std::string session_key_file;
  Duration session_lifetime{Duration(8 * 60 * 60 * 1000)};  // 5m to 7d
  int line = 0;                                             // of the `ui:` key (0: no section)
};

// OK when `url` may be `server.public_url`: https (http only on a loopback host), no user
// info, no path but "/", no query or fragment. InvalidArgument saying why otherwise.
Status CheckPublicUrl(std::string_view url);

// Reads `server: {listen, public_url, max_connections}`, reporting problems to `reader`; keys left
// out keep their defaults.
ServerSettings ParseServerSettings(const config::Field& field, config::Reader& reader);
// Reads `ui: {session_key_file, session_lifetime}`. A null `ui:` is the same as none.
UiSettings ParseUiSettings(const config::Field& field, config::Reader& reader);

}  // namespace jit::api
