#include "audit/settings.h"

#include <chrono>
#include <optional>
#include <utility>

namespace jit::audit {

AuditSettings ParseAuditSettings(const config::Field& f, config::Reader& r) {
  AuditSettings a;
  if (f.value.IsNull()) return a;
  std::optional<config::Fields> fields =
      r.Map(f, {"checkpoint_key_file", "checkpoint_interval", "checkpoint_file"});
  if (!fields) return a;
  a.line = f.line;
  for (auto [key, out] :
       {std::pair<const char*, std::string*>{"checkpoint_key_file", &a.checkpoint_key_file},
        std::pair<const char*, std::string*>{"checkpoint_file", &a.checkpoint_file}}) {
    const config::Field* x = fields->Get(key);
    if (x == nullptr) continue;
    if (auto s = r.String(*x)) {
      if (s->empty()) {
        r.Error(x->line, "'" + std::string(key) + "' must not be empty");
      } else {
        *out = *s;
      }
    }
  }
  if (const config::Field* x = fields->Get("checkpoint_interval")) {
    if (auto d = r.DurationIn(*x, std::chrono::seconds(1), std::chrono::hours(1),
                              "'checkpoint_interval' must be a duration from 1s to 1h")) {
      a.checkpoint_interval = *d;
    }
  }
  if (a.checkpoint_key_file.empty() && (fields->Get("checkpoint_file") != nullptr ||
                                        fields->Get("checkpoint_interval") != nullptr)) {
    r.Error(a.line, "'audit' names no 'checkpoint_key_file': checkpoints need a signing key");
  }
  return a;
}

}  // namespace jit::audit
