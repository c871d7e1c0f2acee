#include "store/settings.h"

namespace jit::store {

std::optional<std::string> ParseStoreUrl(const config::Field& field, config::Reader& reader) {
  return reader.String(field);
}

}  // namespace jit::store
