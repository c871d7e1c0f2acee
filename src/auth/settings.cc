#include "auth/settings.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "core/duration.h"
#include "core/encoding.h"
#include "core/url.h"

namespace jit::auth {
namespace {

using config::Field;
using config::Fields;
using config::Named;

class Parser {
 public:
  explicit Parser(config::Reader& r) : r_(r) {}
  AuthSettings Run(const Field& f) {
    ReadAuth(f);
    return std::move(out_);
  }

 private:
  // `oidc: {issuer, audience, jwks_file | jwks_url, username_claim, groups_claim, leeway}`.
  // An empty `oidc:` is the same as none.
  void ReadOidc(const Field& f) {
    if (f.value.IsNull()) return;
    std::optional<Fields> fields =
        r_.Map(f, {"issuer", "audience", "jwks_file", "jwks_url", "username_claim", "groups_claim",
                   "leeway", "client_id", "client_secret_file", "scopes"});
    if (!fields) return;
    const int line = f.line;
    OidcConfig oidc;
    oidc.line = line;
    if (auto issuer = r_.RequiredString(*fields, "issuer", line, "'oidc'")) {
      if (!IsHttpsOrLoopbackHttpUrl(*issuer)) {
        r_.Error(fields->Get("issuer")->line,
                 "'issuer' must be an https URL (http only on a loopback host)");
      } else {
        oidc.issuer = *issuer;
      }
    }
    if (auto audience = r_.RequiredString(*fields, "audience", line, "'oidc'")) {
      oidc.audience = *audience;
    }
    const Field* file = fields->Get("jwks_file");
    const Field* url = fields->Get("jwks_url");
    if (file != nullptr && url != nullptr) {
      r_.Error(url->line, "'oidc' has both 'jwks_file' and 'jwks_url'; use one");
    } else if (file == nullptr && url == nullptr) {
      r_.Error(line, "'oidc' has no 'jwks_file' or 'jwks_url'");
    } else if (file != nullptr) {
      if (auto s = r_.RequiredString(*fields, "jwks_file", line, "'oidc'")) oidc.jwks_file = *s;
    } else if (auto s = r_.RequiredString(*fields, "jwks_url", line, "'oidc'")) {
      if (!IsHttpsOrLoopbackHttpUrl(*s)) {
        r_.Error(url->line, "'jwks_url' must be an https URL (http only on a loopback host)");
      } else {
        oidc.jwks_url = *s;
      }
    }
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"username_claim", &oidc.username_claim},
          std::pair<const char*, std::string*>{"groups_claim", &oidc.groups_claim}}) {
      if (fields->Get(key) == nullptr) continue;
      if (auto s = r_.RequiredString(*fields, key, line, "'oidc'")) *out = *s;
    }
    if (const Field* leeway = fields->Get("leeway")) {
      Result<Duration> d = leeway->value.IsScalar() ? ParseDuration(leeway->value.Scalar())
                                                    : Result<Duration>(InvalidArgumentError(""));
      if (!d.ok() || d->count() < 0 || *d > Duration(5 * 60 * 1000)) {
        r_.Error(leeway->line, "'leeway' must be a duration from 0s to 5m");
      } else {
        oidc.leeway = *d;
      }
    }
    ReadOidcLogin(*fields, line, oidc);
    out_.oidc = std::move(oidc);
  }

  // The web UI's sign-in keys of `oidc:`: client_id, client_secret_file, scopes.
  void ReadOidcLogin(const Fields& fields, int line, OidcConfig& oidc) {
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"client_id", &oidc.client_id},
          std::pair<const char*, std::string*>{"client_secret_file", &oidc.client_secret_file}}) {
      if (fields.Get(key) == nullptr) continue;
      if (auto s = r_.RequiredString(fields, key, line, "'oidc'")) *out = *s;
    }
    if (const Field* scopes = fields.Get("scopes")) {
      if (auto names = r_.Names(*scopes)) {
        oidc.scopes.clear();
        for (const Named& n : *names) {
          // RFC 6749 §3.3: printable ASCII but space, '"' and '\\'.
          if (!std::all_of(n.value.begin(), n.value.end(),
                           [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
            r_.Error(n.line, "'" + n.value + "' is not a scope (one word of printable ASCII)");
            continue;
          }
          oidc.scopes.push_back(n.value);
        }
        if (std::find(oidc.scopes.begin(), oidc.scopes.end(), "openid") == oidc.scopes.end()) {
          r_.Error(scopes->line, "'scopes' must include openid");
        }
      }
    }
  }

  void ReadAuth(const Field& f) {
    std::optional<Fields> fields = r_.Map(f, {"oidc", "tokens", "automation"});
    if (!fields) return;
    if (const Field* oidc = fields->Get("oidc")) ReadOidc(*oidc);
    if (const Field* tokens = fields->Get("tokens")) ReadTokens(*tokens);
    if (const Field* automation = fields->Get("automation")) ReadAutomation(*automation);
  }

  // `automation: [{name, token_file}]`: machines that may only post findings.
  void ReadAutomation(const Field& f) {
    if (!f.value.IsSequence()) {
      r_.Error(f.line, "'automation' must be a list");
      return;
    }
    for (const config::Node& item : f.value.Items()) {
      int line = item.Line(f.line);
      std::optional<Fields> t = r_.Map(item, line, "an automation token", {"name", "token_file"});
      if (!t) continue;
      AutomationToken token;
      token.line = line;
      if (auto name = r_.RequiredString(*t, "name", line, "an automation token")) {
        token.name = *name;
        auto [it, fresh] = names_.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "token name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      if (auto file = r_.RequiredString(*t, "token_file", line, "an automation token")) {
        token.token_file = *file;
      }
      out_.automation.push_back(std::move(token));
    }
  }

  // `tokens: [{name, sha256, groups}]`: people's (and scripts') static bearer tokens.
  void ReadTokens(const Field& tokens_field) {
    const Field* tokens = &tokens_field;
    if (!tokens->value.IsSequence()) {
      r_.Error(tokens->line, "'tokens' must be a list");
      return;
    }
    std::map<std::string, int>& names = names_;
    std::map<std::string, int> hashes;
    for (const config::Node& item : tokens->value.Items()) {
      int line = item.Line(tokens->line);
      std::optional<Fields> t = r_.Map(item, line, "a token", {"name", "sha256", "groups"});
      if (!t) continue;
      StaticToken token;
      if (auto name = r_.RequiredString(*t, "name", line, "a token")) {
        token.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          r_.Error(line, "token name '" + *name + "' is already used on line " +
                             std::to_string(it->second));
        }
      }
      if (auto sha = r_.RequiredString(*t, "sha256", line, "a token")) {
        int sha_line = t->Get("sha256")->line;
        if (sha->size() != 64 || !IsLowerHex(*sha)) {
          r_.Error(sha_line, "'sha256' must be 64 lowercase hex digits (the SHA-256 of the token)");
        } else {
          token.sha256_hex = *sha;
          auto [it, fresh] = hashes.emplace(*sha, sha_line);
          if (!fresh) {
            r_.Error(sha_line,
                     "this token hash is already used on line " + std::to_string(it->second));
          }
        }
      }
      token.groups = r_.NameList(t->Get("groups"));
      out_.tokens.push_back(std::move(token));
    }
  }

  config::Reader& r_;
  AuthSettings out_;
  std::map<std::string, int> names_;  // token names of auth.tokens and auth.automation
};

}  // namespace

AuthSettings ParseAuthSettings(const config::Field& field, config::Reader& reader) {
  return Parser(reader).Run(field);
}

}  // namespace jit::auth
