#include "audit/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "core/testing.h"

namespace jit::audit {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kHash(64, 'a');

class CheckpointTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::unique_ptr<CheckpointKey> NewKey(const std::string& name = "key.pem") {
    Result<std::unique_ptr<CheckpointKey>> k = CheckpointKey::Generate(Path(name));
    EXPECT_OK(k);
    return k.ok() ? std::move(k).value() : nullptr;
  }
  jit::testing::TempDir dir_;
};

TEST_F(CheckpointTest, SignedCheckpointVerifiesAndSurvivesItsJsonLine) {
  auto key = NewKey();
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->KeyId().size(), 16u);
  EXPECT_EQ(key->PublicKeyHex().size(), 64u);
  Result<Checkpoint> c = key->Sign(42, kHash, FromUnixMillis(1767225600123));
  ASSERT_OK(c);
  EXPECT_EQ(c->SigningInput(), "jit-checkpoint-v1;42;" + kHash + ";1767225600123");
  EXPECT_OK(key->Verify(*c));
  Result<Checkpoint> back = ParseCheckpoint(c->ToJsonLine());
  ASSERT_OK(back);
  EXPECT_EQ(back->seq, 42);
  EXPECT_EQ(back->hash, kHash);
  EXPECT_EQ(back->at, c->at);
  EXPECT_OK(key->Verify(*back));
}

TEST_F(CheckpointTest, AnyEditBreaksTheSignature) {
  auto key = NewKey();
  Checkpoint good = *key->Sign(42, kHash, FromUnixMillis(1767225600000));
  Checkpoint c = good;
  c.seq = 43;
  EXPECT_THAT(key->Verify(c), StatusIs(StatusCode::kInvalidArgument, HasSubstr("forged")));
  c = good;
  c.hash = std::string(64, 'b');
  EXPECT_THAT(key->Verify(c), StatusIs(StatusCode::kInvalidArgument));
  c = good;
  c.at += std::chrono::milliseconds(1);
  EXPECT_THAT(key->Verify(c), StatusIs(StatusCode::kInvalidArgument));
  c = good;
  c.signature[0] = c.signature[0] == '0' ? '1' : '0';
  EXPECT_THAT(key->Verify(c), StatusIs(StatusCode::kInvalidArgument));
  c = good;
  c.signature = "zz";
  EXPECT_THAT(key->Verify(c), StatusIs(StatusCode::kInvalidArgument, HasSubstr("malformed")));
}

TEST_F(CheckpointTest, AnotherKeysCheckpointIsRefusedEvenWithItsPublicKeyInside) {
  auto key = NewKey("a.pem");
  auto other = NewKey("b.pem");
  Checkpoint forged = *other->Sign(7, kHash, FromUnixMillis(1767225600000));
  forged.key_id = key->KeyId();  // claims to be ours
  EXPECT_THAT(key->Verify(forged), StatusIs(StatusCode::kInvalidArgument));
  Checkpoint theirs = *other->Sign(7, kHash, FromUnixMillis(1767225600000));
  EXPECT_THAT(key->Verify(theirs), StatusIs(StatusCode::kInvalidArgument, HasSubstr("another")));
}

TEST_F(CheckpointTest, KeyFileIsPrivateAndIsNeverOverwritten) {
  auto key = NewKey();
  struct stat st {};
  ASSERT_EQ(::stat(Path("key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(CheckpointKey::Generate(Path("key.pem")), StatusIs(StatusCode::kAlreadyExists));
  Result<std::unique_ptr<CheckpointKey>> again = CheckpointKey::FromPemFile(Path("key.pem"));
  ASSERT_OK(again);
  EXPECT_EQ((*again)->KeyId(), key->KeyId());
  EXPECT_OK((*again)->Verify(*key->Sign(1, kHash, FromUnixMillis(0))));
}

TEST_F(CheckpointTest, OnlyEd25519PrivateKeysAreAccepted) {
  EXPECT_THAT(CheckpointKey::FromPemFile(Path("missing.pem")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(CheckpointKey::FromPem("not a key"), StatusIs(StatusCode::kInvalidArgument));
  // A P-256 key is a key, but not the kind checkpoints use.
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  EXPECT_THAT(CheckpointKey::FromPem(pem),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Ed25519")));
}

TEST_F(CheckpointTest, LogAppendsAndReadsBackAndNamesADamagedLine) {
  auto key = NewKey();
  CheckpointLog log(Path("checkpoints.jsonl"));
  Result<std::vector<Checkpoint>> none = log.ReadAll();
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  ASSERT_OK(log.Append(*key->Sign(1, kHash, FromUnixMillis(1000))));
  ASSERT_OK(log.Append(*key->Sign(5, std::string(64, 'c'), FromUnixMillis(2000))));
  Result<std::vector<Checkpoint>> all = log.ReadAll();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].seq, 5);
  {
    std::ofstream out(Path("checkpoints.jsonl"), std::ios::app);
    out << "{\"seq\": \"five\"}\n";
  }
  EXPECT_THAT(log.ReadAll(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("checkpoints.jsonl:3: ")));
  CheckpointLog nowhere("/nonexistent/dir/checkpoints.jsonl");
  EXPECT_THAT(nowhere.Append(*key->Sign(1, kHash, FromUnixMillis(1000))),
              StatusIs(StatusCode::kUnavailable));
}

TEST(ParseCheckpoint, RefusesWhatIsNotACheckpoint) {
  for (
      const char* bad :
      {"", "[]", "{}", "{\"seq\": 0, \"hash\": \"\", \"at\": \"\"}",
       R"({"seq": 1, "hash": "xyz", "at": "2026-01-01T00:00:00Z", "key_id": "k", "signature": "s"})",
       R"({"seq": 1, "hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "at": "yesterday", "key_id": "k", "signature": "s"})"}) {
    EXPECT_THAT(ParseCheckpoint(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace jit::audit
