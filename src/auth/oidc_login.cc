#include "auth/oidc_login.h"

#include <openssl/rand.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "auth/jwks.h"
#include "auth/jwt.h"
#include "auth/strict_json.h"
#include "core/check.h"
#include "core/crypto.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/strings.h"
#include "core/url.h"
#include "model/identity.h"

namespace jit::auth {
namespace {

using nlohmann::json;

// Documents and token answers larger than this are refused.
constexpr std::size_t kMaxAnswerBytes = std::size_t{256} * 1024;

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// A string member, or nullopt when absent or not a string.
std::optional<std::string> StringMember(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// True when the member is absent, or is an array of strings containing `want`.
bool ListAbsentOrHas(const json& j, const char* name, std::string_view want, bool* present) {
  auto it = j.find(name);
  *present = it != j.end();
  if (!*present) return true;
  if (!it->is_array()) return false;
  return std::any_of(it->begin(), it->end(), [&](const json& v) {
    return v.is_string() && v.get_ref<const std::string&>() == want;
  });
}

}  // namespace

std::string RandomUrlToken(std::size_t length) {
  std::string bytes(length, '\0');
  // The system CSPRNG failing leaves no safe way on: fail closed.
  JIT_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(length)) ==
            1);
  return EncodeBase64Url(bytes);
}

bool IsValidPkceVerifier(std::string_view verifier) {
  return verifier.size() >= 43 && verifier.size() <= 128 &&
         std::all_of(verifier.begin(), verifier.end(), IsUnreserved);
}

std::string NewPkceVerifier() { return RandomUrlToken(32); }

std::string PkceChallengeS256(std::string_view verifier) {
  return EncodeBase64Url(Sha256(verifier));
}

