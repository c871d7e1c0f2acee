#include "aws/assume_role.h"

#include <optional>

#include "core/mutex.h"
#include "core/time_format.h"

namespace jit::aws {
namespace {

class AssumeRoleCredentials final : public CredentialSource {
 public:
  AssumeRoleCredentials(AssumeRoleSpec spec, HttpTransport& http, CredentialSource& base,
                        Limiter& limiter, Clock& clock, RetryPolicy retry)
      : spec_(std::move(spec)),
        clock_(clock),
        sts_(spec_.sts, http, base, limiter, clock, std::move(retry)) {}

  Result<Credentials> Get() override {
    MutexLock lock(&mu_);
    Time now = clock_.Now();
    if (cached_ && (!refresh_at_ || now < *refresh_at_)) return *cached_;
    JIT_ASSIGN_OR_RETURN(
        std::string xml,
        sts_.Call(
            "AssumeRole",
            {{"RoleArn", spec_.role_arn},
             {"RoleSessionName", spec_.session_name},
             {"DurationSeconds",
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(spec_.duration).count())}}));
    Result<Credentials> creds = ParseAssumeRoleResponse(xml);
    if (!creds.has_value()) return creds.error().WithContext("AssumeRole " + spec_.role_arn);
    cached_ = *creds;
    refresh_at_.reset();
    if (creds->expiration) {
      Duration life = std::chrono::duration_cast<Duration>(*creds->expiration - now);
      Duration margin = std::min<Duration>(std::chrono::minutes(5), life / 2);
      refresh_at_ = *creds->expiration - margin;
    }
    return *cached_;
  }

  std::string Name() const override { return "assume-role"; }

 private:
  const AssumeRoleSpec spec_;
  Clock& clock_;
  QueryClient sts_;
  Mutex mu_;  // one AssumeRole at a time; the others wait for its answer
  std::optional<Credentials> cached_ GUARDED_BY(mu_);
  std::optional<Time> refresh_at_ GUARDED_BY(mu_);
};

}  // namespace

Result<Credentials> ParseAssumeRoleResponse(std::string_view xml) {
  Credentials c{.access_key_id = XmlElementText(xml, "AccessKeyId").value_or(""),
                .secret_access_key = XmlElementText(xml, "SecretAccessKey").value_or(""),
                .session_token = XmlElementText(xml, "SessionToken").value_or("")};
  if (c.Empty() || c.session_token.empty()) {
    return InvalidArgumentError("the AssumeRole answer lacks Credentials");
  }
  std::optional<std::string> exp = XmlElementText(xml, "Expiration");
  if (!exp) return InvalidArgumentError("the AssumeRole answer lacks Expiration");
  Result<Time> t = ParseRfc3339(*exp);
  if (!t.has_value()) return InvalidArgumentError("bad Expiration '" + exp->substr(0, 40) + "'");
  c.expiration = *t;
  return c;
}

std::unique_ptr<CredentialSource> NewAssumeRoleCredentials(AssumeRoleSpec spec, HttpTransport& http,
                                                           CredentialSource& base, Limiter& limiter,
                                                           Clock& clock, RetryPolicy retry) {
  return std::make_unique<AssumeRoleCredentials>(std::move(spec), http, base, limiter, clock,
                                                 std::move(retry));
}

}  // namespace jit::aws
