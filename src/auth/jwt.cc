#include "auth/jwt.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "auth/strict_json.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/url.h"
#include "model/identity.h"

namespace jit::auth {
namespace {

// Refusals are short and fixed: they reach the caller, and must never echo the token.
constexpr char kGeneric[] = "missing or unknown bearer token";
constexpr char kMalformed[] = "malformed token";
constexpr char kAlgorithm[] = "token algorithm not allowed";
constexpr char kUnknownKey[] = "unknown signing key";
constexpr char kBadSignature[] = "bad token signature";

Status Refuse(const char* why) { return UnauthenticatedError(why); }

double Seconds(Time t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

// A NumericDate (RFC 7519 §2): a JSON number of seconds. nullopt when absent; `bad` when it is
// present but not a finite number.
std::optional<double> NumericDate(const nlohmann::json& claims, const char* name, bool& bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number()) {
    bad = true;
    return std::nullopt;
  }
  double v = it->get<double>();
  if (!std::isfinite(v)) {
    bad = true;
    return std::nullopt;
  }
  return v;
}

// Reads the JWKS from wherever the settings say. Errors are for logs, never for callers.
Result<Jwks> LoadJwks(const OidcSettings& s, aws::HttpTransport& http) {
  if (!s.jwks_file.empty()) {
    std::ifstream in(s.jwks_file, std::ios::binary);
    if (!in) return NotFoundError("cannot read JWKS file " + s.jwks_file);
    std::string text(kMaxJwksBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return NotFoundError("cannot read JWKS file " + s.jwks_file);
    text.resize(static_cast<std::size_t>(in.gcount()));
    Result<Jwks> keys = ParseJwks(text);
    if (!keys.ok()) return keys.error().WithContext(s.jwks_file);
    return keys;
  }
  aws::HttpCall call;
  call.method = "GET";
  call.url = s.jwks_url;
  call.headers = {{"Accept", "application/json"}};
  call.total_timeout = Duration(10000);
  JIT_ASSIGN_OR_RETURN(aws::HttpResponse response, http.Send(call));
  if (response.status != 200) {
    return UnavailableError("JWKS URL answered HTTP " + std::to_string(response.status));
  }
  Result<Jwks> keys = ParseJwks(response.body);
  if (!keys.ok()) return keys.error().WithContext("JWKS URL");
  return keys;
}

class OidcAuthenticator final : public Authenticator {
 public:
  OidcAuthenticator(OidcSettings settings, aws::HttpTransport& http, Clock& clock)
      : settings_(std::move(settings)), http_(http), clock_(clock) {
    expect_.issuer = settings_.issuer;
    expect_.audience = settings_.audience;
    expect_.username_claim = settings_.username_claim;
    expect_.groups_claim = settings_.groups_claim;
    expect_.leeway = settings_.leeway;
  }

  // The first load, at construction; counts against the refetch interval.
  Status Load() {
    MutexLock fetch(&fetch_mu_);
    last_fetch_ = clock_.MonoNow();
    Result<Jwks> keys = LoadJwks(settings_, http_);
    if (!keys.ok()) return keys.error();
    MutexLock lock(&mu_);
    keys_ = std::make_shared<const Jwks>(std::move(*keys));
    return OkStatus();
  }

  Result<model::Identity> Authenticate(std::string_view bearer_token) override {
    if (!LooksLikeJwt(bearer_token)) return Refuse(kGeneric);
    JIT_ASSIGN_OR_RETURN(ParsedJwt jwt, ParseJwt(bearer_token));
    std::shared_ptr<const Jwks> keys = Keys();
    const Jwk* key = keys ? keys->Find(jwt.kid) : nullptr;
    if (key == nullptr) {
      Refresh(keys);
      keys = Keys();
      key = keys ? keys->Find(jwt.kid) : nullptr;
    }
    if (!keys) return UnavailableError("the identity provider's signing keys are not available");
    if (key == nullptr) return Refuse(kUnknownKey);
    return VerifyJwt(jwt, *key, expect_, clock_.Now());
  }

 private:
  std::shared_ptr<const Jwks> Keys() const {
    MutexLock lock(&mu_);
    return keys_;
  }

  // Re-reads the key source unless another caller already replaced `seen`, or the last read
  // was less than kJwksRefetchInterval ago. A failed read keeps the cached set.
  void Refresh(const std::shared_ptr<const Jwks>& seen) {
    MutexLock fetch(&fetch_mu_);
    if (Keys() != seen) return;
    MonoTime now = clock_.MonoNow();
    if (last_fetch_ && now - *last_fetch_ < kJwksRefetchInterval) return;
    last_fetch_ = now;
    Result<Jwks> keys = LoadJwks(settings_, http_);
    if (!keys.ok()) return;
    MutexLock lock(&mu_);
    keys_ = std::make_shared<const Jwks>(std::move(*keys));
  }

  const OidcSettings settings_;
  JwtExpectations expect_;
  aws::HttpTransport& http_;
  Clock& clock_;
  // Held while loading, so that concurrent unknown kids cause one read, not many.
  Mutex fetch_mu_;
  std::optional<MonoTime> last_fetch_ GUARDED_BY(fetch_mu_);
  mutable Mutex mu_;
  std::shared_ptr<const Jwks> keys_ GUARDED_BY(mu_);  // null until a load succeeds
};

class ChainAuthenticator final : public Authenticator {
 public:
  explicit ChainAuthenticator(std::vector<std::unique_ptr<Authenticator>> parts)
      : parts_(std::move(parts)) {}

  Result<model::Identity> Authenticate(std::string_view bearer_token) override {
    Status last = Refuse(kGeneric);
    std::optional<Status> other;
    for (const std::unique_ptr<Authenticator>& a : parts_) {
      Result<model::Identity> who = a->Authenticate(bearer_token);
      if (who.ok()) return who;
      last = who.error();
      if (last.code() != StatusCode::kUnauthenticated && !other) other = last;
    }
    return other ? *other : last;
  }

 private:
  const std::vector<std::unique_ptr<Authenticator>> parts_;  // immutable: no lock needed
};

}  // namespace

bool LooksLikeJwt(std::string_view token) {
  return !token.empty() && token.front() != '.' && std::count(token.begin(), token.end(), '.') == 2;
}

Result<ParsedJwt> ParseJwt(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Refuse("token too large");
  if (!LooksLikeJwt(token)) return Refuse(kMalformed);
  std::size_t first = token.find('.');
  std::size_t second = token.find('.', first + 1);
  std::optional<std::string> header_json = DecodeBase64Url(token.substr(0, first));
  if (!header_json) return Refuse(kMalformed);
  std::optional<nlohmann::json> header = ParseStrictJson(*header_json);
  if (!header || !header->is_object()) return Refuse(kMalformed);
  ParsedJwt out;
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string()) return Refuse(kMalformed);
  out.alg = alg->get<std::string>();
  // An allow-list, compared exactly: "none" in any case, HS*, PS*, ES384... never pass.
  if (out.alg != "RS256" && out.alg != "ES256") return Refuse(kAlgorithm);
  if (auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) return Refuse(kMalformed);
    out.kid = kid->get<std::string>();
  }
  // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
  if (header->contains("crit")) return Refuse(kMalformed);
  std::optional<std::string> payload = DecodeBase64Url(token.substr(first + 1, second - first - 1));
  std::optional<std::string> signature = DecodeBase64Url(token.substr(second + 1));
  if (!payload || payload->empty() || !signature || signature->empty()) return Refuse(kMalformed);
  out.signing_input = std::string(token.substr(0, second));
  out.payload = std::move(*payload);
  out.signature = std::move(*signature);
  return out;
}

