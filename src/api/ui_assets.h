#pragma once
// The web UI's files (src/api/ui/), compiled into the binary by src/api/embed_ui.cmake.

#include <string_view>
#include <vector>

namespace jit::api {

struct EmbeddedFile {
  std::string_view name;  // path under src/api/ui/, e.g. "app.js"
  std::string_view body;  // the file's bytes
  std::string_view etag;  // a strong ETag, quoted: "\"<32 hex digits of its SHA-256>\""
};

// Every file, in the order CMake lists them. Generated.
const std::vector<EmbeddedFile>& EmbeddedUiFiles();

// The file called `name`, or nullptr.
const EmbeddedFile* FindUiFile(std::string_view name);

// The Content-Type for a file name by its extension ("text/html; charset=utf-8",
// "text/javascript; charset=utf-8", ...); "application/octet-stream" for unknown ones.
std::string_view UiContentType(std::string_view name);

}  // namespace jit::api
