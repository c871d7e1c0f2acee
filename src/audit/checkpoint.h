#pragma once
// Signed checkpoints of the audit trail. A checkpoint says "the trail had seq N with hash H at
// time T", signed with the broker's Ed25519 key. The hash chain alone shows edits, removals and
// reorderings inside the trail; a checkpoint kept outside the database also shows a trail whose
// tail was cut off, or a database swapped for an older copy, because the trail no longer
// reaches (or no longer matches) what was signed.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"

namespace jit::audit {

struct Checkpoint {
  std::int64_t seq = 0;    // the last event covered
  std::string hash;        // that event's hash: the head of the chain then
  Time at;                 // when it was signed
  std::string key_id;      // KeyId() of the signing key
  std::string signature;   // lower-case hex Ed25519 signature over SigningInput()
  std::string public_key;  // lower-case hex of the raw 32-byte public key, for third parties

  // "jit-checkpoint-v1;<seq>;<hash>;<unix milliseconds>": the bytes signed.
  std::string SigningInput() const;
  // One line of JSON (no newline): {"seq","hash","at","key_id","signature","public_key"}.
  std::string ToJsonLine() const;
};

// Parses a line made by ToJsonLine. InvalidArgument for anything else.
Result<Checkpoint> ParseCheckpoint(std::string_view line);

// An Ed25519 key pair that signs checkpoints, and checks them. Thread-safe (const methods).
class CheckpointKey {
 public:
  ~CheckpointKey();
  CheckpointKey(const CheckpointKey&) = delete;
  CheckpointKey& operator=(const CheckpointKey&) = delete;

  // Reads a PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`). NotFound when the
  // file cannot be read; InvalidArgument when it holds no Ed25519 private key.
  static Result<std::unique_ptr<CheckpointKey>> FromPemFile(const std::string& path);
  static Result<std::unique_ptr<CheckpointKey>> FromPem(std::string_view pem);
  // A new random key, written to `path` as PEM with mode 0600 (refuses to overwrite: an
  // AlreadyExists error). Used by dev mode.
  static Result<std::unique_ptr<CheckpointKey>> Generate(const std::string& path);

  // The first 16 hex digits of SHA-256 of the raw public key.
  const std::string& KeyId() const { return key_id_; }
  const std::string& PublicKeyHex() const { return public_hex_; }

  // Signs "seq N has hash H at T". Internal on an OpenSSL failure.
  Result<Checkpoint> Sign(std::int64_t seq, const std::string& hash, Time at) const;
  // OK when `c` was signed by this key over its own fields; InvalidArgument (with why)
  // otherwise. The checkpoint's own public_key is never trusted.
  Status Verify(const Checkpoint& c) const;

 private:
  struct Pkey;
  explicit CheckpointKey(std::unique_ptr<Pkey> pkey);
  std::unique_ptr<Pkey> pkey_;
  std::string key_id_;
  std::string public_hex_;
};

// An append-only file of checkpoints, one JSON line each. Point it outside the database's
// disk (or at a file a log shipper copies away) so that one who can rewrite the database
// cannot quietly rewrite the checkpoints too. Thread-safe.
class CheckpointLog {
 public:
  explicit CheckpointLog(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Appends one line and fsyncs it. Unavailable when the file cannot be written.
  Status Append(const Checkpoint& c);
  // Every checkpoint in the file, in file order; a missing file reads as none. A line that
  // does not parse is InvalidArgument naming its line number (a damaged log is reported, not
  // skipped).
  Result<std::vector<Checkpoint>> ReadAll() const;

 private:
  const std::string path_;
  Mutex mu_;  // one append at a time
};

}  // namespace jit::audit
