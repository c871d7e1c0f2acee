#include "core/secret_file.h"

#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace jit {

Result<std::string> ReadSecretFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError(std::string(what) + ": cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string_view secret = Trim(buf.view(), " \t\r\n");
  if (secret.empty()) return InvalidArgumentError(std::string(what) + ": " + path + " is empty");
  return std::string(secret);
}

}  // namespace jit
