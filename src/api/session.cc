#include "api/session.h"

#include <charconv>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/oidc_login.h"
#include "core/check.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "model/identity.h"

namespace jit::api {
namespace {

using nlohmann::json;

constexpr std::string_view kVersion = "v1";
constexpr std::string_view kSessionPurpose = "session";
constexpr std::string_view kCsrfPurpose = "csrf";

std::int64_t UnixSeconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Time FromUnixSeconds(std::int64_t s) { return Time(std::chrono::seconds(s)); }

// True when FromUnixSeconds(s) does not overflow: Time holds nanoseconds in 64 bits (about the
// years 1677 to 2262).
bool FitsTime(std::int64_t s) { return s >= kMinUnixMillis / 1000 && s <= kMaxUnixMillis / 1000; }

Status Invalid() { return UnauthenticatedError("invalid session; sign in again"); }

}  // namespace

Result<CookieSigner> CookieSigner::Create(std::string_view key) {
  if (key.size() < kMinSessionKeyBytes) {
    return InvalidArgumentError("a session key needs at least " +
                                std::to_string(kMinSessionKeyBytes) + " bytes");
  }
  return CookieSigner(std::string(key));
}

CookieSigner CookieSigner::WithRandomKey() {
  // 32 random bytes, base64url: a key of 43 characters (the bytes of the text are the key).
  return CookieSigner(auth::RandomUrlToken(32));
}

std::string CookieSigner::Mac(std::string_view purpose, std::string_view data) const {
  // A key per purpose (HMAC of the master key over the purpose's name), so that a value made
  // for one purpose never verifies as another.
  // HMAC failing (out of memory) leaves no safe way on: HmacSha256 fails closed.
  return HmacSha256(HmacSha256(key_, "jit-ui/" + std::string(purpose)), data);
}

std::string CookieSigner::Seal(std::string_view purpose, std::string_view payload,
                               Time expires) const {
  std::string signed_part = std::string(kVersion) + "." + std::to_string(UnixSeconds(expires)) +
                            "." + EncodeBase64Url(payload);
  return signed_part + "." + EncodeBase64Url(Mac(purpose, signed_part));
}

Result<std::string> CookieSigner::Open(std::string_view purpose, std::string_view sealed,
                                       Time now) const {
  Time expires;
  return OpenWithExpiry(purpose, sealed, now, &expires);
}

Result<std::string> CookieSigner::OpenWithExpiry(std::string_view purpose, std::string_view sealed,
                                                 Time now, Time* expires) const {
  if (sealed.size() > std::size_t{8} * 1024) return Invalid();
  // "v1" "." exp "." payload "." mac
  std::size_t first = sealed.find('.');
  std::size_t second = first == std::string_view::npos ? first : sealed.find('.', first + 1);
  std::size_t third = second == std::string_view::npos ? second : sealed.find('.', second + 1);
  if (third == std::string_view::npos || sealed.substr(0, first) != kVersion ||
      sealed.find('.', third + 1) != std::string_view::npos) {
    return Invalid();
  }
  std::string_view signed_part = sealed.substr(0, third);
  std::optional<std::string> mac = DecodeBase64Url(sealed.substr(third + 1));
  if (!mac || !ConstantTimeEquals(*mac, Mac(purpose, signed_part))) return Invalid();
  // Signed by us: what follows was written by us, but is read carefully all the same.
  std::string_view exp_text = sealed.substr(first + 1, second - first - 1);
  std::int64_t exp = 0;
  auto [ptr, ec] = std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  if (exp_text.empty() || ec != std::errc() || ptr != exp_text.data() + exp_text.size() ||
      !FitsTime(exp)) {
    return Invalid();
  }
  std::optional<std::string> payload =
      DecodeBase64Url(sealed.substr(second + 1, third - second - 1));
  if (!payload) return Invalid();
  if (UnixSeconds(now) >= exp) return UnauthenticatedError("session expired; sign in again");
  *expires = FromUnixSeconds(exp);
  return *std::move(payload);
}

Result<std::string> CookieSigner::IssueSession(const model::Identity& who, std::string_view method,
                                               Time now, Duration lifetime,
                                               UiSession* issued) const {
  if (lifetime < std::chrono::seconds(1)) {
    return InvalidArgumentError("session lifetime must be at least 1s");
  }
  if (who.username.empty()) return InvalidArgumentError("a session needs a username");
  // Whole seconds, as the cookie carries them.
  now = FromUnixSeconds(UnixSeconds(now));
  Time expires = now + std::chrono::duration_cast<std::chrono::seconds>(lifetime);
  std::string sid = auth::RandomUrlToken(16);
  json payload = {{"sub", who.username}, {"grp", who.groups},          {"pid", who.principal_id},
                  {"sid", sid},          {"amr", std::string(method)}, {"iat", UnixSeconds(now)}};
  std::string value =
      Seal(kSessionPurpose, payload.dump(-1, ' ', false, json::error_handler_t::replace), expires);
  if (value.size() > kMaxCookieValueBytes) {
    return InvalidArgumentError("the session of " + who.username + " (" +
                                std::to_string(who.groups.size()) +
                                " groups) is too large for a browser cookie");
  }
  if (issued != nullptr) *issued = UiSession{who, sid, std::string(method), now, expires};
  return value;
}

Result<UiSession> CookieSigner::VerifySession(std::string_view value, Time now) const {
  Time expires;
  JIT_ASSIGN_OR_RETURN(std::string text, OpenWithExpiry(kSessionPurpose, value, now, &expires));
  json p = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!p.is_object()) return Invalid();
  auto str = [&p](const char* name) -> std::optional<std::string> {
    auto it = p.find(name);
    if (it == p.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  UiSession s;
  std::optional<std::string> sub = str("sub");
  std::optional<std::string> pid = str("pid");
  std::optional<std::string> sid = str("sid");
  std::optional<std::string> amr = str("amr");
  auto grp = p.find("grp");
  auto iat = p.find("iat");
  if (!sub || sub->empty() || !pid || !sid || sid->empty() || !amr || grp == p.end() ||
      !grp->is_array() || iat == p.end() || !iat->is_number_integer() ||
      (iat->is_number_unsigned() &&
       iat->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxUnixMillis / 1000)) ||
      !FitsTime(iat->get<std::int64_t>())) {
    return Invalid();
  }
  for (const json& g : *grp) {
    if (!g.is_string()) return Invalid();
    s.identity.groups.push_back(g.get<std::string>());
  }
  s.identity.username = std::move(*sub);
  s.identity.principal_id = std::move(*pid);
  s.sid = std::move(*sid);
  s.method = std::move(*amr);
  s.issued_at = FromUnixSeconds(iat->get<std::int64_t>());
  s.expires_at = expires;
  return s;
}

std::string CookieSigner::CsrfToken(const UiSession& session) const {
  return EncodeBase64Url(Mac(kCsrfPurpose, session.sid));
}

bool CookieSigner::CheckCsrf(const UiSession& session, std::string_view presented) const {
  return !presented.empty() && ConstantTimeEquals(presented, CsrfToken(session));
}

Result<std::string> ReadSessionKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read the session key file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFoundError("cannot read the session key file " + path);
  std::string key = text.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < kMinSessionKeyBytes) {
    return InvalidArgumentError("the session key file " + path + " holds " +
                                std::to_string(key.size()) + " bytes; it needs at least " +
                                std::to_string(kMinSessionKeyBytes) +
                                " (make one with: openssl rand -hex 32)");
  }
  return key;
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    std::size_t start = part.find_first_not_of(' ');
    if (start == std::string_view::npos) continue;
    part.remove_prefix(start);
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = part.substr(0, eq);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    if (key != name) continue;
    std::string_view value = part.substr(eq + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

std::string SetCookie(std::string_view name, std::string_view value, const CookieAttributes& a) {
  std::string out = std::string(name) + "=" + std::string(value);
  out += "; Path=" + a.path;
  if (a.max_age >= 0) out += "; Max-Age=" + std::to_string(a.max_age);
  if (a.http_only) out += "; HttpOnly";
  if (a.secure) out += "; Secure";
  if (!a.same_site.empty()) out += "; SameSite=" + a.same_site;
  return out;
}

}  // namespace jit::api
