#include "aws/credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/mutex.h"
#include "core/strings.h"
#include "core/time_format.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX

namespace jit::aws {
namespace {

constexpr Duration kRefreshAhead = std::chrono::minutes(5);
constexpr Duration kMetadataConnectTimeout = Duration(1000);
constexpr Duration kMetadataTotalTimeout = Duration(5000);
constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kImdsDefault = "http://169.254.169.254";

// Reads a whole file. NotFound when it does not exist or cannot be opened.
Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// Shared credentials and config files.

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

// Parses the AWS INI dialect: "[section]", "key = value", comments starting with '#' or ';'
// (whole lines, or after white space at the end of a value), indented lines under a key with
// an empty value are that key's nested settings (s3 = ...) and are ignored.
Result<IniFile> ParseIni(std::string_view text, const std::string& path) {
  IniFile out;
  std::string section;
  bool have_section = false;
  bool in_nested = false;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    bool indented = std::isspace(static_cast<unsigned char>(raw[0])) != 0;
    if (indented && in_nested) continue;
    auto error = [&](std::string_view what) {
      return InvalidArgumentError(path + ":" + std::to_string(line_no) + ": " + std::string(what));
    };
    if (line[0] == '[') {
      std::size_t close = line.find(']');
      if (close == std::string_view::npos) return error("section header without ']'");
      std::string_view rest = Trim(line.substr(close + 1));
      if (!rest.empty() && rest[0] != '#' && rest[0] != ';') {
        return error("text after section header");
      }
      section = std::string(Trim(line.substr(1, close - 1)));
      if (section.empty()) return error("empty section name");
      have_section = true;
      in_nested = false;
      out[section];  // an empty section still exists
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error("expected 'key = value' or '[section]'");
    if (!have_section) return error("setting outside of any [section]");
    std::string key = ToLower(Trim(line.substr(0, eq)));
    if (key.empty()) return error("empty key");
    std::string_view value = Trim(line.substr(eq + 1));
    for (std::size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') &&
          std::isspace(static_cast<unsigned char>(value[i - 1]))) {
        value = Trim(value.substr(0, i));
        break;
      }
    }
    in_nested = value.empty();
    out[section][key] = std::string(value);
  }
  return out;
}

std::string Home(const Environment& env) { return env.Get("HOME"); }

std::string CredentialsPath(const Environment& env) {
  std::string p = env.Get("AWS_SHARED_CREDENTIALS_FILE");
  if (!p.empty()) return p;
  return Home(env).empty() ? "" : Home(env) + "/.aws/credentials";
}

std::string ConfigPath(const Environment& env) {
  std::string p = env.Get("AWS_CONFIG_FILE");
  if (!p.empty()) return p;
  return Home(env).empty() ? "" : Home(env) + "/.aws/config";
}

std::string ProfileName(const Environment& env) {
  std::string p = env.Get("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

// The named profile's settings from one file; nullopt when the file or profile is absent.
// `config_style`: sections are "[profile name]" (and "[default]").
Result<std::optional<IniSection>> LoadProfile(const std::string& path, const std::string& profile,
                                              bool config_style) {
  if (path.empty()) return std::optional<IniSection>();
  Result<std::string> text = ReadWholeFile(path);
  if (!text.has_value()) return std::optional<IniSection>();
  return ProfileFromIni(*text, path, profile, config_style);
}

class EnvironmentSource final : public CredentialSource {
 public:
  explicit EnvironmentSource(const Environment& env) : env_(env) {}
  Result<Credentials> Get() override {
    Credentials c{.access_key_id = env_.Get("AWS_ACCESS_KEY_ID"),
                  .secret_access_key = env_.Get("AWS_SECRET_ACCESS_KEY"),
                  .session_token = env_.Get("AWS_SESSION_TOKEN")};
    if (c.access_key_id.empty() && c.secret_access_key.empty()) {
      return NotFoundError("environment: AWS_ACCESS_KEY_ID is not set");
    }
    if (c.Empty()) {
      return InvalidArgumentError(
          "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
    }
    return c;
  }
  std::string Name() const override { return "environment"; }

 private:
  const Environment& env_;
};

class SharedConfigSource final : public CredentialSource {
 public:
  explicit SharedConfigSource(const Environment& env) : env_(env) {}
  Result<Credentials> Get() override {
    const std::string profile = ProfileName(env_);
    // The credentials file wins over the config file, setting by setting.
    JIT_ASSIGN_OR_RETURN(std::optional<IniSection> creds_file,
                         LoadProfile(CredentialsPath(env_), profile, false));
    JIT_ASSIGN_OR_RETURN(std::optional<IniSection> config_file,
                         LoadProfile(ConfigPath(env_), profile, true));
    return SharedConfigCredentials(creds_file, config_file, profile);
  }
  std::string Name() const override { return "shared-config"; }

 private:
  const Environment& env_;
};

// ---------------------------------------------------------------------------------------------
// Sources of temporary credentials, behind a cache.

// Fetches temporary credentials; the cache decides when.
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<Credentials> Fetch() = 0;
  virtual std::string Name() const = 0;
};

// Caches what a Fetcher returns until 5 minutes before it expires. When a refresh fails and
// the old credentials have not expired yet, they are used a little longer.
class CachingSource final : public CredentialSource {
 public:
  CachingSource(std::unique_ptr<Fetcher> fetcher, Clock& clock)
      : fetcher_(std::move(fetcher)), clock_(clock) {}

  Result<Credentials> Get() override {
    MutexLock lock(&mu_);
    Time now = clock_.Now();
    if (cached_ && (!cached_->expiration || now < *cached_->expiration - kRefreshAhead)) {
      return *cached_;
    }
    Result<Credentials> fresh = fetcher_->Fetch();
    if (!fresh.has_value()) {
      if (fresh.error().code() != StatusCode::kNotFound && cached_ && cached_->expiration &&
          now < *cached_->expiration) {
        return *cached_;
      }
      return fresh.error();
    }
    cached_ = *fresh;
    return *fresh;
  }
  std::string Name() const override { return fetcher_->Name(); }

 private:
  std::unique_ptr<Fetcher> fetcher_;
  Clock& clock_;
  Mutex mu_;
  std::optional<Credentials> cached_ GUARDED_BY(mu_);
};

// The text of the first <tag>...</tag>, XML entities decoded; nullopt when absent.
std::optional<std::string> XmlTag(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  std::size_t b = xml.find(open);
  if (b == std::string_view::npos) return std::nullopt;
  b += open.size();
  std::size_t e = xml.find(close, b);
  if (e == std::string_view::npos) return std::nullopt;
  std::string_view raw = Trim(xml.substr(b, e - b));
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '&') {
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool matched = false;
      for (const auto& [entity, ch] : kEntities) {
        if (raw.substr(i, entity.size()) == entity) {
          out.push_back(ch);
          i += entity.size() - 1;
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out.push_back(raw[i]);
  }
  return out;
}

// Credentials from the JSON the container and instance metadata endpoints answer with.
Result<Credentials> CredentialsFromJson(const std::string& body, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return UnavailableError(where + ": answer is not a JSON object");
  }
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!str("Code").empty() && str("Code") != "Success") {
    return UnavailableError(where + ": " + str("Code") + ": " + str("Message"));
  }
  Credentials c{.access_key_id = str("AccessKeyId"),
                .secret_access_key = str("SecretAccessKey"),
                .session_token = str("Token")};
  if (c.Empty()) return UnavailableError(where + ": answer lacks AccessKeyId/SecretAccessKey");
  if (std::string exp = str("Expiration"); !exp.empty()) {
    Result<Time> t = ParseRfc3339(exp);
    if (!t.has_value()) return UnavailableError(where + ": bad Expiration '" + exp + "'");
    c.expiration = *t;
  }
  return c;
}

// A non-2xx answer from a credentials endpoint: 5xx and 429 may pass; others deny.
Status HttpFailure(const std::string& where, const HttpResponse& r) {
  std::string msg = where + ": HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
  if (r.status >= 500 || r.status == 429) return UnavailableError(msg);
  return PermissionDeniedError(msg);
}

class WebIdentityFetcher final : public Fetcher {
 public:
  WebIdentityFetcher(const Environment& env, HttpTransport& http, Clock& clock)
      : env_(env), http_(http), clock_(clock) {}

  Result<Credentials> Fetch() override {
    const std::string token_file = env_.Get("AWS_WEB_IDENTITY_TOKEN_FILE");
    const std::string role_arn = env_.Get("AWS_ROLE_ARN");
    if (token_file.empty() && role_arn.empty()) {
      return NotFoundError("web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is not set");
    }
    if (token_file.empty() || role_arn.empty()) {
      return InvalidArgumentError(
          "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together");
    }
    // The token file is re-read on every refresh: the platform rotates it.
    Result<std::string> token = ReadWholeFile(token_file);
    if (!token.has_value()) {
      return InvalidArgumentError("web-identity: cannot read token file " + token_file);
    }
    std::string session = env_.Get("AWS_ROLE_SESSION_NAME");
    if (session.empty()) session = "jit-" + std::to_string(ToUnixMillis(clock_.Now()));

    std::string region = ResolveRegion(env_).value_or(std::string());
    std::string endpoint = ResolveEndpoint(env_, "STS", "sts", region);
    HttpCall call{.method = "POST",
                  .url = endpoint + "/",
                  .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                              {"Accept", "text/xml"}},
                  .body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" +
                          UriEncode(role_arn, false) +
                          "&RoleSessionName=" + UriEncode(session, false) +
                          "&WebIdentityToken=" + UriEncode(Trim(*token), false)};
    JIT_ASSIGN_OR_RETURN(HttpResponse r, http_.Send(call));
    if (r.status < 200 || r.status > 299) {
      std::string code = XmlTag(r.body, "Code").value_or("");
      std::string message = XmlTag(r.body, "Message").value_or(r.body.substr(0, 300));
      std::string msg = "web-identity: AssumeRoleWithWebIdentity: HTTP " +
                        std::to_string(r.status) + ": " + code + ": " + message;
      if (r.status >= 500 || r.status == 429 || code == "Throttling" ||
          code == "IDPCommunicationError") {
        return UnavailableError(msg);
      }
      return PermissionDeniedError(msg);
    }
    Credentials c{.access_key_id = XmlTag(r.body, "AccessKeyId").value_or(""),
                  .secret_access_key = XmlTag(r.body, "SecretAccessKey").value_or(""),
                  .session_token = XmlTag(r.body, "SessionToken").value_or("")};
    if (c.Empty()) return UnavailableError("web-identity: STS answer lacks credentials");
    if (std::optional<std::string> exp = XmlTag(r.body, "Expiration")) {
      Result<Time> t = ParseRfc3339(*exp);
      if (!t.has_value()) return UnavailableError("web-identity: bad Expiration '" + *exp + "'");
      c.expiration = *t;
    }
    return c;
  }
  std::string Name() const override { return "web-identity"; }

 private:
  const Environment& env_;
  HttpTransport& http_;
  Clock& clock_;
};

// The host of an http(s) URL, without brackets, port or user info.
std::string UrlHost(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') {
    std::size_t close = rest.find(']');
    return close == std::string_view::npos ? "" : ToLower(rest.substr(1, close - 1));
  }
  return ToLower(rest.substr(0, rest.find(':')));
}

