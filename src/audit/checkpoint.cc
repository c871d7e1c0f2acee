#include "audit/checkpoint.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/chain.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "model/chain.h"

namespace jit::audit {
namespace {

constexpr std::string_view kSigningTag = "jit-checkpoint-v1;";
constexpr std::size_t kEd25519PublicKeyBytes = 32;
constexpr std::size_t kEd25519SignatureBytes = 64;

// Lower-case hex only; nullopt for anything else.
std::optional<std::string> Unhex(std::string_view hex) {
  if (!IsLowerHex(hex)) return std::nullopt;
  return DecodeHex(hex);
}

bool IsHex64(std::string_view s) { return s.size() == 64 && Unhex(s).has_value(); }

}  // namespace

struct CheckpointKey::Pkey {
  EVP_PKEY* key = nullptr;
  ~Pkey() { EVP_PKEY_free(key); }
};

CheckpointKey::CheckpointKey(std::unique_ptr<Pkey> pkey) : pkey_(std::move(pkey)) {
  std::array<unsigned char, kEd25519PublicKeyBytes> raw{};
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey_->key, raw.data(), &len) == 1 && len == raw.size()) {
    public_hex_ = Hex(std::string_view(reinterpret_cast<const char*>(raw.data()), len));
    key_id_ = jit::Sha256Hex(std::string_view(reinterpret_cast<const char*>(raw.data()), len))
                  .substr(0, 16);
  }
}

CheckpointKey::~CheckpointKey() = default;

Result<std::unique_ptr<CheckpointKey>> CheckpointKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return InternalError("cannot read the checkpoint key");
  auto pkey = std::make_unique<Pkey>();
  pkey->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey->key == nullptr || EVP_PKEY_get_id(pkey->key) != EVP_PKEY_ED25519) {
    return InvalidArgumentError(
        "the checkpoint key must be an Ed25519 private key in PEM (openssl genpkey -algorithm "
        "ed25519)");
  }
  auto key = std::unique_ptr<CheckpointKey>(new CheckpointKey(std::move(pkey)));
  if (key->public_hex_.empty()) return InternalError("cannot derive the checkpoint public key");
  return key;
}

Result<std::unique_ptr<CheckpointKey>> CheckpointKey::FromPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read the checkpoint key " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Result<std::unique_ptr<CheckpointKey>> key = FromPem(text.str());
  if (!key.has_value()) return Status(key.error().code(), path + ": " + key.error().message());
  return key;
}

Result<std::unique_ptr<CheckpointKey>> CheckpointKey::Generate(const std::string& path) {
  auto pkey = std::make_unique<Pkey>();
  pkey->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey->key == nullptr) return InternalError("cannot generate an Ed25519 key");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError(path + " exists already");
    return UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  }
  BIO* bio = BIO_new(BIO_s_mem());
  bool ok = bio != nullptr &&
            PEM_write_bio_PrivateKey(bio, pkey->key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  char* data = nullptr;
  long len = ok ? BIO_get_mem_data(bio, &data) : 0;
  ok = ok && len > 0 && ::write(fd, data, static_cast<std::size_t>(len)) == len && ::fsync(fd) == 0;
  BIO_free(bio);
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return UnavailableError("cannot write " + path);
  }
  auto key = std::unique_ptr<CheckpointKey>(new CheckpointKey(std::move(pkey)));
  if (key->public_hex_.empty()) return InternalError("cannot derive the checkpoint public key");
  return key;
}

std::string Checkpoint::SigningInput() const {
  return std::string(kSigningTag) + std::to_string(seq) + ";" + hash + ";" +
         std::to_string(ToUnixMillis(at));
}

Result<Checkpoint> CheckpointKey::Sign(std::int64_t seq, const std::string& hash, Time at) const {
  Checkpoint c;
  c.seq = seq;
  c.hash = hash;
  c.at = FromUnixMillis(ToUnixMillis(at));  // what the line keeps
  c.key_id = key_id_;
  c.public_key = public_hex_;
  std::string input = c.SigningInput();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::array<unsigned char, kEd25519SignatureBytes> sig{};
  std::size_t sig_len = sig.size();
  bool ok =
      md != nullptr && EVP_DigestSignInit(md, nullptr, nullptr, nullptr, pkey_->key) == 1 &&
      EVP_DigestSign(md, sig.data(), &sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1 &&
      sig_len == sig.size();
  EVP_MD_CTX_free(md);
  if (!ok) return InternalError("cannot sign the audit checkpoint");
  c.signature = Hex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return c;
}

Status CheckpointKey::Verify(const Checkpoint& c) const {
  if (c.key_id != key_id_) {
    return InvalidArgumentError("checkpoint at seq " + std::to_string(c.seq) +
                                " was signed by another key (" + c.key_id + ", not " + key_id_ +
                                ")");
  }
  std::optional<std::string> sig = Unhex(c.signature);
  if (!sig || sig->size() != kEd25519SignatureBytes) {
    return InvalidArgumentError("checkpoint at seq " + std::to_string(c.seq) +
                                " has a malformed signature");
  }
  std::string input = c.SigningInput();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok =
      md != nullptr && EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pkey_->key) == 1 &&
      EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    return InvalidArgumentError("checkpoint at seq " + std::to_string(c.seq) +
                                " has a signature that does not verify (it was forged or edited)");
  }
  return OkStatus();
}

std::string Checkpoint::ToJsonLine() const {
  nlohmann::json j = {{"seq", seq},       {"hash", hash},           {"at", FormatRfc3339(at)},
                      {"key_id", key_id}, {"signature", signature}, {"public_key", public_key}};
  return j.dump();
}

Result<Checkpoint> ParseCheckpoint(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgumentError("not a JSON object");
  auto text = [&j](const char* key) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto seq = j.find("seq");
  std::optional<std::string> hash = text("hash");
  std::optional<std::string> at = text("at");
  std::optional<std::string> key_id = text("key_id");
  std::optional<std::string> signature = text("signature");
  if (seq == j.end() || !seq->is_number_integer() || seq->get<std::int64_t>() < 1 || !hash ||
      !IsHex64(*hash) || !at || !key_id || !signature) {
    return InvalidArgumentError("not a checkpoint (seq, hash, at, key_id, signature)");
  }
  Result<Time> when = ParseRfc3339(*at);
  if (!when.has_value()) return InvalidArgumentError("checkpoint time is not RFC 3339");
  Checkpoint c;
  c.seq = seq->get<std::int64_t>();
  c.hash = *hash;
  c.at = *when;
  c.key_id = *key_id;
  c.signature = *signature;
  c.public_key = text("public_key").value_or("");
  return c;
}

Status CheckpointLog::Append(const Checkpoint& c) {
  std::string line = c.ToJsonLine() + "\n";
  MutexLock lock(&mu_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return UnavailableError("cannot open " + path_ + ": " + std::strerror(errno));
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return UnavailableError("cannot append to " + path_ + ": " + std::strerror(err));
  return OkStatus();
}

Result<std::vector<Checkpoint>> CheckpointLog::ReadAll() const {
  std::vector<Checkpoint> out;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (::access(path_.c_str(), F_OK) != 0) return out;  // none written yet
    return UnavailableError("cannot read " + path_);
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    Result<Checkpoint> c = ParseCheckpoint(line);
    if (!c.has_value()) {
      return InvalidArgumentError(path_ + ":" + std::to_string(number) + ": " +
                                  c.error().message());
    }
    out.push_back(std::move(c).value());
  }
  return out;
}

}  // namespace jit::audit