Result<model::Identity> VerifyJwt(const ParsedJwt& jwt, const Jwk& key,
                                  const JwtExpectations& expect, Time now) {
  // The key decides the algorithm; a token naming another one is refused before any crypto.
  if (jwt.alg != JwsAlgorithmName(key.alg)) return Refuse(kAlgorithm);
  if (!VerifySignature(key, jwt.signing_input, jwt.signature)) return Refuse(kBadSignature);

  std::optional<nlohmann::json> claims = ParseStrictJson(jwt.payload);
  if (!claims || !claims->is_object()) return Refuse(kMalformed);

  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->is_string() ||
      iss->get_ref<const std::string&>() != expect.issuer) {
    return Refuse("wrong token issuer");
  }
  bool audience_ok = false;
  if (auto aud = claims->find("aud"); aud != claims->end()) {
    if (aud->is_string()) {
      audience_ok = aud->get_ref<const std::string&>() == expect.audience;
    } else if (aud->is_array()) {
      audience_ok = std::any_of(aud->begin(), aud->end(), [&](const nlohmann::json& a) {
        return a.is_string() && a.get_ref<const std::string&>() == expect.audience;
      });
    }
  }
  if (!audience_ok) return Refuse("wrong token audience");

  const double t = Seconds(now);
  const double leeway = static_cast<double>(expect.leeway.count()) / 1000.0;
  bool bad = false;
  std::optional<double> exp = NumericDate(*claims, "exp", bad);
  std::optional<double> nbf = NumericDate(*claims, "nbf", bad);
  std::optional<double> iat = NumericDate(*claims, "iat", bad);
  if (bad) return Refuse(kMalformed);
  if (!exp) return Refuse("token has no expiry");
  if (t >= *exp + leeway) return Refuse("token expired");
  if (nbf && *nbf > t + leeway) return Refuse("token not yet valid");
  if (iat && *iat > t + leeway) return Refuse("token issued in the future");

  model::Identity who;
  auto user = claims->find(expect.username_claim);
  if (user == claims->end() || !user->is_string() || user->get_ref<const std::string&>().empty()) {
    return Refuse("token has no username claim");
  }
  who.username = user->get<std::string>();
  if (auto groups = claims->find(expect.groups_claim); groups != claims->end()) {
    if (!groups->is_array()) return Refuse("token groups claim is not a list of strings");
    for (const nlohmann::json& g : *groups) {
      if (!g.is_string()) return Refuse("token groups claim is not a list of strings");
      who.groups.push_back(g.get<std::string>());
    }
  }
  return who;
}