// localhost, 127.0.0.0/8 or ::1, as literal addresses (not names that merely start "127.").
bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

class ContainerFetcher final : public Fetcher {
 public:
  ContainerFetcher(const Environment& env, HttpTransport& http) : env_(env), http_(http) {}

  Result<Credentials> Fetch() override {
    std::string url;
    if (std::string rel = env_.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
      url = std::string(kContainerHost) + (rel[0] == '/' ? "" : "/") + rel;
    } else if (std::string full = env_.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI"); !full.empty()) {
      std::string lower = ToLower(full);
      std::string host = UrlHost(full);
      // The SDKs accept https anywhere, and plain http only to loopback and to the ECS and
      // EKS Pod Identity agents.
      bool ok = (lower.rfind("https://", 0) == 0 && !host.empty()) ||
                (lower.rfind("http://", 0) == 0 &&
                 (IsLoopbackHost(host) || host == "169.254.170.2" || host == "169.254.170.23"));
      if (!ok) {
        return InvalidArgumentError("container: AWS_CONTAINER_CREDENTIALS_FULL_URI '" + full +
                                    "' must be https or a loopback http address");
      }
      url = full;
    } else {
      return NotFoundError("container: AWS_CONTAINER_CREDENTIALS_*_URI is not set");
    }
    HttpCall call{.method = "GET",
                  .url = url,
                  .headers = {{"Accept", "application/json"}},
                  .connect_timeout = kMetadataConnectTimeout,
                  .total_timeout = kMetadataTotalTimeout};
    std::string token;
    if (std::string file = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
      Result<std::string> t = ReadWholeFile(file);
      if (!t.has_value()) {
        return InvalidArgumentError("container: cannot read authorization token file " + file);
      }
      token = std::string(Trim(*t));
    } else {
      token = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError("container: authorization token contains a line break");
    }
    if (!token.empty()) call.headers.emplace_back("Authorization", token);
    JIT_ASSIGN_OR_RETURN(HttpResponse r, http_.Send(call));
    if (r.status != 200) return HttpFailure("container", r);
    return CredentialsFromJson(r.body, "container");
  }
  std::string Name() const override { return "container"; }

