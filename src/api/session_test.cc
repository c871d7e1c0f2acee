#include "api/session.h"

#include <fstream>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/testing.h"
#include "model/identity.h"

namespace jit::api {
namespace {

using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::jit::testing::TempDir;
using std::chrono::hours;
using std::chrono::seconds;
using ::testing::HasSubstr;

const std::string kKey = "0123456789abcdef0123456789abcdef";  // 32 bytes

model::Identity Alice() {
  return {"alice", {"engineers", "sre"}, "a11ce000-0000-4000-8000-000000000001"};
}

CookieSigner Signer(const std::string& key = kKey) { return *CookieSigner::Create(key); }

TEST(CookieSigner, ASessionVerifiesAsWhoItWasIssuedFor) {
  FakeClock clock;
  CookieSigner s = Signer();
  UiSession issued;
  Result<std::string> value = s.IssueSession(Alice(), "dev", clock.Now(), hours(8), &issued);
  ASSERT_OK(value);
  EXPECT_EQ(value->rfind("v1.", 0), 0u);
  Result<UiSession> got = s.VerifySession(*value, clock.Now());
  ASSERT_OK(got);
  EXPECT_EQ(got->identity.username, "alice");
  EXPECT_EQ(got->identity.groups, (std::vector<std::string>{"engineers", "sre"}));
  EXPECT_EQ(got->identity.principal_id, "a11ce000-0000-4000-8000-000000000001");
  EXPECT_EQ(got->method, "dev");
  EXPECT_EQ(got->issued_at, clock.Now());
  EXPECT_EQ(got->expires_at, clock.Now() + hours(8));
  EXPECT_EQ(got->sid, issued.sid);
  EXPECT_GE(got->sid.size(), 20u);
  EXPECT_EQ(issued.expires_at, got->expires_at);
}

TEST(CookieSigner, ASessionEndsAtItsExpiry) {
  FakeClock clock;
  CookieSigner s = Signer();
  std::string value = *s.IssueSession(Alice(), "oidc", clock.Now(), hours(1));
  clock.Advance(hours(1) - seconds(1));
  EXPECT_THAT(s.VerifySession(value, clock.Now()), IsOk());
  clock.Advance(seconds(1));
  EXPECT_THAT(s.VerifySession(value, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

TEST(CookieSigner, AnyChangedByteIsRefused) {
  FakeClock clock;
  CookieSigner s = Signer();
  std::string value = *s.IssueSession(Alice(), "dev", clock.Now(), hours(8));
  for (std::size_t i = 0; i < value.size(); ++i) {
    std::string bad = value;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_THAT(s.VerifySession(bad, clock.Now()), StatusIs(StatusCode::kUnauthenticated))
        << "byte " << i << " of " << value;
  }
}

TEST(CookieSigner, ALongerLifeCannotBeWrittenIn) {
  // The expiry is signed: moving it on breaks the MAC.
  FakeClock clock;
  CookieSigner s = Signer();
  std::string value = *s.IssueSession(Alice(), "dev", clock.Now(), hours(1));
  std::size_t first = value.find('.');
  std::size_t second = value.find('.', first + 1);
  std::string later = value.substr(0, first + 1) + "99999999999" + value.substr(second);
  EXPECT_THAT(s.VerifySession(later, clock.Now()), StatusIs(StatusCode::kUnauthenticated));
}

TEST(CookieSigner, ReplicasWithTheSameKeyAcceptEachOthersSessions) {
  FakeClock clock;
  CookieSigner a = Signer();
  CookieSigner b = Signer();
  CookieSigner other = Signer("another key of thirty-two bytes!");
  std::string value = *a.IssueSession(Alice(), "oidc", clock.Now(), hours(8));
  Result<UiSession> on_b = b.VerifySession(value, clock.Now());
  ASSERT_OK(on_b);
  EXPECT_EQ(a.CsrfToken(*on_b), b.CsrfToken(*on_b));
  EXPECT_THAT(other.VerifySession(value, clock.Now()), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(CookieSigner::WithRandomKey().VerifySession(value, clock.Now()),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST(CookieSigner, AValueMadeForOnePurposeIsNoSession) {
  FakeClock clock;
  CookieSigner s = Signer();
  std::string session_json =
      R"({"sub":"admin","grp":["admins"],"pid":"","sid":"x","amr":"dev","iat":0})";
  std::string sealed = s.Seal("oidc-login", session_json, clock.Now() + hours(1));
  EXPECT_THAT(s.VerifySession(sealed, clock.Now()), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(s.Open("oidc-login", sealed, clock.Now()), IsOk());
  EXPECT_THAT(s.Open("other", sealed, clock.Now()), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(*s.Open("oidc-login", sealed, clock.Now()), session_json);
}

TEST(CookieSigner, ASignedIssuedAtBeyondTheClockRangeIsInvalidNotAnOverflow) {
  // Shown by fuzz/session_fuzzer (corpus/session/sealed_iat_overflow): an "iat" Time cannot hold
  // overflowed the conversion to nanoseconds (undefined behaviour) instead of being refused. Only a
  // holder of the key can write one, but the payload is read carefully all the same.
  FakeClock clock;
  CookieSigner s = Signer();
  for (const std::string iat : {"99999999999", "-99999999999", "18446744073709551615"}) {
    std::string payload =
        R"({"sub":"alice","grp":[],"pid":"","sid":"x","amr":"dev","iat":)" + iat + "}";
    std::string sealed = s.Seal("session", payload, clock.Now() + hours(1));
    EXPECT_THAT(s.VerifySession(sealed, clock.Now()), StatusIs(StatusCode::kUnauthenticated))
        << iat;
  }
  std::string ok = s.Seal("session",
                          R"({"sub":"alice","grp":[],"pid":"","sid":"x","amr":"dev",)"
                          R"("iat":1767225600})",
                          clock.Now() + hours(1));
  EXPECT_THAT(s.VerifySession(ok, clock.Now()), IsOk());
}

TEST(CookieSigner, GarbageIsRefusedQuietly) {
  FakeClock clock;
  CookieSigner s = Signer();
  for (const std::string& bad :
       {std::string(), std::string("v1"), std::string("v1..."), std::string("v1.1.e30.AAAA"),
        std::string("v2.1.e30.AAAA"), std::string(10000, 'a'), std::string("v1.x.e30.AAAA.AAAA"),
        std::string("....")}) {
    EXPECT_THAT(s.VerifySession(bad, clock.Now()), StatusIs(StatusCode::kUnauthenticated)) << bad;
  }
}

TEST(CookieSigner, RefusesShortKeysEmptyUsersAndOversizeSessions) {
  EXPECT_THAT(CookieSigner::Create("short"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("32 bytes")));
  EXPECT_THAT(CookieSigner::Create(std::string(31, 'k')), StatusIs(StatusCode::kInvalidArgument));
  FakeClock clock;
  CookieSigner s = Signer();
  EXPECT_THAT(s.IssueSession({"", {}, ""}, "dev", clock.Now(), hours(1)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(s.IssueSession(Alice(), "dev", clock.Now(), Duration(0)),
              StatusIs(StatusCode::kInvalidArgument));
  model::Identity many = Alice();
  for (int i = 0; i < 200; ++i)
    many.groups.push_back("group-with-a-long-name-" + std::to_string(i));
  EXPECT_THAT(s.IssueSession(many, "oidc", clock.Now(), hours(1)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("too large")));
}

TEST(Csrf, TheTokenBelongsToOneSession) {
  FakeClock clock;
  CookieSigner s = Signer();
  UiSession one;
  UiSession two;
  ASSERT_OK(s.IssueSession(Alice(), "dev", clock.Now(), hours(8), &one));
  ASSERT_OK(s.IssueSession(Alice(), "dev", clock.Now(), hours(8), &two));
  std::string token = s.CsrfToken(one);
  EXPECT_GE(token.size(), 40u);
  EXPECT_TRUE(s.CheckCsrf(one, token));
  EXPECT_NE(token, s.CsrfToken(two)) << "every sign-in has its own token";
  EXPECT_FALSE(s.CheckCsrf(two, token));
  EXPECT_FALSE(s.CheckCsrf(one, ""));
  EXPECT_FALSE(s.CheckCsrf(one, token.substr(0, token.size() - 1)));
  EXPECT_FALSE(s.CheckCsrf(one, token + "A"));
  EXPECT_FALSE(Signer("another key of thirty-two bytes!").CheckCsrf(one, token));
}

TEST(CookieValue, FindsOneCookieAmongOthers) {
  EXPECT_EQ(CookieValue("a=1; jit_session=v1.x.y; b=2", "jit_session"), "v1.x.y");
  EXPECT_EQ(CookieValue("jit_session=first; jit_session=second", "jit_session"), "first");
  EXPECT_EQ(CookieValue("  jit_session = spaced ", "jit_session"), "spaced");
  EXPECT_EQ(CookieValue("a=1;jit_session=tight", "jit_session"), "tight");
  EXPECT_EQ(CookieValue("jit_session=\"quoted\"", "jit_session"), "quoted");
  EXPECT_EQ(CookieValue("xjit_session=1; jit_session_x=2", "jit_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "jit_session"), std::nullopt);
  EXPECT_EQ(CookieValue("jit_session", "jit_session"), std::nullopt);
  EXPECT_EQ(CookieValue("jit_session=", "jit_session"), "");
}

TEST(SetCookie, WritesTheAttributes) {
  CookieAttributes a;
  a.max_age = 600;
  EXPECT_EQ(SetCookie("__Host-jit_session", "v", a),
            "__Host-jit_session=v; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax");
  a.secure = false;
  a.max_age = 0;
  EXPECT_EQ(SetCookie("jit_session", "", a),
            "jit_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(ReadSessionKeyFile, ReadsTheKeyAndRefusesShortOnes) {
  TempDir dir;
  std::string path = (dir.path() / "key").string();
  EXPECT_THAT(ReadSessionKeyFile(path), StatusIs(StatusCode::kNotFound, HasSubstr(path)));
  { std::ofstream(path) << std::string(64, 'f') << "\n"; }
  Result<std::string> key = ReadSessionKeyFile(path);
  ASSERT_OK(key);
  EXPECT_EQ(*key, std::string(64, 'f'));
  { std::ofstream(path, std::ios::trunc) << "too short\n"; }
  EXPECT_THAT(ReadSessionKeyFile(path),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("openssl rand -hex 32")));
}

}  // namespace
}  // namespace jit::api