std::string FormEncode(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

Result<OidcProviderMetadata> ParseDiscovery(std::string_view text,
                                            std::string_view expected_issuer) {
  if (text.size() > kMaxAnswerBytes) {
    return InvalidArgumentError("the discovery document is too large");
  }
  std::optional<json> doc = ParseStrictJson(text);
  if (!doc || !doc->is_object()) {
    return InvalidArgumentError("the discovery document is not a JSON object");
  }
  OidcProviderMetadata m;
  std::optional<std::string> issuer = StringMember(*doc, "issuer");
  if (!issuer || *issuer != expected_issuer) {
    return InvalidArgumentError("the discovery document names issuer '" +
                                PrintableExcerpt(issuer.value_or(""), 120) + "', not '" +
                                std::string(expected_issuer) + "'");
  }
  m.issuer = *issuer;
  for (auto [name, out] :
       {std::pair<const char*, std::string*>{"authorization_endpoint", &m.authorization_endpoint},
        std::pair<const char*, std::string*>{"token_endpoint", &m.token_endpoint}}) {
    std::optional<std::string> url = StringMember(*doc, name);
    if (!url) return InvalidArgumentError(std::string("the discovery document has no ") + name);
    if (!IsHttpsOrLoopbackHttpUrl(*url)) {
      return InvalidArgumentError(std::string("the discovery document's ") + name +
                                  " is not an https URL (http only on a loopback host)");
    }
    *out = *url;
  }
  bool present = false;
  if (!ListAbsentOrHas(*doc, "response_types_supported", "code", &present)) {
    return InvalidArgumentError("the issuer does not support the authorization-code flow");
  }
  if (!ListAbsentOrHas(*doc, "code_challenge_methods_supported", "S256", &present)) {
    return InvalidArgumentError("the issuer does not support PKCE with S256");
  }
  if (auto methods = doc->find("token_endpoint_auth_methods_supported");
      methods != doc->end() && methods->is_array()) {
    for (const json& v : *methods) {
      if (v.is_string()) m.token_endpoint_auth_methods.push_back(v.get<std::string>());
    }
  }
  return m;
}

Status OidcLoginSettings::Validate() const {
  if (!IsHttpsOrLoopbackHttpUrl(issuer)) {
    return InvalidArgumentError("oidc login: issuer must be an https URL (http only on loopback)");
  }
  if (client_id.empty()) return InvalidArgumentError("oidc login: client_id is empty");
  if (std::find(scopes.begin(), scopes.end(), "openid") == scopes.end()) {
    return InvalidArgumentError("oidc login: scopes must include openid");
  }
  if (discovery_ttl <= Duration::zero()) {
    return InvalidArgumentError("oidc login: discovery_ttl must be > 0");
  }
  return OkStatus();
}

OidcLogin::OidcLogin(OidcLoginSettings settings, std::unique_ptr<Authenticator> id_token_verifier,
                     aws::HttpTransport& http, Clock& clock)
    : settings_(std::move(settings)),
      verifier_(std::move(id_token_verifier)),
      http_(http),
      clock_(clock) {}

Result<OidcProviderMetadata> OidcLogin::Metadata() {
  {
    MutexLock lock(&mu_);
    if (metadata_ && clock_.MonoNow() - metadata_fetched_ < settings_.discovery_ttl) {
      return *metadata_;
    }
  }
  std::string issuer = settings_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  aws::HttpCall call;
  call.method = "GET";
  call.url = issuer + "/.well-known/openid-configuration";
  call.headers = {{"Accept", "application/json"}};
  call.total_timeout = Duration(10000);
  Result<aws::HttpResponse> answer = http_.Send(call);
  if (!answer) {
    return UnavailableError("cannot reach the identity provider: " + answer.error().message());
  }
  if (answer->status != 200) {
    return UnavailableError("the identity provider's discovery document answered HTTP " +
                            std::to_string(answer->status));
  }
  Result<OidcProviderMetadata> parsed = ParseDiscovery(answer->body, settings_.issuer);
  if (!parsed) return UnavailableError(parsed.error().message());
  MutexLock lock(&mu_);
  metadata_ = *parsed;
  metadata_fetched_ = clock_.MonoNow();
  return parsed;
}

Result<OidcLoginStart> OidcLogin::Begin(std::string_view redirect_uri) {
  if (!IsHttpsOrLoopbackHttpUrl(redirect_uri)) {
    return InvalidArgumentError(
        "the sign-in redirect URL must be https (http only on loopback); set server.public_url");
  }
  JIT_ASSIGN_OR_RETURN(OidcProviderMetadata m, Metadata());
  OidcLoginStart start;
  start.redirect_uri = std::string(redirect_uri);
  start.state = RandomUrlToken(24);
  start.nonce = RandomUrlToken(24);
  start.code_verifier = NewPkceVerifier();
  std::string scope;
  for (const std::string& s : settings_.scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string url = m.authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + FormEncode(settings_.client_id) +
         "&redirect_uri=" + FormEncode(start.redirect_uri) + "&scope=" + FormEncode(scope) +
         "&state=" + FormEncode(start.state) + "&nonce=" + FormEncode(start.nonce) +
         "&code_challenge=" + PkceChallengeS256(start.code_verifier) +
         "&code_challenge_method=S256";
  start.authorization_url = std::move(url);
  return start;
}

Result<model::Identity> OidcLogin::Finish(const OidcLoginStart& saved,
                                          std::string_view returned_state, std::string_view code) {
  if (saved.state.empty() || !ConstantTimeEquals(saved.state, returned_state)) {
    return UnauthenticatedError("the sign-in state does not match; start the sign-in again");
  }
  if (code.empty() || code.size() > 4096) {
    return UnauthenticatedError("the identity provider sent no usable authorization code");
  }
  if (!IsValidPkceVerifier(saved.code_verifier) || !IsHttpsOrLoopbackHttpUrl(saved.redirect_uri)) {
    return UnauthenticatedError("the sign-in state is damaged; start the sign-in again");
  }
  JIT_ASSIGN_OR_RETURN(OidcProviderMetadata m, Metadata());

  aws::HttpCall call;
  call.method = "POST";
  call.url = m.token_endpoint;
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                  {"Accept", "application/json"}};
  call.total_timeout = Duration(10000);
  call.body = "grant_type=authorization_code&code=" + FormEncode(code) +
              "&redirect_uri=" + FormEncode(saved.redirect_uri) +
              "&code_verifier=" + FormEncode(saved.code_verifier);
  const auto& methods = m.token_endpoint_auth_methods;
  bool basic_ok = methods.empty() ||
                  std::find(methods.begin(), methods.end(), "client_secret_basic") != methods.end();
  bool post_ok = std::find(methods.begin(), methods.end(), "client_secret_post") != methods.end();
  if (settings_.client_secret.empty()) {
    call.body += "&client_id=" + FormEncode(settings_.client_id);
  } else if (basic_ok || !post_ok) {
    // RFC 6749 §2.3.1: both parts form-encoded, then Basic.
    call.headers.emplace_back("Authorization",
                              "Basic " + EncodeBase64(FormEncode(settings_.client_id) + ":" +
                                                      FormEncode(settings_.client_secret)));
  } else {
    call.body += "&client_id=" + FormEncode(settings_.client_id) +
                 "&client_secret=" + FormEncode(settings_.client_secret);
  }
  Result<aws::HttpResponse> answer = http_.Send(call);
  if (!answer) {
    return UnavailableError("cannot reach the identity provider's token endpoint: " +
                            answer.error().message());
  }
  if (answer->body.size() > kMaxAnswerBytes) {
    return UnavailableError("the token endpoint's answer is too large");
  }
  std::optional<json> body = ParseStrictJson(answer->body);
  if (answer->status >= 500) {
    return UnavailableError("the token endpoint answered HTTP " + std::to_string(answer->status));
  }
  if (answer->status != 200) {
    std::string error = body && body->is_object() ? StringMember(*body, "error").value_or("") : "";
    return UnauthenticatedError("the identity provider refused the sign-in code" +
                                (error.empty() ? "" : " (" + PrintableExcerpt(error, 120) + ")"));
  }
  if (!body || !body->is_object()) {
    return UnavailableError("the token endpoint's answer is not a JSON object");
  }
  std::optional<std::string> id_token = StringMember(*body, "id_token");
  if (!id_token) return UnauthenticatedError("the identity provider sent no id_token");

  // Signature, iss, aud (the client id), exp, nbf, iat; then what only an id_token carries.
  JIT_ASSIGN_OR_RETURN(model::Identity who, verifier_->Authenticate(*id_token));
  JIT_ASSIGN_OR_RETURN(ParsedJwt jwt, ParseJwt(*id_token));
  std::optional<json> claims = ParseStrictJson(jwt.payload);
  if (!claims || !claims->is_object()) return UnauthenticatedError("malformed id_token");
  std::optional<std::string> nonce = StringMember(*claims, "nonce");
  if (!nonce || !ConstantTimeEquals(*nonce, saved.nonce)) {
    return UnauthenticatedError("the id_token does not carry this sign-in's nonce");
  }
  // OpenID Connect Core §3.1.3.7: with several audiences, azp must be this client.
  if (auto aud = claims->find("aud"); aud != claims->end() && aud->is_array() && aud->size() > 1) {
    std::optional<std::string> azp = StringMember(*claims, "azp");
    if (!azp || *azp != settings_.client_id) {
      return UnauthenticatedError("the id_token was issued to another client (azp)");
    }
  }
  return who;
}

}  // namespace jit::auth