 private:
  const Environment& env_;
  HttpTransport& http_;
};

class ImdsFetcher final : public Fetcher {
 public:
  ImdsFetcher(const Environment& env, HttpTransport& http) : env_(env), http_(http) {}

  Result<Credentials> Fetch() override {
    if (ToLower(env_.Get("AWS_EC2_METADATA_DISABLED")) == "true") {
      return NotFoundError("instance-metadata: disabled by AWS_EC2_METADATA_DISABLED");
    }
    std::string base = env_.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (base.empty()) base = std::string(kImdsDefault);
    while (!base.empty() && base.back() == '/') base.pop_back();

    HttpCall put{.method = "PUT",
                 .url = base + "/latest/api/token",
                 .headers = {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                 .connect_timeout = kMetadataConnectTimeout,
                 .total_timeout = kMetadataTotalTimeout};
    Result<HttpResponse> token = http_.Send(put);
    if (!token.has_value()) {
      // Nothing answers at the metadata address: not on EC2 (or IMDS is off).
      return NotFoundError("instance-metadata: no answer from " + base + ": " +
                           token.error().message());
    }
    if (token->status != 200) return HttpFailure("instance-metadata: token", *token);
    std::string tok(Trim(token->body));

    const std::string creds_path = base + "/latest/meta-data/iam/security-credentials/";
    auto get = [&](const std::string& url) {
      return http_.Send({.method = "GET",
                         .url = url,
                         .headers = {{"x-aws-ec2-metadata-token", tok}},
                         .connect_timeout = kMetadataConnectTimeout,
                         .total_timeout = kMetadataTotalTimeout});
    };
    JIT_ASSIGN_OR_RETURN(HttpResponse roles, get(creds_path));
    if (roles.status == 404) {
      return NotFoundError("instance-metadata: the instance has no IAM role");
    }
    if (roles.status != 200) return HttpFailure("instance-metadata: role", roles);
    std::string role(Trim(std::string_view(roles.body).substr(0, roles.body.find('\n'))));
    if (role.empty()) return NotFoundError("instance-metadata: the instance has no IAM role");
    JIT_ASSIGN_OR_RETURN(HttpResponse creds, get(creds_path + UriEncode(role, false)));
    if (creds.status != 200) return HttpFailure("instance-metadata: credentials", creds);
    return CredentialsFromJson(creds.body, "instance-metadata");
  }
  std::string Name() const override { return "instance-metadata"; }

 private:
  const Environment& env_;
  HttpTransport& http_;
};

// Tries each source in order; the first that is configured wins and is kept from then on.
class ChainSource final : public CredentialSource {
 public:
  ChainSource(const Environment& env, HttpTransport& http, Clock& clock) : env_(env) {
    sources_.push_back(std::make_unique<EnvironmentSource>(env_));
    sources_.push_back(std::make_unique<SharedConfigSource>(env_));
    sources_.push_back(std::make_unique<CachingSource>(
        std::make_unique<WebIdentityFetcher>(env_, http, clock), clock));
    sources_.push_back(
        std::make_unique<CachingSource>(std::make_unique<ContainerFetcher>(env_, http), clock));
    sources_.push_back(
        std::make_unique<CachingSource>(std::make_unique<ImdsFetcher>(env_, http), clock));
  }

