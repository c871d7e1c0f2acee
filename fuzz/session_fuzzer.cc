// Fuzzes the web UI's signed cookies (api::CookieSigner, src/api/session.h) with a fixed key.
// The first byte picks what the rest is:
//   0: a Cookie request header as a browser (or anyone) sends it: api::CookieValue picks the
//      session cookie, then VerifySession; the whole text is also tried as a cookie value, and
//      with Open for the OIDC login state's purpose;
//   1: a session payload (JSON text) that the harness seals with the key, as if the broker had
//      issued it, so that VerifySession gets past the MAC to the payload checks; the second
//      byte picks the expiry (a few seconds before or after now, or far away);
//   2: an identity (username, principal id and groups, split at 0x00) that IssueSession makes
//      a cookie of: VerifySession must give the same session back.
// What must hold (a violation aborts): a value the harness did not seal never verifies, and
// is refused as Unauthenticated; a verified session has a username and a sid and has not
// expired; an issued session verifies as what was issued (for valid UTF-8 text: the payload is
// JSON) and its CSRF token checks; nothing crashes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/session.h"
#include "core/clock.h"
#include "model/identity.h"

namespace {

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "session_fuzzer: %s\n", why.c_str());
  std::abort();
}

const jit::api::CookieSigner& Signer() {
  static const jit::api::CookieSigner* signer = [] {
    auto s = jit::api::CookieSigner::Create("fuzz-session-key-0123456789abcdef0123456789");
    if (!s.has_value()) Fail("cannot make the signer");
    return new jit::api::CookieSigner(std::move(s).value());
  }();
  return *signer;
}

const jit::Time kNow = jit::FromUnixMillis(1767225600000);  // 2026-01-01T00:00:00Z

void CheckRefused(const jit::Result<jit::api::UiSession>& s, const char* what) {
  if (s.has_value()) Fail(std::string("a value nobody sealed verified: ") + what);
  if (s.error().code() != jit::StatusCode::kUnauthenticated) {
    Fail(std::string("a refused ") + what + " is not Unauthenticated: " + s.error().ToString());
  }
}

void CheckVerified(const jit::Result<jit::api::UiSession>& s) {
  if (!s.has_value()) {
    if (s.error().code() != jit::StatusCode::kUnauthenticated) {
      Fail("a refused session is not Unauthenticated: " + s.error().ToString());
    }
    return;
  }
  if (s->identity.username.empty()) Fail("a verified session has no username");
  if (s->sid.empty()) Fail("a verified session has no sid");
  if (s->expires_at <= kNow) Fail("an expired session verified");
  if (!Signer().CheckCsrf(*s, Signer().CsrfToken(*s))) Fail("the session's CSRF token fails");
  if (Signer().CheckCsrf(*s, "")) Fail("an empty CSRF token passed");
}

bool IsUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t z = s.find('\0');
    parts.push_back(s.substr(0, z));
    if (z == std::string_view::npos) return parts;
    s.remove_prefix(z + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const jit::api::CookieSigner& signer = Signer();
  const std::uint8_t mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    if (auto value = jit::api::CookieValue(rest, "jit_session")) {
      CheckRefused(signer.VerifySession(*value, kNow), "cookie from a header");
    }
    CheckRefused(signer.VerifySession(rest, kNow), "cookie value");
    auto opened = signer.Open("oidc-login", rest, kNow);
    if (opened.has_value()) Fail("a login state nobody sealed opened");
    if (opened.error().code() != jit::StatusCode::kUnauthenticated) {
      Fail("a refused login state is not Unauthenticated: " + opened.error().ToString());
    }
    return 0;
  }
  if (mode == 1) {
    if (rest.empty()) return 0;
    // Expiry: -64..63 s around now, or (high bit) that many years away.
    int step = static_cast<int>(static_cast<std::uint8_t>(rest[0]) & 0x7f) - 64;
    bool years = (static_cast<std::uint8_t>(rest[0]) & 0x80) != 0;
    jit::Time expires = kNow + (years ? std::chrono::seconds(std::int64_t{step} * 31556952)
                                      : std::chrono::seconds(step));
    std::string_view payload = rest.substr(1);
    std::string value = signer.Seal("session", payload, expires);
    auto session = signer.VerifySession(value, kNow);
    CheckVerified(session);
    if (session.has_value() && session->expires_at != expires) {
      Fail("a verified session's expiry is not the sealed one");
    }
    // Sealed for another purpose: never a session.
    CheckRefused(signer.VerifySession(signer.Seal("oidc-login", payload, expires), kNow),
                 "value sealed for another purpose");
    // Flipping a bit of the signed part or of the MAC breaks the MAC.
    std::string tampered = value;
    tampered[tampered.size() / 2] ^= 0x01;
    if (tampered[tampered.size() / 2] != '.' && signer.VerifySession(tampered, kNow).has_value()) {
      Fail("a tampered session verified");
    }
    return 0;
  }
  // mode 2: issue, then verify.
  std::vector<std::string_view> parts = Split(rest);
  jit::model::Identity who;
  who.username = std::string(parts[0]);
  if (parts.size() > 1) who.principal_id = std::string(parts[1]);
  for (std::size_t i = 2; i < parts.size() && i < 40; ++i) who.groups.emplace_back(parts[i]);
  jit::api::UiSession issued;
  auto value = signer.IssueSession(who, "dev", kNow, std::chrono::hours(8), &issued);
  if (!value.has_value()) {
    if (value.error().code() != jit::StatusCode::kInvalidArgument) {
      Fail("IssueSession error is not InvalidArgument: " + value.error().ToString());
    }
    return 0;
  }
  if (value->size() > jit::api::kMaxCookieValueBytes) Fail("an issued cookie is too large");
  auto back = signer.VerifySession(*value, kNow);
  if (!back.has_value()) Fail("an issued session does not verify: " + back.error().ToString());
  CheckVerified(back);
  if (back->sid != issued.sid || back->expires_at != issued.expires_at ||
      back->issued_at != issued.issued_at || back->method != "dev") {
    Fail("the verified session is not the issued one");
  }
  bool utf8 = IsUtf8(who.username) && IsUtf8(who.principal_id);
  for (const std::string& g : who.groups) utf8 = utf8 && IsUtf8(g);
  if (utf8 &&
      (back->identity.username != who.username || back->identity.principal_id != who.principal_id ||
       back->identity.groups != who.groups)) {
    Fail("the verified identity is not the issued one");
  }
  if (signer.VerifySession(*value, issued.expires_at).has_value()) {
    Fail("a session verified at its expiry");
  }
  return 0;
}