Result<model::Identity> VerifyJwt(std::string_view token, const Jwks& keys,
                                  const JwtExpectations& expect, Time now) {
  JIT_ASSIGN_OR_RETURN(ParsedJwt jwt, ParseJwt(token));
  const Jwk* key = keys.Find(jwt.kid);
  if (key == nullptr) return Refuse(kUnknownKey);
  return VerifyJwt(jwt, *key, expect, now);
}

Status OidcSettings::Validate() const {
  if (issuer.empty()) return InvalidArgumentError("oidc: issuer is required");
  if (!IsHttpsOrLoopbackHttpUrl(issuer)) {
    return InvalidArgumentError("oidc: issuer must be an https URL (http only on loopback)");
  }
  if (audience.empty()) return InvalidArgumentError("oidc: audience is required");
  if (jwks_file.empty() == jwks_url.empty()) {
    return InvalidArgumentError("oidc: exactly one of jwks_file and jwks_url is required");
  }
  if (!jwks_url.empty() && !IsHttpsOrLoopbackHttpUrl(jwks_url)) {
    return InvalidArgumentError("oidc: jwks_url must be an https URL (http only on loopback)");
  }
  if (username_claim.empty()) return InvalidArgumentError("oidc: username_claim is empty");
  if (groups_claim.empty()) return InvalidArgumentError("oidc: groups_claim is empty");
  if (leeway < Duration(0) || leeway > std::chrono::minutes(5)) {
    return InvalidArgumentError("oidc: leeway must be from 0s to 5m");
  }
  return OkStatus();
}

OidcSettings OidcSettingsFromConfig(const OidcConfig& config) {
  OidcSettings s;
  s.issuer = config.issuer;
  s.audience = config.audience;
  s.jwks_file = config.jwks_file;
  s.jwks_url = config.jwks_url;
  s.username_claim = config.username_claim;
  s.groups_claim = config.groups_claim;
  s.leeway = config.leeway;
  return s;
}

Result<std::unique_ptr<Authenticator>> NewOidcAuthenticator(const OidcSettings& settings,
                                                            aws::HttpTransport& http,
                                                            Clock& clock) {
  JIT_RETURN_IF_ERROR(settings.Validate());
  auto auth = std::make_unique<OidcAuthenticator>(settings, http, clock);
  Status loaded = auth->Load();
  // A missing or broken file is the operator's to fix now; a URL may be briefly unreachable.
  if (!loaded.ok() && !settings.jwks_file.empty()) return loaded;
  return std::unique_ptr<Authenticator>(std::move(auth));
}

std::unique_ptr<Authenticator> NewChainAuthenticator(
    std::vector<std::unique_ptr<Authenticator>> authenticators) {
  return std::make_unique<ChainAuthenticator>(std::move(authenticators));
}

namespace {

bool SameOidcSettings(const OidcSettings& a, const OidcSettings& b) {
  return a.issuer == b.issuer && a.audience == b.audience && a.jwks_file == b.jwks_file &&
         a.jwks_url == b.jwks_url && a.username_claim == b.username_claim &&
         a.groups_claim == b.groups_claim && a.leeway == b.leeway;
}

}  // namespace

Result<BrokerAuth> BuildBrokerAuth(const AuthSettings& config, std::vector<DevUser> dev_users,
                                   aws::HttpTransport& http, Clock& clock,
                                   const BrokerAuth* previous) {
  BrokerAuth out;
  Result<std::vector<AutomationKey>> automation = ReadAutomationKeys(config.automation);
  if (!automation.has_value()) {
    return Status(automation.error().code(), "auth.automation: " + automation.error().message());
  }
  std::vector<std::unique_ptr<Authenticator>> parts;
  parts.push_back(
      NewStaticAuthenticator(std::move(dev_users), config.tokens, std::move(automation).value()));
  if (!config.oidc.Empty()) {
    out.oidc_settings = OidcSettingsFromConfig(config.oidc);
    if (previous != nullptr && previous->oidc != nullptr && out.oidc_settings.jwks_file.empty() &&
        SameOidcSettings(previous->oidc_settings, out.oidc_settings)) {
      out.oidc = previous->oidc;
    } else {
      Result<std::unique_ptr<Authenticator>> oidc =
          NewOidcAuthenticator(out.oidc_settings, http, clock);
      if (!oidc.has_value()) {
        return Status(oidc.error().code(), "auth.oidc: " + oidc.error().message());
      }
      out.oidc = std::move(oidc).value();
    }
    parts.push_back(NewSharedAuthenticator(out.oidc));
  }
  out.authenticator = NewChainAuthenticator(std::move(parts));
  return out;
}

}  // namespace jit::auth
