#include "core/testing.h"

#include <cstdlib>
#include <string>

namespace jit::testing {

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "jit-test-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  JIT_CHECK(made != nullptr);
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace jit::testing
