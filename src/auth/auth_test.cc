#include "auth/auth.h"

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/crypto.h"
#include "core/testing.h"

namespace jit::auth {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DevUsers, AreAliceBobAndCarolOfDevMode) {
  std::vector<DevUser> users = DevUsers();
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].username, "alice");
  EXPECT_THAT(users[0].groups, ElementsAre("engineers"));
  EXPECT_EQ(users[0].token, "dev-alice");
  EXPECT_EQ(users[0].principal_id, "a11ce000-0000-4000-8000-000000000001");
  EXPECT_EQ(users[1].username, "bob");
  EXPECT_THAT(users[1].groups, ElementsAre("approvers"));
  EXPECT_EQ(users[1].token, "dev-bob");
  EXPECT_EQ(users[1].principal_id, "b0b00000-0000-4000-8000-000000000002");
  EXPECT_EQ(users[2].username, "carol");
  EXPECT_THAT(users[2].groups, ElementsAre("approvers", "sre", "admins"));
  EXPECT_EQ(users[2].token, "dev-carol");
  EXPECT_EQ(users[2].principal_id, "ca401000-0000-4000-8000-000000000003");
}

TEST(StaticAuthenticator, MapsDevTokensToTheirUsers) {
  auto auth = NewStaticAuthenticator(DevUsers(), {});
  auto carol = auth->Authenticate("dev-carol");
  ASSERT_OK(carol);
  EXPECT_EQ(carol->username, "carol");
  EXPECT_THAT(carol->groups, ElementsAre("approvers", "sre", "admins"));
  EXPECT_EQ(carol->principal_id, "ca401000-0000-4000-8000-000000000003");
  auto alice = auth->Authenticate("dev-alice");
  ASSERT_OK(alice);
  EXPECT_EQ(alice->username, "alice");
}

TEST(StaticAuthenticator, MapsConfigTokensByTheirHash) {
  auto auth = NewStaticAuthenticator(
      {}, {StaticToken{"ci-bot", Sha256Hex("s3cret-token"), {"automation"}}});
  auto who = auth->Authenticate("s3cret-token");
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "ci-bot");
  EXPECT_THAT(who->groups, ElementsAre("automation"));
  EXPECT_EQ(who->principal_id, "");
}

TEST(StaticAuthenticator, AcceptsUppercaseHexHashes) {
  std::string hex = Sha256Hex("tok");
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto auth = NewStaticAuthenticator({}, {StaticToken{"bot", hex, {}}});
  EXPECT_OK(auth->Authenticate("tok"));
}

TEST(StaticAuthenticator, RefusesMissingToken) {
  auto auth = NewStaticAuthenticator(DevUsers(), {});
  EXPECT_THAT(auth->Authenticate(""),
              StatusIs(StatusCode::kUnauthenticated, "missing or unknown bearer token"));
}

TEST(StaticAuthenticator, RefusesUnknownToken) {
  auto auth = NewStaticAuthenticator(
      DevUsers(), {StaticToken{"ci-bot", Sha256Hex("s3cret-token"), {"automation"}}});
  EXPECT_THAT(auth->Authenticate("dev-mallory"),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("unknown bearer token")));
  // The hash itself is not a token.
  EXPECT_THAT(auth->Authenticate(Sha256Hex("s3cret-token")),
              StatusIs(StatusCode::kUnauthenticated));
  // Neither is a prefix or an extension of one.
  EXPECT_THAT(auth->Authenticate("dev-alic"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(auth->Authenticate("dev-alicex"), StatusIs(StatusCode::kUnauthenticated));
}

TEST(StaticAuthenticator, DevTokensAreRefusedWhenNoDevUsersAreGiven) {
  auto auth = NewStaticAuthenticator({}, {});
  EXPECT_THAT(auth->Authenticate("dev-alice"), StatusIs(StatusCode::kUnauthenticated));
}

TEST(StaticAuthenticator, IgnoresMalformedHashes) {
  auto auth = NewStaticAuthenticator(
      {}, {StaticToken{"short", "abc", {}}, StaticToken{"nothex", std::string(64, 'z'), {}},
           StaticToken{"good", Sha256Hex("good-token"), {}}});
  EXPECT_THAT(auth->Authenticate("abc"), StatusIs(StatusCode::kUnauthenticated));
  auto good = auth->Authenticate("good-token");
  ASSERT_OK(good);
  EXPECT_EQ(good->username, "good");
}

// A file holding `text` in a temporary folder that goes with the object.
class TokenFile {
 public:
  explicit TokenFile(const std::string& text) { std::ofstream(path()) << text; }
  std::string path() const { return (dir_.path() / "token").string(); }

 private:
  jit::testing::TempDir dir_;
};

TEST(AutomationTokens, AreReadFromTheirFilesAndAuthenticateAsAutomation) {
  const std::string token(40, 'k');
  TokenFile file(token + "\n");
  Result<std::vector<AutomationKey>> keys =
      ReadAutomationKeys({AutomationToken{"eventbridge", file.path(), 3}});
  ASSERT_OK(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].digest, Sha256(token));  // the token itself is not kept
  auto a = NewStaticAuthenticator(DevUsers(), {}, *keys);
  auto who = a->Authenticate(token);
  ASSERT_OK(who);
  EXPECT_EQ(who->username, "automation:eventbridge");
  EXPECT_TRUE(who->automation);
  EXPECT_TRUE(who->groups.empty());
  EXPECT_EQ(who->principal_id, "");
  // People stay people; a near miss is refused.
  auto alice = a->Authenticate("dev-alice");
  ASSERT_OK(alice);
  EXPECT_FALSE(alice->automation);
  EXPECT_THAT(a->Authenticate(token.substr(1)), StatusIs(StatusCode::kUnauthenticated));
}

TEST(AutomationTokens, ShortEmptyOrMissingFilesAreRefused) {
  TokenFile short_file(std::string(31, 'k'));
  EXPECT_THAT(ReadAutomationKeys({AutomationToken{"eb", short_file.path(), 1}}),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("automation token 'eb': " + short_file.path() +
                                 " holds fewer than 32 characters")));
  TokenFile empty(" \n");
  EXPECT_THAT(ReadAutomationKeys({AutomationToken{"eb", empty.path(), 1}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("is empty")));
  EXPECT_THAT(ReadAutomationKeys({AutomationToken{"eb", "/nonexistent/jit-token", 1}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot read")));
}

}  // namespace
}  // namespace jit::auth
