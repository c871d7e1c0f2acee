#include "api/ui_assets.h"

namespace jit::api {

const EmbeddedFile* FindUiFile(std::string_view name) {
  for (const EmbeddedFile& f : EmbeddedUiFiles()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view UiContentType(std::string_view name) {
  auto ends_with = [name](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".json")) return "application/json";
  if (ends_with(".png")) return "image/png";
  if (ends_with(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace jit::api
