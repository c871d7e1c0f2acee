#include "api/settings.h"

#include <optional>

#include "core/url.h"

namespace jit::api {

Status CheckPublicUrl(std::string_view url) {
  if (!IsHttpsOrLoopbackHttpUrl(url)) {
    return InvalidArgumentError("'public_url' must be an https URL (http only on a loopback host)");
  }
  std::string_view rest = url.substr(url.find("://") + 3);
  std::size_t after_host = rest.find_first_of("/?#");
  if (after_host != std::string_view::npos && rest.substr(after_host) != "/") {
    return InvalidArgumentError(
        "'public_url' must have no path, query or fragment: jit serves its UI and API at the "
        "root (https://jit.example.com)");
  }
  return OkStatus();
}

ServerSettings ParseServerSettings(const config::Field& f, config::Reader& r) {
  ServerSettings server;
  std::optional<config::Fields> fields = r.Map(f, {"listen", "public_url", "max_connections"});
  if (!fields) return server;
  if (const config::Field* listen = fields->Get("listen")) {
    if (auto s = r.String(*listen)) {
      if (s->empty()) {
        r.Error(listen->line, "'listen' must not be empty");
      } else {
        server.listen = *s;
      }
    }
  }
  if (const config::Field* url = fields->Get("public_url")) {
    if (auto s = r.String(*url)) {
      if (Status ok = CheckPublicUrl(*s); !ok.ok()) {
        r.Error(url->line, ok.message());
      } else {
        server.public_url = *s;
      }
    }
  }
  if (const config::Field* max = fields->Get("max_connections")) {
    if (auto n = r.Int(*max, 1, 1'000'000)) server.max_connections = *n;
  }
  return server;
}

UiSettings ParseUiSettings(const config::Field& f, config::Reader& r) {
  UiSettings ui;
  if (f.value.IsNull()) return ui;
  std::optional<config::Fields> fields = r.Map(f, {"session_key_file", "session_lifetime"});
  if (!fields) return ui;
  ui.line = f.line;
  if (fields->Get("session_key_file") != nullptr) {
    if (auto s = r.RequiredString(*fields, "session_key_file", f.line, "'ui'")) {
      ui.session_key_file = *s;
    }
  }
  if (const config::Field* lifetime = fields->Get("session_lifetime")) {
    if (auto d = r.PositiveDuration(*lifetime)) {
      if (*d < Duration(5 * 60 * 1000) || *d > Duration(7LL * 24 * 60 * 60 * 1000)) {
        r.Error(lifetime->line, "'session_lifetime' must be from 5m to 7d");
      } else {
        ui.session_lifetime = *d;
      }
    }
  }
  return ui;
}

}  // namespace jit::api