  Result<Credentials> Get() override {
    CredentialSource* chosen = nullptr;
    {
      MutexLock lock(&mu_);
      chosen = chosen_;
    }
    if (chosen != nullptr) return chosen->Get();
    std::string tried;
    for (const auto& source : sources_) {
      Result<Credentials> r = source->Get();
      if (r.has_value()) {
        MutexLock lock(&mu_);
        chosen_ = source.get();
        return r;
      }
      if (r.error().code() != StatusCode::kNotFound) return r.error();
      tried += "; " + r.error().message();
    }
    return NotFoundError("no AWS credentials found (" + tried.substr(2) + ")");
  }

  std::string Name() const override {
    MutexLock lock(&mu_);
    return chosen_ == nullptr ? "default-chain" : chosen_->Name();
  }

 private:
  const Environment env_;  // a copy: the sources hold references to it
  std::vector<std::unique_ptr<CredentialSource>> sources_;
  mutable Mutex mu_;
  CredentialSource* chosen_ GUARDED_BY(mu_) = nullptr;
};

class StaticSource final : public CredentialSource {
 public:
  explicit StaticSource(Credentials creds) : creds_(std::move(creds)) {}
  Result<Credentials> Get() override {
    if (creds_.Empty()) return NotFoundError("static: no keys");
    return creds_;
  }
  std::string Name() const override { return "static"; }

