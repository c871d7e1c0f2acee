#pragma once
// The `audit:` section of the config file.

#include <string>

#include "config/reader.h"
#include "core/clock.h"

namespace jit::audit {

// The `audit:` section: signed checkpoints of the audit trail (audit/checkpoint.h).
struct AuditSettings {
  std::string checkpoint_key_file;  // an Ed25519 private key (PEM); empty: no checkpoints
  Duration checkpoint_interval{Duration(60 * 1000)};  // 1s to 1h
  // Where checkpoints are appended; empty: audit-checkpoints.jsonl in the data folder. Put it
  // outside the database's disk, or where a log shipper copies it away.
  std::string checkpoint_file;
  int line = 0;  // of the `audit:` key (0: no section)
};

// Reads `audit: {checkpoint_key_file, checkpoint_interval, checkpoint_file}`, reporting
// problems to `reader`. A null `audit:` is the same as none.
AuditSettings ParseAuditSettings(const config::Field& field, config::Reader& reader);

}  // namespace jit::audit
