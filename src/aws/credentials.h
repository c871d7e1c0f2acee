#pragma once
// The credential chain, in the order the AWS SDKs use (docs/AWS.md "Credentials, region and
// endpoints").

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/result.h"

namespace jit::aws {

// Supplies credentials. Thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // Current credentials, refreshed as needed. NotFound when this source has none configured
  // (the chain moves on); Unavailable when it is configured but could not answer now;
  // InvalidArgument when its configuration is broken (say, a malformed file).
  virtual Result<Credentials> Get() = 0;
  // A short name for logs: "environment", "shared-config", "web-identity", ...
  virtual std::string Name() const = 0;
};

// Where the chain reads its settings: the process environment and home folder, injectable for
// tests.
struct Environment {
  std::map<std::string, std::string> vars;  // AWS_* and HOME
  std::string Get(const std::string& name) const;
  static Environment FromProcess();
};

// One profile's settings from a shared credentials or config file, keys lower-cased
// ("aws_access_key_id", "region").
using ProfileSettings = std::map<std::string, std::string>;

// The settings of `profile` in the text of a shared credentials file (`config_style` false:
// sections are profile names) or config file (true: "[profile NAME]", and "[default]" for the
// default profile). The AWS INI dialect: "[section]", "key = value", comments starting with '#'
// or ';' (whole lines, or after white space at the end of a value); indented lines under a key
// with an empty value are that key's nested settings and are ignored. Sections naming the same
// profile are merged. nullopt when the profile is not in the text; InvalidArgument
// "<path>:<line>: <problem>" when the text is malformed. Pure: `path` only names the file in
// messages (the shared-config source reads the files and calls this).
Result<std::optional<ProfileSettings>> ProfileFromIni(std::string_view text,
                                                      const std::string& path,
                                                      const std::string& profile,
                                                      bool config_style);

// What the shared-config source answers for `profile` given its settings in the credentials
// file and in the config file (nullopt: the file or the profile is absent); the credentials
// file wins setting by setting. NotFound when neither names aws_access_key_id nor
// aws_secret_access_key; InvalidArgument when only one of the two is set, or when there are no
// keys and the profile uses a way to get credentials that jit does not support (role_arn,
// credential_process, SSO, web_identity_token_file). Pure.
Result<Credentials> SharedConfigCredentials(const std::optional<ProfileSettings>& credentials_file,
                                            const std::optional<ProfileSettings>& config_file,
                                            const std::string& profile);

// The default chain: environment, shared credentials/config files (profiles, AWS_PROFILE),
// web identity (AssumeRoleWithWebIdentity via STS), container credentials, instance metadata
// v2. The first source that is configured wins; temporary credentials are cached and
// refreshed about 5 minutes before they expire.
// Once a source has answered, the chain keeps using it. A source that is configured but fails
// (anything other than NotFound) stops the chain with its error; when nothing is configured
// the result is NotFound listing what was tried. The chain keeps its own copy of `env`;
// `http` and `clock` must outlive it. Instance metadata is skipped when
// AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it (tests).
std::unique_ptr<CredentialSource> NewDefaultCredentialChain(const Environment& env,
                                                            HttpTransport& http, Clock& clock);

// A fixed pair of keys (tests, the embedded emulator).
std::unique_ptr<CredentialSource> NewStaticCredentials(Credentials creds);

// AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region. NotFound when none.
// InvalidArgument when the config file exists but is malformed.
Result<std::string> ResolveRegion(const Environment& env);

// AWS_ENDPOINT_URL_<SERVICE_ID> (service id upper-cased, spaces and dashes to '_'), then
// AWS_ENDPOINT_URL, then https://<endpoint_prefix>.<region>.amazonaws.com.
// With an empty region the default is the global https://<endpoint_prefix>.amazonaws.com (STS).
// Trailing '/' characters are removed, so callers append the path ("/").
std::string ResolveEndpoint(const Environment& env, std::string_view service_id,
                            std::string_view endpoint_prefix, std::string_view region);

}  // namespace jit::aws