 private:
  Credentials creds_;
};

}  // namespace

Result<std::optional<ProfileSettings>> ProfileFromIni(std::string_view text,
                                                      const std::string& path,
                                                      const std::string& profile,
                                                      bool config_style) {
  JIT_ASSIGN_OR_RETURN(IniFile ini, ParseIni(text, path));
  std::optional<IniSection> found;
  for (const auto& [name, settings] : ini) {
    std::string wanted;
    if (config_style) {
      // "[profile x]" with any run of white space; "[default]" also names the default.
      if (name.rfind("profile", 0) == 0 && name.size() > 7 &&
          std::isspace(static_cast<unsigned char>(name[7]))) {
        wanted = std::string(Trim(std::string_view(name).substr(7)));
      } else if (name == "default") {
        wanted = "default";
      } else {
        continue;
      }
    } else {
      wanted = name;
    }
    if (wanted != profile) continue;
    if (!found) found.emplace();
    for (const auto& [k, v] : settings) (*found)[k] = v;
  }
  return found;
}

Result<Credentials> SharedConfigCredentials(const std::optional<ProfileSettings>& credentials_file,
                                            const std::optional<ProfileSettings>& config_file,
                                            const std::string& profile) {
  IniSection merged;
  if (config_file) merged = *config_file;
  if (credentials_file) {
    for (const auto& [k, v] : *credentials_file) merged[k] = v;
  }
  auto get = [&](const std::string& k) {
    auto it = merged.find(k);
    return it == merged.end() ? std::string() : it->second;
  };
  Credentials c{.access_key_id = get("aws_access_key_id"),
                .secret_access_key = get("aws_secret_access_key"),
                .session_token = get("aws_session_token")};
  const std::string where = "shared-config: profile '" + profile + "'";
  if (c.access_key_id.empty() && c.secret_access_key.empty()) {
    for (const char* key : {"role_arn", "credential_process", "sso_session", "sso_start_url",
                            "web_identity_token_file"}) {
      if (!get(key).empty()) {
        return InvalidArgumentError(where + " uses " + key +
                                    ", which jit does not support; use static keys, the "
                                    "AWS_WEB_IDENTITY_TOKEN_FILE variables or an instance role");
      }
    }
    return NotFoundError(where + " has no aws_access_key_id");
  }
  if (c.Empty()) {
    return InvalidArgumentError(where + " needs both aws_access_key_id and aws_secret_access_key");
  }
  return c;
}

std::string Environment::Get(const std::string& name) const {
  auto it = vars.find(name);
  return it == vars.end() ? std::string() : it->second;
}

Environment Environment::FromProcess() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    if (name.rfind("AWS_", 0) == 0 || name == "HOME") {
      env.vars[std::string(name)] = std::string(entry.substr(eq + 1));
    }
  }
  return env;
}

std::unique_ptr<CredentialSource> NewDefaultCredentialChain(const Environment& env,
                                                            HttpTransport& http, Clock& clock) {
  return std::make_unique<ChainSource>(env, http, clock);
}

std::unique_ptr<CredentialSource> NewStaticCredentials(Credentials creds) {
  return std::make_unique<StaticSource>(std::move(creds));
}

Result<std::string> ResolveRegion(const Environment& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string r = std::string(Trim(env.Get(name))); !r.empty()) return r;
  }
  const std::string profile = ProfileName(env);
  JIT_ASSIGN_OR_RETURN(std::optional<IniSection> config,
                       LoadProfile(ConfigPath(env), profile, true));
  if (config) {
    auto it = config->find("region");
    if (it != config->end() && !it->second.empty()) return it->second;
  }
  return NotFoundError("no AWS region: set AWS_REGION or a region in the profile '" + profile +
                       "'");
}

std::string ResolveEndpoint(const Environment& env, std::string_view service_id,
                            std::string_view endpoint_prefix, std::string_view region) {
  std::string id;
  for (char c : service_id) {
    id.push_back(c == ' ' || c == '-'
                     ? '_'
                     : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  std::string url = env.Get("AWS_ENDPOINT_URL_" + id);
  if (url.empty()) url = env.Get("AWS_ENDPOINT_URL");
  if (url.empty()) {
    url = "https://" + std::string(endpoint_prefix) +
          (region.empty() ? "" : "." + std::string(region)) + ".amazonaws.com";
  }
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace jit::aws
