#include "store/store.h"

#include <string>

#include "core/strings.h"

namespace jit::store {
namespace {

Status CheckKind(std::string_view kind) {
  if (kind.empty() || kind.size() > 40) {
    return InvalidArgumentError("record kind must be 1 to 40 characters");
  }
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
      return InvalidArgumentError("record kind may hold only a-z, 0-9, '_' and '.'");
    }
  }
  return OkStatus();
}

// What every engine can keep as text: UTF-8 without NUL.
bool IsTextWithoutNul(std::string_view s) {
  return s.find('\0') == std::string_view::npos && IsUtf8(s);
}

}  // namespace

Status CheckRecord(std::string_view kind, std::string_view key, std::string_view value) {
  JIT_RETURN_IF_ERROR(CheckKind(kind));
  if (key.empty()) return InvalidArgumentError("record key is empty");
  if (key.size() > kMaxRecordKeyBytes) {
    return InvalidArgumentError("record key is longer than " + std::to_string(kMaxRecordKeyBytes) +
                                " bytes");
  }
  if (value.size() > kMaxRecordValueBytes) {
    return InvalidArgumentError("record value is larger than " +
                                std::to_string(kMaxRecordValueBytes) + " bytes");
  }
  if (!IsTextWithoutNul(key)) return InvalidArgumentError("record key is not UTF-8 text");
  if (!IsTextWithoutNul(value)) return InvalidArgumentError("record value is not UTF-8 text");
  return OkStatus();
}

Status CheckRecordPrefix(std::string_view kind, std::string_view key_prefix) {
  JIT_RETURN_IF_ERROR(CheckKind(kind));
  if (key_prefix.size() > kMaxRecordKeyBytes) {
    return InvalidArgumentError("record key prefix is longer than " +
                                std::to_string(kMaxRecordKeyBytes) + " bytes");
  }
  if (!IsTextWithoutNul(key_prefix)) {
    return InvalidArgumentError("record key prefix is not UTF-8 text");
  }
  return OkStatus();
}

}  // namespace jit::store
